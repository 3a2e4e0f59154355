//! conform on a CI page, through the real binary: JUnit that links each case to its file,
//! line and time; GitHub annotations for what got worse; the job summary; and the
//! workflow file, whose every conform command must be one the binary accepts.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::Deviation;

/// `conform` at `root`, run from `root` as a CI job runs from its checkout, with no AWS keys
/// and no GitHub variables but those given.
fn conform(root: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_conform"));
    cmd.current_dir(root)
        .args(args)
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env("CI", "");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("conform runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn annotations(o: &Output) -> Vec<String> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| l.starts_with("::"))
        .map(str::to_owned)
        .collect()
}

/// The `file=` and `line=` of an annotation.
fn place(annotation: &str) -> (String, u32) {
    let props = annotation
        .strip_prefix("::error ")
        .and_then(|a| a.split_once("::"))
        .expect("an ::error command")
        .0;
    let get = |k: &str| {
        props
            .split(',')
            .find_map(|p| p.strip_prefix(&format!("{k}=")))
            .unwrap_or_else(|| panic!("no {k} in {annotation}"))
            .to_owned()
    };
    (get("file"), get("line").parse().unwrap())
}

/// The line of `root/file` holding `needle`, counted from 1.
fn line_of(root: &Path, file: &str, needle: &str) -> u32 {
    let text = std::fs::read_to_string(root.join(file)).expect(file);
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i as u32 + 1)
        .unwrap_or_else(|| panic!("{needle} not in {file}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn junit_names_each_cases_file_line_and_time_as_a_junit_reader_parses_them() {
    let server = common::start(Deviation::None).await;
    let (_dir, root) = common::starter_copy();
    let o = conform(
        &root,
        &[
            "run",
            "--endpoint",
            &server.uri(),
            "--report-junit",
            "r.xml",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let xml = std::fs::read_to_string(root.join("r.xml")).unwrap();
    let report = quick_junit::Report::deserialize_from_str(&xml).expect("JUnit that parses");
    let cases: Vec<_> = report
        .test_suites
        .iter()
        .flat_map(|s| &s.test_cases)
        .collect();
    assert_eq!(cases.len(), 4, "{xml}");
    for c in cases {
        let name = c.name.as_str();
        let id = name.rsplit("::").next().unwrap();
        let file = c.extra.get("file").map(|f| f.as_str()).expect(name);
        // Relative to the checkout, as reporters resolve it, and where the case is.
        assert!(file.starts_with("scenarios/sts/"), "{name}: {file}");
        let line: u32 = c.extra.get("line").expect(name).as_str().parse().unwrap();
        assert_eq!(line, line_of(&root, file, &format!("id: {id}")), "{name}");
        let time = c.time.expect(name);
        assert!(
            time.as_nanos() > 0 && time.as_secs() < 30,
            "{name}: {time:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn on_github_each_new_deviation_is_annotated_at_its_case_and_known_ones_are_not() {
    let server = common::start(Deviation::ChangedMessage).await;
    let (_dir, root) = common::starter_copy();
    let summary = root.join("summary.md");
    std::fs::write(&summary, "an earlier step's summary").unwrap();
    let gh = [
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
    ];
    let run = ["run", "--endpoint", &server.uri()];
    let o = conform(&root, &run, &gh);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let lines = annotations(&o);
    assert!(!lines.is_empty(), "{}", text(&o));
    for l in &lines {
        let (file, line) = place(l);
        assert!(l.contains("new deviation(s):%0Astep 1 "), "{l}");
        let name = l
            .split("title=")
            .nth(1)
            .unwrap()
            .split("::")
            .next()
            .unwrap();
        let id = name.rsplit("%3A%3A").next().unwrap();
        assert_eq!(line, line_of(&root, &file, &format!("id: {id}")), "{l}");
        assert!(!l[2..].contains("\n"), "{l}");
    }
    // The job summary: after what the step wrote before, the report with its diffs folded.
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.starts_with("an earlier step's summary\n# conform against "),
        "{md}"
    );
    assert!(md.contains("<details><summary>diff</summary>"), "{md}");
    assert_eq!(
        md.matches("<details>").count(),
        lines.len(),
        "one diff per annotated case: {md}"
    );

    // Once the baseline knows them, nothing is news: no annotation.
    let baseline = root.join("baseline.toml");
    let b = baseline.to_str().unwrap();
    let o = conform(
        &root,
        &[&run[..], &["--baseline", b, "--update-baseline"]].concat(),
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = conform(&root, &[&run[..], &["--baseline", b]].concat(), &gh);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(annotations(&o), Vec::<String>::new(), "{}", text(&o));

    // Asked for by name off GitHub; and refused by name on it.
    let o = conform(
        &root,
        &[&run[..], &["--annotations", "github"]].concat(),
        &[],
    );
    assert_eq!(annotations(&o).len(), lines.len(), "{}", text(&o));
    let before = std::fs::read_to_string(&summary).unwrap();
    let quiet = ["--annotations", "none", "--no-step-summary"];
    let o = conform(&root, &[&run[..], &quiet].concat(), &gh);
    assert_eq!(annotations(&o), Vec::<String>::new(), "{}", text(&o));
    assert_eq!(std::fs::read_to_string(&summary).unwrap(), before);
}

#[test]
fn a_case_that_gets_no_answer_is_annotated_at_the_step_that_stopped_it() {
    // A port nothing listens on: every case stops at its first step.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (_dir, root) = common::starter_copy();
    let endpoint = format!("http://127.0.0.1:{port}");
    let o = conform(
        &root,
        &["run", "--endpoint", &endpoint, "--annotations", "github"],
        &[],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let lines = annotations(&o);
    assert_eq!(lines.len(), 4, "{}", text(&o));
    for l in &lines {
        let (file, line) = place(l);
        let at = std::fs::read_to_string(root.join(&file)).unwrap();
        let written = at.lines().nth(line as usize - 1).unwrap();
        // The step's line, below the case's id; the message says what to do.
        assert!(!written.contains("id:"), "{l}: {written}");
        assert!(l.contains("no answer") || l.contains("refused"), "{l}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn merged_shards_write_the_job_summary_and_junit_with_places() {
    let server = common::start(Deviation::ChangedMessage).await;
    let (_dir, root) = common::starter_copy();
    for k in 1..=2 {
        let shard = format!("{k}/2");
        let json = format!("shard-{k}.json");
        let o = conform(
            &root,
            &[
                "run",
                "--endpoint",
                &server.uri(),
                "--shard",
                &shard,
                "--report-json",
                &json,
                "--no-step-summary",
            ],
            &[("GITHUB_STEP_SUMMARY", "summary.md")],
        );
        assert!(o.status.code() != Some(2), "{}", text(&o));
    }
    assert!(!root.join("summary.md").exists(), "a shard leaves it alone");
    let o = conform(
        &root,
        &[
            "merge",
            "shard-1.json",
            "shard-2.json",
            "--junit",
            "all.xml",
            "--md",
            "comment.md",
            "--md-max-bytes",
            "65536",
        ],
        &[("GITHUB_STEP_SUMMARY", "summary.md")],
    );
    assert!(o.status.success(), "{}", text(&o));
    let md = std::fs::read_to_string(root.join("summary.md")).unwrap();
    assert!(md.starts_with("# conform against "), "{md}");
    assert!(md.contains("4 cases: "), "{md}");
    assert_eq!(
        std::fs::read_to_string(root.join("comment.md")).unwrap(),
        md,
        "a small report is the same as a comment and as a summary"
    );
    let xml = std::fs::read_to_string(root.join("all.xml")).unwrap();
    let report = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    for c in report.test_suites.iter().flat_map(|s| &s.test_cases) {
        let file = c.extra.get("file").expect("file").as_str();
        assert!(root.join(file).is_file(), "{file}");
    }
}

// ---- the workflow file ----

fn workflow() -> serde_json::Value {
    let path = common::repo().join(".github/workflows/conformance.yml");
    let text = std::fs::read_to_string(&path).expect("the workflow file");
    serde_saphyr::from_str(&text).expect("the workflow is YAML")
}

/// Every `run:` script of a job's steps.
fn scripts(job: &serde_json::Value) -> Vec<String> {
    job["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["run"].as_str().map(str::to_owned))
        .collect()
}

/// The conform arguments of each conform command in a script: a line that starts with the
/// binary (`target/debug/conform ARGS`) as it is,
/// `cargo xtask conformance ARGS` as the `conform run ARGS` it becomes. Expressions
/// (`${{ matrix.shard }}`) stand for a value, `1`.
fn conform_commands(script: &str) -> Vec<Vec<String>> {
    let joined = script.replace("\\\n", " ");
    let mut out = Vec::new();
    for line in joined.lines() {
        let mut line = line.to_owned();
        while let Some(start) = line.find("${{") {
            let end = line[start..].find("}}").expect("a closed expression") + start + 2;
            line.replace_range(start..end, "1");
        }
        let words = shlex::split(&line).expect("a line a shell can split");
        if let Some(at) = words
            .windows(3)
            .position(|w| w == ["cargo", "xtask", "conformance"])
        {
            let mut args = vec!["run".to_owned()];
            args.extend(words[at + 3..].iter().cloned());
            out.push(args);
        } else if words
            .first()
            .is_some_and(|w| Path::new(w).file_name().is_some_and(|n| n == "conform"))
        {
            out.push(words[1..].to_vec());
        }
    }
    out
}

#[test]
fn the_workflow_shards_merges_and_gates_with_flags_the_binary_accepts() {
    let wf = workflow();
    let jobs = wf["jobs"].as_object().expect("jobs");
    for trigger in ["push", "pull_request"] {
        assert!(wf["on"].get(trigger).is_some(), "runs on {trigger}");
    }
    // Shards: each emulator split, each shard's JSON report uploaded.
    let shard = &jobs["shard"];
    let matrix = &shard["strategy"]["matrix"];
    let targets: Vec<&str> = matrix["target"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(targets, ["moto", "localstack"]);
    let shards = matrix["shard"].as_array().unwrap().len();
    assert!(shards > 1);
    let uses = |job: &serde_json::Value, action: &str| {
        job["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["uses"].as_str().is_some_and(|u| u.starts_with(action)))
            .cloned()
            .collect::<Vec<_>>()
    };
    let uploads = uses(shard, "actions/upload-artifact");
    assert!(
        uploads[0]["with"]["path"]
            .as_str()
            .unwrap()
            .ends_with(".json"),
        "{uploads:?}"
    );
    let shard_runs: Vec<Vec<String>> = scripts(shard)
        .iter()
        .flat_map(|s| conform_commands(s))
        .collect();
    assert_eq!(shard_runs.len(), 1, "{shard_runs:?}");
    let run = &shard_runs[0];
    for flag in ["--shard", "--report-json", "--target"] {
        assert!(run.iter().any(|a| a == flag), "{flag} in {run:?}");
    }
    assert!(
        run.contains(&format!("1/{shards}")),
        "the shard count is the matrix's: {run:?}"
    );
    // The merge: after the shards, the summary (no --no-step-summary), JUnit uploaded.
    let merge = &jobs["merge"];
    assert_eq!(merge["needs"], "shard");
    let merges: Vec<Vec<String>> = scripts(merge)
        .iter()
        .flat_map(|s| conform_commands(s))
        .collect();
    assert!(
        merges.iter().any(|m| m[0] == "merge"
            && m.iter().any(|a| a == "--junit")
            && !m.iter().any(|a| a == "--no-step-summary")),
        "{merges:?}"
    );
    let uploaded = uses(merge, "actions/upload-artifact")[0]["with"]["path"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(uploaded.contains(".xml"), "{uploaded}");
    // The gate waits for every shard.
    let gate = &jobs["gate"];
    assert!(
        gate["needs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n == "shard")
    );
    assert!(scripts(gate)[0].contains("needs.shard.result"));

    // Each command parses as the binary reads it: clap stops at a flag it does not know or
    // a value it refuses before it reaches --help.
    for args in shard_runs.iter().chain(&merges) {
        let o = Command::new(env!("CARGO_BIN_EXE_conform"))
            .args(args)
            .arg("--help")
            .output()
            .unwrap();
        assert!(o.status.success(), "conform {args:?}: {}", text(&o));
    }
}

#[test]
fn a_command_the_binary_refuses_fails_the_check_above() {
    // The check must be able to fail: a flag that does not exist and a value out of range.
    for bad in [
        "cargo xtask conformance --target moto --shard ${{ matrix.shard }}/3 --report-jsn x.json",
        "target/debug/conform merge a.json --md-max-bytes 100",
    ] {
        let args = conform_commands(bad).pop().unwrap();
        let o = Command::new(env!("CARGO_BIN_EXE_conform"))
            .args(&args)
            .arg("--help")
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}");
    }
    // Continuation lines and folded scalars are one command.
    assert_eq!(
        conform_commands("conform run \\\n  --shard ${{ matrix.shard }}/3"),
        [vec!["run".to_owned(), "--shard".into(), "1/3".into()]]
    );
}
