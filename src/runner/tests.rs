//! The runner against a small loopback server: the order of steps, captures, retries, what
//! an interrupt does, cleanup running whatever happened, and the events a run tells.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use wiremock::matchers::body_string_contains;
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;
use crate::suite::Layout;

const NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// A project in a temporary directory with the repository's models and one scenario file,
/// `scenarios/sts/GetCallerIdentity/a.yaml`, holding one case with these steps.
fn suite(steps: &str) -> (tempfile::TempDir, Arc<Suite>) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("scenarios/sts/GetCallerIdentity/a.yaml");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::create_dir_all(dir.path().join("snapshots")).unwrap();
    std::fs::write(
        &file,
        format!(
            "cases:\n  - id: a\n    kind: flow\n    provenance: inferred\n    description: d\n    steps:\n{steps}"
        ),
    )
    .unwrap();
    let layout = Layout {
        models: std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models"),
        ..Layout::at(dir.path())
    };
    let suite = Suite::load(&layout).unwrap_or_else(|e| panic!("{e}"));
    (dir, Arc::new(suite))
}

fn runner(suite: &Arc<Suite>, server: &MockServer, timeout: Duration) -> Runner {
    let mut target = Target::at_endpoint(&server.uri(), "us-east-1", |_| None).unwrap();
    target.timeout = timeout;
    Runner::new(Arc::clone(suite), target, Secrets::new()).unwrap()
}

fn xml(status: u16, body: String) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("content-type", "text/xml")
        .set_body_string(body)
}

fn identity() -> ResponseTemplate {
    xml(
        200,
        format!(
            "<GetCallerIdentityResponse xmlns=\"{NS}\"><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/me</Arn><UserId>AIDAEXAMPLE</UserId><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>"
        ),
    )
}

fn error(status: u16, code: &str) -> ResponseTemplate {
    xml(
        status,
        format!(
            "<ErrorResponse xmlns=\"{NS}\"><Error><Type>Sender</Type><Code>{code}</Code><Message>m</Message></Error></ErrorResponse>"
        ),
    )
}

/// Answers requests whose form body holds `action` with `answer`.
async fn answer(server: &MockServer, action: &str, answer: ResponseTemplate) {
    Mock::given(body_string_contains(format!("Action={action}&")))
        .respond_with(answer)
        .mount(server)
        .await;
}

/// A server whose GetCallerIdentity answers after `delay` and whose DeleteRole at once.
async fn slow_identity(delay: Duration) -> MockServer {
    let server = MockServer::start().await;
    answer(&server, "GetCallerIdentity", identity().set_delay(delay)).await;
    answer(
        &server,
        "DeleteRole",
        xml(200, "<DeleteRoleResponse/>".into()),
    )
    .await;
    server
}

/// What stopped a case that could not be judged.
fn stopped(result: &CaseResult) -> &RunError {
    match &result.outcome {
        Outcome::Error(e) => e,
        other => panic!("{} should have stopped: {other:?}", result.test_name),
    }
}

async fn actions(server: &MockServer) -> Vec<String> {
    let requests = server.received_requests().await.unwrap_or_default();
    requests
        .iter()
        .map(|r| {
            form_urlencoded::parse(&r.body)
                .find(|(k, _)| k == "Action")
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        })
        .collect()
}

/// A case that captures the caller's account, sends it on, and deletes a role in cleanup.
const CAPTURE_THEN_CLEANUP: &str = "      - operation: GetCallerIdentity
        capture: {account: //Account}
      - service: iam
        operation: GetRole
        params: {RoleName: 'r-{{account}}'}
      - service: iam
        operation: DeleteRole
        cleanup: true
        params: {RoleName: gone}
";

#[tokio::test]
async fn captures_feed_later_steps_and_a_case_tells_its_events_in_order() {
    let server = MockServer::start().await;
    answer(&server, "GetCallerIdentity", identity()).await;
    answer(&server, "GetRole", error(404, "NoSuchEntity")).await;
    answer(
        &server,
        "DeleteRole",
        xml(200, "<DeleteRoleResponse/>".into()),
    )
    .await;
    let (_dir, suite) = suite(CAPTURE_THEN_CLEANUP);
    let runner = Arc::new(runner(&suite, &server, Duration::from_secs(5)));
    let mut heard = Vec::new();
    let results = runner
        .check_all(&[0], 1, |e| {
            heard.push(match e {
                Event::CaseStarted { test_name, .. } => format!("started {test_name}"),
                Event::StepAnswered { step, status, .. } => format!("{step}: {status:?}"),
                Event::Retrying { call, .. } => format!("retrying {call}"),
                Event::Exchange(e) => format!("exchange {}", e.call),
                Event::CaseFinished { result, .. } => format!("finished {}", result.test_name),
            })
        })
        .await;
    assert_eq!(
        heard,
        [
            "started sts::GetCallerIdentity::a",
            "step 1 (GetCallerIdentity): Some(200)",
            "step 2 (iam:GetRole): Some(404)",
            "cleanup step (iam:DeleteRole): Some(200)",
            "finished sts::GetCallerIdentity::a",
        ]
    );
    let requests = server.received_requests().await.unwrap();
    let get_role = String::from_utf8_lossy(&requests[1].body).into_owned();
    assert!(get_role.contains("RoleName=r-123456789012"), "{get_role}");
    // No snapshot yet; the transcript holds both checked steps, not the cleanup's.
    assert_eq!(results[0].outcome, Outcome::Missing);
    let t = &results[0].run.transcript;
    assert!(
        t.contains("=== step 2: iam:GetRole\nHTTP 404") && !t.contains("DeleteRole"),
        "{t}"
    );
}

#[tokio::test]
async fn a_capture_that_finds_nothing_stops_at_its_step_and_cleanup_still_runs() {
    let server = MockServer::start().await;
    answer(&server, "GetCallerIdentity", error(403, "AccessDenied")).await;
    answer(&server, "DeleteRole", error(409, "DeleteConflict")).await;
    let (_dir, suite) = suite(CAPTURE_THEN_CLEANUP);
    let result = runner(&suite, &server, Duration::from_secs(5))
        .check(0)
        .await;
    let e = stopped(&result);
    assert_eq!(e.kind(), StopKind::Capture);
    assert_eq!(
        e.to_string(),
        "scenarios/sts/GetCallerIdentity/a.yaml:7:20: step 1 (GetCallerIdentity) answered HTTP 403 without `//Account`, which capture `account` takes for later steps; the steps after it were not run"
    );
    assert_eq!(actions(&server).await, ["GetCallerIdentity", "DeleteRole"]);
    // A refused cleanup is a warning at its own step, not the verdict.
    let warnings: Vec<String> = result.run.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(
        warnings,
        [
            "scenarios/sts/GetCallerIdentity/a.yaml:13:20: cleanup step (iam:DeleteRole) was refused: HTTP 409 DeleteConflict"
        ]
    );
}

#[tokio::test]
async fn no_answer_stops_the_case_with_what_to_do_and_cleanup_still_runs() {
    let server = slow_identity(Duration::from_secs(3)).await;
    let (_dir, suite) = suite(CAPTURE_THEN_CLEANUP);
    let result = runner(&suite, &server, Duration::from_millis(300))
        .check(0)
        .await;
    let e = stopped(&result);
    assert_eq!(e.kind(), StopKind::NoAnswer);
    assert!(
        e.to_string()
            .starts_with("scenarios/sts/GetCallerIdentity/a.yaml:7:20: step 1 (GetCallerIdentity): no answer within"),
        "{e}"
    );
    assert!(e.help().contains("--timeout"), "{}", e.help());
    assert!(
        result.run.transcript.contains("\nerror: no answer within"),
        "{}",
        result.run.transcript
    );
    assert_eq!(actions(&server).await, ["GetCallerIdentity", "DeleteRole"]);
    assert!(result.run.warnings.is_empty(), "{:?}", result.run.warnings);
}

#[tokio::test]
async fn an_interrupt_abandons_the_answer_awaited_and_goes_to_cleanup() {
    let server = slow_identity(Duration::from_secs(30)).await;
    let (_dir, suite) = suite(CAPTURE_THEN_CLEANUP);
    let interrupt = Interrupt::new();
    let runner = runner(&suite, &server, Duration::from_secs(60)).with_interrupt(interrupt.clone());
    let later = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        interrupt.trigger();
    });
    let result = tokio::time::timeout(Duration::from_secs(10), runner.check(0))
        .await
        .expect("the interrupt ends the wait for an answer");
    later.await.unwrap();
    let e = stopped(&result);
    assert_eq!(e.kind(), StopKind::Interrupted);
    assert_eq!(
        e.to_string(),
        "scenarios/sts/GetCallerIdentity/a.yaml:7:20: interrupted at step 1 (GetCallerIdentity); the cleanup steps ran, the steps after it did not"
    );
    let sent = actions(&server).await;
    assert_eq!(sent, ["GetCallerIdentity", "DeleteRole"], "no GetRole");
}

#[tokio::test]
async fn once_interrupted_no_case_starts_yet_each_gets_a_result_and_an_event() {
    let server = MockServer::start().await;
    let (_dir, suite) = suite(CAPTURE_THEN_CLEANUP);
    let runner = Arc::new(runner(&suite, &server, Duration::from_secs(5)));
    runner.cancel();
    let mut finished = 0;
    let results = runner
        .check_all(&[0, 0], 2, |e| {
            assert!(matches!(e, Event::CaseFinished { .. }), "{e:?}");
            finished += 1;
        })
        .await;
    assert_eq!(finished, 2);
    for r in &results {
        assert_eq!(
            r.outcome,
            Outcome::Error(Box::new(RunError::NotRun {
                case: Place {
                    file: "scenarios/sts/GetCallerIdentity/a.yaml".into(),
                    line: 2,
                    col: 9,
                }
            }))
        );
    }
    assert!(actions(&server).await.is_empty());
}

#[tokio::test]
async fn giving_up_after_the_grace_time_reports_the_cases_still_running() {
    let server = MockServer::start().await;
    // Cleanup hangs too: only giving up ends the case.
    for action in ["GetCallerIdentity", "DeleteRole"] {
        answer(
            &server,
            action,
            identity().set_delay(Duration::from_secs(30)),
        )
        .await;
    }
    let (_dir, suite) = suite(CAPTURE_THEN_CLEANUP);
    let runner = Arc::new(runner(&suite, &server, Duration::from_secs(60)));
    let results = tokio::time::timeout(
        Duration::from_secs(10),
        runner.check_all_until(
            &[0],
            1,
            |_| {},
            tokio::time::sleep(Duration::from_millis(300)),
        ),
    )
    .await
    .expect("given up");
    let e = stopped(&results[0]);
    assert!(matches!(e, RunError::GaveUp { .. }), "{e:?}");
    assert!(e.help().contains("conform cleanup"), "{}", e.help());
}

/// Retries every throttled answer after `delay`, and adds a parameter to every call.
struct Eager {
    seen: Mutex<Vec<u32>>,
    delay: Duration,
}

impl Eager {
    fn after(delay: Duration) -> Arc<Eager> {
        Arc::new(Eager {
            seen: Mutex::new(Vec::new()),
            delay,
        })
    }
}

impl Policy for Eager {
    fn params(
        &self,
        _step: &Step,
        _model: &crate::model::Model,
        _operation: &crate::model::Operation,
        params: &[(String, crate::scenario::ParamValue)],
        _vars: &crate::template::Vars,
    ) -> Option<Vec<(String, crate::scenario::ParamValue)>> {
        let mut out = params.to_vec();
        out.push((
            "RoleSessionName".into(),
            crate::scenario::ParamValue::Str(crate::template::Template::literal("added")),
        ));
        Some(out)
    }

    fn retry(
        &self,
        answer: &crate::transport::HttpResponse,
        attempt: &Attempt<'_>,
    ) -> Option<(&'static str, Duration)> {
        assert!(!attempt.fresh_state, "the case has no setup step");
        self.seen.lock().unwrap().push(attempt.retries);
        (answer.status == 429 && attempt.retries < 5).then_some(("throttled", self.delay))
    }
}

/// An AssumeRole case whose first `times` answers are throttled, and later ones refused.
async fn throttled_then_refused(times: u64) -> (MockServer, tempfile::TempDir, Arc<Suite>) {
    let server = MockServer::start().await;
    Mock::given(body_string_contains("Action=AssumeRole&"))
        .respond_with(error(429, "Throttling"))
        .up_to_n_times(times)
        .mount(&server)
        .await;
    answer(&server, "AssumeRole", error(400, "ValidationError")).await;
    let (dir, suite) = suite("      - operation: AssumeRole\n        params: {RoleArn: a}\n");
    (server, dir, suite)
}

#[tokio::test]
async fn a_policy_retries_what_it_names_and_changes_what_is_sent() {
    let (server, _dir, suite) = throttled_then_refused(2).await;
    let policy = Eager::after(Duration::from_millis(1));
    let runner =
        Arc::new(runner(&suite, &server, Duration::from_secs(5)).with_policy(policy.clone()));
    let mut retried = Vec::new();
    let results = runner
        .check_all(&[0], 1, |e| {
            if let Event::Retrying { call, why, .. } = e {
                retried.push(format!("{call}: {why}"));
            }
        })
        .await;
    assert_eq!(
        retried,
        ["sts:AssumeRole: throttled", "sts:AssumeRole: throttled"]
    );
    assert_eq!(*policy.seen.lock().unwrap(), [0, 1, 2]);
    assert!(
        results[0].run.transcript.contains("HTTP 400"),
        "the last answer is the one kept: {}",
        results[0].run.transcript
    );
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 3);
    let body = String::from_utf8_lossy(&requests[2].body).into_owned();
    assert!(body.ends_with("RoleArn=a&RoleSessionName=added"), "{body}");
}

const PATIENCE: Duration = Duration::from_millis(1500);

#[tokio::test]
async fn a_retry_note_is_heard_before_its_wait_while_other_events_may_wait_for_the_case_end() {
    let (server, _dir, suite) = throttled_then_refused(1).await;
    let runner = Arc::new(
        runner(&suite, &server, Duration::from_secs(5)).with_policy(Eager::after(PATIENCE)),
    );
    let (mut retried, mut finished) = (None, None);
    runner
        .check_all(&[0], 1, |e| match e {
            Event::Retrying { .. } => retried = Some(Instant::now()),
            Event::CaseFinished { .. } => finished = Some(Instant::now()),
            _ => {}
        })
        .await;
    let (retried, finished) = (retried.expect("a retry note"), finished.expect("an end"));
    assert!(
        finished.duration_since(retried) >= PATIENCE / 2,
        "the note came {:?} before the end",
        finished.duration_since(retried)
    );
}

#[tokio::test]
async fn without_a_policy_a_throttled_answer_is_what_the_case_gets() {
    let server = MockServer::start().await;
    answer(&server, "GetCallerIdentity", error(429, "Throttling")).await;
    let (_dir, suite) = suite("      - operation: GetCallerIdentity\n");
    let result = runner(&suite, &server, Duration::from_secs(5))
        .check(0)
        .await;
    assert!(
        result.run.transcript.contains("HTTP 429"),
        "{}",
        result.run.transcript
    );
    assert_eq!(actions(&server).await.len(), 1);
}

#[test]
fn each_service_s_host_header_comes_from_its_own_endpoint() {
    let (_dir, suite) = suite("      - operation: GetCallerIdentity\n");
    let mut target = Target::at_endpoint("http://127.0.0.1:4566", "us-east-1", |_| None).unwrap();
    target
        .service_endpoints
        .insert("iam".into(), "https://iam.example.com:8443/".into());
    let runner = Runner::new(suite, target, Secrets::new()).unwrap();
    assert_eq!(runner.hosts["sts"], "127.0.0.1:4566");
    assert_eq!(runner.hosts["iam"], "iam.example.com:8443");
}

/// Remembers when each request arrived, then answers after a delay.
struct Arrivals {
    at: Arc<Mutex<Vec<std::time::Instant>>>,
    delay: Duration,
}

impl wiremock::Respond for Arrivals {
    fn respond(&self, _: &wiremock::Request) -> ResponseTemplate {
        self.at.lock().unwrap().push(std::time::Instant::now());
        xml(200, "<CreateUserResponse/>".into()).set_delay(self.delay)
    }
}

/// Two runs of a case that creates the user `name`, two jobs: the times the two CreateUser
/// requests arrived, in order.
async fn two_creating(name: &str) -> Vec<std::time::Instant> {
    let server = MockServer::start().await;
    let at = Arc::new(Mutex::new(Vec::new()));
    let delay = Duration::from_millis(400);
    Mock::given(body_string_contains("Action=CreateUser&"))
        .respond_with(Arrivals {
            at: Arc::clone(&at),
            delay,
        })
        .mount(&server)
        .await;
    let (_dir, suite) = suite(&format!(
        "      - service: iam\n        operation: CreateUser\n        params: {{UserName: '{name}'}}\n"
    ));
    let runner = Arc::new(runner(&suite, &server, Duration::from_secs(5)));
    runner.check_all(&[0, 0], 2, |_| {}).await;
    let mut at = at.lock().unwrap().clone();
    at.sort();
    at
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cases_claiming_the_same_account_wide_name_run_one_after_the_other() {
    // `UserName` is in iam.resources.yaml's `names`: the printed "Alice" is one user in the
    // account, so the second case starts only once the first has its answer.
    let at = two_creating("Alice").await;
    assert_eq!(at.len(), 2);
    assert!(
        at[1] - at[0] >= Duration::from_millis(400),
        "the second CreateUser came {:?} after the first",
        at[1] - at[0]
    );
    // A name made with the run id is the same in every case of the run: claimed as well
    // (forty SNS cases each create `conform-{{run_id}}-noperm`).
    let at = two_creating("conform-{{run_id}}").await;
    assert_eq!(at.len(), 2);
    assert!(
        at[1] - at[0] >= Duration::from_millis(400),
        "{:?}",
        at[1] - at[0]
    );
}

#[test]
fn a_listing_and_what_makes_what_it_lists_take_one_claim() {
    let (_dir, lists) = suite(
        "      - service: iam\n        operation: ListVirtualMFADevices\n        params: {AssignmentStatus: Any}\n",
    );
    let (_dir2, makes) = suite(
        "      - service: iam\n        operation: CreateVirtualMFADevice\n        params: {VirtualMFADeviceName: 'conform-{{run_id}}-mfa'}\n",
    );
    let (_dir3, other) = suite("      - service: iam\n        operation: ListUsers\n");
    let claim = "iam/ListVirtualMFADevices lists".to_owned();
    assert_eq!(
        super::claims::keys(&lists, &lists.cases[0]),
        [claim.as_str()]
    );
    assert!(super::claims::keys(&makes, &makes.cases[0]).contains(&claim));
    assert!(super::claims::keys(&other, &other.cases[0]).is_empty());
}

#[test]
fn a_name_taken_from_a_capture_claims_nothing() {
    let (_dir, suite) = suite(
        "      - service: iam\n        operation: GetUser\n        capture: {who: 'GetUserResult/User/UserName'}\n      - service: iam\n        operation: CreateUser\n        params: {UserName: '{{who}}'}\n      - service: iam\n        operation: CreateGroup\n        params: {GroupName: 'conform-{{run_id}}-g'}\n",
    );
    assert_eq!(
        super::claims::keys(&suite, &suite.cases[0]),
        ["iam/GroupName=conform-{{run_id}}-g"]
    );
}
