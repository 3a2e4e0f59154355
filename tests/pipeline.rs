//! The harness judged against a wiremock "emulator" over loopback: a conforming answer
//! passes, and each kind of deviation fails with a clear report, never a panic.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Deviation, start};
use conform::deviation::Kind;
use conform::runner::{CaseResult, Outcome, Runner, StopKind};
use conform::secrets::Secrets;
use conform::suite::{Layout, Suite};
use conform::target::Target;

fn suite() -> Arc<Suite> {
    Arc::new(Suite::load(&common::starter_layout()).expect("the starter suite loads"))
}

fn runner(suite: &Arc<Suite>, endpoint: &str) -> Arc<Runner> {
    let mut target = Target::at_endpoint(endpoint, "us-east-1", |_| None).unwrap();
    target.timeout = Duration::from_secs(1);
    Arc::new(Runner::new(Arc::clone(suite), target, Secrets::new()).unwrap())
}

async fn run_one(deviation: Deviation, case: &str) -> CaseResult {
    let server = start(deviation).await;
    let suite = suite();
    let index = suite
        .cases
        .iter()
        .position(|c| c.id == case)
        .unwrap_or_else(|| panic!("no case {case}"));
    runner(&suite, &server.uri()).check(index).await
}

fn diff_of(r: &CaseResult) -> String {
    match &r.outcome {
        Outcome::Fail { diff, .. } => diff.to_string(),
        other => panic!(
            "{} should fail with a diff, got {other:?}\n{}",
            r.test_name, r.run.transcript
        ),
    }
}

#[tokio::test]
async fn conforming_answers_pass_every_starter_case() {
    let server = start(Deviation::None).await;
    let suite = suite();
    let r = runner(&suite, &server.uri());
    let all: Vec<usize> = (0..suite.cases.len()).collect();
    let results = r.check_all(&all, 4, |_| {}).await;
    assert!(results.len() >= 4);
    for res in &results {
        assert_eq!(
            res.outcome,
            Outcome::Pass,
            "{}\n{}",
            res.test_name,
            res.run.transcript
        );
    }
}

#[tokio::test]
async fn a_changed_message_fails_with_both_messages_in_the_diff() {
    let r = run_one(
        Deviation::ChangedMessage,
        "assume_role_session_name_too_short",
    )
    .await;
    let diff = diff_of(&r);
    assert!(diff.contains("-    <Message>1 validation error detected: Value 'a' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2</Message>"), "{diff}");
    assert!(diff.contains("+    <Message>1 validation error detected: Value 'a' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 3</Message>"), "{diff}");
}

#[tokio::test]
async fn a_missing_element_fails() {
    let r = run_one(Deviation::MissingElement, "get_caller_identity").await;
    let diff = diff_of(&r);
    assert!(
        diff.contains("-    <Account>[account-id]</Account>"),
        "{diff}"
    );
    assert!(!diff.contains("+    <Account>"), "{diff}");
}

#[tokio::test]
async fn a_reordered_element_fails() {
    let r = run_one(Deviation::ReorderedElements, "get_caller_identity").await;
    let diff = diff_of(&r);
    assert!(
        diff.contains("+    <Account>[account-id]</Account>\n     <Arn>[caller-arn]</Arn>"),
        "{diff}"
    );
}

#[tokio::test]
async fn a_wrong_namespace_fails() {
    let r = run_one(Deviation::WrongNamespace, "get_caller_identity").await;
    let diff = diff_of(&r);
    assert!(
        diff.contains(
            "+<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15\">"
        ),
        "{diff}"
    );
}

#[tokio::test]
async fn a_wrong_status_fails() {
    let r = run_one(Deviation::WrongStatus, "assume_role_session_name_too_short").await;
    let diff = diff_of(&r);
    assert!(
        diff.contains("-HTTP 400 Bad Request\n+HTTP 403 Forbidden"),
        "{diff}"
    );
}

#[tokio::test]
async fn an_html_500_is_reported_as_text_not_a_harness_error() {
    let r = run_one(Deviation::Html500, "get_caller_identity").await;
    let diff = diff_of(&r);
    assert!(diff.contains("+HTTP 500 Internal Server Error"), "{diff}");
    assert!(diff.contains("+content-type: text/html"), "{diff}");
    assert!(diff.contains("+body (not XML"), "{diff}");
    assert!(diff.contains("upstream crashed"), "{diff}");
}

#[tokio::test]
async fn a_timeout_is_an_error_that_says_so() {
    let r = run_one(
        Deviation::Slow(Duration::from_secs(5)),
        "get_caller_identity",
    )
    .await;
    match &r.outcome {
        Outcome::Error(e) => {
            let message = e.to_string();
            assert!(
                message.starts_with("scenarios/sts/GetCallerIdentity/basic.yaml:10:20: step 1 (GetCallerIdentity): no answer within 1s"),
                "{message}"
            );
            assert_eq!(e.kind(), StopKind::NoAnswer);
            assert!(e.help().contains("--timeout"), "{}", e.help());
        }
        other => panic!("expected an error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_refused_connection_is_an_error_that_names_the_endpoint() {
    // A port that was just free: nothing listens there any more.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let suite = suite();
    let endpoint = format!("http://127.0.0.1:{port}");
    let r = runner(&suite, &endpoint).check(0).await;
    match &r.outcome {
        Outcome::Error(e) => {
            let message = e.to_string();
            assert!(
                message.contains(&format!("cannot connect to {endpoint}/")),
                "{message}"
            );
            assert!(message.to_lowercase().contains("refused"), "{message}");
        }
        other => panic!("expected an error, got {other:?}"),
    }
}

const CANARY_SECRET: &str = "CANARYsecretKEY/never+reaches=disk0123456";
const CANARY_TOKEN: &str = "CANARYsessionTOKEN/that+must=stay-private";

fn canary_target(endpoint: &str) -> Target {
    let env = |k: &str| match k {
        "AWS_ACCESS_KEY_ID" => Some("AKIACANARYEXAMPLE000".to_owned()),
        "AWS_SECRET_ACCESS_KEY" => Some(CANARY_SECRET.to_owned()),
        "AWS_SESSION_TOKEN" => Some(CANARY_TOKEN.to_owned()),
        _ => None,
    };
    Target::at_endpoint(endpoint, "us-east-1", env).unwrap()
}

fn assert_no_canary(what: &str, text: &str, canaries: &[&str]) {
    for c in canaries {
        let enc: String = form_urlencoded::byte_serialize(c.as_bytes()).collect();
        assert!(!text.contains(c), "{what} holds the canary {c}:\n{text}");
        assert!(
            !text.contains(&enc),
            "{what} holds the encoded canary {enc}:\n{text}"
        );
    }
}

#[tokio::test]
async fn secrets_never_reach_a_transcript_a_diff_or_a_written_file() {
    let leaked = "CANARYhandedOUT/by+a=careless-emulator";
    for deviation in [
        Deviation::EchoRequest,
        Deviation::LeakyCredentials(leaked.to_owned()),
    ] {
        let server = start(deviation.clone()).await;
        let (_dir, root) = common::project(&[]);
        let suite = Arc::new(
            Suite::load(&Layout {
                scenarios: common::starter().join("scenarios"),
                snapshots: root.join("snapshots"),
                models: common::repo().join("models"),
            })
            .unwrap(),
        );
        let secrets = Secrets::new();
        let r = Arc::new(
            Runner::new(
                Arc::clone(&suite),
                canary_target(&server.uri()),
                secrets.clone(),
            )
            .unwrap(),
        );
        let all: Vec<usize> = (0..suite.cases.len()).collect();
        let results = r.check_all(&all, 4, |_| {}).await;
        let canaries = [CANARY_SECRET, CANARY_TOKEN, leaked];
        for res in &results {
            assert_no_canary(&res.test_name, &res.run.transcript, &canaries);
            if let Outcome::Fail { diff, .. } = &res.outcome {
                assert_no_canary(&res.test_name, &diff.to_string(), &canaries);
            }
            if let Outcome::Error(e) = &res.outcome {
                assert_no_canary(&res.test_name, &e.to_string(), &canaries);
            }
            let written = conform::snapshot::write_new(
                &suite.snapshots,
                &suite.cases[res.index],
                &res.run.transcript,
                |t| secrets.leaks_into(t),
            )
            .unwrap();
            assert_no_canary(
                "a .snap.new",
                &std::fs::read_to_string(written).unwrap(),
                &canaries,
            );
        }
        // The echo really did carry the token, so the scrub had something to do.
        if deviation == Deviation::EchoRequest {
            assert!(
                results
                    .iter()
                    .any(|r| r.run.transcript.contains("[redacted-secret]"))
            );
        } else {
            let t = &results
                .iter()
                .find(|r| r.test_name.ends_with("boto3"))
                .unwrap()
                .run
                .transcript;
            assert!(t.contains("<SecretAccessKey>[secret-access-key:unexpected-shape:38-chars]</SecretAccessKey>"), "{t}");
        }
    }
}

#[test]
fn a_file_that_would_hold_a_secret_is_refused_and_not_written() {
    let (_dir, root) = common::project(&[]);
    let suite = Suite::load(&Layout {
        scenarios: common::starter().join("scenarios"),
        snapshots: root.join("snapshots"),
        models: common::repo().join("models"),
    })
    .unwrap();
    let secrets = Secrets::new();
    secrets.add(CANARY_SECRET);
    let err = conform::snapshot::write_new(
        &suite.snapshots,
        &suite.cases[0],
        &format!("x {CANARY_SECRET}"),
        |t| secrets.leaks_into(t),
    )
    .unwrap_err();
    assert!(err.to_string().starts_with("refused to write"), "{err}");
    assert!(!root.join("snapshots").exists() || common::walk(&root.join("snapshots")).is_empty());
}

const FLOW: &str = r#"
cases:
  - id: assume_then_whoami
    kind: flow
    provenance: inferred
    description: AssumeRole, then GetCallerIdentity with the captured credentials.
    steps:
      - operation: AssumeRole
        params: {RoleArn: '{{role_arn}}', RoleSessionName: flow}
        capture:
          ak: AssumeRoleResult/Credentials/AccessKeyId
          sk: //SecretAccessKey
          tok: /AssumeRoleResponse/AssumeRoleResult/Credentials/SessionToken
      - operation: GetCallerIdentity
        credentials: {access_key_id: '{{ak}}', secret_access_key: '{{sk}}', session_token: '{{tok}}'}
      - operation: GetCallerIdentity
        name: unsigned on purpose
        credentials: none
      - operation: AssumeRoleWithWebIdentity
        params: {RoleArn: '{{role_arn}}', RoleSessionName: web, WebIdentityToken: tokentoken}
"#;

#[tokio::test]
async fn captures_feed_later_steps_and_credentials_follow_the_scenario() {
    let server = start(Deviation::None).await;
    let (_dir, root) = common::project(&[("scenarios/sts/AssumeRole/flow.yaml", FLOW)]);
    let suite = Arc::new(Suite::load(&Layout::at(&root)).unwrap());
    let r = runner(&suite, &server.uri());
    let res = r.check(0).await;
    assert_eq!(res.outcome, Outcome::Missing, "{}", res.run.transcript);
    let t = &res.run.transcript;
    assert!(
        t.contains("=== step 2: GetCallerIdentity\nHTTP 200 OK"),
        "{t}"
    );
    assert!(
        t.contains("<Arn>arn:aws:sts::[account-id]:assumed-role/[role-name]/flow</Arn>"),
        "{t}"
    );
    assert!(t.contains("<UserId>[role-id:1]:flow</UserId>"), "{t}");
    assert!(
        t.contains("=== step 3: GetCallerIdentity (unsigned on purpose)"),
        "{t}"
    );

    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 4);
    let header = |i: usize, h: &str| {
        requests[i]
            .headers
            .get(h)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    assert!(
        header(0, "authorization")
            .unwrap()
            .contains("Credential=AKIAIOSFODNN7EXAMPLE/"),
        "target keys sign step 1"
    );
    assert!(
        header(1, "authorization")
            .unwrap()
            .contains("Credential=ASIA3XFRBF535EXAMPLE/"),
        "captured keys sign step 2"
    );
    assert!(
        header(1, "authorization")
            .unwrap()
            .contains("/us-east-1/sts/aws4_request")
    );
    assert_eq!(
        header(1, "x-amz-security-token").as_deref(),
        Some("FwoGZXIvYXdzEXAMPLETOKEN+abc/def==")
    );
    assert_eq!(
        header(2, "authorization"),
        None,
        "credentials: none sends unsigned"
    );
    assert_eq!(
        header(3, "authorization"),
        None,
        "the model marks AssumeRoleWithWebIdentity unsigned"
    );
    assert_eq!(
        header(3, "content-type").as_deref(),
        Some("application/x-www-form-urlencoded; charset=utf-8")
    );
    let body = String::from_utf8_lossy(&requests[3].body).into_owned();
    assert_eq!(
        body,
        "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fconform-test-role&RoleSessionName=web&WebIdentityToken=tokentoken"
    );
}

#[tokio::test]
async fn a_capture_that_finds_nothing_stops_the_case_with_a_clear_error() {
    let server = start(Deviation::None).await;
    let yaml = r#"
cases:
  - id: bad_capture
    kind: flow
    provenance: inferred
    description: Captures an element the answer does not have.
    steps:
      - operation: GetCallerIdentity
        capture: {x: GetCallerIdentityResult/Nope}
      - operation: GetCallerIdentity
"#;
    let (_dir, root) = common::project(&[("scenarios/sts/GetCallerIdentity/c.yaml", yaml)]);
    let suite = Arc::new(Suite::load(&Layout::at(&root)).unwrap());
    let res = runner(&suite, &server.uri()).check(0).await;
    // The step's place is where its operation is written.
    let message = "scenarios/sts/GetCallerIdentity/c.yaml:8:20: step 1 (GetCallerIdentity) answered HTTP 200 without `GetCallerIdentityResult/Nope`, which capture `x` takes for later steps; the steps after it were not run";
    // No snapshot yet: the message is all there is.
    let Outcome::Error(e) = &res.outcome else {
        panic!("{:?}", res.outcome)
    };
    assert_eq!(
        (e.kind(), e.to_string().as_str()),
        (StopKind::Capture, message)
    );
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "step 2 is not sent"
    );

    // With a snapshot that has the element: the target answered, so the case is incomplete,
    // not unanswered, and what ran is judged.
    let mut snap = res.run.transcript.replace(
        "  </GetCallerIdentityResult>",
        "    <Nope>x</Nope>\n  </GetCallerIdentityResult>",
    );
    snap.push_str("\n=== step 2: GetCallerIdentity\nHTTP 200 OK\ncontent-type: text/xml\n<X/>\n");
    let case = &suite.cases[0];
    let new = conform::snapshot::write_new(&suite.snapshots, case, &snap, |_| false).unwrap();
    std::fs::rename(&new, new.with_extension("")).unwrap();
    let suite = Arc::new(Suite::load(&Layout::at(&root)).unwrap());
    let res = runner(&suite, &server.uri()).check(0).await;
    let Outcome::Incomplete {
        message: m,
        deviations,
        diff,
    } = &res.outcome
    else {
        panic!("{:?}", res.outcome)
    };
    assert_eq!(m, message);
    assert!(diff.to_string().contains("-    <Nope>x</Nope>"), "{diff}");
    let kinds: Vec<(usize, Kind, &str)> = deviations
        .iter()
        .map(|d| (d.step, d.kind, d.path.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            (
                1,
                Kind::MissingElement,
                "GetCallerIdentityResponse/GetCallerIdentityResult/Nope"
            ),
            (2, Kind::MissingStep, ""),
        ]
    );
}

#[tokio::test]
async fn sensitive_parameters_are_scrubbed_from_what_an_echoing_endpoint_returns() {
    let canary = "CANARYwebIdentityToken.eyJzdWIiOiJ4In0";
    let yaml = format!(
        "cases:\n  - id: web\n    kind: doc-example\n    provenance: inferred\n    description: d\n    steps:\n      - params: {{RoleArn: '{{{{role_arn}}}}', RoleSessionName: web, WebIdentityToken: '{canary}'}}\n"
    );
    let server = start(Deviation::EchoRequest).await;
    let (_dir, root) =
        common::project(&[("scenarios/sts/AssumeRoleWithWebIdentity/w.yaml", &yaml)]);
    let suite = Arc::new(Suite::load(&Layout::at(&root)).unwrap());
    let res = runner(&suite, &server.uri()).check(0).await;
    let t = &res.run.transcript;
    assert!(t.contains("WebIdentityToken=[redacted-secret]"), "{t}");
    assert_no_canary("transcript", t, &[canary]);
}

fn role_case(role: &str) -> String {
    format!(
        r#"
cases:
  - id: with_role
    kind: exception
    provenance: inferred
    description: A role made for the case, assumed, then deleted.
    steps:
      - service: iam
        operation: CreateRole
        setup: true
        params:
          RoleName: 'conform-{{{{run_id}}}}-{role}'
          AssumeRolePolicyDocument: '{{"Version":"2012-10-17","Statement":[]}}'
        capture: {{made_arn: CreateRoleResult/Role/Arn, made_name: //RoleName}}
      - operation: AssumeRole
        params: {{RoleArn: '{{{{made_arn}}}}', RoleSessionName: s1}}
      - service: iam
        operation: DeleteRole
        cleanup: true
        params: {{RoleName: '{{{{made_name}}}}'}}
"#
    )
}

async fn run_role_case(role: &str) -> (CaseResult, Vec<wiremock::Request>) {
    let server = start(Deviation::None).await;
    let (_dir, root) = common::project(&[("scenarios/sts/AssumeRole/r.yaml", &role_case(role))]);
    let suite = Arc::new(Suite::load(&Layout::at(&root)).unwrap());
    let res = runner(&suite, &server.uri()).check(0).await;
    (res, server.received_requests().await.unwrap())
}

#[tokio::test]
async fn setup_and_cleanup_steps_run_around_the_checked_ones_and_stay_out_of_the_snapshot() {
    let (res, requests) = run_role_case("trusting").await;
    assert_eq!(res.outcome, Outcome::Missing, "{:?}", res.run);
    let t = &res.run.transcript;
    assert!(t.starts_with("=== step 1: AssumeRole\nHTTP 200 OK"), "{t}");
    assert!(!t.contains("CreateRole") && !t.contains("step 2"), "{t}");
    assert!(
        t.contains("assumed-role/conform-[run-id]-trusting/s1"),
        "{t}"
    );
    assert!(res.run.warnings.is_empty(), "{:?}", res.run.warnings);
    let actions: Vec<String> = requests.iter().map(|r| common::action(&r.body)).collect();
    assert_eq!(actions, ["CreateRole", "AssumeRole", "DeleteRole"]);
    let scope = |i: usize| {
        requests[i]
            .headers
            .get("authorization")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    };
    assert!(
        scope(0).contains("/us-east-1/iam/aws4_request"),
        "{}",
        scope(0)
    );
    assert!(
        scope(1).contains("/us-east-1/sts/aws4_request"),
        "{}",
        scope(1)
    );
    let body = String::from_utf8_lossy(&requests[0].body).into_owned();
    assert!(
        body.starts_with("Action=CreateRole&Version=2010-05-08&RoleName=conform-"),
        "{body}"
    );
}

#[tokio::test]
async fn a_refused_setup_stops_the_case_but_cleanup_still_runs() {
    let (res, requests) = run_role_case("taken").await;
    let Outcome::Error(e) = &res.outcome else {
        panic!("{:?}", res.outcome)
    };
    assert_eq!(e.kind(), StopKind::Setup);
    assert_eq!(
        e.to_string(),
        "scenarios/sts/AssumeRole/r.yaml:9:20: setup step (iam:CreateRole) was refused: HTTP 409 EntityAlreadyExists"
    );
    let actions: Vec<String> = requests.iter().map(|r| common::action(&r.body)).collect();
    // The AssumeRole is not sent; the cleanup cannot name a role that was never captured.
    assert_eq!(actions, ["CreateRole"]);
    let warnings: Vec<String> = res.run.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(
        warnings,
        [
            "scenarios/sts/AssumeRole/r.yaml:18:20: cleanup step (iam:DeleteRole) was not sent: unknown variable `{{made_name}}`"
        ]
    );
}

#[tokio::test]
async fn a_failed_cleanup_is_a_warning_not_a_verdict() {
    let (res, requests) = run_role_case("stuck").await;
    assert_eq!(res.outcome, Outcome::Missing);
    assert_eq!(requests.len(), 3);
    let warnings: Vec<String> = res.run.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(
        warnings,
        [
            "scenarios/sts/AssumeRole/r.yaml:18:20: cleanup step (iam:DeleteRole) was refused: HTTP 409 DeleteConflict"
        ]
    );
}

#[tokio::test]
async fn declared_variables_take_their_default_unless_the_target_sets_them() {
    let server = start(Deviation::None).await;
    let yaml = "cases:\n  - id: v\n    kind: limit\n    provenance: inferred\n    description: d\n    steps:\n      - params: {RoleArn: '{{role_arn}}', RoleSessionName: '{{session}}'}\n";
    let vars =
        "variables:\n  session:\n    description: A session name.\n    default: from-default\n";
    let (_dir, root) = common::project(&[
        ("scenarios/sts/AssumeRole/v.yaml", yaml),
        ("scenarios/sts/variables.yaml", vars),
    ]);
    let suite = Arc::new(Suite::load(&Layout::at(&root)).unwrap());
    let res = runner(&suite, &server.uri()).check(0).await;
    assert!(
        res.run
            .transcript
            .contains("assumed-role/[role-name]/from-default"),
        "{}",
        res.run.transcript
    );
    let mut target = Target::at_endpoint(&server.uri(), "us-east-1", |_| None).unwrap();
    target.set_vars(["session=from-target"]).unwrap();
    let r = Runner::new(Arc::clone(&suite), target, Secrets::new()).unwrap();
    let res = r.check(0).await;
    assert!(
        res.run
            .transcript
            .contains("assumed-role/[role-name]/from-target"),
        "{}",
        res.run.transcript
    );
}

#[tokio::test]
async fn secrets_handed_out_in_an_answer_are_scrubbed_when_they_come_back() {
    // Step 1's answer hands out a session token; step 2 sends it and the endpoint echoes it.
    let server = start(Deviation::EchoSessionRequests).await;
    let (_dir, root) = common::project(&[("scenarios/sts/AssumeRole/flow.yaml", FLOW)]);
    let suite = Arc::new(Suite::load(&Layout::at(&root)).unwrap());
    let res = runner(&suite, &server.uri()).check(0).await;
    let t = &res.run.transcript;
    assert!(t.contains("=== step 2: GetCallerIdentity\nHTTP 400"), "{t}");
    assert!(t.contains("x-amz-security-token: [redacted-secret]"), "{t}");
    assert_no_canary("transcript", t, &["FwoGZXIvYXdzEXAMPLETOKEN+abc/def=="]);
}
