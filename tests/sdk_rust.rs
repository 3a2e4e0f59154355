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
        .filter(|c| c.kind == conform::scenario::Kind::DocExample)
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
    assert_eq!(ran, 26, "every doc-example step");
    assert!(
        replay.report().unmatched.is_empty(),
        "{:?}",
        replay.report().unmatched
    );
}
