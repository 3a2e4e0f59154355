//! The replay server over loopback: it serves recorded answers that a run accepts, tells
//! what it cannot match, checks what an SDK must send, and keeps up under load.

mod common;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use conform::replay::{self, NO_MATCH_CODE, REJECTED_CODE, Replay};
use conform::runner::{Outcome, Runner};
use conform::secrets::Secrets;
use conform::sign::{self, Credentials};
use conform::suite::Suite;
use conform::target::{self, Target};
use conform::transport::HttpRequest;

fn starter() -> Arc<Suite> {
    Arc::new(Suite::load(&common::starter_layout()).unwrap())
}

async fn start(suite: &Suite) -> (Arc<Replay>, replay::Server) {
    let replay = Arc::new(Replay::from_suite(suite, target::default_vars("us-east-1")));
    let server = replay::serve(Arc::clone(&replay), 0).await.unwrap();
    (replay, server)
}

fn creds() -> Credentials {
    Credentials {
        access_key_id: target::EXAMPLE_ACCESS_KEY_ID.into(),
        secret_access_key: target::EXAMPLE_SECRET_ACCESS_KEY.into(),
        session_token: None,
    }
}

/// A request as an SDK would send it, signed for `service` unless `service` is None.
async fn send(uri: &str, body: &str, service: Option<&str>, creds: &Credentials) -> (u16, String) {
    let host = uri.trim_start_matches("http://").to_owned();
    let mut req = HttpRequest {
        method: "POST".into(),
        url: format!("{uri}/"),
        headers: vec![
            ("host".into(), host),
            (
                "content-type".into(),
                "application/x-www-form-urlencoded".into(),
            ),
        ],
        body: body.as_bytes().to_vec(),
    };
    if let Some(s) = service {
        let signed = sign::sign_headers(creds, "us-east-1", s, &req, SystemTime::now()).unwrap();
        req.headers.extend(signed);
    }
    let client = reqwest::Client::new();
    let mut b = client.post(&req.url).body(req.body.clone());
    for (k, v) in &req.headers {
        b = b.header(k, v);
    }
    let r = b.send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn a_run_against_the_replay_of_its_own_snapshots_passes() {
    let suite = starter();
    let (replay, server) = start(&suite).await;
    let r = Arc::new(
        Runner::new(
            Arc::clone(&suite),
            Target::at_endpoint(&server.uri(), "us-east-1", |_| None).unwrap(),
            Secrets::new(),
        )
        .unwrap(),
    );
    let all: Vec<usize> = (0..suite.cases.len()).collect();
    for res in r.check_all(&all, 4, |_| {}).await {
        assert_eq!(
            res.outcome,
            Outcome::Pass,
            "{}\n{}",
            res.test_name,
            res.run.transcript
        );
    }
    let report = replay.report();
    assert!(report.unmatched.is_empty(), "{:?}", report.unmatched);
    assert!(
        report.never_requested.is_empty(),
        "{:?}",
        report.never_requested
    );
}

#[tokio::test]
async fn answers_carry_fresh_plausible_values() {
    let suite = starter();
    let (_replay, server) = start(&suite).await;
    let body = "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fconform-test-role&RoleSessionName=testAssumeRoleSession&ExternalId=123ABC&Policy=%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Sid%22%3A%22Stmt1%22%2C%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3AListAllMyBuckets%22%2C%22Resource%22%3A%22*%22%7D%5D%7D&Tags.member.1.Key=Project&Tags.member.1.Value=Unicorn&Tags.member.2.Key=Team&Tags.member.2.Value=Automation&Tags.member.3.Key=Cost-Center&Tags.member.3.Value=12345&TransitiveTagKeys.member.1=Project&TransitiveTagKeys.member.2=Cost-Center";
    // Parameter order does not matter: send them reversed.
    let reversed: Vec<&str> = body.split('&').rev().collect();
    let (status, text) = send(&server.uri(), &reversed.join("&"), Some("sts"), &creds()).await;
    assert_eq!(status, 200, "{text}");
    let doc = conform::xml::parse(&text).unwrap();
    let get = |p: &str| {
        conform::xml::ElementPath::parse(p)
            .unwrap()
            .select(&doc)
            .unwrap()
    };
    let key = get("AssumeRoleResult/Credentials/AccessKeyId");
    assert!(key.starts_with("ASIA") && key.len() == 20, "{key}");
    assert_eq!(
        get("AssumeRoleResult/Credentials/SecretAccessKey").len(),
        40
    );
    assert_eq!(
        get("AssumeRoleResult/AssumedRoleUser/Arn"),
        "arn:aws:sts::123456789012:assumed-role/conform-test-role/testAssumeRoleSession"
    );
    let exp = time::OffsetDateTime::parse(
        &get("AssumeRoleResult/Credentials/Expiration"),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let ahead = exp - time::OffsetDateTime::now_utc();
    assert!((3500..=3700).contains(&ahead.whole_seconds()), "{ahead}");
    let rid = get("ResponseMetadata/RequestId");
    assert_eq!(rid.len(), 36, "{rid}");

    // The handed-out keys carry the flow: GetCallerIdentity with them needs a flow that
    // calls as its session, and the starter suite has none, so it is refused, loudly.
    let temp = Credentials {
        access_key_id: key,
        secret_access_key: get("AssumeRoleResult/Credentials/SecretAccessKey"),
        session_token: Some(get("AssumeRoleResult/Credentials/SessionToken")),
    };
    let (status, text) = send(
        &server.uri(),
        "Action=GetCallerIdentity&Version=2011-06-15",
        Some("sts"),
        &temp,
    )
    .await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains(NO_MATCH_CODE), "{text}");
    assert!(text.contains("sts::GetCallerIdentity::get_caller_identity (the same parameters, but the case signs this step with the client's own keys)"), "{text}");
}

#[tokio::test]
async fn unmatched_requests_get_a_loud_error_naming_the_closest_cases() {
    let suite = starter();
    let (replay, server) = start(&suite).await;
    let (status, text) = send(&server.uri(), "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fconform-test-role&RoleSessionName=zz", Some("sts"), &creds()).await;
    assert_eq!(status, 400);
    assert!(
        text.contains(&format!("<Code>{NO_MATCH_CODE}</Code>")),
        "{text}"
    );
    assert!(
        text.contains(
            "Closest: sts::AssumeRole::assume_role_session_name_too_short (RoleSessionName is `zz`, the case expects `a`)"
        ),
        "{text}"
    );
    let (_, text) = send(&server.uri(), "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fconform-test-role&RoleSessionName=a", None, &creds()).await;
    assert!(
        text.contains(
            "assume_role_session_name_too_short (the same parameters, but the case signs this step with the client's own keys)"
        ),
        "{text}"
    );
    let (_, text) = send(
        &server.uri(),
        "Action=Nope&Version=2011-06-15",
        Some("sts"),
        &creds(),
    )
    .await;
    assert!(
        text.contains("Closest: sts::GetCallerIdentity::get_caller_identity (Action is `Nope`, the case expects `GetCallerIdentity`)"),
        "{text}"
    );
    let (_, text) = send(
        &server.uri(),
        "Action=Nope&Version=2011-06-15&X=1&Y=2&Z=3",
        Some("sts"),
        &creds(),
    )
    .await;
    assert!(
        text.contains("No case sends this action; `conform list` shows the cases."),
        "{text}"
    );
    assert_eq!(replay.report().unmatched.len(), 4);
    assert_eq!(replay.report().never_requested.len(), 4);
}

#[tokio::test]
async fn what_an_sdk_must_send_is_checked() {
    let suite = starter();
    let (_replay, server) = start(&suite).await;
    // Signed, but scoped to the wrong service.
    let (status, text) = send(
        &server.uri(),
        "Action=GetCallerIdentity&Version=2011-06-15",
        Some("iam"),
        &creds(),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        text.contains(REJECTED_CODE)
            && text.contains("the signature is scoped to `iam`, the operation belongs to `sts`"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_requests_are_all_answered() {
    let suite = starter();
    let (replay, server) = start(&suite).await;
    let uri = server.uri();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..1000 {
        let uri = uri.clone();
        set.spawn(async move {
            send(
                &uri,
                "Action=GetCallerIdentity&Version=2011-06-15",
                Some("sts"),
                &creds(),
            )
            .await
        });
    }
    let mut ok = 0;
    while let Some(r) = tokio::time::timeout(Duration::from_secs(60), set.join_next())
        .await
        .expect("no request hangs")
    {
        let (status, body) = r.unwrap();
        assert_eq!(status, 200, "{body}");
        ok += 1;
    }
    assert_eq!(ok, 1000);
    assert!(replay.report().unmatched.is_empty());
}

/// The whole corpus's replay, as `conform serve` starts it with no options.
async fn start_corpus() -> (Arc<Replay>, replay::Server) {
    let suite = Suite::load(&conform::suite::Layout::at(common::repo())).unwrap();
    start(&suite).await
}

fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

fn text_of(xml: &str, path: &str) -> String {
    let doc = conform::xml::parse(xml).unwrap_or_else(|e| panic!("{e}: {xml}"));
    conform::xml::ElementPath::parse(path)
        .unwrap()
        .select(&doc)
        .unwrap_or_else(|| panic!("no {path} in {xml}"))
}

fn session_creds(answer: &str) -> Credentials {
    Credentials {
        access_key_id: text_of(answer, "//AccessKeyId"),
        secret_access_key: text_of(answer, "//SecretAccessKey"),
        session_token: Some(text_of(answer, "//SessionToken")),
    }
}

#[tokio::test]
async fn any_role_of_the_right_shape_is_assumed_and_named_with_its_account() {
    let (_replay, server) = start_corpus().await;
    // PowerShell example 2 as printed, and the same with a role of another account.
    for (role, account) in [
        ("arn:aws:iam::123456789012:role/demo", "123456789012"),
        (
            "arn:aws:iam::111122223333:role/path/to/Other",
            "111122223333",
        ),
    ] {
        let body = form(&[
            ("Action", "AssumeRole"),
            ("Version", "2011-06-15"),
            ("RoleSessionName", "Bob"),
            ("RoleArn", role),
            ("DurationSeconds", "3600"),
        ]);
        let (status, text) = send(&server.uri(), &body, Some("sts"), &creds()).await;
        assert_eq!(status, 200, "{text}");
        let name = role.rsplit('/').next().unwrap();
        assert_eq!(
            text_of(&text, "AssumeRoleResult/AssumedRoleUser/Arn"),
            format!("arn:aws:sts::{account}:assumed-role/{name}/Bob")
        );
        assert!(
            text_of(&text, "//AssumedRoleId").ends_with(":Bob"),
            "{text}"
        );
    }
    // A role ARN of another shape matches nothing, and the error says which shape.
    let body = form(&[
        ("Action", "AssumeRole"),
        ("Version", "2011-06-15"),
        ("RoleSessionName", "Bob"),
        ("RoleArn", "arn:aws:iam::12345:role/demo"),
        ("DurationSeconds", "3600"),
    ]);
    let (status, text) = send(&server.uri(), &body, Some("sts"), &creds()).await;
    assert_eq!(status, 400, "{text}");
    assert!(
        text.contains("RoleArn `arn:aws:iam::12345:role/demo` does not have the shape of role_arn"),
        "{text}"
    );
}

#[tokio::test]
async fn any_session_name_the_model_allows_is_named_in_the_answer() {
    let (_replay, server) = start_corpus().await;
    let ask = |session: &'static str| {
        form(&[
            ("Action", "AssumeRole"),
            ("Version", "2011-06-15"),
            (
                "RoleArn",
                "arn:aws:iam::123456789012:role/swift-example-role",
            ),
            ("RoleSessionName", session),
        ])
    };
    let (status, text) = send(&server.uri(), &ask("swift-session"), Some("sts"), &creds()).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        text_of(&text, "AssumeRoleResult/AssumedRoleUser/Arn"),
        "arn:aws:sts::123456789012:assumed-role/swift-example-role/swift-session"
    );
    // A name the model refuses is no stand-in for a case's: the limit cases decide.
    let (status, text) = send(&server.uri(), &ask("Session1:2"), Some("sts"), &creds()).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("<Code>ValidationError</Code>"), "{text}");
    let (status, text) = send(&server.uri(), &ask("has space"), Some("sts"), &creds()).await;
    assert_eq!(status, 400, "{text}");
    assert!(
        text.contains("RoleSessionName `has space` is no value the model allows"),
        "{text}"
    );
}

#[tokio::test]
async fn credentials_handed_out_call_as_their_session_and_expire() {
    let (replay, server) = start_corpus().await;
    let body = form(&[
        ("Action", "AssumeRole"),
        ("Version", "2011-06-15"),
        ("RoleArn", "arn:aws:iam::111122223333:role/xaccounts3access"),
        ("RoleSessionName", "s3-access-example"),
    ]);
    let (status, text) = send(&server.uri(), &body, Some("sts"), &creds()).await;
    assert_eq!(status, 200, "{text}");
    let role_id = text_of(&text, "//AssumedRoleId");
    let temp = session_creds(&text);
    let gci = "Action=GetCallerIdentity&Version=2011-06-15";
    let (status, text) = send(&server.uri(), gci, Some("sts"), &temp).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        text_of(&text, "//Arn"),
        "arn:aws:sts::111122223333:assumed-role/xaccounts3access/s3-access-example"
    );
    assert_eq!(text_of(&text, "//UserId"), role_id);
    assert_eq!(text_of(&text, "//Account"), "111122223333");

    // Federation tokens call as their federated user.
    let body = form(&[
        ("Action", "GetFederationToken"),
        ("Version", "2011-06-15"),
        ("Name", "Bob"),
    ]);
    let (status, text) = send(&server.uri(), &body, Some("sts"), &creds()).await;
    assert_eq!(status, 200, "{text}");
    let fed = session_creds(&text);
    let fed_arn = text_of(&text, "GetFederationTokenResult/FederatedUser/Arn");
    assert!(fed_arn.ends_with(":federated-user/Bob"), "{fed_arn}");
    let (status, text) = send(&server.uri(), gci, Some("sts"), &fed).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(text_of(&text, "//Arn"), fed_arn);

    // Keys nobody handed out, with a session token: AWS does not know them either.
    let stranger = Credentials {
        access_key_id: "ASIAZZZZZZZZZZZZZZZZ".into(),
        secret_access_key: "x".repeat(40),
        session_token: Some("stale-token".into()),
    };
    let (status, text) = send(&server.uri(), gci, Some("sts"), &stranger).await;
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("<Code>InvalidClientTokenId</Code>"), "{text}");

    // An hour later the session has ended: the corpus's answer for expired keys.
    replay.advance(Duration::from_secs(3601));
    let (status, text) = send(&server.uri(), gci, Some("sts"), &temp).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("<Code>ExpiredToken</Code>"), "{text}");
}

#[tokio::test]
async fn a_value_the_server_stands_for_says_which_var_would_make_it_yours() {
    let (_replay, server) = start_corpus().await;
    // A message to decode: the server stands for the one the corpus's target provides.
    let body = form(&[
        ("Action", "DecodeAuthorizationMessage"),
        ("Version", "2011-06-15"),
        ("EncodedMessage", "my-own-encoded-message"),
    ]);
    let (status, text) = send(&server.uri(), &body, Some("sts"), &creds()).await;
    assert_eq!(status, 400, "{text}");
    assert!(
        text.contains("EncodedMessage is `my-own-encoded-message`, the case expects `encoded-authorization-message-example-0000` (the server&apos;s encoded_authorization_message; start it with --var encoded_authorization_message=my-own-encoded-message to stand for yours)")
            || text.contains("EncodedMessage is `my-own-encoded-message`, the case expects `encoded-authorization-message-example-0000` (the server's encoded_authorization_message; start it with --var encoded_authorization_message=my-own-encoded-message to stand for yours)"),
        "{text}"
    );
}
