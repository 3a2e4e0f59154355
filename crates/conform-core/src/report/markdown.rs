//! The Markdown renderings of a report, for a CI job summary or a pull request, and the
//! pieces the terminal and the matrix share with it.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::{Agreement, CaseOutcome, CaseReport, Counts, Judged, RunReport, SHOWN_DEVIATIONS};
use crate::deviation::{Diff, Level, NotJudged};
use crate::text::{thousands, visible};

impl RunReport {
    /// A summary for a CI job or a pull request: counts, agreement by level, by operation
    /// and by kind of case, what is not judged, then each case that did not pass with its
    /// deviations and its diff.
    pub fn to_markdown(&self) -> String {
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
        let open: Vec<&CaseReport> = self
            .cases
            .iter()
            .filter(|c| c.outcome != CaseOutcome::Pass)
            .collect();
        if !open.is_empty() {
            let _ = writeln!(md, "## Cases that did not pass\n");
        }
        for c in open {
            let _ = writeln!(md, "### {} ({})\n", c.name, c.status());
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
            if let Some(d) = c.diff.as_ref().map(Diff::to_string) {
                // A fence longer than any run of backticks in the diff, so an answer cannot
                // end the block and write Markdown of its own.
                let fence = "`".repeat(longest_run(&d, '`').max(2) + 1);
                let _ = writeln!(md, "{fence}diff\n{}\n{fence}\n", d.trim_end());
            }
        }
        visible(&md).into_owned()
    }
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
    use crate::report::fixtures::mixed;

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
                "### sts::AssumeRole::k (baselined)\n\nKnown deviation: limit not enforced"
            ),
            "{md}"
        );
    }
}
