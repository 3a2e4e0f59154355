//! Broken input files, as `conform check` meets them: every error names the file and the
//! line and column, says it once, stays short whatever the input's size, and says what to do.

mod common;

use std::path::Path;
use std::process::Command;

const CASE: &str = "cases:\n  - id: c\n    kind: limit\n    provenance: documented\n    description: d\n    steps:\n      - operation: GetCallerIdentity\n";

/// `conform check` on a project: exit code and everything it printed.
fn check(root: &Path) -> (i32, String) {
    conform(root, &["check"])
}

/// The binary on a project with these arguments: exit code and everything it printed.
fn conform(root: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_conform"))
        .arg("--root")
        .arg(root)
        .args(args)
        // Outside CI a run writes what it got for review, which some tests accept.
        .env_remove("CI")
        .output()
        .expect("conform runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn invalid_utf8_in_a_scenario_is_pointed_at_once() {
    let mut bytes = CASE
        .replace("description: d", "description: \"d")
        .into_bytes();
    // Line 5, after `    description: "d`: column 20.
    let at = bytes.windows(2).position(|w| w == b"\"d").unwrap() + 2;
    bytes.splice(at..at, [0xFFu8, b'"']);
    let (_dir, root) = common::project(&[]);
    let file = root.join("scenarios/sts/GetCallerIdentity/u.yaml");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, bytes).unwrap();
    let (code, out) = check(&root);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("scenarios/sts/GetCallerIdentity/u.yaml:5:20"),
        "{out}"
    );
    assert!(out.contains("0xFF"), "{out}");
    assert!(out.contains("save the file as UTF-8"), "{out}");
    assert_eq!(out.matches("not UTF-8").count(), 1, "said once:\n{out}");
}

#[test]
fn invalid_utf8_in_the_variables_file_is_an_error_not_a_silent_skip() {
    let (_dir, root) = common::project(&[("scenarios/sts/GetCallerIdentity/a.yaml", CASE)]);
    let mut bytes = b"variables:\n  role_arn:\n    description: \"".to_vec();
    bytes.extend([0xC3, b'(', b'"', b'\n']);
    std::fs::write(root.join("scenarios/sts/variables.yaml"), bytes).unwrap();
    let (code, out) = check(&root);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("scenarios/sts/variables.yaml:3:19"), "{out}");
}

#[test]
fn a_pasted_megabyte_stays_a_short_error() {
    let value = "X".repeat(5_000_000);
    let yaml = CASE.replace("GetCallerIdentity\n", &format!("{value}\n"));
    let (_dir, root) = common::project(&[("scenarios/sts/GetCallerIdentity/big.yaml", &yaml)]);
    let (code, out) = check(&root);
    assert_eq!(code, 2);
    assert!(out.len() < 10_000, "{} bytes of error output", out.len());
    assert!(
        out.contains("big.yaml:7:20"),
        "{}",
        &out[..out.len().min(2_000)]
    );
    assert!(
        out.contains("more characters"),
        "{}",
        &out[..out.len().min(2_000)]
    );
}

#[test]
fn an_empty_or_headerless_snapshot_fails_check_by_name() {
    for (name, text, says) in [
        ("empty", "", "empty"),
        (
            "headerless",
            "=== step 1: GetCallerIdentity\nHTTP 200 OK\n",
            "no `---` header",
        ),
        (
            "bodiless",
            "---\nsource: \"scenarios/sts/GetCallerIdentity/a.yaml\"\n---\n\n",
            "no transcript",
        ),
    ] {
        let (_dir, root) = common::project(&[("scenarios/sts/GetCallerIdentity/a.yaml", CASE)]);
        let snap = root.join("snapshots/sts/GetCallerIdentity/c.snap");
        std::fs::create_dir_all(snap.parent().unwrap()).unwrap();
        std::fs::write(&snap, text).unwrap();
        let (code, out) = check(&root);
        assert_ne!(code, 0, "{name}: {out}");
        assert!(
            out.contains("snapshots/sts/GetCallerIdentity/c.snap"),
            "{name}: {out}"
        );
        assert!(out.contains(says), "{name}: {out}");
        assert!(out.contains("restore it"), "{name}: {out}");
    }
}

/// Whether the output shows a source line with a caret under it (miette's `·` gutter, then
/// `┬` under a span or `▲` at a point).
fn has_caret(out: &str) -> bool {
    out.lines()
        .any(|l| l.trim_start().starts_with('·') && (l.contains('┬') || l.contains('▲')))
}

/// The 1-based line of `text` on which `needle` starts.
fn line_of(text: &str, needle: &str) -> usize {
    let at = text.find(needle).expect("the needle is in the text");
    text[..at].matches('\n').count() + 1
}

#[test]
fn every_input_file_points_at_its_mistake_with_a_caret() {
    let repo = |rel: &str| {
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap()
    };
    let rules = repo("models/sts.redact.yaml").replacen(
        "    placeholder: request-id",
        "    placholder: request-id",
        1,
    );
    let rules_at = format!(
        "models/sts.redact.yaml:{}:5: unknown field `placholder`",
        line_of(&rules, "    placholder")
    );
    let facts = repo("models/sts.facts.yaml").replacen("  echoes_value:", "  echoes_valeu:", 1);
    let facts_at = format!(
        "models/sts.facts.yaml:{}:3: unknown field `echoes_valeu`",
        line_of(&facts, "  echoes_valeu")
    );
    let targets =
        "[targets.t]\nendpoint = \"http://127.0.0.1:9\"\nbaseline = \"baselines/t.toml\"\n";
    let cases: [(&[(&str, &str)], &str); 5] = [
        (&[("models/sts.redact.yaml", &rules)], &rules_at),
        (&[("models/sts.facts.yaml", &facts)], &facts_at),
        (
            &[(
                "scenarios/sts/variables.yaml",
                "variables:\n  x:\n    description: d\n    defualt: v\n",
            )],
            "scenarios/sts/variables.yaml:4:5: unknown field `defualt`",
        ),
        (
            &[("conform.toml", "[targets.t]\nendpont = \"http://x\"\n")],
            "conform.toml:2:1: unknown field `endpont`",
        ),
        (
            &[
                ("conform.toml", targets),
                (
                    "baselines/t.toml",
                    "[[case]]\nname = \"a\"\nreson = \"r\"\n",
                ),
            ],
            "baselines/t.toml:3:1: unknown field `reson`",
        ),
    ];
    for (files, at) in cases {
        let mut all = vec![("scenarios/sts/GetCallerIdentity/a.yaml", CASE)];
        all.extend_from_slice(files);
        let (_dir, root) = common::project(&all);
        let (code, out) = check(&root);
        assert_eq!(code, 2, "{at}:\n{out}");
        assert!(out.contains(at), "{at}:\n{out}");
        assert!(has_caret(&out), "no caret for {at}:\n{out}");
        assert!(out.contains("help: "), "{at}: says what to do:\n{out}");
    }
}

#[test]
fn a_filtered_run_reads_only_the_files_that_may_hold_its_cases() {
    let (_dir, root) = common::project(&[
        ("scenarios/sts/GetCallerIdentity/a.yaml", CASE),
        (
            "scenarios/sts/AssumeRole/broken.yaml",
            "cases:\n  - id: 'unclosed\n",
        ),
    ]);
    let run = |filters: &[&str]| {
        let mut args = vec![
            "run",
            "--no-new",
            "--endpoint",
            "http://127.0.0.1:9",
            "--timeout",
            "1",
        ];
        args.extend(filters);
        conform(&root, &args)
    };
    // The broken file cannot hold `c` of GetCallerIdentity: it is not read, and the case runs
    // (and fails: nothing listens there).
    let (code, out) = run(&["--exact", "sts::GetCallerIdentity::c"]);
    assert_eq!(code, 1, "{out}");
    assert!(!out.contains("broken.yaml"), "{out}");
    assert!(out.contains("sts::GetCallerIdentity::c"), "{out}");
    // A filter the broken file may match, no filter, and check all read it.
    for filters in [&["unclosed"][..], &["AssumeRole"], &[]] {
        let (code, out) = run(filters);
        assert_eq!(code, 2, "{filters:?}: {out}");
        assert!(
            out.contains("scenarios/sts/AssumeRole/broken.yaml:2:"),
            "{filters:?}: {out}"
        );
    }
    let (code, out) = check(&root);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("scenarios/sts/AssumeRole/broken.yaml:2:"),
        "{out}"
    );
}

/// Against an endpoint, snapshots stay on disk until their case is judged: one broken after
/// the run started is that case's error, named with its scenario and what to do, and the
/// other cases are judged as usual.
#[test]
fn a_snapshot_read_when_judged_is_a_case_error_when_broken() {
    let two = format!(
        "{CASE}  - id: d\n    kind: limit\n    provenance: documented\n    description: d\n    steps:\n      - operation: GetCallerIdentity\n"
    );
    let (_dir, root) = common::project(&[("scenarios/sts/GetCallerIdentity/two.yaml", &two)]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(common::start(common::Deviation::None));
    let endpoint = server.uri();
    let run = |root: &Path| conform(root, &["run", "--endpoint", &endpoint]);
    // Record: each missing snapshot is written for review; accept both.
    run(&root);
    let dir = root.join("snapshots/sts/GetCallerIdentity");
    for id in ["c", "d"] {
        let new = dir.join(format!("{id}.snap.new"));
        std::fs::rename(&new, dir.join(format!("{id}.snap")))
            .expect("a snapshot written for review");
    }
    let (code, out) = run(&root);
    assert_eq!(code, 0, "both pass once accepted:\n{out}");
    std::fs::write(dir.join("d.snap"), "").unwrap();
    let (code, out) = run(&root);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("1 passed"), "the other case is judged:\n{out}");
    assert!(
        out.contains("scenarios/sts/GetCallerIdentity/two.yaml:8:")
            && out.contains("the snapshot cannot be read")
            && out.contains("d.snap"),
        "the case's place, what is wrong and which file:\n{out}"
    );
    assert!(out.contains("restore the snapshot"), "what to do:\n{out}");
}
