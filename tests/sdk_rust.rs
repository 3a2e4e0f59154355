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

/// The code of a service error, typed or not.
fn code<E: aws_sdk_sts::error::ProvideErrorMetadata>(e: &E) -> Option<String> {
    e.code().map(str::to_owned)
}

#[tokio::test]
async fn every_operation_answers_aws_sdk_sts_with_a_success_and_an_error() {
    let suite = Suite::load(&Layout::at(common::repo())).unwrap();
    let mut v = target::default_vars("us-east-1");
    for (k, val) in suite.default_vars() {
        v.entry(k.clone()).or_insert_with(|| val.clone());
    }
    let replay = Arc::new(Replay::from_suite(&suite, v.clone()));
    let server = replay::serve(Arc::clone(&replay), 0).await.unwrap();
    let sts = client(&server.uri(), own());

    // AssumeRoleWithSAML: the example, and an assertion that is not one.
    let out = sts
        .assume_role_with_saml()
        .role_arn(&v["saml_role_arn"])
        .principal_arn(&v["saml_provider_arn"])
        .saml_assertion(&v["saml_assertion"])
        .duration_seconds(3600)
        .send()
        .await
        .expect("saml_doc_example");
    assert!(
        out.credentials()
            .unwrap()
            .access_key_id()
            .starts_with("ASIA")
    );
    assert_eq!(out.subject(), Some(v["saml_subject"].as_str()));
    let err = sts
        .assume_role_with_saml()
        .role_arn(&v["saml_role_arn"])
        .principal_arn(&v["saml_provider_arn"])
        .saml_assertion("PHg+")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(matches!(err, aws_sdk_sts::operation::assume_role_with_saml::AssumeRoleWithSAMLError::InvalidIdentityTokenException(_)), "{err:?}");

    // AssumeRoleWithWebIdentity: the OIDC example, and a duration over the maximum.
    let out = sts
        .assume_role_with_web_identity()
        .role_arn(&v["web_identity_role_arn"])
        .role_session_name("conform-wi")
        .web_identity_token(&v["web_identity_token"])
        .duration_seconds(3600)
        .send()
        .await
        .expect("web_identity_doc_example_oidc");
    assert_eq!(
        out.subject_from_web_identity_token(),
        Some(v["web_identity_subject"].as_str())
    );
    let err = sts
        .assume_role_with_web_identity()
        .role_arn(&v["web_identity_role_arn"])
        .role_session_name("conform-wi")
        .web_identity_token(&v["web_identity_token"])
        .duration_seconds(43201)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(code(&err).as_deref(), Some("ValidationError"));

    // AssumeRoot.
    let task = aws_sdk_sts::types::PolicyDescriptorType::builder()
        .arn("arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials")
        .build();
    let out = sts
        .assume_root()
        .target_principal(&v["member_account_id"])
        .task_policy_arn(task.clone())
        .send()
        .await
        .expect("assume_root_audit_root_credentials");
    assert!(out.credentials().is_some());
    let err = sts
        .assume_root()
        .target_principal(&v["member_account_id"])
        .task_policy_arn(task)
        .duration_seconds(901)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(code(&err).as_deref(), Some("ValidationError"));

    // DecodeAuthorizationMessage.
    let out = sts
        .decode_authorization_message()
        .encoded_message(&v["encoded_authorization_message"])
        .send()
        .await
        .expect("decode_message_of_denied_request");
    assert!(out.decoded_message().is_some_and(|m| m.starts_with('{')));
    let err = sts
        .decode_authorization_message()
        .encoded_message("x")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_authorization_message_exception(), "{err:?}");

    // GetAccessKeyInfo.
    let out = sts
        .get_access_key_info()
        .access_key_id(&v["access_key_id"])
        .send()
        .await
        .expect("access_key_info_own_key");
    assert_eq!(out.account(), Some("123456789012"));
    let err = sts
        .get_access_key_info()
        .access_key_id("AKIA-IOSFODNN7EXAMPL")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(code(&err).as_deref(), Some("ValidationError"));

    // GetDelegatedAccessToken.
    let out = sts
        .get_delegated_access_token()
        .trade_in_token(&v["trade_in_token"])
        .send()
        .await
        .expect("delegated_token_exchange");
    assert!(out.credentials().is_some());
    let err = sts
        .get_delegated_access_token()
        .trade_in_token(&v["expired_trade_in_token"])
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_expired_trade_in_token_exception(), "{err:?}");

    // GetFederationToken.
    let out = sts
        .get_federation_token()
        .name("Bob")
        .duration_seconds(3600)
        .policy(r#"{"Version":"2012-10-17","Statement":[{"Sid":"ListBuckets","Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}"#)
        .send()
        .await
        .expect("federation_token_doc_example");
    assert_eq!(
        out.federated_user().unwrap().arn(),
        "arn:aws:sts::123456789012:federated-user/Bob"
    );

    // GetSessionToken.
    let out = sts
        .get_session_token()
        .duration_seconds(3600)
        .send()
        .await
        .expect("session_token_doc_example_one_hour");
    assert!(out.credentials().is_some());
    let err = sts
        .get_session_token()
        .duration_seconds(129601)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(code(&err).as_deref(), Some("ValidationError"));

    // GetWebIdentityToken.
    let out = sts
        .get_web_identity_token()
        .audience("https://api.example.com")
        .signing_algorithm("RS256")
        .send()
        .await
        .expect("web_identity_token_for_one_audience");
    assert_eq!(
        out.web_identity_token().map(|t| t.split('.').count()),
        Some(3)
    );
    let err = sts
        .get_web_identity_token()
        .audience("https://api.example.com")
        .signing_algorithm("RS256")
        .duration_seconds(3601)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(code(&err).as_deref(), Some("ValidationError"));

    assert!(
        replay.report().unmatched.is_empty(),
        "{:?}",
        replay.report().unmatched
    );
}
