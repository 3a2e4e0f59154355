//! The `conform` binary as a user runs it: against a loopback endpoint, on good and bad
//! projects, with what it prints and how it exits.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{Deviation, start};

fn conform(root: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_conform"));
    cmd.arg("--root").arg(root).args(args);
    cmd.env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN");
    cmd.env("CI", "")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("conform runs")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// What a user sees of a run, stdout then stderr, with what changes from run to run in
/// brackets: the project's temporary directory, loopback ports, the time taken, the number
/// of jobs (it follows the cores) and the binary's own path.
fn seen(root: &Path, o: &Output) -> String {
    let (out, err) = text(o);
    let code = o
        .status
        .code()
        .map_or("none (a signal)".into(), |c| c.to_string());
    let mut all = format!("exit code {code}\n[stdout]\n{out}");
    if !err.is_empty() {
        all.push_str(&format!("[stderr]\n{err}"));
    }
    let all = all
        .replace(env!("CARGO_BIN_EXE_conform"), "[conform]")
        .replace(root.to_str().unwrap(), "[root]");
    let filters = [
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[port]"),
        (r"\(\d+\.\d+ s, \d+ jobs\)", "([time] s, [jobs] jobs)"),
    ];
    filters.iter().fold(all, |text, (pattern, with)| {
        regex::Regex::new(pattern)
            .unwrap()
            .replace_all(&text, *with)
            .into_owned()
    })
}

/// A writable copy of the starter project, so runs may write.
fn copy_of_repo() -> (tempfile::TempDir, std::path::PathBuf) {
    common::starter_copy()
}

#[tokio::test(flavor = "multi_thread")]
async fn run_passes_against_a_conforming_endpoint() {
    let server = start(Deviation::None).await;
    let (_dir, root) = common::starter_copy();
    let o = conform(
        &root,
        &["run", "--endpoint", &server.uri(), "--no-new"],
        &[],
    );
    insta::assert_snapshot!("run_passes", seen(&root, &o));
}

#[tokio::test(flavor = "multi_thread")]
async fn run_prints_each_diff_writes_snap_new_and_exits_non_zero() {
    let server = start(Deviation::ChangedMessage).await;
    let (_dir, root) = copy_of_repo();
    let o = conform(
        &root,
        &[
            "run",
            "--endpoint",
            &server.uri(),
            "--filter",
            "session_name",
        ],
        &[],
    );
    // The case's line, the new deviation, where the new answer went, the diff, the summary.
    insta::assert_snapshot!("run_fails_with_a_diff", seen(&root, &o));
    let new = root.join("snapshots/sts/AssumeRole/assume_role_session_name_too_short.snap.new");
    let written = std::fs::read_to_string(&new).expect(".snap.new written");
    assert!(written.starts_with("---\nsource: scenarios/sts/AssumeRole/limits.yaml\ndescription: \"limit assume_role_session_name_too_short, provenance: documented"), "{written}");
    assert!(written.contains("greater than or equal to 3"));
    // insta reads what we wrote.
    let snap = insta::Snapshot::from_file(&new).expect("insta parses the .snap.new");
    assert!(
        snap.contents()
            .as_text()
            .unwrap()
            .to_string()
            .contains("equal to 3")
    );
    // The stored snapshot is untouched.
    let stored = std::fs::read_to_string(
        root.join("snapshots/sts/AssumeRole/assume_role_session_name_too_short.snap"),
    )
    .unwrap();
    assert!(stored.contains("equal to 2"));
    let o = conform(&root, &["check"], &[]);
    let (out, _) = text(&o);
    assert!(out.contains("pending review:"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn in_ci_nothing_is_written() {
    let server = start(Deviation::ChangedMessage).await;
    let (_dir, root) = copy_of_repo();
    let o = conform(
        &root,
        &["run", "--endpoint", &server.uri()],
        &[("CI", "true")],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        !root
            .join("snapshots/sts/AssumeRole/assume_role_session_name_too_short.snap.new")
            .exists()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_canary_never_reaches_stdout_or_stderr() {
    let canary = "CANARYsecret/for+the=cli-output-000000000";
    let server = start(Deviation::EchoRequest).await;
    let (_dir, root) = copy_of_repo();
    let o = conform(
        &root,
        &["run", "--endpoint", &server.uri()],
        &[
            ("AWS_ACCESS_KEY_ID", "AKIACANARYEXAMPLE000"),
            ("AWS_SECRET_ACCESS_KEY", canary),
            ("AWS_SESSION_TOKEN", canary),
        ],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        out.contains("[redacted-secret]"),
        "the echo carried the token: {out}"
    );
    let enc: String = form_urlencoded::byte_serialize(canary.as_bytes()).collect();
    for t in [&out, &err] {
        assert!(!t.contains(canary) && !t.contains(&enc), "{t}");
    }
    for f in common::walk(&root.join("snapshots")) {
        let body = std::fs::read_to_string(&f).unwrap();
        assert!(
            !body.contains(canary) && !body.contains(&enc),
            "{}",
            f.display()
        );
    }
}

#[test]
fn list_and_check_on_the_repo() {
    let (_dir, root) = common::starter_copy();
    let o = conform(&root, &["list"], &[]);
    let (out, _) = text(&o);
    assert!(o.status.success());
    assert!(
        out.contains("sts::AssumeRole::assume_role_doc_example_boto3  [doc-example / documented]"),
        "{out}"
    );
    // Four cases leave most constrained members without a case: check refuses that.
    let o = conform(&root, &["check"], &[]);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("no case for a constrained member: sts::AssumeRole ExternalId"),
        "{out}"
    );
    assert!(out.contains("0 missing, 0 orphaned, "), "{out}");
}

#[test]
fn the_repos_corpus_passes_check() {
    let o = conform(common::repo(), &["check"], &[]);
    let (out, _) = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(
        out.contains("0 missing, 0 orphaned, 0 stale headers, 0 constrained members without a case, 0 stale baseline entries, 0 contradictions"),
        "{out}"
    );
}

/// A filtered run loads only the services its cases name, yet an SNS case signing with the
/// key an IAM setup step got needs the data of the service that says which keys are handed
/// out (STS's `sessions:`), or the built-in replay server takes the key for a stranger's.
#[test]
fn a_filtered_run_of_cases_signing_with_handed_out_keys_passes() {
    let o = conform(
        common::repo(),
        &["run", "--filter", "sns::ListTopics::"],
        &[],
    );
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(
        out.contains(" passed, 0 failed, 0 missing a snapshot, 0 errors"),
        "{out}"
    );
}

#[test]
fn check_reports_orphans_and_missing_snapshots() {
    let (_dir, root) = copy_of_repo();
    std::fs::rename(
        root.join("snapshots/sts/GetCallerIdentity/get_caller_identity.snap"),
        root.join("snapshots/sts/GetCallerIdentity/renamed_case.snap"),
    )
    .unwrap();
    let o = conform(&root, &["check"], &[]);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("missing snapshot:")
            && out.contains(
                "get_caller_identity.snap (for sts::GetCallerIdentity::get_caller_identity"
            ),
        "{out}"
    );
    assert!(
        out.contains("orphan snapshot:") && out.contains("renamed_case.snap"),
        "{out}"
    );
}

#[test]
fn a_bad_scenario_stops_everything_with_its_location() {
    let yaml = "cases:\n  - id: c\n    kind: limit\n    provenance: documented\n    description: d\n    steps:\n      - operation: AssumeRole\n        params: {RoleArn: x, RoleSesionName: ab}\n";
    let (_dir, root) = common::project(&[("scenarios/sts/AssumeRole/a.yaml", yaml)]);
    let o = conform(&root, &["run", "--endpoint", "http://127.0.0.1:9"], &[]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}{err}");
    assert!(err.contains("scenarios/sts/AssumeRole/a.yaml:8:30: unknown parameter `RoleSesionName` for AssumeRole"), "{err}");
    assert!(err.contains("did you mean `RoleSessionName`?"), "{err}");
    assert!(err.contains("nothing was run"), "{err}");
}

#[test]
fn bad_arguments_are_explained() {
    let (_dir, root) = common::starter_copy();
    let o = conform(&root, &["run", "--endpoint", "localhost:5000"], &[]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err.contains("`localhost:5000` is not an http(s) URL"),
        "{err}"
    );
    let (_dir, root) = common::starter_copy();
    let o = conform(
        &root,
        &[
            "run",
            "--endpoint",
            "http://127.0.0.1:9",
            "--filter",
            "no_such_case",
        ],
        &[],
    );
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(err.contains("no case matches the filters"), "{err}");
}

#[test]
fn serve_logs_unmatched_requests_and_strict_makes_them_fail_the_exit_code() {
    use std::io::{BufRead, BufReader};
    let (_dir, root) = common::starter_copy();
    let mut child = Command::new(env!("CARGO_BIN_EXE_conform"))
        .arg("--root")
        .arg(&root)
        .args(["serve", "--port", "0", "--strict"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    let uri = first.split(" on ").nth(1).unwrap().trim().to_owned();
    assert!(uri.starts_with("http://127.0.0.1:"), "{first}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let status = rt.block_on(async {
        reqwest::Client::new()
            .post(&uri)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("Action=GetCallerIdentity&Version=2011-06-15&Extra=1")
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    assert_eq!(status, 400);
    // SAFETY: sending SIGINT to the child we started.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let code = child.wait().unwrap().code();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(code, Some(1), "--strict fails the exit code\n{rest}\n{err}");
    assert!(
        err.contains(
            "unmatched: No scenario expects this GetCallerIdentity request (3 parameters)"
        ),
        "{err}"
    );
    assert!(
        rest.contains("1 requests matched no scenario; 4 cases were never requested"),
        "{rest}"
    );
    assert!(
        rest.contains("never requested: sts::AssumeRole::assume_role_doc_example_boto3"),
        "{rest}"
    );
    // --strict says why it fails.
    assert!(
        rest.contains("--strict: exit 1, because 1 requests matched no scenario"),
        "{rest}"
    );
}

/// `conform serve` in one process, `conform run --target replay --endpoint` in another: the
/// run names its own run id, and the server answers with it, on the second run too (keys a
/// case's setup got in the first run once kept naming the first run's user), and to two
/// runs at once (a listing carries no run id: the run its client names is answered for).
#[test]
fn a_run_against_conform_serve_in_another_process_passes_every_replayable_case() {
    use std::io::{BufRead, BufReader};
    struct Server(std::process::Child);
    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let root = common::repo();
    let mut server = Server(
        Command::new(env!("CARGO_BIN_EXE_conform"))
            .arg("--root")
            .arg(root)
            .args(["serve", "--port", "0"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut first = String::new();
    BufReader::new(server.0.stdout.as_mut().unwrap())
        .read_line(&mut first)
        .unwrap();
    let uri = first.split(" on ").nth(1).unwrap().trim().to_owned();
    for run in ["first", "second"] {
        let o = conform(
            root,
            &["run", "--target", "replay", "--endpoint", &uri, "--no-new"],
            &[],
        );
        let (out, err) = text(&o);
        assert!(o.status.success(), "{run} run:\n{out}\n{err}");
        assert!(out.contains(" 0 failed,"), "{run} run: {out}");
        assert!(
            err.contains("cases need what only a real target provides (`requires:`); a replay server is none, so they are skipped"),
            "{err}"
        );
    }
    let together: Vec<_> = (0..2)
        .map(|_| {
            let uri = uri.clone();
            std::thread::spawn(move || {
                conform(
                    root,
                    &["run", "--target", "replay", "--endpoint", &uri, "--no-new"],
                    &[],
                )
            })
        })
        .collect();
    for run in together {
        let o = run.join().unwrap();
        let (out, err) = text(&o);
        assert!(o.status.success(), "runs at once:\n{out}\n{err}");
        assert!(out.contains(" 0 failed,"), "runs at once: {out}");
    }
}

#[test]
fn shards_cover_the_suite_exactly_once_and_their_reports_merge() {
    let root = common::repo();
    // Every case the replay can answer: those that need no real target's state.
    let replayable = conform::suite::Suite::load(&conform::suite::Layout::at(root))
        .unwrap()
        .cases
        .iter()
        .filter(|c| c.requires.is_empty())
        .count();
    let dir = tempfile::tempdir().unwrap();
    let mut jsons = Vec::new();
    for k in 1..=3 {
        let path = dir.path().join(format!("shard{k}.json"));
        let o = conform(
            root,
            &[
                "run",
                "--no-new",
                "--shard",
                &format!("{k}/3"),
                "--report-json",
                path.to_str().unwrap(),
            ],
            &[],
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
        jsons.push(path);
    }
    let names = |p: &Path| -> Vec<String> {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
        v["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let mut all: Vec<String> = jsons.iter().flat_map(|p| names(p)).collect();
    let count = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), count, "no case runs in two shards");
    assert_eq!(
        count, replayable,
        "every replayable case runs in some shard"
    );
    assert!(
        jsons.iter().all(|p| !names(p).is_empty()),
        "each shard got a share"
    );

    let merged = dir.path().join("merged.json");
    let (junit, md) = (dir.path().join("junit.xml"), dir.path().join("summary.md"));
    let mut args: Vec<&str> = vec!["merge"];
    args.extend(jsons.iter().map(|p| p.to_str().unwrap()));
    args.extend([
        "--json",
        merged.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
        "--md",
        md.to_str().unwrap(),
    ]);
    let o = conform(root, &args, &[]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{out}");
    assert!(
        out.contains(&format!("{replayable} cases from 3 reports: 0 not passing")),
        "{out}"
    );
    assert_eq!(names(&merged).len(), replayable);
    let x = std::fs::read_to_string(&junit).unwrap();
    // One suite per service, together every replayable case.
    assert!(
        x.contains(&format!(
            "<testsuites name=\"conform against replay\" tests=\"{replayable}\" skipped=\"0\" failures=\"0\" errors=\"0\">"
        )) && ["sts", "iam", "sns"]
            .iter()
            .all(|s| x.contains(&format!("<testsuite name=\"{s}\" tests="))),
        "{}",
        &x[..x.len().min(400)]
    );
    assert!(std::fs::read_to_string(&md).unwrap().starts_with(&format!(
        "# conform against replay\n\n{replayable} cases: {replayable} passed"
    )));
    // The same shard twice is an overlap, refused.
    let o = conform(
        root,
        &[
            "merge",
            jsons[0].to_str().unwrap(),
            jsons[0].to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("is in more than one report: the shards overlap")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_baseline_gate_fails_on_new_and_on_fixed_deviations_and_says_how_to_update() {
    let (_dir, root) = copy_of_repo();
    let baseline = root.join("baselines/fake.toml");
    std::fs::create_dir_all(baseline.parent().unwrap()).unwrap();
    let b = baseline.to_str().unwrap();
    let deviating = start(Deviation::ChangedMessage).await;
    let o = conform(
        &root,
        &[
            "run",
            "--endpoint",
            &deviating.uri(),
            "--no-new",
            "--baseline",
            b,
        ],
        &[],
    );
    // The gate names the case, the step, the kind and the path, and how to update.
    insta::assert_snapshot!("gate_fails_on_a_new_deviation", seen(&root, &o));

    let o = conform(
        &root,
        &[
            "run",
            "--endpoint",
            &deviating.uri(),
            "--no-new",
            "--baseline",
            b,
            "--update-baseline",
        ],
        &[],
    );
    assert!(o.status.success());
    let text = std::fs::read_to_string(&baseline).unwrap();
    assert!(
        text.contains("[[case]]\nname = \"sts::AssumeRole::assume_role_session_name_too_short\"\nreason = \"error-message at Message\"\ndeviations = [\n  { step = 1, kind = \"error-message\", path = \"ErrorResponse/Error/Message\", expected = \"1 validation error detected"),
        "{text}"
    );

    let o = conform(
        &root,
        &[
            "run",
            "--endpoint",
            &deviating.uri(),
            "--no-new",
            "--baseline",
            b,
        ],
        &[],
    );
    // Quiet when fine: no FAIL line and no diff for a case whose deviations are known.
    insta::assert_snapshot!("gate_passes_on_known_deviations", seen(&root, &o));

    // Fixed upstream: the entry must go, so the list only shrinks.
    let conforming = start(Deviation::None).await;
    let o = conform(
        &root,
        &[
            "run",
            "--endpoint",
            &conforming.uri(),
            "--no-new",
            "--baseline",
            b,
        ],
        &[],
    );
    insta::assert_snapshot!("gate_fails_on_a_fixed_deviation", seen(&root, &o));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_named_target_brings_its_endpoint_and_baseline_and_a_silent_one_fails_the_gate() {
    let (_dir, root) = copy_of_repo();
    let deviating = start(Deviation::ChangedMessage).await;
    // A port nothing listens on: bound, then released.
    let down = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    std::fs::create_dir_all(root.join("baselines")).unwrap();
    std::fs::write(
        root.join("baselines/fake.toml"),
        "[[case]]\nname = \"sts::AssumeRole::assume_role_session_name_too_short\"\nreason = \"the message differs\"\n\
         deviations = [{ step = 1, kind = \"error-message\", path = \"ErrorResponse/Error/Message\" }]\n",
    )
    .unwrap();
    std::fs::write(
        root.join("conform.toml"),
        format!(
            "[targets.fake]\nendpoint = \"{}\"\nbaseline = \"baselines/fake.toml\"\n\n\
             [targets.down]\nendpoint = \"http://127.0.0.1:{down}\"\nbaseline = \"baselines/fake.toml\"\n",
            deviating.uri()
        ),
    )
    .unwrap();

    let json = root.join("fake.json");
    let o = conform(
        &root,
        &[
            "run",
            "--target",
            "fake",
            "--no-new",
            "--report-json",
            json.to_str().unwrap(),
        ],
        &[],
    );
    // The target's name and its baseline's path in the summary and the gate.
    insta::assert_snapshot!("a_named_target_passes_its_gate", seen(&root, &o));
    // The report tells the known deviation by its reason.
    let report: conform::report::RunReport =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let known: Vec<_> = report
        .cases
        .iter()
        .filter(|c| c.status() == conform::report::Status::Baselined)
        .map(|c| (c.name.as_str(), c.known.as_deref()))
        .collect();
    assert_eq!(
        known,
        [(
            "sts::AssumeRole::assume_role_session_name_too_short",
            Some("the message differs")
        )]
    );

    // The baseline excuses the deviation, not a target that is not there.
    let o = conform(
        &root,
        &["run", "--target", "down", "--no-new", "--timeout", "2"],
        &[],
    );
    // Each case says where its step is written and what to do; no update is offered.
    insta::assert_snapshot!("gate_fails_on_a_silent_target", seen(&root, &o));

    let o = conform(&root, &["run", "--target", "mtoo"], &[]);
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(
        err.contains("no target named `mtoo`; the file names: down, fake"),
        "{err}"
    );
}

/// The key ids a server saw in Authorization headers.
async fn key_ids(server: &wiremock::MockServer) -> std::collections::BTreeSet<String> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter_map(|r| {
            r.headers
                .get("authorization")?
                .to_str()
                .ok()
                .map(str::to_owned)
        })
        .filter_map(|a| {
            let rest = a.split("Credential=").nth(1)?;
            Some(rest.split('/').next()?.to_owned())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_named_target_signs_with_the_keys_its_entry_names() {
    let (_dir, root) = copy_of_repo();
    let (file_keys, example, env) = (
        start(Deviation::None).await,
        start(Deviation::None).await,
        start(Deviation::None).await,
    );
    std::fs::write(
        root.join("conform.toml"),
        format!(
            "[targets.file]\nendpoint = \"{}\"\nbaseline = \"baselines/file.toml\"\n\
             credentials = {{ access_key_id = \"AKIDFROMTHEFILE00000\", secret_access_key = \"canary-file-secret-4711\" }}\n\n\
             [targets.example]\nendpoint = \"{}\"\ncredentials = \"example\"\n\n\
             [targets.env]\nendpoint = \"{}\"\n",
            file_keys.uri(),
            example.uri(),
            env.uri()
        ),
    )
    .unwrap();
    // A developer's real keys in the environment: only a target that asks for them gets them.
    let real = [
        ("AWS_ACCESS_KEY_ID", "AKIAREALDEVELOPERKEY"),
        ("AWS_SECRET_ACCESS_KEY", "canary-real-secret-0815"),
    ];
    for (name, server, want) in [
        ("file", &file_keys, "AKIDFROMTHEFILE00000"),
        ("example", &example, conform::target::EXAMPLE_ACCESS_KEY_ID),
        ("env", &env, "AKIAREALDEVELOPERKEY"),
    ] {
        let mut args = vec!["run", "--target", name, "--no-new"];
        if name == "file" {
            args.push("--update-baseline");
        }
        let o = conform(&root, &args, &real);
        let (out, err) = text(&o);
        assert!(o.status.success(), "{name}: {out}\n{err}");
        for secret in ["canary-file-secret-4711", "canary-real-secret-0815"] {
            assert!(
                !out.contains(secret) && !err.contains(secret),
                "{name}: {out}\n{err}"
            );
        }
        let seen = key_ids(server).await;
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), [want], "{name}");
    }
    // --update-baseline found the baseline through the target's entry, with no --baseline.
    let written = std::fs::read_to_string(root.join("baselines/file.toml")).unwrap();
    assert!(written.contains("Known deviations"), "{written}");

    // Without a baseline anywhere, --update-baseline says what it needs.
    let o = conform(
        &root,
        &["run", "--target", "env", "--update-baseline"],
        &real,
    );
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(err.contains("--update-baseline needs a baseline"), "{err}");
}

#[test]
fn check_names_baseline_entries_that_are_no_case() {
    let (_dir, root) = copy_of_repo();
    std::fs::create_dir_all(root.join("baselines")).unwrap();
    std::fs::write(
        root.join("baselines/emu.toml"),
        "[[deviation]]\ncase = \"sts::GetCallerIdentity::get_caller_identity\"\nreason = \"r\"\n\n\
         [[deviation]]\ncase = \"sts::GetCallerIdentity::renamed_long_ago\"\nreason = \"r\"\n",
    )
    .unwrap();
    std::fs::write(
        root.join("conform.toml"),
        "[targets.emu]\nendpoint = \"http://127.0.0.1:9\"\nbaseline = \"baselines/emu.toml\"\n",
    )
    .unwrap();
    let o = conform(&root, &["check"], &[]);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("stale baseline entry: ")
            && out.contains("baselines/emu.toml lists sts::GetCallerIdentity::renamed_long_ago"),
        "{out}"
    );
    assert!(
        !out.contains("lists sts::GetCallerIdentity::get_caller_identity"),
        "{out}"
    );
    assert!(out.contains(", 1 stale baseline entries"), "{out}");
}

/// The actions a server was asked for, in order.
async fn actions(server: &wiremock::MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| common::action(&r.body))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_target_sends_each_service_to_its_own_endpoint() {
    let (sts, iam) = (start(Deviation::None).await, start(Deviation::None).await);
    let scenario = "cases:\n  - id: with_role\n    kind: exception\n    provenance: inferred\n    \
        description: A role made for the case, assumed, then deleted.\n    steps:\n      \
        - service: iam\n        operation: CreateRole\n        setup: true\n        params:\n          \
        RoleName: 'conform-{{run_id}}-r'\n          AssumeRolePolicyDocument: '{\"Version\":\"2012-10-17\",\"Statement\":[]}'\n        \
        capture: {made_arn: CreateRoleResult/Role/Arn, made_name: //RoleName}\n      \
        - operation: AssumeRole\n        params: {RoleArn: '{{made_arn}}', RoleSessionName: s1}\n      \
        - service: iam\n        operation: DeleteRole\n        cleanup: true\n        params: {RoleName: '{{made_name}}'}\n";
    let targets = format!(
        "[targets.split]\nendpoint = \"{}\"\nendpoints = {{ iam = \"{}\" }}\n",
        sts.uri(),
        iam.uri()
    );
    let (_dir, root) = common::project(&[
        ("scenarios/sts/AssumeRole/r.yaml", scenario),
        ("conform.toml", &targets),
    ]);
    let o = conform(&root, &["run", "--target", "split", "--no-new"], &[]);
    // No snapshot for the case: what matters here is where each request went.
    insta::assert_snapshot!("run_with_a_setup_step_and_no_snapshot", seen(&root, &o));
    assert_eq!(actions(&sts).await, ["AssumeRole"]);
    assert_eq!(actions(&iam).await, ["CreateRole", "DeleteRole"]);

    let bad =
        "[targets.split]\nendpoint = \"http://127.0.0.1:9\"\nendpoints = { iam = \"iam.local\" }\n";
    std::fs::write(root.join("conform.toml"), bad).unwrap();
    let o = conform(&root, &["run", "--target", "split"], &[]);
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(
        err.contains("endpoints.iam `iam.local` is no http(s) URL"),
        "{err}"
    );
}

#[test]
fn a_run_against_aws_must_be_confirmed_before_anything_is_sent() {
    let (_dir, root) = copy_of_repo();
    let o = conform(
        &root,
        &[
            "run",
            "--endpoint",
            "https://sts.amazonaws.com",
            "--timeout",
            "1",
        ],
        &[("CONFORM_ALLOW_AWS", "")],
    );
    let (out, err) = text(&o);
    assert!(!o.status.success(), "{out}\n{err}");
    assert!(
        err.contains("https://sts.amazonaws.com is AWS") && err.contains("--allow-aws"),
        "{err}"
    );
    // Refused before the run: no case was tried.
    assert!(!out.contains("cases against"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_target_declares_what_it_is_not_judged_on_and_every_report_counts_it() {
    let (_dir, root) = copy_of_repo();
    let deviating = start(Deviation::ChangedMessage).await;
    std::fs::write(
        root.join("conform.toml"),
        format!(
            "[targets.emu]\nendpoint = \"{}\"\n\
             not_judged = [{{ kind = \"error-message\", case = \"sts::AssumeRole::*\", reason = \"messages not recorded\" }}]\n",
            deviating.uri()
        ),
    )
    .unwrap();
    let (json, md, junit) = (root.join("r.json"), root.join("r.md"), root.join("r.xml"));
    let o = conform(
        &root,
        &[
            "run",
            "--target",
            "emu",
            "--no-new",
            "--report-json",
            json.to_str().unwrap(),
            "--report-md",
            md.to_str().unwrap(),
            "--report-junit",
            junit.to_str().unwrap(),
        ],
        &[],
    );
    // The only deviation is not judged: the run passes, and says what it left out.
    insta::assert_snapshot!("run_with_a_not_judged_rule", seen(&root, &o));
    let report: conform::report::RunReport =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report.schema, 3);
    let case = report
        .cases
        .iter()
        .find(|c| !c.deviations.is_empty())
        .unwrap();
    assert_eq!(case.status(), conform::report::Status::Pass);
    assert_eq!(
        case.deviations[0].judged,
        conform::report::Judged::NotJudged
    );
    assert_eq!(
        case.deviations[0].reason.as_deref(),
        Some("messages not recorded")
    );
    let md = std::fs::read_to_string(&md).unwrap();
    assert!(
        md.contains("- kind `error-message`, cases `sts::AssumeRole::*`: messages not recorded (1 deviations)"),
        "{md}"
    );
    let junit = std::fs::read_to_string(&junit).unwrap();
    assert!(
        junit.contains("not judged:")
            && junit.contains("error-message at ErrorResponse/Error/Message"),
        "{junit}"
    );

    // A rule that would judge nothing at all is refused, naming the file and the target.
    std::fs::write(
        root.join("conform.toml"),
        "[targets.emu]\nendpoint = \"http://127.0.0.1:9\"\nnot_judged = [{ reason = \"all of it\" }]\n",
    )
    .unwrap();
    let o = conform(&root, &["run", "--target", "emu"], &[]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("conform.toml:3:15: target `emu`: not_judged[0]: a not-judged rule names a kind, a path or a case"),
        "{err}"
    );
}
