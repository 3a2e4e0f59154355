//! `conform check` gives a passing answer again while none of its inputs changed, and checks
//! anew as soon as one does: a snapshot, a scenario, a baseline the targets file names.

mod common;

use std::path::Path;
use std::process::Output;
use std::time::Duration;

const NOTE: &str = "has changed since it last passed";

fn check(root: &Path, cache: &Path, extra: &[&str]) -> Output {
    common::conform_at(root)
        .arg("check")
        .args(extra)
        .env("CONFORM_CACHE_DIR", cache)
        .output()
        .expect("conform runs")
}

fn said(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Files written less than two seconds ago are never vouched for: wait that out.
fn settle() {
    std::thread::sleep(conform::fingerprint::SETTLE + Duration::from_millis(200));
}

fn memo_files(cache: &Path) -> Vec<std::path::PathBuf> {
    let dir = cache.join("check");
    if !dir.exists() {
        return Vec::new();
    }
    common::walk(&dir)
}

/// A service of one operation without constrained members: zero cases pass the check.
const MODEL: &str = r#"{"metadata":{"apiVersion":"2020-01-01","endpointPrefix":"toy","protocol":"query","serviceId":"Toy","signatureVersion":"v4","signingName":"toy","xmlNamespace":"https://toy.amazonaws.com/doc/2020-01-01/"},"operations":{"Ping":{"name":"Ping","http":{"method":"POST","requestUri":"/"},"input":{"shape":"PingRequest"}}},"shapes":{"PingRequest":{"type":"structure","members":{}}}}"#;

#[test]
fn a_passing_check_is_given_again_until_an_input_changes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_owned();
    let write = |rel: &str, text: &str| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write("models/toy-2020-01-01.json", MODEL);
    write("scenarios/toy/Ping/.keep", "");
    write("snapshots/toy/Ping/.keep", "");
    write(
        "conform.toml",
        "[targets.emu]\nendpoint = \"http://127.0.0.1:9\"\nbaseline = \"baselines/emu.toml\"\n",
    );
    write("baselines/emu.toml", "");
    let cache = tempfile::tempdir().unwrap();

    // Just written: checked, passing, and not kept.
    let first = check(&root, cache.path(), &[]);
    let (out, err) = said(&first);
    assert!(first.status.success(), "{out}{err}");
    assert!(out.contains("0 cases in 1 models"), "{out}");
    assert!(!err.contains(NOTE), "{err}");
    assert!(memo_files(cache.path()).is_empty());

    // Settled: checked, and kept.
    settle();
    let second = check(&root, cache.path(), &[]);
    let (out2, err2) = said(&second);
    assert!(second.status.success(), "{out2}{err2}");
    assert!(!err2.contains(NOTE), "{err2}");
    assert_eq!(out2, out);
    assert_eq!(memo_files(cache.path()).len(), 1);

    // Nothing changed: the same output, said to come from the last check.
    let third = check(&root, cache.path(), &[]);
    let (out3, err3) = said(&third);
    assert!(third.status.success());
    assert_eq!(out3, out);
    assert!(err3.contains(NOTE), "{err3}");
    // --no-cache checks anew.
    let (_, err) = said(&check(&root, cache.path(), &["--no-cache"]));
    assert!(!err.contains(NOTE), "{err}");

    // Each change is read on the next check, which fails and forgets the last pass; put
    // back and settled, the check passes and is kept again.
    let changes: [(&str, &str, &str); 4] = [
        // A baseline entry naming no case.
        (
            "baselines/emu.toml",
            "[[case]]\nname = \"toy::Ping::gone\"\nreason = \"renamed\"\ndeviations = [\n  { step = 1, kind = \"status\", expected = \"400\", actual = \"500\" },\n]\n",
            "stale baseline entry",
        ),
        // A snapshot no case produces.
        (
            "snapshots/toy/Ping/orphan.snap",
            "---\nsource: x\n---\nHTTP 200\n",
            "orphan snapshot",
        ),
        // A scenario file with a mistake.
        ("scenarios/toy/Ping/bad.yaml", "cases: [", "bad.yaml"),
        // A pending review beside the snapshots is said, not failed: still read anew.
        ("snapshots/toy/Ping/p.snap.new", "", "pending review"),
    ];
    for (rel, text, found) in changes {
        settle();
        assert!(check(&root, cache.path(), &[]).status.success());
        assert_eq!(memo_files(cache.path()).len(), 1, "{rel}");
        let before = std::fs::read_to_string(root.join(rel)).ok();
        write(rel, text);
        let o = check(&root, cache.path(), &[]);
        let (out, err) = said(&o);
        assert!(!err.contains(NOTE), "{rel}: {err}");
        assert!(
            out.contains(found) || err.contains(found),
            "{rel}: {out}{err}"
        );
        if found != "pending review" {
            assert_ne!(o.status.code(), Some(0), "{rel}");
            assert!(memo_files(cache.path()).is_empty(), "{rel}");
            // Failing again: a failing check is never given again.
            assert_ne!(check(&root, cache.path(), &[]).status.code(), Some(0));
        }
        match before {
            Some(t) => write(rel, &t),
            None => std::fs::remove_file(root.join(rel)).unwrap(),
        }
    }
}

/// The files of the repository's corpus, copied: a project the memos of parts can be tried on.
fn corpus_copy() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("p");
    for part in ["scenarios", "snapshots", "models", "baselines"] {
        common::copy_dir(&common::repo().join(part), &root.join(part));
    }
    std::fs::copy(
        common::repo().join("conform.toml"),
        root.join("conform.toml"),
    )
    .unwrap();
    (dir, root)
}

/// The memos of one kind, without the list of the project's inputs kept beside them.
fn memos_of(cache: &Path, kind: &str) -> Vec<std::path::PathBuf> {
    let dir = cache.join(kind);
    if !dir.exists() {
        return Vec::new();
    }
    common::walk(&dir)
        .into_iter()
        .filter(|p| !p.ends_with("inputs"))
        .collect()
}

/// Memos of what single files yield (a scenario file's cases, a baseline's names, an
/// operation's generated files) make a check after an edit quick; none of them may hide what
/// the edit broke, and the check they help says what a check reading everything anew says.
#[test]
fn what_files_yield_is_kept_without_hiding_any_edit() {
    let (_dir, root) = corpus_copy();
    let cache = tempfile::tempdir().unwrap();
    let first = check(&root, cache.path(), &[]);
    let (clean, err) = said(&first);
    assert!(first.status.success(), "{clean}{err}");
    let scenario_files = common::walk(&root.join("scenarios"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .filter(|p| !p.ends_with("variables.yaml"))
        .count();
    assert_eq!(memos_of(cache.path(), "cases").len(), scenario_files);
    assert_eq!(memos_of(cache.path(), "baseline-cases").len(), 2);
    assert!(!memos_of(cache.path(), "generated").is_empty());

    // Each edit is made, checked with the memos there, then undone.
    let edit = |rel: &str, change: &dyn Fn(&str) -> String, expect: &str| {
        let path = root.join(rel);
        let before = std::fs::read_to_string(&path).unwrap();
        let changed = change(&before);
        assert_ne!(changed, before, "{rel}: the edit changes nothing");
        std::fs::write(&path, changed).unwrap();
        let o = check(&root, cache.path(), &[]);
        let (out, err) = said(&o);
        assert_eq!(o.status.code(), Some(1), "{rel}: {out}{err}");
        assert!(
            out.contains(expect),
            "{rel}: wanted {expect:?} in\n{out}{err}"
        );
        // The memos give what reading everything anew gives.
        let anew = check(&root, cache.path(), &["--no-cache"]);
        assert_eq!(said(&anew).0, out, "{rel}");
        std::fs::write(&path, before).unwrap();
    };
    let generated = "scenarios/iam/CreateRole/limits.generated.yaml";
    edit(
        generated,
        &|t| format!("{t}# edited by hand\n"),
        &format!("stale generated file: {}", root.join(generated).display()),
    );
    let snapshot = "snapshots/iam/CreateRole/create_role_assume_role_policy_document_missing.snap";
    edit(
        snapshot,
        &|t| t.replace("ValidationError", "ValidationErr"),
        "stale generated file",
    );
    edit(
        "models/iam-2010-05-08.json",
        &|t| {
            t.replacen(
                "\"max\": 64,\n   \"min\": 1,\n   \"pattern\": \"[\\\\w+=,.@-]+\"",
                "\"max\": 63,\n   \"min\": 1,\n   \"pattern\": \"[\\\\w+=,.@-]+\"",
                1,
            )
        },
        "stale generated file",
    );
    edit(
        "models/iam.facts.yaml",
        &|t| {
            t.replace(
                "have length less than or equal to {max}",
                "be at most {max} long",
            )
        },
        "stale generated file",
    );
    edit(
        "baselines/moto.toml",
        &|t| {
            format!(
                "{t}\n[[case]]\nname = \"iam::CreateRole::no_such_case\"\nreason = \"x\"\ndeviations = [{{ step = 1, kind = \"status\", expected = \"400\", actual = \"501\" }}]\n"
            )
        },
        "stale baseline entry",
    );
    edit(
        "scenarios/iam/CreateRole/doc-examples.yaml",
        &|t| t.replacen("- id: ", "- id: renamed_", 1),
        "missing snapshot",
    );

    // The same scenarios and models with snapshots elsewhere: the generated snapshots
    // compared are those of that place.
    common::copy_dir(&root.join("snapshots"), &root.join("elsewhere"));
    let moved = root.join("elsewhere").join(&snapshot["snapshots/".len()..]);
    let text = std::fs::read_to_string(&moved).unwrap();
    std::fs::write(&moved, text.replace("ValidationError", "ValidationErr")).unwrap();
    let elsewhere = root.join("elsewhere");
    let other = check(
        &root,
        cache.path(),
        &["--snapshots", elsewhere.to_str().unwrap()],
    );
    let (out, err) = said(&other);
    assert!(
        out.contains(&format!("stale generated file: {}", moved.display())),
        "{out}{err}"
    );
    std::fs::remove_dir_all(root.join("elsewhere")).unwrap();

    // All undone: the memos are the ones of files there are, and the check is as at first.
    let again = check(&root, cache.path(), &["--no-cache"]);
    assert_eq!(said(&again).0, clean);
    let last = check(&root, cache.path(), &[]);
    assert_eq!(said(&last).0, clean);
    assert_eq!(memos_of(cache.path(), "cases").len(), scenario_files);
    let renamed = root.join("scenarios/iam/CreateRole/doc-examples.yaml");
    std::fs::rename(&renamed, renamed.with_file_name("examples.yaml")).unwrap();
    // A file moved is read anew (its snapshots' headers name the old place), and the memo
    // of where it was is gone.
    let moved = check(&root, cache.path(), &[]);
    assert!(
        said(&moved).0.contains("stale header"),
        "{}",
        said(&moved).0
    );
    assert_eq!(memos_of(cache.path(), "cases").len(), scenario_files);
}
