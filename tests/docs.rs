//! The README quotes the bench's figures: the quote must be the file the bench wrote, so a
//! hand edit of either (or a bench run that could not update the README) is caught.

use std::path::Path;

fn read(rel: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel))
        .unwrap_or_else(|e| panic!("cannot read {rel}: {e}"))
}

#[test]
fn the_readme_quotes_the_benchmark_file_as_written() {
    let readme = read("README.md");
    let (start, end) = ("<!-- bench:start -->\n", "\n<!-- bench:end -->");
    let a = readme
        .find(start)
        .expect("README.md has the bench:start marker")
        + start.len();
    let b = readme
        .find(end)
        .expect("README.md has the bench:end marker");
    let quoted = readme[a..b].trim();
    let file = read("docs/benchmark.md");
    let figures = file
        .find("Measured by `cargo xtask bench")
        .map(|at| file[at..].trim())
        .expect("docs/benchmark.md starts its figures with the line naming the run");
    assert!(
        quoted.starts_with("Measured by `cargo xtask bench` on "),
        "the README quotes a full bench run, not a short one or a placeholder:\n{quoted}"
    );
    assert_eq!(
        quoted, figures,
        "README.md's quote differs from docs/benchmark.md: run `cargo xtask bench`"
    );
}
