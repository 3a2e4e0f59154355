//! The Markdown renderings of a report, for a CI job summary or a pull request, and the
//! pieces the terminal and the matrix share with it.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::{
    Agreement, CaseOutcome, CaseReport, Counts, Judged, RunReport, SHOWN_DEVIATIONS, Status,
};
use crate::deviation::{Diff, Level, NotJudged};
use crate::text::{cut, thousands, visible};

/// GitHub's limits on what one Markdown text may hold: a pull-request comment (65,536
/// characters; bytes are never fewer) and a job's step summary (1 MiB).
pub const COMMENT_BYTES: usize = 65_536;
pub const STEP_SUMMARY_BYTES: usize = 1024 * 1024;
/// Room kept for the note that says what a cut summary left out.
const NOTE_ROOM: usize = 512;

impl RunReport {
    /// A summary for a CI job or a pull request: counts, agreement by level, by operation
    /// and by kind of case, what is not judged, then each case that did not pass with its
    /// deviations and its diff (folded), the ones that got worse first.
    pub fn to_markdown(&self) -> String {
        self.to_markdown_within(usize::MAX)
    }

    /// `to_markdown` in at most `max_bytes` (GitHub refuses a longer comment or summary):
    /// cases that do not fit whole are shown without their diff, or left out, and a note at
    /// the end says how many and where the rest is.
    pub fn to_markdown_within(&self, max_bytes: usize) -> String {
        let mut md = visible(&self.markdown_head()).into_owned();
        let budget = max_bytes.saturating_sub(NOTE_ROOM);
        if md.len() > budget {
            // Only a report of thousands of operations gets here: its tables are cut too.
            md = cut(
                &md,
                usize::MAX,
                budget,
                "the JSON and HTML reports hold them whole",
            )
            .into_owned();
        }
        let mut open: Vec<&CaseReport> = self
            .cases
            .iter()
            .filter(|c| c.outcome != CaseOutcome::Pass)
            .collect();
        open.sort_by_key(|c| rank(c.status()));
        if !open.is_empty() {
            let _ = writeln!(md, "## Cases that did not pass\n");
        }
        let (mut without_diff, mut left_out) = (0, 0);
        for c in open {
            let whole = visible(&case_block(c, true)).into_owned();
            if md.len() + whole.len() <= budget {
                md.push_str(&whole);
                continue;
            }
            let bare = visible(&case_block(c, false)).into_owned();
            if c.diff.is_some() && md.len() + bare.len() <= budget {
                md.push_str(&bare);
                without_diff += 1;
            } else {
                left_out += 1;
            }
        }
        if without_diff + left_out > 0 {
            let _ = writeln!(
                md,
                "---\n\n**Cut to fit {} bytes**: {} cases not shown, {} shown without their diff; the JSON, HTML and JUnit reports hold every case whole.",
                thousands(max_bytes),
                thousands(left_out),
                thousands(without_diff),
            );
        }
        md
    }

    /// Counts, agreement tables and what is not judged: everything before the cases.
    fn markdown_head(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "# conform against {}\n", self.target);
        if let Some(v) = &self.target_version {
            let _ = writeln!(md, "Target version: {v}.\n");
        }
        let n = self.counts();
        let _ = writeln!(md, "{}\n", summary_line(&n));
        let _ = writeln!(md, "{}\n", deviations_line(&n));
        let _ = writeln!(
            md,
            "## Agreement by level\n\nEach level includes those before it; `values` is a full pass.\n"
        );
        level_table(&mut md, "cases", [("all".to_owned(), self.agreement(""))]);
        let ops = self
            .operations()
            .into_iter()
            .map(|op| (op.trim_end_matches(':').to_owned(), self.agreement(&op)));
        level_table(&mut md, "operation", ops);
        let kinds: BTreeSet<&str> = self.cases.iter().map(|c| c.kind.as_str()).collect();
        let by_kind = kinds.into_iter().map(|k| {
            (
                k.to_owned(),
                Agreement::of(self.cases.iter().filter(|c| c.kind == k)),
            )
        });
        level_table(&mut md, "kind", by_kind);
        not_judged_section(&mut md, self, "##");
        md
    }
}

/// Where a case goes in the list: what fails the gate first, so a cut summary keeps it.
fn rank(s: Status) -> u8 {
    match s {
        Status::Fail | Status::Incomplete => 0,
        Status::Error => 1,
        Status::Missing => 2,
        Status::Baselined => 3,
        Status::Pass => 4,
    }
}

/// One case that did not pass: its deviations as a table, then its diff folded in a
/// `<details>` (or a word that it was left out).
fn case_block(c: &CaseReport, with_diff: bool) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "### {} ({})\n", c.name, c.status());
    if let (Some(f), Some(l)) = (&c.file, c.line) {
        let _ = writeln!(md, "`{f}:{l}`\n");
    }
    if let Some(k) = &c.known {
        let _ = writeln!(md, "Known deviation: {k}\n");
    }
    if let Some(m) = &c.message {
        let _ = writeln!(md, "{m}\n");
    }
    if !c.deviations.is_empty() {
        let _ = writeln!(
            md,
            "| step | kind | path | expected | actual | judged |\n|---:|---|---|---|---|---|"
        );
        for d in c.deviations.iter().take(SHOWN_DEVIATIONS) {
            let v = &d.deviation;
            let judged = match (d.judged, &d.reason) {
                (Judged::New, _) => "**new**".to_owned(),
                (Judged::Known, _) => "known".to_owned(),
                (Judged::NotJudged, Some(r)) => format!("not judged: {}", escape_cell(r)),
                (Judged::NotJudged, None) => "not judged".to_owned(),
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {judged} |",
                v.step,
                v.kind,
                escape_cell(&v.path),
                escape_cell(v.expected.as_deref().unwrap_or("")),
                escape_cell(v.actual.as_deref().unwrap_or("")),
            );
        }
        if let Some(more) = c.deviations.len().checked_sub(SHOWN_DEVIATIONS)
            && more > 0
        {
            let _ = writeln!(
                md,
                "\n... {} more deviations not shown; the JSON report lists every one",
                thousands(more)
            );
        }
        md.push('\n');
    }
    match c.diff.as_ref().map(Diff::to_string) {
        Some(d) if with_diff => {
            // A fence longer than any run of backticks in the diff, so an answer cannot
            // end the block and write Markdown of its own; the blank lines around it let
            // GitHub read Markdown inside the HTML of `<details>`.
            let fence = "`".repeat(longest_run(&d, '`').max(2) + 1);
            let _ = writeln!(
                md,
                "<details><summary>diff</summary>\n\n{fence}diff\n{}\n{fence}\n\n</details>\n",
                d.trim_end()
            );
        }
        Some(_) => {
            let _ = writeln!(md, "(diff left out to fit the page)\n");
        }
        None => {}
    }
    md
}

/// `362 cases: 10 passed, 340 with only known deviations, 12 failed, ...`.
pub fn summary_line(n: &Counts) -> String {
    format!("{} cases: {}.", n.cases, outcome_counts(n))
}

/// `10 passed, 340 with only known deviations, 12 failed, ...`.
pub fn outcome_counts(n: &Counts) -> String {
    let mut parts = vec![format!("{} passed", n.passed)];
    if n.baselined > 0 {
        parts.push(format!("{} with only known deviations", n.baselined));
    }
    parts.push(format!("{} failed", n.failed));
    if n.incomplete > 0 {
        parts.push(format!("{} incomplete", n.incomplete));
    }
    parts.push(format!("{} missing a snapshot", n.missing));
    parts.push(format!("{} errors", n.errors));
    parts.join(", ")
}

/// `Deviations: 2,900 known, 3 new, 120 not judged (element-order 120).`
pub fn deviations_line(n: &Counts) -> String {
    let mut parts = vec![format!("{} new", n.new)];
    if n.known > 0 {
        parts.push(format!("{} known", n.known));
    }
    if let Some(t) = n.not_judged_text() {
        parts.push(t);
    }
    format!("Deviations: {}.", parts.join(", "))
}

/// A Markdown table of agreement per level, one row per group.
pub(super) fn level_table(
    md: &mut String,
    title: &str,
    rows: impl IntoIterator<Item = (String, Agreement)>,
) {
    let heads: Vec<&str> = Level::ALL.iter().map(|l| l.name()).collect();
    let _ = writeln!(
        md,
        "| {title} | cases | {} |\n|---|---:|{}",
        heads.join(" | "),
        "---:|".repeat(heads.len())
    );
    for (name, a) in rows {
        let cells: Vec<String> = (0..Level::ALL.len()).map(|i| a.share(i)).collect();
        let _ = writeln!(md, "| {name} | {} | {} |", a.cases, cells.join(" | "));
    }
    md.push('\n');
}

/// What a not-judged rule narrows, as (what, pattern): `("kind", "element-order")`.
pub fn rule_parts(rule: &NotJudged) -> Vec<(&'static str, &str)> {
    let mut parts = Vec::new();
    if let Some(k) = rule.kind {
        parts.push(("kind", k.name()));
    }
    if let Some(p) = &rule.path {
        parts.push(("paths", p.as_str()));
    }
    if let Some(c) = &rule.case {
        parts.push(("cases", c.as_str()));
    }
    parts
}

/// How a not-judged rule reads in Markdown: ``kind `element-order`, paths `*Response/*Result` ``.
pub fn rule_scope(rule: &NotJudged) -> String {
    rule_parts(rule)
        .iter()
        .map(|(what, p)| format!("{what} `{p}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The target's not-judged rules with how many deviations each left out.
pub(super) fn not_judged_section(md: &mut String, r: &RunReport, heading: &str) {
    if r.not_judged.is_empty() {
        return;
    }
    let _ = writeln!(md, "{heading} Not judged ({})\n", r.target);
    for (rule, count) in r.not_judged_counts() {
        let _ = writeln!(
            md,
            "- {}: {} ({count} deviations)",
            rule_scope(rule),
            rule.reason
        );
    }
    md.push('\n');
}

fn escape_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The longest run of `c` in `text`.
fn longest_run(text: &str, c: char) -> usize {
    let (mut best, mut run) = (0, 0);
    for x in text.chars() {
        run = if x == c { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deviation::Kind;
    use crate::report::fixtures::{case, mixed};

    #[test]
    fn each_diff_is_folded_and_what_got_worse_comes_before_what_is_known() {
        let mut r = mixed();
        // The known case first in the report: the summary still lists the new one first.
        r.cases.swap(1, 3);
        let md = r.to_markdown();
        assert!(
            md.contains("<details><summary>diff</summary>\n\n```diff\n"),
            "{md}"
        );
        assert!(md.contains("\n```\n\n</details>\n"), "{md}");
        let at = |name: &str| md.find(&format!("### {name} ")).expect(name);
        assert!(at("sts::AssumeRole::b") < at("sts::AssumeRole::c"), "{md}");
        assert!(at("sts::AssumeRole::c") < at("sts::AssumeRole::k"), "{md}");
        assert!(!md.contains("Cut to fit"), "{md}");
    }

    #[test]
    fn a_summary_too_long_for_a_comment_is_cut_whole_cases_at_a_time_with_a_note() {
        let mut r = mixed();
        let big: String = (0..60).map(|i| format!("<A>{i:0>150}</A>\n")).collect();
        let mut cases = Vec::new();
        for i in 0..40 {
            let mut c = case(
                &format!("sts::AssumeRole::f{i:02}"),
                CaseOutcome::Fail,
                &[Kind::ValueText],
            );
            c.diff = Some(Diff::between(&big, &big.replace("</A>", "</B>")));
            cases.push(c);
        }
        r.cases = cases;
        let whole = r.to_markdown();
        assert!(whole.len() > COMMENT_BYTES, "{}", whole.len());
        let md = r.to_markdown_within(COMMENT_BYTES);
        assert!(md.len() <= COMMENT_BYTES, "{}", md.len());
        // Every case is named, most without their diff, none silently dropped.
        let shown = md.matches("### sts::AssumeRole::f").count();
        let bare = md.matches("(diff left out to fit the page)").count();
        let note = md.lines().last().unwrap();
        assert!(note.starts_with("**Cut to fit 65,536 bytes**: "), "{note}");
        assert!(
            note.contains(&format!(
                "{} cases not shown, {bare} shown without their diff",
                40 - shown
            )),
            "{note}"
        );
        assert!(bare > 0 && md.contains("<details>"), "{md}");
        // When even the cases without their diffs do not fit, the rest are counted.
        let small = r.to_markdown_within(8 * 1024);
        assert!(small.len() <= 8 * 1024, "{}", small.len());
        let shown = small.matches("### sts::AssumeRole::f").count();
        assert!(shown < 40, "{small}");
        assert!(
            small.contains(&format!("**: {} cases not shown", 40 - shown)),
            "{small}"
        );
        // A summary fits a step summary whole.
        assert_eq!(r.to_markdown_within(STEP_SUMMARY_BYTES), whole);
    }

    #[test]
    fn markdown_lists_counts_deviations_and_diffs() {
        let md = mixed().to_markdown();
        assert!(
            md.contains("4 cases: 1 passed, 1 with only known deviations, 1 failed, 0 missing a snapshot, 1 errors."),
            "{md}"
        );
        assert!(md.contains("Deviations: 1 new, 1 known."), "{md}");
        assert!(
            md.contains("| 1 | value-text | R/A | a | b\\|c | **new** |"),
            "{md}"
        );
        assert!(
            md.contains(
                "### sts::AssumeRole::k (baselined)\n\n`scenarios/sts/AssumeRole/k.yaml:12`\n\nKnown deviation: limit not enforced"
            ),
            "{md}"
        );
    }
}
