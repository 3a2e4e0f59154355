//! A unified diff as a side-by-side table: removed lines on the left, added lines on the
//! right, the differing middle of a changed line marked.

use std::fmt::Write as _;

use super::Esc;

/// One row of a side-by-side diff.
#[derive(Debug, PartialEq)]
enum Row<'a> {
    /// A hunk header (`@@ -1,3 +1,3 @@`): where the next rows are in each text.
    Hunk(&'a str),
    /// A line both texts hold, with its line number in each.
    Same(usize, usize, &'a str),
    /// A line that differs: the expected one, the actual one, or a pair of them.
    Change(Option<(usize, &'a str)>, Option<(usize, &'a str)>),
    /// Anything else the diff says, such as `\ No newline at end of file`.
    Note(&'a str),
}

/// The start lines of a hunk header, `@@ -OLD[,n] +NEW[,n] @@`.
fn hunk_starts(header: &str) -> Option<(usize, usize)> {
    let mut parts = header.trim_start_matches('@').split_whitespace();
    let start = |p: Option<&str>, sign: char| -> Option<usize> {
        p?.strip_prefix(sign)?.split(',').next()?.parse().ok()
    };
    Some((start(parts.next(), '-')?, start(parts.next(), '+')?))
}

/// Pairs the removals and additions of one run of changes, in order, into rows.
fn flush<'a>(
    rows: &mut Vec<Row<'a>>,
    removed: &mut Vec<(usize, &'a str)>,
    added: &mut Vec<(usize, &'a str)>,
) {
    let n = removed.len().max(added.len());
    let (mut r, mut a) = (removed.drain(..), added.drain(..));
    for _ in 0..n {
        rows.push(Row::Change(r.next(), a.next()));
    }
}

/// Reads a unified diff as rows of two columns: removed lines on the left, added lines on the
/// right, context on both; each run of changes pairs its removals with its additions in
/// order, so a changed line sits beside what replaced it.
fn side_by_side(diff: &str) -> Vec<Row<'_>> {
    let mut rows = Vec::new();
    let (mut old_no, mut new_no) = (1, 1);
    let mut removed: Vec<(usize, &str)> = Vec::new();
    let mut added: Vec<(usize, &str)> = Vec::new();
    let mut in_hunk = false;
    for line in diff.lines() {
        // `--- snapshot` and `+++ actual` name the texts; inside a hunk the same characters
        // are a removed `--` line or an added `++` one.
        if !in_hunk && (line.starts_with("--- ") || line.starts_with("+++ ")) {
            continue;
        }
        if let Some(text) = line.strip_prefix('-') {
            removed.push((old_no, text));
            old_no += 1;
            continue;
        }
        if let Some(text) = line.strip_prefix('+') {
            added.push((new_no, text));
            new_no += 1;
            continue;
        }
        flush(&mut rows, &mut removed, &mut added);
        if line.starts_with("@@") {
            in_hunk = true;
            if let Some((o, n)) = hunk_starts(line) {
                (old_no, new_no) = (o, n);
            }
            rows.push(Row::Hunk(line));
        } else if let Some(text) = line.strip_prefix(' ').or(line.is_empty().then_some("")) {
            rows.push(Row::Same(old_no, new_no, text));
            old_no += 1;
            new_no += 1;
        } else {
            rows.push(Row::Note(line));
        }
    }
    flush(&mut rows, &mut removed, &mut added);
    rows
}

/// Where two lines stop agreeing: the byte lengths of their common start and common end
/// (never overlapping), so only the middle is marked.
fn common_ends(a: &str, b: &str) -> (usize, usize) {
    let start: usize = a
        .chars()
        .zip(b.chars())
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x.len_utf8())
        .sum();
    let end: usize = a[start..]
        .chars()
        .rev()
        .zip(b[start..].chars().rev())
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x.len_utf8())
        .sum();
    (start, end)
}

/// A changed line with its differing middle in `<mark>`.
fn marked(line: &str, start: usize, end: usize) -> String {
    let mid_end = line.len() - end;
    if start >= mid_end {
        return Esc(line).to_string();
    }
    format!(
        "{}<mark>{}</mark>{}",
        Esc(&line[..start]),
        Esc(&line[start..mid_end]),
        Esc(&line[mid_end..])
    )
}

pub(super) fn diff_table(out: &mut String, diff: &str) {
    out.push_str(
        "<table class=\"sbs\"><colgroup><col class=\"ln\"><col><col class=\"ln\"><col></colgroup>\
         <thead><tr><th colspan=\"2\">expected (snapshot)</th><th colspan=\"2\">actual</th></tr></thead><tbody>\n",
    );
    for row in side_by_side(diff) {
        match row {
            Row::Hunk(h) => {
                let _ = writeln!(
                    out,
                    "<tr class=\"hunk\"><td colspan=\"4\">{}</td></tr>",
                    Esc(h)
                );
            }
            Row::Note(n) => {
                let _ = writeln!(
                    out,
                    "<tr class=\"note\"><td colspan=\"4\">{}</td></tr>",
                    Esc(n)
                );
            }
            Row::Same(o, n, text) => {
                let _ = writeln!(
                    out,
                    "<tr class=\"same\"><td class=\"ln\">{o}</td><td class=\"old\">{t}</td><td class=\"ln\">{n}</td><td class=\"new\">{t}</td></tr>",
                    t = Esc(text)
                );
            }
            Row::Change(old, new) => {
                let (class, left, right) = match (old, new) {
                    (Some((_, a)), Some((_, b))) => {
                        let (s, e) = common_ends(a, b);
                        ("changed", marked(a, s, e), marked(b, s, e))
                    }
                    (Some((_, a)), None) => ("removed", Esc(a).to_string(), String::new()),
                    (None, Some((_, b))) => ("added", String::new(), Esc(b).to_string()),
                    (None, None) => continue,
                };
                let no = |side: Option<(usize, &str)>| side.map(|(n, _)| n.to_string());
                let _ = writeln!(
                    out,
                    "<tr class=\"{class}\"><td class=\"ln\">{}</td><td class=\"old\">{left}</td><td class=\"ln\">{}</td><td class=\"new\">{right}</td></tr>",
                    no(old).unwrap_or_default(),
                    no(new).unwrap_or_default()
                );
            }
        }
    }
    out.push_str("</tbody></table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::html::report;
    use crate::html::tests::{case, run};

    #[test]
    fn a_unified_diff_pairs_removals_with_additions() {
        let diff = "--- snapshot\n+++ actual\n@@ -3,5 +3,5 @@\n a\n-b\n-c\n+B\n d\n+e\n-f\n--- g\n\\ No newline at end of file\n";
        assert_eq!(
            side_by_side(diff),
            [
                Row::Hunk("@@ -3,5 +3,5 @@"),
                Row::Same(3, 3, "a"),
                Row::Change(Some((4, "b")), Some((4, "B"))),
                Row::Change(Some((5, "c")), None),
                Row::Same(6, 5, "d"),
                Row::Change(Some((7, "f")), Some((6, "e"))),
                // Inside a hunk, `--- g` is the removed line `-- g`.
                Row::Change(Some((8, "-- g")), None),
                Row::Note("\\ No newline at end of file"),
            ]
        );
        // Whatever the text, no panic: a diff without headers still numbers from 1.
        assert_eq!(side_by_side("+x"), [Row::Change(None, Some((1, "x")))]);
        assert_eq!(
            side_by_side("@@ garbage @@\n y"),
            [Row::Hunk("@@ garbage @@"), Row::Same(1, 1, "y")]
        );
    }

    #[test]
    fn a_changed_line_marks_only_what_differs() {
        let (s, e) = common_ends("equal to 2 chars", "equal to 3 chars");
        assert_eq!(
            marked("equal to 2 chars", s, e),
            "equal to <mark>2</mark> chars"
        );
        // Multi-byte characters are cut at their boundaries, and a repeated character at the
        // seam is not counted twice.
        let (s, e) = common_ends("aé", "aéé");
        assert_eq!((s, e), (3, 0));
        assert_eq!(marked("aéé", s, e), "aé<mark>é</mark>");
        assert_eq!(marked("aé", s, e), "aé");
        let html = report(&run(
            "t",
            vec![case(
                "sts::AssumeRole::x",
                "fail",
                Some("@@ -1 +1 @@\n-<v>2</v>\n+<v>3</v>\n"),
            )],
        ));
        assert!(
            html.contains("<tr class=\"changed\"><td class=\"ln\">1</td><td class=\"old\">&lt;v&gt;<mark>2</mark>&lt;/v&gt;</td><td class=\"ln\">1</td><td class=\"new\">&lt;v&gt;<mark>3</mark>&lt;/v&gt;</td></tr>"),
            "{html}"
        );
    }
}
