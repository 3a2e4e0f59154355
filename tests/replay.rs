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

/// Every case of `suite` run against the server at `uri`: each must pass, without warnings.
async fn all_pass(suite: &Arc<Suite>, uri: &str) {
    let r = Arc::new(
        Runner::new(
            Arc::clone(suite),
            Target::at_endpoint(uri, "us-east-1", |_| None).unwrap(),
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
        assert!(
            res.run.warnings.is_empty(),
            "{}: {:?}",
            res.test_name,
            res.run.warnings
        );
    }
}

#[tokio::test]
async fn a_run_against_the_replay_of_its_own_snapshots_passes() {
    let suite = starter();
    let (replay, server) = start(&suite).await;
    all_pass(&suite, &server.uri()).await;
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
async fn a_request_that_breaks_the_model_gets_the_services_validation_error() {
    let suite = starter();
    let (replay, server) = start(&suite).await;
    // No case sends a 70-character session name or a one-second duration: the service's
    // answer is still known, from the model and the facts file's format, both in model order.
    let long = "s".repeat(70);
    let body = format!(
        "Action=AssumeRole&Version=2011-06-15&DurationSeconds=1&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fconform-test-role&RoleSessionName={long}"
    );
    let (status, text) = send(&server.uri(), &body, Some("sts"), &creds()).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("<Code>ValidationError</Code>"), "{text}");
    assert!(
        text.contains(&format!(
            "<Message>2 validation errors detected: Value '{long}' at 'roleSessionName' failed to satisfy constraint: Member must have length less than or equal to 64; Value '1' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900</Message>"
        )),
        "{text}"
    );
    assert!(
        text.starts_with("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"),
        "{text}"
    );
    // The same request unsigned is a client mistake the server explains, not the service's.
    let (_, text) = send(&server.uri(), &body, None, &creds()).await;
    assert!(text.contains(NO_MATCH_CODE), "{text}");
    // A request that breaks nothing and matches nothing is still the harness's to explain.
    let (_, text) = send(&server.uri(), "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fconform-test-role&RoleSessionName=fine", Some("sts"), &creds()).await;
    assert!(text.contains(NO_MATCH_CODE), "{text}");
    // The service's answer is no miss of the suite's: only the two others count.
    assert_eq!(replay.report().unmatched_count, 2);
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

/// Two `conform serve` on one port: the second is refused, rather than sharing the port's
/// connections with the first (which SO_REUSEPORT alone would allow).
#[test]
fn a_second_threaded_server_on_the_same_port_is_refused() {
    let replay = || {
        Arc::new(Replay::from_suite(
            &starter(),
            target::default_vars("us-east-1"),
        ))
    };
    let first = replay::serve_threaded(replay(), 0, replay::Limits::default(), 2).unwrap();
    let port = first.address().port();
    let err = replay::serve_threaded(replay(), port, replay::Limits::default(), 2)
        .err()
        .expect("the port is the first server's");
    assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
    drop(first);
}

const TWICE: &str = r#"
cases:
  - id: delete_twice
    kind: flow
    provenance: inferred
    description: Deleting a user twice answers the second time that it is gone.
    source: s
    steps:
      - operation: CreateUser
        setup: true
        params: {UserName: 'conform-{{run_id}}-twice'}
      - params: {UserName: 'conform-{{run_id}}-twice'}
      - params: {UserName: 'conform-{{run_id}}-twice'}
      - operation: DeleteUser
        cleanup: true
        params: {UserName: 'conform-{{run_id}}-twice'}
  - id: delete_captured
    kind: doc-example
    provenance: documented
    description: A documented example deleting whatever user setup made.
    source: s
    steps:
      - operation: CreateUser
        setup: true
        params: {UserName: Bob}
        capture: {name: 'CreateUserResult/User/UserName'}
      - params: {UserName: '{{name}}'}
"#;

const DELETED: &str = "=== step 1: DeleteUser\nHTTP 200 OK\ncontent-type: text/xml\n<DeleteUserResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\n  <ResponseMetadata>\n    <RequestId>[request-id]</RequestId>\n  </ResponseMetadata>\n</DeleteUserResponse>\n";

const GONE: &str = "HTTP 404 Not Found\ncontent-type: text/xml\n<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\n  <Error>\n    <Type>Sender</Type>\n    <Code>NoSuchEntity</Code>\n    <Message>The user with name conform-[run-id]-twice cannot be found.</Message>\n  </Error>\n  <RequestId>[request-id]</RequestId>\n</ErrorResponse>\n";

/// A case that sends one request more than once (a delete, the delete again, its cleanup) is
/// answered in step order, per run id; and its name, partly literal, ranks above a
/// documented example whose value is all capture.
#[tokio::test]
async fn a_request_a_case_sends_again_is_answered_in_step_order_per_run() {
    let twice = format!("---\nsource: x\n---\n{DELETED}\n=== step 2: DeleteUser\n{GONE}");
    let captured = format!("---\nsource: x\n---\n{DELETED}");
    let (_dir, root) = common::project(&[
        ("scenarios/iam/DeleteUser/c.yaml", TWICE),
        ("snapshots/iam/DeleteUser/delete_twice.snap", &twice),
        ("snapshots/iam/DeleteUser/delete_captured.snap", &captured),
    ]);
    let suite = Arc::new(Suite::load(&conform::suite::Layout::at(&root)).unwrap());
    let (_replay, server) = start(&suite).await;
    let delete =
        |run: &str| format!("Action=DeleteUser&Version=2010-05-08&UserName=conform-{run}-twice");
    let mut got = Vec::new();
    for run in [
        "aaaa1111", "bbbb2222", "aaaa1111", "aaaa1111", "bbbb2222", "aaaa1111",
    ] {
        let (status, text) = send(&server.uri(), &delete(run), Some("iam"), &creds()).await;
        got.push((
            run,
            status,
            text.contains("<DeleteUserResult") || text.contains("<DeleteUserResponse"),
        ));
    }
    // Run a: deleted, gone, the cleanup's empty success, then a new round. Run b keeps its
    // own count.
    let statuses: Vec<(&str, u16)> = got.iter().map(|(r, s, _)| (*r, *s)).collect();
    assert_eq!(
        statuses,
        [
            ("aaaa1111", 200),
            ("bbbb2222", 200),
            ("aaaa1111", 404),
            ("aaaa1111", 200),
            ("bbbb2222", 404),
            ("aaaa1111", 200)
        ]
    );
    // A run of both cases through the runner passes: the flow's steps, its cleanup and the
    // documented example each get their own answer.
    all_pass(&suite, &server.uri()).await;
}
