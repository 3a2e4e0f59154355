//! `conform cleanup` against SNS's listing shape: pages marked by NextToken alone (no
//! truncated flag) and a topic deleted by a member other than the one its tags are listed by.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const NS: &str = "http://sns.amazonaws.com/doc/2010-03-31/";
const FIRST: &str = "arn:aws:sns:us-east-1:123456789012:conform-left-1";
const SECOND: &str = "arn:aws:sns:us-east-1:123456789012:conform-left-2";
const FOREIGN: &str = "arn:aws:sns:us-east-1:123456789012:someone-elses";

/// Each request's form, in the order they came.
type Calls = Arc<Mutex<Vec<Vec<(String, String)>>>>;

/// Two pages of topics (the second only when asked with the first page's token), tags that
/// mark all but one as conform's, and every other call remembered.
struct Account {
    calls: Calls,
}

fn xml(body: String) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body, "text/xml")
}

impl Respond for Account {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let form: Vec<(String, String)> = form_urlencoded::parse(&req.body)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        self.calls.lock().unwrap().push(form.clone());
        let action = get("Action").unwrap_or_default();
        let meta = "<ResponseMetadata><RequestId>0</RequestId></ResponseMetadata>";
        match action.as_str() {
            "ListTopics" => {
                let (topics, token) = match get("NextToken").as_deref() {
                    None => (vec![FIRST, FOREIGN], "<NextToken>page-2</NextToken>"),
                    Some("page-2") => (vec![SECOND], ""),
                    Some(_) => return ResponseTemplate::new(400),
                };
                let members: String = topics
                    .iter()
                    .map(|t| format!("<member><TopicArn>{t}</TopicArn></member>"))
                    .collect();
                xml(format!(
                    "<ListTopicsResponse xmlns=\"{NS}\"><ListTopicsResult><Topics>{members}</Topics>{token}</ListTopicsResult>{meta}</ListTopicsResponse>"
                ))
            }
            "ListTagsForResource" => {
                let key = if get("ResourceArn").as_deref() == Some(FOREIGN) { "team" } else { "conform" };
                xml(format!(
                    "<ListTagsForResourceResponse xmlns=\"{NS}\"><ListTagsForResourceResult><Tags><member><Key>{key}</Key><Value>x</Value></member></Tags></ListTagsForResourceResult>{meta}</ListTagsForResourceResponse>"
                ))
            }
            "DeleteTopic" if get("TopicArn").is_some() => xml(format!(
                "<DeleteTopicResponse xmlns=\"{NS}\">{meta}</DeleteTopicResponse>"
            )),
            "DeleteTopic" => ResponseTemplate::new(400).set_body_raw(
                "<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>TopicArn missing</Message></Error></ErrorResponse>",
                "text/xml",
            ),
            // IAM's listings: nothing left behind.
            a if a.starts_with("List") => {
                xml(format!("<{a}Response><{a}Result><IsTruncated>false</IsTruncated></{a}Result></{a}Response>"))
            }
            _ => ResponseTemplate::new(400),
        }
    }
}

fn cleanup(root: &Path, endpoint: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_conform"))
        .arg("--root")
        .arg(root)
        .args(["cleanup", "--target", endpoint])
        .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env(
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        )
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("CONFORM_ALLOW_AWS")
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn topics_on_every_page_are_deleted_by_their_topic_arn() {
    let server = MockServer::start().await;
    let calls: Calls = Arc::default();
    Mock::given(method("POST"))
        .respond_with(Account {
            calls: calls.clone(),
        })
        .mount(&server)
        .await;
    let (_dir, root) = common::project(&[("scenarios/README.md", "no cases")]);
    let uri = server.uri();
    let out = tokio::task::spawn_blocking(move || cleanup(&root, &uri))
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let deleted: Vec<String> = calls
        .lock()
        .unwrap()
        .iter()
        .filter(|f| f.iter().any(|(k, v)| k == "Action" && v == "DeleteTopic"))
        .filter_map(|f| {
            f.iter()
                .find(|(k, _)| k == "TopicArn")
                .map(|(_, v)| v.clone())
        })
        .collect();
    // The second page is asked for although no element says the first was truncated.
    assert_eq!(deleted, [FIRST, SECOND], "{stdout}");
    assert!(stdout.contains("2 deleted, 0 failed"), "{stdout}");
}
