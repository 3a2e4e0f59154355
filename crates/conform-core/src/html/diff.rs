//! A diff as a side-by-side table: removed lines on the left, added lines on the
//! right, the differing middle of a changed line marked.

use std::fmt::Write as _;

use super::Esc;
use crate::deviation::{Diff, Line};

/// One row of a side-by-side diff.
#[derive(Debug, PartialEq)]
enum Row<'a> {
    /// A hunk starts: its header (`@@ -1,3 +1,3 @@`) says where the next rows are.
    Hunk(String),
    /// A line both texts hold, with its line number in each.
    Same(usize, usize, &'a str),
    /// A line that differs: the expected one, the actual one, or a pair of them.
    Change(Option<(usize, &'a str)>, Option<(usize, &'a str)>),
    /// What a cut diff left out.
    Note(String),
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

/// A diff as rows of two columns: removed lines on the left, added lines on the right,
/// context on both; each run of changes pairs its removals with its additions in order, so
/// a changed line sits beside what replaced it.
fn side_by_side(diff: &Diff) -> Vec<Row<'_>> {
    let mut rows = Vec::new();
    let mut removed: Vec<(usize, &str)> = Vec::new();
    let mut added: Vec<(usize, &str)> = Vec::new();
    for hunk in &diff.hunks {
        flush(&mut rows, &mut removed, &mut added);
        rows.push(Row::Hunk(hunk.header()));
        let (mut old_no, mut new_no) = (hunk.old.start, hunk.new.start);
        for line in &hunk.lines {
            let text = line.text();
            match line {
                Line::Removed(_) => {
                    removed.push((old_no, text));
                    old_no += 1;
                }
                Line::Added(_) => {
                    added.push((new_no, text));
                    new_no += 1;
                }
                Line::Same(_) => {
                    flush(&mut rows, &mut removed, &mut added);
                    rows.push(Row::Same(old_no, new_no, text));
                    old_no += 1;
                    new_no += 1;
                }
            }
        }
    }
    flush(&mut rows, &mut removed, &mut added);
    if let Some(cut) = &diff.cut {
        rows.push(Row::Note(cut.to_string()));
    }
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

pub(super) fn diff_table(out: &mut String, diff: &Diff) {
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
                    Esc(&h)
                );
            }
            Row::Note(n) => {
                let _ = writeln!(
                    out,
                    "<tr class=\"note\"><td colspan=\"4\">{}</td></tr>",
                    Esc(&n)
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
    use crate::deviation::{Cut, Hunk, Span};
    use crate::html::report;
    use crate::html::tests::{case, run};
    use crate::report::CaseOutcome;

    #[test]
    fn a_diff_pairs_removals_with_additions_and_ends_with_what_was_cut() {
        let lines = |v: &[(char, &str)]| {
            v.iter()
                .map(|(sign, t)| match sign {
                    '-' => Line::Removed((*t).into()),
                    '+' => Line::Added((*t).into()),
                    _ => Line::Same((*t).into()),
                })
                .collect()
        };
        let diff = Diff {
            hunks: vec![
                Hunk {
                    old: Span { start: 3, lines: 5 },
                    new: Span { start: 3, lines: 4 },
                    lines: lines(&[
                        (' ', "a"),
                        ('-', "b"),
                        ('-', "c"),
                        ('+', "B"),
                        (' ', "d"),
                        ('+', "e"),
                        ('-', "f"),
                        ('-', "-- g"),
                    ]),
                },
                Hunk {
                    old: Span {
                        start: 20,
                        lines: 1,
                    },
                    new: Span {
                        start: 19,
                        lines: 1,
                    },
                    lines: lines(&[('-', "x"), ('+', "y")]),
                },
            ],
            cut: Some(Cut {
                lines: 2,
                bytes: 10,
                whole: "see x".into(),
            }),
        };
        assert_eq!(
            side_by_side(&diff),
            [
                Row::Hunk("@@ -3,5 +3,4 @@".into()),
                Row::Same(3, 3, "a"),
                Row::Change(Some((4, "b")), Some((4, "B"))),
                Row::Change(Some((5, "c")), None),
                Row::Same(6, 5, "d"),
                Row::Change(Some((7, "f")), Some((6, "e"))),
                Row::Change(Some((8, "-- g")), None),
                Row::Hunk("@@ -20 +19 @@".into()),
                Row::Change(Some((20, "x")), Some((19, "y"))),
                Row::Note("... 2 more lines (10 bytes) not shown; see x".into()),
            ]
        );
        assert_eq!(side_by_side(&Diff::default()), []);
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
                CaseOutcome::Fail,
                Some(("<v>2</v>", "<v>3</v>")),
            )],
        ));
        assert!(
            html.contains("<tr class=\"changed\"><td class=\"ln\">1</td><td class=\"old\">&lt;v&gt;<mark>2</mark>&lt;/v&gt;</td><td class=\"ln\">1</td><td class=\"new\">&lt;v&gt;<mark>3</mark>&lt;/v&gt;</td></tr>"),
            "{html}"
        );
    }
}
