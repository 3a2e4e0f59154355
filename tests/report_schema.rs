//! A JSON report of an older schema, as `conform merge` and `conform matrix` meet it. Schema 3
//! made each diff hunks of tagged lines; a schema-2 report holds its diffs as text, and
//! turning that text back into lines is what schema 3 is rid of, so such a report is
//! refused, before anything is written, with a message saying how to get one of schema 3.

use std::path::Path;
use std::process::Command;

#[test]
fn merge_and_matrix_refuse_a_schema_2_report_and_say_how_to_write_it_again() {
    let old = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report-schema-2.json");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.md");
    for command in ["merge", "matrix"] {
        let o = Command::new(env!("CARGO_BIN_EXE_conform"))
            .arg(command)
            .arg(&old)
            .arg("--md")
            .arg(&out)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{command}: {err}");
        assert_eq!(
            err.trim_end(),
            format!(
                "error: cannot use {}: a report of schema 2; this conform reads schema 3 only: \
                 write it again with this conform (`conform run ... --report-json FILE` against \
                 the same target), or use the conform that wrote it",
                old.display()
            ),
            "{command}"
        );
        assert!(!out.exists(), "{command} wrote {}", out.display());
    }
}
