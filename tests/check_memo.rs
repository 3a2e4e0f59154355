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
