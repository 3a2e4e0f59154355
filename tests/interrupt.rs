//! Ctrl-C and SIGTERM, sent to the conform process alone, as a user or a CI runner sends
//! them: no case starts after the first, the cases under way run their cleanup steps, the
//! summary and reports of what finished are written, and the exit code is 130; a second
//! signal exits at once. `conform serve` prints its summary on SIGTERM as on Ctrl-C.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Cases with a setup step, a checked step the endpoint answers slowly, and a cleanup step.
fn scenarios(n: usize) -> String {
    let mut yaml = String::from("cases:\n");
    for i in 0..n {
        yaml.push_str(&format!(
            "  - id: slow_{i}
    kind: flow
    provenance: inferred
    description: d
    steps:
      - service: iam
        operation: CreateRole
        setup: true
        params:
          RoleName: 'conform-{{{{run_id}}}}-r{i}'
          AssumeRolePolicyDocument: '{{}}'
      - operation: GetCallerIdentity
      - service: iam
        operation: DeleteRole
        cleanup: true
        params:
          RoleName: 'conform-{{{{run_id}}}}-r{i}'
"
        ));
    }
    yaml
}

/// What the endpoint saw, by action, in order.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<String>>>);

impl Seen {
    fn actions(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
    fn count(&self, action: &str) -> usize {
        self.actions()
            .iter()
            .filter(|a| a.starts_with(action))
            .count()
    }
}

/// Setup answers at once, GetCallerIdentity after `slow`, DeleteRole after `cleanup`.
struct Endpoint {
    seen: Seen,
    slow: Duration,
    cleanup: Duration,
}

impl Respond for Endpoint {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let body = String::from_utf8_lossy(&req.body).into_owned();
        let pairs: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes())
            .into_owned()
            .collect();
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let action = get("Action");
        self.seen
            .0
            .lock()
            .unwrap()
            .push(format!("{action} {}", get("RoleName")));
        let (xml, delay) = match action.as_str() {
            "GetCallerIdentity" => (
                format!(
                    "<GetCallerIdentityResponse xmlns=\"{}\"><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/x</Arn><UserId>AIDAEXAMPLE</UserId><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>",
                    common::NS
                ),
                self.slow,
            ),
            "DeleteRole" => ("<DeleteRoleResponse/>".to_owned(), self.cleanup),
            _ => (
                "<CreateRoleResponse><CreateRoleResult><Role><Arn>arn:aws:iam::123456789012:role/r</Arn></Role></CreateRoleResult></CreateRoleResponse>".to_owned(),
                Duration::ZERO,
            ),
        };
        ResponseTemplate::new(200)
            .insert_header("content-type", "text/xml")
            .set_body_string(xml)
            .set_delay(delay)
    }
}

async fn endpoint(slow: Duration, cleanup: Duration) -> (MockServer, Seen) {
    let seen = Seen::default();
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(Endpoint {
            seen: seen.clone(),
            slow,
            cleanup,
        })
        .mount(&server)
        .await;
    (server, seen)
}

fn start_run(root: &Path, url: &str, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_conform"))
        .arg("--root")
        .arg(root)
        .args(["run", "--endpoint", url, "--jobs", "2", "--no-new"])
        .args(["--report-json", "report.json", "--report-md", "report.md"])
        .args(extra)
        .current_dir(root)
        .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env(
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        )
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("CI")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("conform starts")
}

fn signal(child: &Child, sig: i32) {
    // SAFETY: kill(2) on the pid of a child we own and have not reaped.
    let rc = unsafe { libc::kill(child.id() as i32, sig) };
    assert_eq!(rc, 0, "kill failed");
}

/// Waits (bounded) until `ready` holds.
async fn until(what: &str, ready: impl Fn() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "never saw {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The child's exit code and output, failing the test if it does not end in `bound`.
async fn finish(mut child: Child, bound: Duration) -> (Option<i32>, String, String) {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut out = String::new();
            let mut err = String::new();
            for l in BufReader::new(child.stdout.take().unwrap()).lines() {
                out.push_str(&l.unwrap());
                out.push('\n');
            }
            for l in BufReader::new(child.stderr.take().unwrap()).lines() {
                err.push_str(&l.unwrap());
                err.push('\n');
            }
            return (status.code(), out, err);
        }
        if start.elapsed() > bound {
            let _ = child.kill();
            panic!("conform did not exit within {bound:?} of the signal");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn first_signal_cleans_up_and_reports(sig: i32) {
    let (server, seen) = endpoint(Duration::from_secs(3), Duration::ZERO).await;
    let (_dir, root) =
        common::project(&[("scenarios/sts/GetCallerIdentity/slow.yaml", &scenarios(8))]);
    let child = start_run(&root, &server.uri(), &[]);
    // Two cases (the jobs) are waiting for their slow answer.
    until("two checked steps under way", || {
        seen.count("GetCallerIdentity") == 2
    })
    .await;
    signal(&child, sig);
    let (code, out, err) = finish(child, Duration::from_secs(60)).await;
    assert_eq!(code, Some(130), "{out}\n{err}");
    assert!(err.contains("interrupted: no more cases start"), "{err}");
    // No case started after the signal; both under way ran their cleanup.
    assert_eq!(seen.count("CreateRole"), 2, "{:?}", seen.actions());
    assert_eq!(seen.count("DeleteRole"), 2, "{:?}", seen.actions());
    assert!(out.contains("8 cases against"), "the summary: {out}");
    assert!(
        out.contains("interrupted: 8 cases not run or cut short; no gate verdict"),
        "{out}"
    );
    let report = std::fs::read_to_string(root.join("report.json")).expect("the JSON report");
    assert!(
        report.contains("interrupted at step 1 (GetCallerIdentity)"),
        "{report}"
    );
    assert!(
        report.contains("not run: the run was interrupted"),
        "{report}"
    );
    assert!(root.join("report.md").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_lets_cleanup_run_then_summarizes_and_exits_130() {
    first_signal_cleans_up_and_reports(libc::SIGINT).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_is_treated_as_ctrl_c() {
    first_signal_cleans_up_and_reports(libc::SIGTERM).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_signal_exits_at_once() {
    // Cleanup never answers in time: only the second signal can end the run early.
    let (server, seen) = endpoint(Duration::from_secs(2), Duration::from_secs(600)).await;
    let (_dir, root) =
        common::project(&[("scenarios/sts/GetCallerIdentity/slow.yaml", &scenarios(4))]);
    let child = start_run(
        &root,
        &server.uri(),
        &["--timeout", "600", "--grace", "600"],
    );
    until("a checked step under way", || {
        seen.count("GetCallerIdentity") >= 1
    })
    .await;
    signal(&child, libc::SIGINT);
    until("a cleanup step under way", || seen.count("DeleteRole") >= 1).await;
    signal(&child, libc::SIGINT);
    let (code, _out, err) = finish(child, Duration::from_secs(30)).await;
    assert_eq!(code, Some(130), "{err}");
    assert!(err.contains("interrupted again: exiting now"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn cleanup_that_outlasts_the_grace_time_is_reported_not_waited_for() {
    let (server, seen) = endpoint(Duration::from_secs(2), Duration::from_secs(600)).await;
    let (_dir, root) =
        common::project(&[("scenarios/sts/GetCallerIdentity/slow.yaml", &scenarios(4))]);
    let child = start_run(&root, &server.uri(), &["--timeout", "600", "--grace", "1"]);
    until("a checked step under way", || {
        seen.count("GetCallerIdentity") >= 1
    })
    .await;
    signal(&child, libc::SIGTERM);
    let (code, out, err) = finish(child, Duration::from_secs(60)).await;
    assert_eq!(code, Some(130), "{out}\n{err}");
    assert!(
        err.contains("did not finish within 1 s of the interrupt"),
        "{err}"
    );
    let report = std::fs::read_to_string(root.join("report.json")).expect("the JSON report");
    assert!(
        report.contains("did not finish within the grace time"),
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_prints_its_summary_on_sigterm() {
    let (_dir, root) = common::starter_copy();
    let mut child = Command::new(env!("CARGO_BIN_EXE_conform"))
        .arg("--root")
        .arg(&root)
        .args(["serve", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(first.starts_with("conform serve: "), "{first}");
    signal(&child, libc::SIGTERM);
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{rest:?}");
    assert!(
        rest.iter()
            .any(|l| l.contains("cases were never requested")),
        "{rest:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn record_cleans_up_writes_nothing_half_done_and_exits_130() {
    let (server, seen) = endpoint(Duration::from_secs(3), Duration::ZERO).await;
    let (_dir, root) =
        common::project(&[("scenarios/sts/GetCallerIdentity/slow.yaml", &scenarios(6))]);
    let child = Command::new(env!("CARGO_BIN_EXE_conform"))
        .arg("--root")
        .arg(&root)
        .args([
            "record",
            "--target",
            &server.uri(),
            "--jobs",
            "2",
            "--rate",
            "1000",
        ])
        .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env(
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        )
        .env_remove("AWS_SESSION_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Record asks who the caller is first, then two cases wait for their answer.
    until("two cases under way", || {
        seen.count("GetCallerIdentity") == 3
    })
    .await;
    signal(&child, libc::SIGINT);
    let (code, out, err) = finish(child, Duration::from_secs(60)).await;
    assert_eq!(code, Some(130), "{out}\n{err}");
    assert_eq!(seen.count("CreateRole"), 2, "{:?}", seen.actions());
    assert_eq!(seen.count("DeleteRole"), 2, "{:?}", seen.actions());
    assert!(
        out.contains("recorded 0 snapshots, 6 cases not recorded"),
        "{out}"
    );
    assert!(
        !root.join("snapshots").exists() || common::walk(&root.join("snapshots")).is_empty(),
        "nothing half done is written"
    );
}
