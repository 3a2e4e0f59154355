//! `conform generate` as a user runs it on a service it has never seen: a made-up awsQuery
//! model with a facts file, no Rust for it anywhere. The generated cases must load, pass on
//! the built-in replay server, be written again byte for byte, give way to hand-written
//! cases, and be reported stale by `conform check` when edited.

mod common;

use std::path::Path;
use std::process::Output;

const MODEL: &str = r#"{
  "metadata": {"apiVersion": "2021-01-01", "endpointPrefix": "shelf", "protocol": "query",
               "signatureVersion": "v4", "xmlNamespace": "https://shelf.example/doc/2021-01-01/"},
  "operations": {
    "PutBook": {"name": "PutBook", "input": {"shape": "PutBookRequest"},
                "output": {"shape": "PutBookResponse", "resultWrapper": "PutBookResult"}}
  },
  "shapes": {
    "PutBookRequest": {"type": "structure", "required": ["Title", "Shelf"],
      "members": {"Title": {"shape": "Title"}, "Shelf": {"shape": "ShelfName"},
                  "Copies": {"shape": "Copies"}, "Binding": {"shape": "Binding"},
                  "Tags": {"shape": "Tags"}}},
    "PutBookResponse": {"type": "structure", "members": {"BookId": {"shape": "Title"}}},
    "Title": {"type": "string", "min": 1, "max": 12},
    "ShelfName": {"type": "string", "min": 3, "max": 8, "pattern": "[a-z]+"},
    "Copies": {"type": "integer", "min": 1, "max": 9},
    "Binding": {"type": "string", "enum": ["hard", "soft"]},
    "Tags": {"type": "list", "member": {"shape": "Tag"}, "max": 2},
    "Tag": {"type": "structure", "required": ["Key", "Value"],
            "members": {"Key": {"shape": "TagKey"}, "Value": {"shape": "TagKey"}}},
    "TagKey": {"type": "string", "min": 1, "max": 4}
  }
}"#;

/// The validation format as IAM words it: the value is not repeated.
const FACTS: &str = r#"
namespace: https://shelf.example/doc/2021-01-01/
recordings:
  shelf-notes:
    what: answers of a shelf service written down for this test
    where: this file
validation:
  echoes_value: false
  code: ValidationError
  status: 400
  one: '1 validation error detected: {violation}'
  several: '{count} validation errors detected: {violations}'
  separator: '; '
  violation: "Value at '{member}' failed to satisfy constraint: Member must {rule}"
  missing: "Value null at '{member}' failed to satisfy constraint: Member must not be null"
  rules:
    max_length: have length less than or equal to {max}
    min_length: have length greater than or equal to {min}
    pattern: 'satisfy regular expression pattern: {pattern}'
    max_value: have value less than or equal to {max}
    min_value: have value greater than or equal to {min}
    enum: satisfy enum value set
  recorded:
    - '[R:shelf-notes] a title of 13 characters: the max_length rule, the value not repeated'
  inferred: every rule, for this test
templates: []
"#;

const RULES: &str = r#"
elements:
  - element: RequestId
    placeholder: request-id
    shape: '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
    numbered: false
"#;

/// A hand-written case that covers the title one over its maximum.
const BY_HAND: &str = r#"
cases:
  - id: title_thirteen
    kind: limit
    provenance: documented
    description: A Title of 13 characters.
    steps:
      - params: {Title: 'aaaaaaaaaaaaa', Shelf: abc}
"#;

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (rel, text) in [
        ("models/shelf-2021-01-01.json", MODEL),
        ("models/shelf.facts.yaml", FACTS),
        ("models/shelf.redact.yaml", RULES),
    ] {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

fn conform(root: &Path, args: &[&str]) -> Output {
    common::conform_at(root)
        .args(args)
        .output()
        .expect("conform runs")
}

fn out(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Every file below `root`, with its bytes, for comparing two generations.
fn tree(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(root).unwrap().display().to_string();
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

const FILE: &str = "scenarios/shelf/PutBook/limits.generated.yaml";

#[test]
fn a_new_service_gets_limit_cases_that_pass_and_regenerate_byte_for_byte() {
    let dir = project();
    let root = dir.path();
    let first = conform(root, &["generate"]);
    assert!(first.status.success(), "{}", out(&first));
    let text = std::fs::read_to_string(root.join(FILE)).unwrap();
    assert!(text.starts_with(conform::generate::MARK), "{text}");
    // Every refused side of every constraint, nested and list ones included.
    for id in [
        "put_book_title_missing",
        "put_book_title_too_short",
        "put_book_title_too_long",
        "put_book_shelf_too_short",
        "put_book_shelf_too_long",
        "put_book_shelf_pattern_broken",
        "put_book_copies_too_small",
        "put_book_copies_too_large",
        "put_book_binding_not_in_enum",
        "put_book_tags_too_many",
        "put_book_tags_key_missing",
        "put_book_tags_key_too_long",
    ] {
        assert!(text.contains(&format!("- id: {id}\n")), "{id} in\n{text}");
    }
    // The answer in this service's format: no value echoed, the rule as its facts word it.
    let snap = std::fs::read_to_string(
        root.join("snapshots/shelf/PutBook/put_book_binding_not_in_enum.snap"),
    )
    .unwrap();
    assert!(
        snap.contains("<Message>1 validation error detected: Value at 'binding' failed to satisfy constraint: Member must satisfy enum value set</Message>"),
        "{snap}"
    );
    assert!(snap.contains("provenance: inferred"), "{snap}");
    let nested = std::fs::read_to_string(
        root.join("snapshots/shelf/PutBook/put_book_tags_key_missing.snap"),
    )
    .unwrap();
    assert!(
        nested.contains("Value null at 'tags.1.member.key' failed to satisfy constraint: Member must not be null"),
        "{nested}"
    );

    // Generating again changes nothing, and check and the built-in replay agree.
    let before = tree(root);
    let again = conform(root, &["generate"]);
    assert!(out(&again).contains(": 0 files changed"), "{}", out(&again));
    assert_eq!(tree(root), before);
    let check = conform(root, &["check"]);
    assert!(check.status.success(), "{}", out(&check));
    assert!(
        out(&check).contains("0 stale generated files"),
        "{}",
        out(&check)
    );
    let run = conform(root, &["run"]);
    assert!(run.status.success(), "{}", out(&run));
    assert!(out(&run).contains("17 passed, 0 failed"), "{}", out(&run));
}

#[test]
fn an_edited_generated_file_is_stale_and_a_hand_written_case_takes_a_generated_one_s_place() {
    let dir = project();
    let root = dir.path();
    assert!(conform(root, &["generate", "shelf"]).status.success());

    // Edited by hand: check and generate --check say so, and generate puts it back.
    let path = root.join(FILE);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replacen("provenance: inferred", "provenance: documented", 1),
    )
    .unwrap();
    let check = conform(root, &["check"]);
    assert_eq!(check.status.code(), Some(1), "{}", out(&check));
    assert!(
        out(&check).contains("stale generated file: ")
            && out(&check).contains("limits.generated.yaml does not hold what is generated now (run `conform generate shelf`)"),
        "{}",
        out(&check)
    );
    let gen_check = conform(root, &["generate", "--check"]);
    assert_eq!(gen_check.status.code(), Some(1), "{}", out(&gen_check));
    assert!(conform(root, &["generate"]).status.success());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);

    // A hand-written case covering one side: the generated one and its snapshot go.
    let by_hand = root.join("scenarios/shelf/PutBook/titles.yaml");
    std::fs::write(&by_hand, BY_HAND).unwrap();
    let snap = root.join("snapshots/shelf/PutBook/put_book_title_too_long.snap");
    assert!(snap.exists());
    let stale = conform(root, &["check"]);
    assert!(
        out(&stale).contains("put_book_title_too_long.snap is generated but no longer yielded"),
        "{}",
        out(&stale)
    );
    let regen = conform(root, &["generate"]);
    assert!(regen.status.success(), "{}", out(&regen));
    assert!(!snap.exists(), "{}", out(&regen));
    assert!(
        !std::fs::read_to_string(&path)
            .unwrap()
            .contains("put_book_title_too_long")
    );
}

#[test]
fn unknown_services_and_missing_facts_are_clear_errors() {
    let dir = project();
    let root = dir.path();
    let unknown = conform(root, &["generate", "shelve"]);
    assert_eq!(unknown.status.code(), Some(2), "{}", out(&unknown));
    assert!(
        out(&unknown).contains("there is no model of a service `shelve` (the models are: shelf)"),
        "{}",
        out(&unknown)
    );
    std::fs::remove_file(root.join("models/shelf.facts.yaml")).unwrap();
    let no_facts = conform(root, &["generate", "shelf"]);
    assert_eq!(no_facts.status.code(), Some(2), "{}", out(&no_facts));
    assert!(
        out(&no_facts).contains("shelf has no facts file") && !root.join(FILE).exists(),
        "{}",
        out(&no_facts)
    );
}
