//! The command line as a user meets it: what each command's `--help` says its exit codes
//! mean, each code provoked and matched with what the help says of it, and `--target` read
//! the same way by `run`, `record` and `cleanup` (a target of the targets file, or a URL).

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Deviation, FakeSts};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate, matchers::any};

fn conform(root: &Path, args: &[&str]) -> Output {
    common::conform_at(root)
        .args(args)
        .env_remove("CONFORM_ALLOW_AWS")
        .env("CI", "")
        .output()
        .expect("conform runs")
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\n[stdout]\n{}[stderr]\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Every command and what `--help` says its exit codes are.
const COMMANDS: [(&str, &[i32]); 11] = [
    ("run", &[0, 1, 2, 130]),
    ("list", &[0, 2]),
    ("check", &[0, 1, 2]),
    ("matrix", &[0, 2]),
    ("merge", &[0, 2]),
    ("record", &[0, 1, 2, 130]),
    ("cleanup", &[0, 1, 2]),
    ("serve", &[0, 1, 2, 130]),
    ("generate", &[0, 1, 2]),
    ("coverage", &[0, 1, 2]),
    ("", &[0, 1, 2, 130]),
];

/// The exit codes `conform COMMAND --help` documents, each with its meaning (continuation
/// lines joined).
fn documented(command: &str) -> BTreeMap<i32, String> {
    let mut args = vec![];
    if !command.is_empty() {
        args.push(command);
    }
    args.push("--help");
    let o = conform(common::repo(), &args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let help = String::from_utf8_lossy(&o.stdout).into_owned();
    let section = help
        .split_once("Exit codes")
        .unwrap_or_else(|| panic!("`{command} --help` states no exit codes:\n{help}"))
        .1;
    let mut codes = BTreeMap::new();
    let mut last = None;
    for line in section.lines().skip(1) {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            break;
        }
        let (head, rest) = trimmed.split_once(' ').unwrap_or((trimmed, ""));
        match head.parse::<i32>() {
            Ok(code) if line.starts_with("  ") && !line.starts_with("   ") => {
                codes.insert(code, rest.trim().to_owned());
                last = Some(code);
            }
            _ => {
                let code = last.expect("a meaning continues a code's line");
                let meaning = codes.get_mut(&code).unwrap();
                meaning.push(' ');
                meaning.push_str(trimmed);
            }
        }
    }
    codes
}

/// What `command`'s help says `code` means; the test fails when it says nothing of it.
fn meaning(command: &str, code: i32) -> String {
    documented(command)
        .remove(&code)
        .unwrap_or_else(|| panic!("`{command} --help` does not document exit {code}"))
}

#[test]
fn every_help_states_each_exit_code_the_command_has() {
    for (command, codes) in COMMANDS {
        let doc = documented(command);
        let have: Vec<i32> = doc.keys().copied().collect();
        assert_eq!(have, codes, "`{command} --help`: {doc:#?}");
        for (code, meaning) in &doc {
            assert!(
                meaning.len() > 5,
                "`{command} --help`: exit {code} says {meaning:?}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn exit_0_is_a_run_where_every_case_passed() {
    let server = common::start(Deviation::None).await;
    let (_dir, root) = common::starter_copy();
    let o = conform(&root, &["run", "--endpoint", &server.uri(), "--no-new"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("4 passed, 0 failed"), "{}", text(&o));
    assert!(meaning("run", 0).starts_with("every case passed"));
}

#[tokio::test(flavor = "multi_thread")]
async fn exit_1_is_a_run_where_a_case_failed() {
    let server = common::start(Deviation::ChangedMessage).await;
    let (_dir, root) = common::starter_copy();
    let o = conform(&root, &["run", "--endpoint", &server.uri(), "--no-new"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("\nFAIL "), "{}", text(&o));
    assert!(meaning("run", 1).starts_with("a case failed"));
}

#[test]
fn exit_1_is_a_check_that_found_something() {
    let (_dir, root) = common::starter_copy();
    std::fs::remove_file(root.join("snapshots/sts/GetCallerIdentity/get_caller_identity.snap"))
        .unwrap();
    let o = conform(&root, &["check"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("missing snapshot: "), "{}", text(&o));
    assert!(meaning("check", 1).contains("a missing, orphaned or pending snapshot"));
}

#[test]
fn exit_2_is_bad_input_and_nothing_is_judged() {
    let (_dir, root) = common::starter_copy();
    // No case matches.
    let o = conform(&root, &["run", "no_such_case"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("no case matches the filters"));
    assert!(meaning("run", 2).contains("no case matches the filters"));
    // A target the targets file does not name.
    std::fs::write(root.join("conform.toml"), "[targets.replay]\n").unwrap();
    let o = conform(&root, &["record", "--target", "nosuch"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("no target named `nosuch`"),
        "{}",
        text(&o)
    );
    assert!(meaning("record", 2).contains("the targets file"));
    // A report that is no report.
    std::fs::write(root.join("bad.json"), "{").unwrap();
    let o = conform(&root, &["merge", root.join("bad.json").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(meaning("merge", 2).contains("a report that cannot be read"));
    // An option clap refuses.
    let o = conform(&root, &["list", "--no-such-option"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(meaning("list", 2).contains("an option"));
}

#[tokio::test(flavor = "multi_thread")]
async fn exit_130_is_a_run_interrupted() {
    let server = common::start(Deviation::Slow(Duration::from_secs(30))).await;
    let (_dir, root) = common::starter_copy();
    let child = common::conform_at(&root)
        .args([
            "run",
            "--endpoint",
            &server.uri(),
            "--no-new",
            "--grace",
            "1",
        ])
        .env("CI", "")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Until the requests are under way.
    for _ in 0..200 {
        if !server
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    // SAFETY: kill(2) on the pid of a child we own and have not reaped.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", text(&o));
    assert!(text(&o).contains("no gate verdict"), "{}", text(&o));
    assert!(meaning("run", 130).contains("interrupted by Ctrl-C or SIGTERM"));
    assert!(meaning("run", 130).contains("no gate verdict"));
}

/// The STS stand-in that also remembers the key id each signed request named, and answers
/// every listing (`List...`) with an empty, complete page.
struct Remembering {
    keys: Arc<Mutex<Vec<String>>>,
}

impl Respond for Remembering {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        if let Some(auth) = req.headers.get("authorization") {
            let auth = auth.to_str().unwrap_or("");
            if let Some(rest) = auth.split("Credential=").nth(1) {
                let key = rest.split('/').next().unwrap_or("").to_owned();
                self.keys.lock().unwrap().push(key);
            }
        }
        let action = common::action(&req.body);
        if action.starts_with("List") {
            let body = format!(
                "<{action}Response><{action}Result><IsTruncated>false</IsTruncated></{action}Result></{action}Response>"
            );
            return ResponseTemplate::new(200).set_body_raw(body, "text/xml");
        }
        FakeSts {
            deviation: Deviation::None,
        }
        .respond(req)
    }
}

async fn remembering() -> (MockServer, Arc<Mutex<Vec<String>>>) {
    let keys = Arc::new(Mutex::new(Vec::new()));
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(Remembering {
            keys: Arc::clone(&keys),
        })
        .mount(&server)
        .await;
    (server, keys)
}

/// A targets file naming `local` at `endpoint`, with keys of its own and a variable.
fn targets_file(root: &Path, endpoint: &str) {
    std::fs::write(
        root.join("conform.toml"),
        format!(
            "[targets.replay]\n\n[targets.local]\nendpoint = \"{endpoint}\"\nregion = \"eu-west-1\"\ncredentials = {{ access_key_id = \"AKIDLOCALTARGET\", secret_access_key = \"local-target-secret\" }}\nvars = {{ role_name = \"from-the-targets-file\" }}\n"
        ),
    )
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn record_takes_a_target_of_the_targets_file_with_its_keys_region_and_variables() {
    let (server, keys) = remembering().await;
    let (_dir, root) = common::starter_copy();
    targets_file(&root, &server.uri());
    let o = conform(&root, &["record", "--target", "local"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("against local (eu-west-1)"),
        "{}",
        text(&o)
    );
    // The file's variables reach the requests.
    let bodies: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    assert!(
        bodies
            .iter()
            .any(|b| b.contains("role%2Ffrom-the-targets-file")),
        "{bodies:#?}"
    );
    let keys = keys.lock().unwrap().clone();
    assert!(
        !keys.is_empty() && keys.iter().all(|k| k == "AKIDLOCALTARGET"),
        "{keys:?}"
    );
    let snap = std::fs::read_to_string(
        root.join("snapshots/sts/GetCallerIdentity/get_caller_identity.snap"),
    )
    .unwrap();
    assert!(
        snap.contains("answers recorded against local (eu-west-1), not AWS"),
        "{snap}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn record_takes_an_endpoint_as_run_does_and_it_wins_over_the_targets() {
    let (server, keys) = remembering().await;
    let (_dir, root) = common::starter_copy();
    // The file's endpoint is nowhere; --endpoint sends the requests to the server.
    targets_file(&root, "http://127.0.0.1:9");
    let o = conform(
        &root,
        &[
            "record",
            "--target",
            "local",
            "--endpoint",
            &server.uri(),
            "--filter",
            "get_caller_identity",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(keys.lock().unwrap().iter().all(|k| k == "AKIDLOCALTARGET"));
    // --endpoint alone, with the environment's (here the example) keys.
    let o = conform(
        &root,
        &[
            "record",
            "--endpoint",
            &server.uri(),
            "--filter",
            "get_caller_identity",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains(&format!("against {} (us-east-1)", server.uri())),
        "{}",
        text(&o)
    );
    // Neither: clap says what is needed.
    let o = conform(&root, &["record"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--target"), "{}", text(&o));
    // The replay target has no endpoint to record against.
    let o = conform(&root, &["record", "--target", "replay"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("target `replay` has no endpoint"),
        "{}",
        text(&o)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn run_takes_a_url_as_its_target() {
    let server = common::start(Deviation::None).await;
    let (_dir, root) = common::starter_copy();
    let o = conform(&root, &["run", "--target", &server.uri(), "--no-new"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains(&format!("4 cases against {}", server.uri())),
        "{}",
        text(&o)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cleanup_takes_a_target_of_the_targets_file() {
    let (server, keys) = remembering().await;
    let (_dir, root) = common::starter_copy();
    targets_file(&root, &server.uri());
    let o = conform(&root, &["cleanup", "--target", "local", "--dry-run"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("0 would delete, 0 failed, against local"),
        "{}",
        text(&o)
    );
    let keys = keys.lock().unwrap().clone();
    assert!(
        !keys.is_empty() && keys.iter().all(|k| k == "AKIDLOCALTARGET"),
        "{keys:?}"
    );
    // And a URL, as before.
    let o = conform(&root, &["cleanup", "--target", &server.uri(), "--dry-run"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn aws_is_a_target_even_where_no_targets_file_names_it() {
    let (_dir, root) = common::starter_copy();
    assert!(!root.join("conform.toml").exists());
    for command in ["record", "cleanup"] {
        let o = conform(
            &root,
            &[command, "--target", "aws", "--region", "eu-west-1"],
        );
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(
            text(&o).contains("confirm with --allow-aws"),
            "{}",
            text(&o)
        );
    }
    // A dry run records nothing, so AWS needs no confirmation; the region picks STS's
    // regional endpoint.
    let regional_dry_run = |root: &std::path::Path| {
        let o = conform(
            root,
            &[
                "record",
                "--target",
                "aws",
                "--region",
                "eu-west-1",
                "--dry-run",
            ],
        );
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        assert!(
            text(&o).contains("at https://sts.eu-west-1.amazonaws.com/"),
            "{}",
            text(&o)
        );
    };
    regional_dry_run(&root);
    // The project's own file names it too, with the same meaning.
    std::fs::copy(
        common::repo().join("conform.toml"),
        root.join("conform.toml"),
    )
    .unwrap();
    regional_dry_run(&root);
}
