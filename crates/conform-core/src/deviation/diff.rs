//! The diff people read beside the deviations: the snapshot and the run's transcript line by
//! line, kept as hunks of tagged lines. The comparison makes it once; the unified text
//! (terminal, JUnit, Markdown) is rendered from it and the HTML report builds its
//! side-by-side rows from it, so no output reads a diff back from text.

use std::fmt;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use similar::{ChangeTag, TextDiff};

/// Lines of context around each change, as `diff -u` keeps.
const CONTEXT: usize = 3;

/// The two lines that name the texts, above the first hunk.
const HEADER: &str = "--- snapshot\n+++ actual\n";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diff {
    pub hunks: Vec<Hunk>,
    /// Set when the diff was cut to fit an output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut: Option<Cut>,
}

/// A run of changes with the context around them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hunk {
    /// Where the hunk is in the snapshot.
    pub old: Span,
    /// Where it is in the run's transcript.
    pub new: Span,
    pub lines: Vec<Line>,
}

/// Lines of one text as a hunk header counts them: `start` is the first line (from 1), or
/// the line before when the span holds none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub start: usize,
    pub lines: usize,
}

/// One line of a hunk, without its line break.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Line {
    /// In both texts.
    Same(String),
    /// Only in the snapshot.
    Removed(String),
    /// Only in the run.
    Added(String),
}

/// What cutting a diff left out: lines and bytes of its unified text, and where the whole
/// of it is (or that it was not kept).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cut {
    pub lines: usize,
    pub bytes: usize,
    pub whole: String,
}

impl Line {
    pub fn text(&self) -> &str {
        match self {
            Line::Same(t) | Line::Removed(t) | Line::Added(t) => t,
        }
    }

    /// The mark a unified diff starts the line with.
    pub fn sign(&self) -> char {
        match self {
            Line::Same(_) => ' ',
            Line::Removed(_) => '-',
            Line::Added(_) => '+',
        }
    }

    fn text_mut(&mut self) -> &mut String {
        match self {
            Line::Same(t) | Line::Removed(t) | Line::Added(t) => t,
        }
    }

    /// Bytes of the line in the unified text: its sign, its text and its line break.
    fn shown_len(&self) -> usize {
        self.text().len() + 2
    }
}

impl Hunk {
    /// `@@ -3,5 +3,6 @@`.
    pub fn header(&self) -> String {
        format!("@@ -{} +{} @@", self.old, self.new)
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.lines == 1 {
            write!(f, "{}", self.start)
        } else {
            write!(f, "{},{}", self.start, self.lines)
        }
    }
}

impl fmt::Display for Cut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::text::left_out(self.lines, self.bytes, &self.whole))
    }
}

/// A span from the half-open range of 0-based lines `start..end`.
fn span(start: usize, end: usize) -> Span {
    let lines = end.saturating_sub(start);
    Span {
        start: if lines == 0 { start } else { start + 1 },
        lines,
    }
}

impl Diff {
    /// `expected` (the snapshot) against `actual` (the run's transcript), three lines of
    /// context around each change; equal texts have no hunk.
    pub fn between(expected: &str, actual: &str) -> Diff {
        let e = format!("{expected}\n");
        let a = format!("{actual}\n");
        // A hostile answer of tens of thousands of lines made the minimal diff take minutes;
        // past the deadline `similar` settles for a correct but coarser diff.
        let diff = TextDiff::configure()
            .deadline(Instant::now() + Duration::from_millis(300))
            .diff_lines(&e, &a);
        let mut unified = diff.unified_diff();
        let hunks = unified
            .context_radius(CONTEXT)
            .iter_hunks()
            .map(|hunk| {
                let ops = hunk.ops();
                let (first, last) = (ops[0], ops[ops.len() - 1]);
                let lines = hunk
                    .iter_changes()
                    .map(|c| {
                        let value = c.value();
                        let text = value.strip_suffix('\n').unwrap_or(value).to_owned();
                        match c.tag() {
                            ChangeTag::Equal => Line::Same(text),
                            ChangeTag::Delete => Line::Removed(text),
                            ChangeTag::Insert => Line::Added(text),
                        }
                    })
                    .collect();
                Hunk {
                    old: span(first.old_range().start, last.old_range().end),
                    new: span(first.new_range().start, last.new_range().end),
                    lines,
                }
            })
            .collect();
        Diff { hunks, cut: None }
    }

    pub fn is_empty(&self) -> bool {
        self.hunks.is_empty() && self.cut.is_none()
    }

    /// The same diff with every line's text passed through `f` (to scrub secrets, or to
    /// make control characters visible).
    pub fn map_text(mut self, mut f: impl FnMut(&str) -> String) -> Diff {
        for line in self.hunks.iter_mut().flat_map(|h| &mut h.lines) {
            let t = line.text_mut();
            *t = f(t);
        }
        self
    }

    /// The diff cut after `max_lines` lines or `max_bytes` bytes of its unified text,
    /// whichever comes first, noting what was left out and where the `whole` of it is.
    /// The two lines naming the texts always stay.
    pub fn cut(self, max_lines: usize, max_bytes: usize, whole: &str) -> Diff {
        let mut left = self.cut.as_ref().map_or((0, 0), |c| (c.lines, c.bytes));
        let mut full = self.cut.is_some();
        let (mut lines, mut bytes) = (2, HEADER.len());
        let mut hunks = Vec::new();
        for hunk in self.hunks {
            let head = hunk.header().len() + 1;
            if full || lines == max_lines || bytes + head > max_bytes {
                full = true;
                left.0 += 1 + hunk.lines.len();
                left.1 += head + hunk.lines.iter().map(Line::shown_len).sum::<usize>();
                continue;
            }
            lines += 1;
            bytes += head;
            let mut kept = Vec::with_capacity(hunk.lines.len());
            for line in hunk.lines {
                let len = line.shown_len();
                if full || lines == max_lines || bytes + len > max_bytes {
                    full = true;
                    left.0 += 1;
                    left.1 += len;
                } else {
                    lines += 1;
                    bytes += len;
                    kept.push(line);
                }
            }
            hunks.push(Hunk {
                lines: kept,
                ..hunk
            });
        }
        Diff {
            hunks,
            cut: full.then(|| Cut {
                lines: left.0,
                bytes: left.1,
                whole: whole.to_owned(),
            }),
        }
    }
}

/// The unified text: `--- snapshot`, `+++ actual`, then each hunk; a cut diff ends with
/// its note of what was left out (and no line break after it).
impl fmt::Display for Diff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return Ok(());
        }
        f.write_str(HEADER)?;
        for hunk in &self.hunks {
            writeln!(f, "{}", hunk.header())?;
            for line in &hunk.lines {
                writeln!(f, "{}{}", line.sign(), line.text())?;
            }
        }
        match &self.cut {
            Some(cut) => write!(f, "{cut}"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::glued_pairs;
    use super::*;

    /// The unified text `similar` itself writes, as the diff was made before it had a
    /// structure.
    fn similar_text(expected: &str, actual: &str) -> String {
        TextDiff::from_lines(&format!("{expected}\n"), &format!("{actual}\n"))
            .unified_diff()
            .context_radius(3)
            .header("snapshot", "actual")
            .to_string()
    }

    #[test]
    fn the_unified_text_is_what_similar_writes_for_any_two_texts() {
        const PIECES: [&str; 8] = ["a", "b", "c", "", "  <X>1</X>", "é€", "-- d", "+"];
        for [e, a] in glued_pairs(0x2545_f491_4f6c_dd1d, &PIECES, 30, 2000) {
            let (e, a) = (e.join("\n"), a.join("\n"));
            let diff = Diff::between(&e, &a);
            assert_eq!(diff.to_string(), similar_text(&e, &a), "{e:?}\n{a:?}");
            assert_eq!(diff.is_empty(), e == a);
        }
    }

    #[test]
    fn hunks_hold_tagged_lines_and_the_json_says_so() {
        let diff = Diff::between("a\nb\nc", "a\nB\nc\nd");
        assert_eq!(
            diff.hunks,
            [Hunk {
                old: Span { start: 1, lines: 3 },
                new: Span { start: 1, lines: 4 },
                lines: vec![
                    Line::Same("a".into()),
                    Line::Removed("b".into()),
                    Line::Added("B".into()),
                    Line::Same("c".into()),
                    Line::Added("d".into()),
                ],
            }]
        );
        assert_eq!(
            diff.to_string(),
            "--- snapshot\n+++ actual\n@@ -1,3 +1,4 @@\n a\n-b\n+B\n c\n+d\n"
        );
        let json = serde_json::to_string(&Diff::between("x", "y")).unwrap();
        assert_eq!(
            json,
            r#"{"hunks":[{"old":{"start":1,"lines":1},"new":{"start":1,"lines":1},"lines":[{"removed":"x"},{"added":"y"}]}]}"#
        );
        // A hunk past the start counts from its first line of context; a span holding no
        // line starts at the line before it.
        let diff = Diff::between("a\nb\nc\nd\ne\nf\ng\nh", "a\nb\nc\nd\ne\nf\ng\nh\ni");
        assert_eq!(diff.hunks[0].header(), "@@ -6,3 +6,4 @@");
        assert_eq!(span(4, 4), Span { start: 4, lines: 0 });
        assert_eq!(span(4, 5), Span { start: 5, lines: 1 });
    }

    #[test]
    fn a_line_ending_in_a_lone_carriage_return_is_a_line_of_its_own() {
        let diff = Diff::between("a\rb", "a\rc");
        let text = diff.to_string();
        assert!(text.contains("\n-b\n+c\n"), "{text:?}");
        assert!(text.contains("\n a\r\n"), "{text:?}");
    }

    #[test]
    fn a_diff_of_tens_of_thousands_of_changed_lines_settles_and_stays_a_diff() {
        // Without the deadline this pair took minutes (Myers is quadratic in the edits).
        let expected: String = (0..40_000).map(|i| format!("line {i} a\n")).collect();
        let actual: String = (0..40_000).map(|i| format!("line {} b\n", i * 7)).collect();
        let diff = Diff::between(&expected, &actual).to_string();
        assert!(
            diff.starts_with("--- snapshot\n+++ actual\n"),
            "{}",
            &diff[..200]
        );
        assert!(diff.contains("-line 39999 a"));
        assert!(diff.contains("+line 279993 b"));
    }

    #[test]
    fn a_cut_keeps_what_fits_and_notes_the_rest_as_cutting_the_text_would() {
        let expected: String = (0..300).map(|i| format!("line {i}\n")).collect();
        let actual: String = (0..300)
            .map(|i| match i % 40 {
                0 => format!("changed {i} {}\n", "x".repeat(i)),
                _ => format!("line {i}\n"),
            })
            .collect();
        let diff = Diff::between(&expected, &actual);
        let whole = "see x.snap.new";
        for (lines, bytes) in [
            (400, 65536),
            (12, 65536),
            (15, 65536),
            (400, 300),
            (400, 2000),
        ] {
            let cut = diff.clone().cut(lines, bytes, whole);
            let text = diff.to_string();
            assert_eq!(
                cut.to_string(),
                crate::text::cut(&text, lines, bytes, whole),
                "{lines} lines, {bytes} bytes"
            );
        }
        // Nothing to cut: no note.
        assert_eq!(diff.clone().cut(10_000, 1 << 20, whole), diff);
        let cut = diff.cut(12, 65536, whole);
        assert_eq!(cut.cut.as_ref().map(|c| c.whole.as_str()), Some(whole));
        assert!(cut.to_string().ends_with("not shown; see x.snap.new"));
    }

    #[test]
    fn every_line_text_can_be_rewritten() {
        let diff = Diff::between("key AKIA1\nsame", "key AKIA2\nsame")
            .map_text(|t| t.replace("AKIA", "[key]"));
        let text = diff.to_string();
        assert!(text.contains("-key [key]1\n+key [key]2\n same\n"), "{text}");
        assert!(!text.contains("AKIA"));
    }
}
