//! The SDK gate, with the Rust SDK: aws-sdk-sts pointed at the replay server parses the doc
//! examples' answers (credentials, a flow signed with them) and raises typed errors.

mod common;

use std::sync::Arc;

use aws_sdk_sts::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_sts::operation::assume_role::AssumeRoleError;
use aws_sdk_sts::operation::get_federation_token::GetFederationTokenError;
use aws_sdk_sts::types::Tag;
use conform::replay::{self, Replay};
use conform::suite::{Layout, Suite};
use conform::target;

fn client(endpoint: &str, creds: Credentials) -> aws_sdk_sts::Client {
    let conf = aws_sdk_sts::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(creds)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    aws_sdk_sts::Client::from_conf(conf)
}

fn own() -> Credentials {
    Credentials::new(
        target::EXAMPLE_ACCESS_KEY_ID,
        target::EXAMPLE_SECRET_ACCESS_KEY,
        None,
        None,
        "conform-test",
    )
}

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().key(k).value(v).build().unwrap()
}

#[tokio::test]
async fn aws_sdk_sts_parses_the_doc_examples_and_raises_typed_errors() {
    let suite = Suite::load(&Layout::at(common::repo())).unwrap();
    let vars = target::default_vars("us-east-1");
    let role_arn = vars["role_arn"].clone();
    let replay = Arc::new(Replay::from_suite(&suite, vars));
    let server = replay::serve(Arc::clone(&replay), 0).await.unwrap();
    let sts = client(&server.uri(), own());

    // The boto3 reference example, sent by the Rust SDK (its own parameter order).
    let out = sts
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("testAssumeRoleSession")
        .external_id("123ABC")
        .policy(r#"{"Version":"2012-10-17","Statement":[{"Sid":"Stmt1","Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}"#)
        .tags(tag("Project", "Unicorn"))
        .tags(tag("Team", "Automation"))
        .tags(tag("Cost-Center", "12345"))
        .transitive_tag_keys("Project")
        .transitive_tag_keys("Cost-Center")
        .send()
        .await
        .expect("the doc example is answered");
    let creds = out.credentials().expect("credentials");
    assert!(creds.access_key_id().starts_with("ASIA") && creds.access_key_id().len() == 20);
    assert_eq!(creds.secret_access_key().len(), 40);
    let ahead = creds.expiration().secs()
        - std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
    assert!((3500..=3700).contains(&ahead), "{ahead}");
    assert_eq!(
        out.assumed_role_user().unwrap().arn(),
        "arn:aws:sts::123456789012:assumed-role/conform-test-role/testAssumeRoleSession"
    );

    // The .NET example: AssumeRole for 1600 s, then GetCallerIdentity with what it returned.
    let out = sts
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("Session1")
        .duration_seconds(1600)
        .send()
        .await
        .expect("answered");
    let c = out.credentials().unwrap();
    let session = client(
        &server.uri(),
        Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_owned()),
            None,
            "session",
        ),
    );
    let me = session
        .get_caller_identity()
        .send()
        .await
        .expect("the flow's second step is answered");
    assert_eq!(
        me.arn(),
        Some("arn:aws:sts::123456789012:assumed-role/conform-test-role/Session1")
    );
    assert_eq!(me.account(), Some("123456789012"));

    // GetCallerIdentity with the client's own keys.
    let me = sts.get_caller_identity().send().await.unwrap();
    assert_eq!(me.arn(), Some("arn:aws:iam::123456789012:user/conform"));

    // A modeled error arrives as its typed variant.
    let err = sts
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("conform-malformed-policy")
        .policy("Allow s3:ListAllMyBuckets on everything")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(
        err.into_service_error(),
        AssumeRoleError::MalformedPolicyDocumentException(_)
    ));
    let err = sts
        .get_federation_token()
        .name("conform-fed")
        .policy(r#"{"Version":"2012-10-17","Statement":[{"Sid":"AllowUploads","Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::conform-bucket/*"}]}"#)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(
        err.into_service_error(),
        GetFederationTokenError::MalformedPolicyDocumentException(_)
    ));

    // An unmodeled one keeps its code.
    let err = sts
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("a")
        .send()
        .await
        .unwrap_err();
    let err = err.into_service_error();
    assert_eq!(
        aws_sdk_sts::error::ProvideErrorMetadata::code(&err),
        Some("ValidationError")
    );

    assert!(
        replay.report().unmatched.is_empty(),
        "{:?}",
        replay.report().unmatched
    );
}
