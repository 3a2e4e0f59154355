//! The SDK gate, with the Rust SDK: aws-sdk-sts pointed at the replay server parses the doc
//! examples' answers (credentials, a flow signed with them) and raises typed errors; and it
//! sends the STS documented examples of tests/sdk/examples.json, with their values as printed,
//! to the real `conform serve` (`mod examples` below).

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

/// A step's parameters, rendered, by name.
struct P(
    std::collections::BTreeMap<String, conform::scenario::ParamValue>,
    conform::template::Vars,
);

impl P {
    fn s(&self, k: &str) -> Option<String> {
        match self.0.get(k)? {
            conform::scenario::ParamValue::Str(t) => t.render(&self.1).ok(),
            conform::scenario::ParamValue::Int(i) => Some(i.to_string()),
            other => panic!("{k}: not text: {other:?}"),
        }
    }
    fn i(&self, k: &str) -> Option<i32> {
        match self.0.get(k)? {
            conform::scenario::ParamValue::Int(i) => Some(*i as i32),
            conform::scenario::ParamValue::Str(t) => t.render(&self.1).ok()?.parse().ok(),
            other => panic!("{k}: not a number: {other:?}"),
        }
    }
    fn list(&self, k: &str) -> Vec<conform::scenario::ParamValue> {
        match self.0.get(k) {
            Some(conform::scenario::ParamValue::List(items)) => items.clone(),
            None => Vec::new(),
            Some(other) => panic!("{k}: not a list: {other:?}"),
        }
    }
    fn texts(&self, k: &str) -> Vec<String> {
        self.list(k)
            .iter()
            .map(|v| match v {
                conform::scenario::ParamValue::Str(t) => t.render(&self.1).unwrap(),
                other => panic!("{k}: {other:?}"),
            })
            .collect()
    }
    fn structs(&self, k: &str) -> Vec<std::collections::BTreeMap<String, String>> {
        self.list(k)
            .iter()
            .map(|v| match v {
                conform::scenario::ParamValue::Map(m) => m
                    .iter()
                    .map(|(a, b)| match b {
                        conform::scenario::ParamValue::Str(t) => {
                            (a.render(&self.1).unwrap(), t.render(&self.1).unwrap())
                        }
                        other => panic!("{k}: {other:?}"),
                    })
                    .collect(),
                other => panic!("{k}: {other:?}"),
            })
            .collect()
    }
    fn tags(&self, k: &str) -> Option<Vec<Tag>> {
        let t: Vec<Tag> = self
            .structs(k)
            .iter()
            .map(|m| tag(&m["Key"], &m["Value"]))
            .collect();
        (!t.is_empty()).then_some(t)
    }
    fn arns(&self, k: &str) -> Option<Vec<aws_sdk_sts::types::PolicyDescriptorType>> {
        let v: Vec<_> = self
            .structs(k)
            .iter()
            .map(|m| {
                aws_sdk_sts::types::PolicyDescriptorType::builder()
                    .arn(&m["arn"])
                    .build()
            })
            .collect();
        (!v.is_empty()).then_some(v)
    }
}

/// `Ok(credentials it returned, if any)` or `Err(error code)`.
type Outcome = Result<Option<aws_sdk_sts::types::Credentials>, String>;

fn err_code<E: aws_sdk_sts::error::ProvideErrorMetadata>(e: E) -> String {
    e.code().unwrap_or("(no code)").to_owned()
}

/// Sends one modelled call through aws-sdk-sts, whatever the operation.
async fn call(sts: &aws_sdk_sts::Client, op: &str, p: &P) -> Outcome {
    macro_rules! go {
        ($req:expr, $creds:expr) => {
            match $req.send().await {
                Ok(o) => Ok($creds(o)),
                Err(e) => Err(err_code(e.into_service_error())),
            }
        };
    }
    match op {
        "AssumeRole" => go!(
            sts.assume_role()
                .set_role_arn(p.s("RoleArn"))
                .set_role_session_name(p.s("RoleSessionName"))
                .set_policy(p.s("Policy"))
                .set_duration_seconds(p.i("DurationSeconds"))
                .set_external_id(p.s("ExternalId"))
                .set_serial_number(p.s("SerialNumber"))
                .set_token_code(p.s("TokenCode"))
                .set_source_identity(p.s("SourceIdentity"))
                .set_tags(p.tags("Tags"))
                .set_transitive_tag_keys(Some(p.texts("TransitiveTagKeys")).filter(|v| !v.is_empty()))
                .set_policy_arns(p.arns("PolicyArns")),
            |o: aws_sdk_sts::operation::assume_role::AssumeRoleOutput| o.credentials
        ),
        "AssumeRoleWithWebIdentity" => go!(
            sts.assume_role_with_web_identity()
                .set_role_arn(p.s("RoleArn"))
                .set_role_session_name(p.s("RoleSessionName"))
                .set_web_identity_token(p.s("WebIdentityToken"))
                .set_provider_id(p.s("ProviderId"))
                .set_policy(p.s("Policy"))
                .set_duration_seconds(p.i("DurationSeconds"))
                .set_policy_arns(p.arns("PolicyArns")),
            |o: aws_sdk_sts::operation::assume_role_with_web_identity::AssumeRoleWithWebIdentityOutput| o.credentials
        ),
        "AssumeRoleWithSAML" => go!(
            sts.assume_role_with_saml()
                .set_role_arn(p.s("RoleArn"))
                .set_principal_arn(p.s("PrincipalArn"))
                .set_saml_assertion(p.s("SAMLAssertion"))
                .set_policy(p.s("Policy"))
                .set_duration_seconds(p.i("DurationSeconds"))
                .set_policy_arns(p.arns("PolicyArns")),
            |o: aws_sdk_sts::operation::assume_role_with_saml::AssumeRoleWithSamlOutput| o.credentials
        ),
        "GetSessionToken" => go!(
            sts.get_session_token()
                .set_duration_seconds(p.i("DurationSeconds"))
                .set_serial_number(p.s("SerialNumber"))
                .set_token_code(p.s("TokenCode")),
            |o: aws_sdk_sts::operation::get_session_token::GetSessionTokenOutput| o.credentials
        ),
        "GetFederationToken" => go!(
            sts.get_federation_token()
                .set_name(p.s("Name"))
                .set_policy(p.s("Policy"))
                .set_duration_seconds(p.i("DurationSeconds"))
                .set_tags(p.tags("Tags"))
                .set_policy_arns(p.arns("PolicyArns")),
            |o: aws_sdk_sts::operation::get_federation_token::GetFederationTokenOutput| o.credentials
        ),
        "GetCallerIdentity" => go!(sts.get_caller_identity(), |_| None),
        "AssumeRoot" => {
            let task = p.0.get("TaskPolicyArn").map(|v| match v {
                conform::scenario::ParamValue::Map(m) => {
                    let arn = m.iter().find(|(k, _)| k.as_literal() == Some("arn")).map(|(_, v)| v.clone());
                    let arn = match arn {
                        Some(conform::scenario::ParamValue::Str(t)) => t.render(&p.1).unwrap(),
                        other => panic!("TaskPolicyArn.arn: {other:?}"),
                    };
                    aws_sdk_sts::types::PolicyDescriptorType::builder().arn(arn).build()
                }
                other => panic!("TaskPolicyArn: {other:?}"),
            });
            go!(
                sts.assume_root()
                    .set_target_principal(p.s("TargetPrincipal"))
                    .set_task_policy_arn(task)
                    .set_duration_seconds(p.i("DurationSeconds")),
                |o: aws_sdk_sts::operation::assume_root::AssumeRootOutput| o.credentials
            )
        }
        "DecodeAuthorizationMessage" => go!(sts.decode_authorization_message().set_encoded_message(p.s("EncodedMessage")), |_| None),
        "GetAccessKeyInfo" => go!(sts.get_access_key_info().set_access_key_id(p.s("AccessKeyId")), |_| None),
        "GetDelegatedAccessToken" => go!(
            sts.get_delegated_access_token().set_trade_in_token(p.s("TradeInToken")),
            |o: aws_sdk_sts::operation::get_delegated_access_token::GetDelegatedAccessTokenOutput| o.credentials
        ),
        "GetWebIdentityToken" => go!(
            sts.get_web_identity_token()
                .set_audience(Some(p.texts("Audience")))
                .set_signing_algorithm(p.s("SigningAlgorithm"))
                .set_duration_seconds(p.i("DurationSeconds"))
                .set_tags(p.tags("Tags")),
            |_| None
        ),
        other => panic!("no mapping for {other}: extend tests/sdk_rust.rs"),
    }
}

#[tokio::test]
async fn every_doc_example_of_the_corpus_goes_through_aws_sdk_sts() {
    use conform::scenario::{CredentialsSpec, Request, Role};
    let suite = Suite::load(&Layout::at(common::repo())).unwrap();
    let mut v = target::default_vars("us-east-1");
    for (k, val) in suite.default_vars() {
        v.entry(k.clone()).or_insert_with(|| val.clone());
    }
    let replay = Arc::new(Replay::from_suite(&suite, v.clone()));
    let server = replay::serve(Arc::clone(&replay), 0).await.unwrap();
    let mut ran = 0;
    for case in suite
        .cases
        .iter()
        .filter(|c| c.service == "sts" && c.kind == conform::scenario::Kind::DocExample)
    {
        let snapshot = suite.snapshots.expected(case).unwrap();
        let expected: Vec<(u16, Option<String>)> = {
            let mut out: Vec<(u16, Option<String>)> = Vec::new();
            for line in snapshot.lines() {
                if let Some(st) = line.strip_prefix("HTTP ") {
                    out.push((st.split_whitespace().next().unwrap().parse().unwrap(), None));
                } else if let Some(c) = line
                    .trim()
                    .strip_prefix("<Code>")
                    .and_then(|r| r.strip_suffix("</Code>"))
                {
                    out.last_mut().unwrap().1 = Some(c.to_owned());
                }
            }
            out
        };
        let mut previous: Option<aws_sdk_sts::types::Credentials> = None;
        for (i, step) in case
            .steps
            .iter()
            .filter(|s| s.role == Role::Check)
            .enumerate()
        {
            let Request::Call { operation, params } = &step.request else {
                panic!("{}: doc examples are calls", case.test_name())
            };
            let sts = match &step.credentials {
                CredentialsSpec::Explicit { .. } => {
                    let c = previous
                        .as_ref()
                        .expect("credentials from the previous step");
                    client(
                        &server.uri(),
                        Credentials::new(
                            c.access_key_id(),
                            c.secret_access_key(),
                            Some(c.session_token().to_owned()),
                            None,
                            "previous",
                        ),
                    )
                }
                _ => client(&server.uri(), own()),
            };
            let p = P(params.iter().cloned().collect(), v.clone());
            let outcome = call(&sts, operation, &p).await;
            match (&expected[i].1, outcome) {
                (None, Ok(creds)) => previous = creds,
                (Some(code), Err(got)) => assert_eq!(&got, code, "{}", case.test_name()),
                (want, got) => panic!(
                    "{} step {}: expected {want:?}, the SDK got {got:?}",
                    case.test_name(),
                    i + 1
                ),
            }
            ran += 1;
        }
    }
    let doc_steps: usize = suite
        .cases
        .iter()
        .filter(|c| c.service == "sts" && c.kind == conform::scenario::Kind::DocExample)
        .map(|c| c.steps.iter().filter(|s| s.role == Role::Check).count())
        .sum();
    assert_eq!(ran, doc_steps, "every doc-example step");
    assert!(
        ran >= 29,
        "only {ran} doc-example steps: the corpus lost some"
    );
    assert!(
        replay.report().unmatched.is_empty(),
        "{:?}",
        replay.report().unmatched
    );
}

/// The documented examples of tests/sdk/examples.json, with their values as printed, sent
/// by aws-sdk-sts to the real `conform serve` binary; the "rust" example as the seed's Rust
/// listing does it, through `aws_config::sts::AssumeRoleProvider`.
mod examples {
    use std::sync::{Arc, Mutex};
    use std::time::Instant;

    use aws_sdk_sts::config::retry::RetryConfig;
    use aws_sdk_sts::config::{BehaviorVersion, Credentials, Region};
    use aws_sdk_sts::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
    use aws_sdk_sts::types::{PolicyDescriptorType, Tag};
    use aws_smithy_runtime_api::client::http::{
        HttpClient, HttpConnector, HttpConnectorFuture, SharedHttpClient, SharedHttpConnector,
        http_client_fn,
    };
    use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
    use aws_smithy_runtime_api::client::result::{ConnectorError, CreateUnhandledError};
    use serde_json::{Map, Value};

    use crate::common::sdk::{self, Answer, Creds, Example, Record, Step};

    /// One request as it went (the access key id it was signed with, `""` unsigned) and the
    /// answer it got.
    #[derive(Clone, Debug)]
    #[cfg_attr(not(feature = "aws-credentials"), allow(dead_code))]
    struct Exchange {
        action: String,
        key: String,
        status: u16,
        body: String,
    }

    #[derive(Clone, Debug, Default)]
    struct Log(Arc<Mutex<Vec<Exchange>>>);

    impl Log {
        fn last_key(&self) -> Option<String> {
            self.0.lock().unwrap().last().map(|e| e.key.clone())
        }
        #[cfg_attr(not(feature = "aws-credentials"), allow(dead_code))]
        fn of(&self, action: &str) -> Option<Exchange> {
            let log = self.0.lock().unwrap();
            log.iter().find(|e| e.action == action).cloned()
        }
    }

    /// An HTTP connector that passes everything to the plain HTTP one and keeps a copy of
    /// each request's signature and answer.
    #[derive(Debug)]
    struct Recorder {
        inner: SharedHttpConnector,
        log: Log,
    }

    impl HttpConnector for Recorder {
        fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
            let key = request
                .headers()
                .get("authorization")
                .map(sdk::key_of_authorization)
                .unwrap_or_default();
            let action = request
                .body()
                .bytes()
                .and_then(|b| {
                    form_urlencoded::parse(b)
                        .find(|(k, _)| k == "Action")
                        .map(|(_, v)| v.into_owned())
                })
                .unwrap_or_default();
            let inner = self.inner.clone();
            let log = self.log.clone();
            HttpConnectorFuture::new(async move {
                let mut response = inner.call(request).await?;
                let body = response.take_body();
                let bytes = http_body_util::BodyExt::collect(body)
                    .await
                    .map_err(ConnectorError::io)?
                    .to_bytes();
                log.0.lock().unwrap().push(Exchange {
                    action,
                    key,
                    status: response.status().as_u16(),
                    body: String::from_utf8_lossy(&bytes).into_owned(),
                });
                *response.body_mut() = bytes.into();
                Ok(response)
            })
        }
    }

    /// The HTTP-only client of the other gates, recording into `log`.
    fn recording(log: &Log) -> SharedHttpClient {
        let base = aws_smithy_http_client::Builder::new().build_http();
        let log = log.clone();
        http_client_fn(move |settings, components| {
            SharedHttpConnector::new(Recorder {
                inner: base.http_connector(settings, components),
                log: log.clone(),
            })
        })
    }

    fn own() -> Credentials {
        Credentials::new(
            sdk::EXAMPLE_ACCESS_KEY_ID,
            sdk::EXAMPLE_SECRET_ACCESS_KEY,
            None,
            None,
            "conform-example-keys",
        )
    }

    /// A client with these credentials, or none at all (an unsigned step: the SDK could not
    /// sign it if it tried).
    fn client(url: &str, creds: Option<Credentials>, log: &Log) -> aws_sdk_sts::Client {
        let mut conf = aws_sdk_sts::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(sdk::REGION))
            .endpoint_url(url)
            .retry_config(RetryConfig::disabled())
            .http_client(recording(log));
        if let Some(c) = creds {
            conf = conf.credentials_provider(c);
        }
        aws_sdk_sts::Client::from_conf(conf.build())
    }

    /// A step's parameters, each taken once: whatever is left was not sent, and says so.
    struct Params {
        left: Map<String, Value>,
        wrong: Vec<String>,
    }

    impl Params {
        fn new(step: &Step) -> Params {
            Params {
                left: step.params.clone(),
                wrong: Vec::new(),
            }
        }
        fn text(&mut self, k: &str) -> Option<String> {
            match self.left.remove(k)? {
                Value::String(s) => Some(s),
                other => {
                    self.wrong.push(format!("{k} is not text: {other}"));
                    None
                }
            }
        }
        fn int(&mut self, k: &str) -> Option<i32> {
            match self.left.remove(k)? {
                Value::Number(n) if n.as_i64().and_then(|n| i32::try_from(n).ok()).is_some() => {
                    n.as_i64().and_then(|n| i32::try_from(n).ok())
                }
                other => {
                    self.wrong
                        .push(format!("{k} is not a 32-bit integer: {other}"));
                    None
                }
            }
        }
        fn texts(&mut self, k: &str) -> Option<Vec<String>> {
            let items = self.left.remove(k)?;
            let texts: Option<Vec<String>> = items
                .as_array()
                .and_then(|a| a.iter().map(|v| v.as_str().map(str::to_owned)).collect());
            if texts.is_none() {
                self.wrong
                    .push(format!("{k} is not a list of text: {items}"));
            }
            texts
        }
        fn tags(&mut self, k: &str) -> Option<Vec<Tag>> {
            let items = self.left.remove(k)?;
            let tags: Option<Vec<Tag>> = items.as_array().and_then(|a| {
                a.iter()
                    .map(|t| {
                        Tag::builder()
                            .set_key(t["Key"].as_str().map(str::to_owned))
                            .set_value(t["Value"].as_str().map(str::to_owned))
                            .build()
                            .ok()
                    })
                    .collect()
            });
            if tags.is_none() {
                self.wrong
                    .push(format!("{k} is not a list of tags: {items}"));
            }
            tags
        }
        fn policy_arns(&mut self, k: &str) -> Option<Vec<PolicyDescriptorType>> {
            let items = self.left.remove(k)?;
            let arns: Option<Vec<PolicyDescriptorType>> = items.as_array().and_then(|a| {
                a.iter()
                    .map(|p| {
                        p["arn"]
                            .as_str()
                            .map(|arn| PolicyDescriptorType::builder().arn(arn).build())
                    })
                    .collect()
            });
            if arns.is_none() {
                self.wrong
                    .push(format!("{k} is not a list of policy ARNs: {items}"));
            }
            arns
        }
        /// Why the gate would not send what the example prints, if it would not.
        fn unsent(self, op: &str) -> Option<String> {
            let mut why = self.wrong;
            why.extend(
                self.left
                    .keys()
                    .map(|k| format!("the gate maps no parameter {k} of {op}")),
            );
            (!why.is_empty()).then(|| why.join("; "))
        }
    }

    /// The error codes the STS model gives `op` (models/sts-2011-06-15.json).
    fn modelled_codes(op: &str) -> Vec<String> {
        let path = crate::common::repo().join("models/sts-2011-06-15.json");
        let model: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        model["operations"][op]["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["shape"].as_str())
            .map(|shape| {
                model["shapes"][shape]["error"]["code"]
                    .as_str()
                    .unwrap_or(shape)
                    .to_owned()
            })
            .collect()
    }

    /// An SDK error as an answer: the service error (`into_service_error()`, its
    /// `meta().code()`), typed when the SDK raised its modelled variant for a code the model
    /// has (the generic `Unhandled` one carries any other code); anything else is broken.
    fn error_answer<E, R>(op: &str, e: SdkError<E, R>) -> Answer
    where
        E: ProvideErrorMetadata + std::error::Error + CreateUnhandledError + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        if !matches!(e, SdkError::ServiceError(_)) {
            return Answer::Broken {
                detail: format!("{}", DisplayErrorContext(&e)),
            };
        }
        let err = e.into_service_error();
        let Some(code) = err.meta().code().map(str::to_owned) else {
            return Answer::Broken {
                detail: format!("a service error without a code: {err:?}"),
            };
        };
        let debug = format!("{err:?}");
        let variant = debug.split(['(', ' ', '{']).next().unwrap_or("").to_owned();
        let typed = if modelled_codes(op).contains(&code) {
            variant != "Unhandled"
        } else {
            variant == "Unhandled"
        };
        Answer::Error {
            code,
            typed,
            what: format!(
                "{variant}: {}",
                err.meta().message().unwrap_or("(no message)")
            ),
        }
    }

    type Sent = (Answer, Option<aws_sdk_sts::types::Credentials>);

    fn success(
        arn: Option<&str>,
        account: Option<&str>,
        creds: Option<aws_sdk_sts::types::Credentials>,
    ) -> Sent {
        (
            Answer::Ok {
                arn: arn.map(str::to_owned),
                account: account.map(str::to_owned),
                access_key_id: creds.as_ref().map(|c| c.access_key_id().to_owned()),
            },
            creds,
        )
    }

    /// Sends one step through aws-sdk-sts with exactly the parameters the example prints.
    async fn send(sts: &aws_sdk_sts::Client, step: &Step) -> Sent {
        let mut p = Params::new(step);
        let op = step.op.as_str();
        macro_rules! go {
            ($req:expr, |$o:ident| $ok:expr) => {{
                let req = $req;
                if let Some(why) = p.unsent(op) {
                    return (Answer::Broken { detail: why }, None);
                }
                match req.send().await {
                    Ok($o) => $ok,
                    Err(e) => (error_answer(op, e), None),
                }
            }};
        }
        match op {
            "AssumeRole" => go!(
                sts.assume_role()
                    .set_role_arn(p.text("RoleArn"))
                    .set_role_session_name(p.text("RoleSessionName"))
                    .set_policy(p.text("Policy"))
                    .set_duration_seconds(p.int("DurationSeconds"))
                    .set_external_id(p.text("ExternalId"))
                    .set_serial_number(p.text("SerialNumber"))
                    .set_token_code(p.text("TokenCode"))
                    .set_source_identity(p.text("SourceIdentity"))
                    .set_tags(p.tags("Tags"))
                    .set_transitive_tag_keys(p.texts("TransitiveTagKeys"))
                    .set_policy_arns(p.policy_arns("PolicyArns")),
                |o| {
                    let arn = o.assumed_role_user().map(|u| u.arn().to_owned());
                    success(arn.as_deref(), None, o.credentials)
                }
            ),
            "AssumeRoleWithWebIdentity" => go!(
                sts.assume_role_with_web_identity()
                    .set_role_arn(p.text("RoleArn"))
                    .set_role_session_name(p.text("RoleSessionName"))
                    .set_web_identity_token(p.text("WebIdentityToken"))
                    .set_provider_id(p.text("ProviderId"))
                    .set_policy(p.text("Policy"))
                    .set_duration_seconds(p.int("DurationSeconds"))
                    .set_policy_arns(p.policy_arns("PolicyArns")),
                |o| {
                    let arn = o.assumed_role_user().map(|u| u.arn().to_owned());
                    success(arn.as_deref(), None, o.credentials)
                }
            ),
            "GetCallerIdentity" => go!(sts.get_caller_identity(), |o| success(
                o.arn(),
                o.account(),
                None
            )),
            other => (
                Answer::Broken {
                    detail: format!("the gate maps no operation {other}"),
                },
                None,
            ),
        }
    }

    async fn run_example(url: &str, ex: &Example) -> Vec<Record> {
        let mut records = Vec::new();
        let mut previous: Option<aws_sdk_sts::types::Credentials> = None;
        for (i, step) in ex.steps.iter().enumerate() {
            let log = Log::default();
            let creds = match step.creds {
                Creds::Own => Some(own()),
                Creds::Unsigned => None,
                Creds::Previous => previous.as_ref().map(|c| {
                    Credentials::new(
                        c.access_key_id(),
                        c.secret_access_key(),
                        Some(c.session_token().to_owned()),
                        None,
                        "previous-step",
                    )
                }),
            };
            let (answer, returned) = if step.creds == Creds::Previous && creds.is_none() {
                let detail = "the previous step returned no credentials".to_owned();
                (Answer::Skipped { detail }, None)
            } else {
                send(&client(url, creds, &log), step).await
            };
            previous = returned;
            records.push(Record {
                example: ex.id.clone(),
                step: i,
                answer,
                key: log.last_key(),
            });
        }
        records
    }

    /// The seed's Rust listing: an `AssumeRoleProvider` for the role and session, configured
    /// from the caller's `SdkConfig` (here: the own keys, the region, the server's endpoint,
    /// the HTTP-only client), a config loaded with it as the credentials provider, and
    /// GetCallerIdentity through a client of that config. The provider keeps what AssumeRole
    /// answered to itself, so the recording HTTP client tells what it was.
    #[cfg(feature = "aws-credentials")]
    async fn rust_listing(url: &str, ex: &Example) -> Option<Vec<Record>> {
        let [assume, identity] = &ex.steps[..] else {
            return None;
        };
        let mut p = Params::new(assume);
        let (role, session) = (p.text("RoleArn")?, p.text("RoleSessionName")?);
        if assume.op != "AssumeRole"
            || identity.op != "GetCallerIdentity"
            || (assume.creds, identity.creds) != (Creds::Own, Creds::Previous)
            || p.unsent("AssumeRole").is_some()
            || !identity.params.is_empty()
        {
            return None;
        }
        let log = Log::default();
        let config = aws_config::from_env()
            .region(Region::new(sdk::REGION))
            .endpoint_url(url)
            .retry_config(RetryConfig::disabled())
            .credentials_provider(own())
            .http_client(recording(&log))
            .load()
            .await;

        let provider = aws_config::sts::AssumeRoleProvider::builder(role)
            .session_name(session)
            .configure(&config)
            .build()
            .await;
        let local_config = aws_config::from_env()
            .region(Region::new(sdk::REGION))
            .endpoint_url(url)
            .retry_config(RetryConfig::disabled())
            .http_client(recording(&log))
            .credentials_provider(provider)
            .load()
            .await;
        let client = aws_sdk_sts::Client::new(&local_config);
        let resp = client.get_caller_identity().send().await;

        let first = match log.of("AssumeRole") {
            None => Record {
                example: ex.id.clone(),
                step: 0,
                answer: Answer::Broken {
                    detail: "the AssumeRoleProvider sent no AssumeRole".into(),
                },
                key: None,
            },
            Some(x) => {
                let doc = conform::xml::parse(&x.body).ok();
                let at = |path: &str| {
                    let path = conform::xml::ElementPath::parse(path).unwrap();
                    doc.as_ref().and_then(|d| path.select(d))
                };
                let answer = if x.status == 200 {
                    Answer::Ok {
                        arn: at("/AssumeRoleResponse/AssumeRoleResult/AssumedRoleUser/Arn"),
                        account: None,
                        access_key_id: at(
                            "/AssumeRoleResponse/AssumeRoleResult/Credentials/AccessKeyId",
                        ),
                    }
                } else {
                    match at("//Code") {
                        // The provider turns it into a CredentialsError: no typed error.
                        Some(code) => Answer::Error {
                            code,
                            typed: false,
                            what: format!(
                                "HTTP {}, which the AssumeRoleProvider turns into a credentials error",
                                x.status
                            ),
                        },
                        None => Answer::Broken {
                            detail: format!("HTTP {}: {}", x.status, x.body),
                        },
                    }
                };
                Record {
                    example: ex.id.clone(),
                    step: 0,
                    answer,
                    key: Some(x.key),
                }
            }
        };
        let second = Record {
            example: ex.id.clone(),
            step: 1,
            answer: match resp {
                Ok(o) => success(o.arn(), o.account(), None).0,
                Err(e) => error_answer("GetCallerIdentity", e),
            },
            key: log.of("GetCallerIdentity").map(|x| x.key),
        };
        Some(vec![first, second])
    }

    #[tokio::test]
    async fn aws_sdk_sts_sends_the_documented_examples_as_printed() {
        let examples = sdk::examples();
        let serve = sdk::Serve::start();
        let started = Instant::now();
        let mut records = Vec::new();
        for ex in &examples {
            #[cfg(feature = "aws-credentials")]
            if ex.id == "rust" {
                let listing = rust_listing(serve.url(), ex).await;
                assert!(
                    listing.is_some(),
                    "the rust example is no longer AssumeRole(RoleArn, RoleSessionName) then \
                     GetCallerIdentity with its credentials: adapt rust_listing"
                );
                records.extend(listing.unwrap_or_default());
                continue;
            }
            records.extend(run_example(serve.url(), ex).await);
        }
        sdk::verdict(
            "aws-sdk-sts",
            &examples,
            &records,
            &serve,
            started.elapsed(),
        );
    }
}
