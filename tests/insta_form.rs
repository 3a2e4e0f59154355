//! Snapshots are written exactly as insta writes them: every snapshot of the corpus, read by
//! insta and saved again by insta (what `cargo insta accept` does with a `.snap.new`), comes
//! out byte for byte the same, so accepting a review leaves no diff behind.

mod common;

use std::path::Path;

/// Every `.snap` below `dir`.
fn snapshots(dir: &Path) -> Vec<std::path::PathBuf> {
    common::walk(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "snap"))
        .collect()
}

#[test]
fn insta_saves_every_corpus_snapshot_as_it_is() {
    let root = common::repo().join("snapshots");
    let out = tempfile::tempdir().unwrap();
    let all = snapshots(&root);
    assert!(all.len() > 2000, "the corpus has {} snapshots", all.len());
    let mut differ = Vec::new();
    for (i, path) in all.iter().enumerate() {
        let snap = insta::Snapshot::from_file(path).unwrap();
        let again = out.path().join(format!("{i}.snap"));
        snap.save(&again).unwrap();
        let (ours, theirs) = (std::fs::read(path).unwrap(), std::fs::read(&again).unwrap());
        if ours != theirs {
            differ.push(format!(
                "{}:\n--- ours\n{}\n--- insta\n{}",
                path.display(),
                String::from_utf8_lossy(&ours)
                    .lines()
                    .take(4)
                    .collect::<Vec<_>>()
                    .join("\n"),
                String::from_utf8_lossy(&theirs)
                    .lines()
                    .take(4)
                    .collect::<Vec<_>>()
                    .join("\n"),
            ));
        }
    }
    assert!(
        differ.is_empty(),
        "{} differ, first:\n{}",
        differ.len(),
        differ[0]
    );
}

/// Headers with what YAML must quote (a colon, a leading dash, a quote, a word YAML reads as
/// a boolean, non-ASCII) are written as insta writes them, and conform reads back what it
/// wrote.
#[test]
fn awkward_header_values_are_written_as_insta_writes_them() {
    let (_dir, root) = common::project(&[(
        "scenarios/sts/GetCallerIdentity/c.yaml",
        "cases:\n  - id: who\n    kind: doc-example\n    provenance: documented\n    description: d\n    source: '- true: \"é\" #1, yes'\n    steps:\n      - params: {}\n",
    )]);
    let layout = conform::suite::Layout::at(&root);
    let suite = conform::suite::Suite::load(&layout).unwrap();
    let case = &suite.cases[0];
    let path = root.join("snapshots/sts/GetCallerIdentity/who.snap");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let description = suite
        .snapshots
        .description(case, "=== step 1: GetCallerIdentity\nHTTP 200 OK\n");
    conform::snapshot::write_file(
        &path,
        case,
        &description,
        "=== step 1: GetCallerIdentity\nHTTP 200 OK\n",
        |_| false,
    )
    .unwrap();
    let again = root.join("again.snap");
    insta::Snapshot::from_file(&path)
        .unwrap()
        .save(&again)
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        std::fs::read_to_string(&again).unwrap()
    );
    let reloaded = conform::suite::Suite::load(&layout).unwrap();
    assert!(reloaded.snapshots.stale_headers(&reloaded.cases).is_empty());
}
