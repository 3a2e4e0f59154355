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

/// `n` signed GetCallerIdentity calls at once, each on a connection of its own; spawned on
/// the caller's runtime.
fn identity_calls(uri: &str, n: usize) -> tokio::task::JoinSet<(u16, String)> {
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..n {
        let uri = uri.to_owned();
        set.spawn(async move {
            let body = "Action=GetCallerIdentity&Version=2011-06-15";
            send(&uri, body, Some("sts"), &creds()).await
        });
    }
    set
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_requests_are_all_answered() {
    let suite = starter();
    let (replay, server) = start(&suite).await;
    let mut set = identity_calls(&server.uri(), 1000);
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

/// `conform serve`'s server: a listener per thread on one port. Every connection is answered
/// whichever thread's listener the kernel hands it to, and dropping the server closes the
/// port and ends the connections still open.
#[test]
fn the_server_on_threads_of_its_own_answers_on_every_thread_and_stops_when_dropped() {
    let suite = starter();
    let replay = Arc::new(Replay::from_suite(
        &suite,
        target::default_vars("us-east-1"),
    ));
    let limits = replay::Limits::default();
    let server = replay::serve_threaded(Arc::clone(&replay), 0, limits, 3).unwrap();
    let uri = server.uri();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // Each request on a connection of its own, so the kernel spreads them over the listeners.
    let answers = rt.block_on(async { identity_calls(&uri, 60).join_all().await });
    let statuses: Vec<u16> = answers.iter().map(|(status, _)| *status).collect();
    assert_eq!(statuses, vec![200; 60], "{answers:?}");
    assert!(replay.report().unmatched.is_empty());
    // A connection left open, idle: the drop must end it too, not wait for it.
    let mut idle = std::net::TcpStream::connect(server.address()).unwrap();
    let addr = server.address();
    drop(server);
    use std::io::Read as _;
    idle.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = [0u8; 16];
    // Closed once accepted, reset if still in the listen queue: either way not left open.
    match idle.read(&mut buf) {
        Ok(0) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        other => panic!("the idle connection is still open after the drop: {other:?}"),
    }
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "nothing listens after the drop"
    );
}

/// A port someone else listens on is refused at once, with the port's own error.
#[test]
fn the_server_on_threads_refuses_a_port_already_taken() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let replay = Arc::new(Replay::from_suite(
        &starter(),
        target::default_vars("us-east-1"),
    ));
    let err = replay::serve_threaded(replay, port, replay::Limits::default(), 2)
        .err()
        .expect("the port is taken");
    assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
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

/// A made-up awsQuery service, "vault": opening a session for a vault hands out keys, and
/// WhoAmI signed with them names the session. Everything the replay server knows of it is
/// in these files: the model, the redaction rules, the replay file, one scenario, and the
/// snapshot of its checked steps.
const VAULT_MODEL: &str = r#"{
  "metadata": {"apiVersion": "2020-01-01", "endpointPrefix": "vault", "protocol": "query",
               "signatureVersion": "v4", "xmlNamespace": "https://vault.example/doc/2020-01-01/"},
  "operations": {
    "CreateVault": {"name": "CreateVault", "input": {"shape": "CreateVaultRequest"},
                    "output": {"shape": "CreateVaultResponse", "resultWrapper": "CreateVaultResult"}},
    "DeleteVault": {"name": "DeleteVault", "input": {"shape": "DeleteVaultRequest"}},
    "OpenSession": {"name": "OpenSession", "input": {"shape": "OpenSessionRequest"},
                    "output": {"shape": "OpenSessionResponse", "resultWrapper": "OpenSessionResult"}},
    "WhoAmI": {"name": "WhoAmI", "input": {"shape": "WhoAmIRequest"},
               "output": {"shape": "WhoAmIResponse", "resultWrapper": "WhoAmIResult"}}
  },
  "shapes": {
    "CreateVaultRequest": {"type": "structure", "required": ["Name"], "members": {"Name": {"shape": "Name"}}},
    "CreateVaultResponse": {"type": "structure", "members": {"VaultId": {"shape": "Id"}, "Name": {"shape": "Name"}}},
    "DeleteVaultRequest": {"type": "structure", "members": {"VaultId": {"shape": "Id"}}},
    "OpenSessionRequest": {"type": "structure", "members": {"VaultId": {"shape": "Id"}, "Name": {"shape": "Name"}}},
    "OpenSessionResponse": {"type": "structure", "members": {"Session": {"shape": "Session"}, "Credentials": {"shape": "Credentials"}}},
    "WhoAmIRequest": {"type": "structure", "members": {}},
    "WhoAmIResponse": {"type": "structure", "members": {"Arn": {"shape": "Name"}, "Id": {"shape": "Id"}, "Account": {"shape": "Id"}}},
    "Session": {"type": "structure", "members": {"Arn": {"shape": "Name"}, "SessionId": {"shape": "Id"}}},
    "Credentials": {"type": "structure", "members": {"KeyId": {"shape": "Id"}, "Secret": {"shape": "Name"}, "Until": {"shape": "When"}}},
    "Id": {"type": "string"},
    "Name": {"type": "string", "min": 1, "max": 64},
    "When": {"type": "timestamp"}
  }
}"#;

const VAULT_RULES: &str = r#"
elements:
  - element: RequestId
    placeholder: request-id
    shape: '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
    numbered: false
  - element: Credentials/KeyId
    placeholder: key-id
    shape: '(?P<keep>VK)[0-9A-Z]{10}'
  - element: Credentials/Secret
    placeholder: secret
    shape: '[a-z0-9]{24}'
    secret: true
    numbered: false
  - element: Credentials/Until
    placeholder: until
    relative_time: true
values:
  - variable: account_id
    placeholder: account-id
    numbered: false
  - pattern: 'v-[0-9a-f]{8}'
    placeholder: vault-id
"#;

const VAULT_REPLAY: &str = r#"
stable: [vault-id]
sessions:
  key: key-id
  expires: Until
  principals:
    - {element: Session, arn: Arn, id: SessionId}
  caller: {arn: caller_arn, id: caller_user_id, account: account_id}
  expired_code: SessionEnded
  unknown_code: NoSuchKey
  identity: {operation: WhoAmI, arn: Arn, id: Id, account: Account}
setup:
  CreateVault:
    result: '<VaultId>[vault-id:1]</VaultId><Name>{{Name}}</Name>'
"#;

const VAULT_SCENARIO: &str = r#"
cases:
  - id: open_session_then_who_am_i
    kind: flow
    provenance: documented
    description: A vault made in setup, a session opened for it, then WhoAmI as that session.
    steps:
      - operation: CreateVault
        setup: true
        params: {Name: 'vault-{{run_id}}'}
        capture: {vault: CreateVaultResult/VaultId}
      - params: {VaultId: '{{vault}}', Name: reader}
        capture:
          key: OpenSessionResult/Credentials/KeyId
          secret: OpenSessionResult/Credentials/Secret
      - operation: WhoAmI
        name: as the session
        credentials: {access_key_id: '{{key}}', secret_access_key: '{{secret}}'}
      - operation: DeleteVault
        cleanup: true
        params: {VaultId: '{{vault}}'}
"#;

const VAULT_SNAPSHOT: &str = r#"---
source: "scenarios/vault/OpenSession/flow.yaml"
description: "flow open_session_then_who_am_i, provenance: documented, scenario: scenarios/vault/OpenSession/flow.yaml:3"
---
=== step 1: OpenSession
HTTP 200 OK
content-type: text/xml
<OpenSessionResponse xmlns="https://vault.example/doc/2020-01-01/">
  <OpenSessionResult>
    <Session>
      <Arn>arn:aws:vault::[account-id]:session/[vault-id:1]/reader</Arn>
      <SessionId>[vault-id:1]:reader</SessionId>
    </Session>
    <Credentials>
      <KeyId>[key-id:VK:1]</KeyId>
      <Secret>[secret]</Secret>
      <Until>[until:+3600s]</Until>
    </Credentials>
  </OpenSessionResult>
  <ResponseMetadata>
    <RequestId>[request-id]</RequestId>
  </ResponseMetadata>
</OpenSessionResponse>

=== step 2: WhoAmI (as the session)
HTTP 200 OK
content-type: text/xml
<WhoAmIResponse xmlns="https://vault.example/doc/2020-01-01/">
  <WhoAmIResult>
    <Arn>arn:aws:vault::[account-id]:session/[vault-id:1]/reader</Arn>
    <Id>[vault-id:1]:reader</Id>
    <Account>[account-id]</Account>
  </WhoAmIResult>
  <ResponseMetadata>
    <RequestId>[request-id]</RequestId>
  </ResponseMetadata>
</WhoAmIResponse>
"#;

#[tokio::test]
async fn a_made_up_service_is_replayed_from_its_files_alone() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for (rel, text) in [
        ("models/vault-2020-01-01.json", VAULT_MODEL),
        ("models/vault.redact.yaml", VAULT_RULES),
        ("models/vault.replay.yaml", VAULT_REPLAY),
        ("scenarios/vault/OpenSession/flow.yaml", VAULT_SCENARIO),
        (
            "snapshots/vault/OpenSession/open_session_then_who_am_i.snap",
            VAULT_SNAPSHOT,
        ),
    ] {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let suite = Arc::new(Suite::load(&conform::suite::Layout::at(root)).unwrap());
    let (replay, server) = start(&suite).await;

    // conform's own run against it: the setup answer comes from the replay file, the keys
    // it hands out sign the next step, and fresh values redact back to the snapshot's
    // placeholders (the vault id the same in both steps, as the file says it is stable).
    let runner = Runner::new(
        Arc::clone(&suite),
        Target::at_endpoint(&server.uri(), "us-east-1", |_| None).unwrap(),
        Secrets::new(),
    )
    .unwrap();
    let result = runner.check(0).await;
    assert_eq!(result.outcome, Outcome::Pass, "{}", result.run.transcript);
    let report = replay.report();
    assert!(report.unmatched.is_empty(), "{:?}", report.unmatched);
    assert!(report.never_requested.is_empty());

    // An SDK's view: the keys have the rule's shape, the kept prefix included.
    let open = form(&[
        ("Action", "OpenSession"),
        ("Version", "2020-01-01"),
        ("VaultId", "v-0123abcd"),
        ("Name", "reader"),
    ]);
    let (status, text) = send(&server.uri(), &open, Some("vault"), &creds()).await;
    assert_eq!(status, 200, "{text}");
    let key = text_of(&text, "//KeyId");
    assert!(key.starts_with("VK") && key.len() == 12, "{key}");
    assert_eq!(text_of(&text, "//Secret").len(), 24);

    // A cleanup step of an operation without output: an empty answer, as the model says.
    let delete = form(&[
        ("Action", "DeleteVault"),
        ("Version", "2020-01-01"),
        ("VaultId", "v-0123abcd"),
    ]);
    let (status, text) = send(&server.uri(), &delete, Some("vault"), &creds()).await;
    assert_eq!(status, 200, "{text}");
    assert!(
        text.starts_with(
            "<DeleteVaultResponse xmlns=\"https://vault.example/doc/2020-01-01/\"><ResponseMetadata>"
        ),
        "{text}"
    );

    // A request no case expects: the error speaks in the service's namespace.
    let (status, text) = send(
        &server.uri(),
        "Action=WhoAmI&Version=2020-01-01",
        Some("vault"),
        &creds(),
    )
    .await;
    assert_eq!(status, 400, "{text}");
    assert!(
        text.starts_with("<ErrorResponse xmlns=\"https://vault.example/doc/2020-01-01/\">")
            && text.contains(NO_MATCH_CODE),
        "{text}"
    );
}
