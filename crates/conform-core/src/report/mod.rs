//! What a run found, as data that outlives it: a JSON report with a stable schema, which
//! shards merge, and renderings for CI (JUnit XML) and people (Markdown). Each case carries
//! its deviations, each judged new, known (a baseline lists it) or not judged (the target
//! declared it is not judged on it), and its grade: the last level at which it agrees.

mod case;
#[cfg(test)]
pub(crate) mod fixtures;
mod github;
mod junit;
mod markdown;
mod matrix;
mod shard;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::deviation::{Kind, Level, NotJudged};

pub use crate::outcome::{CaseOutcome, Status};
pub use crate::text::{cut, size, thousands, visible};
pub use case::{CaseReport, Judged, JudgedDeviation, Ran};
pub use github::{SHOWN_ANNOTATIONS, escape_data, escape_property};
pub use markdown::{
    COMMENT_BYTES, STEP_SUMMARY_BYTES, deviations_line, outcome_counts, rule_parts, rule_scope,
    summary_line,
};
pub use matrix::Matrix;
pub use shard::{parse_shard, shard_of};

/// The version of the JSON schema below; bumped on any incompatible change. Schema 2 added
/// deviations, grades and not-judged rules; schema 3 made each diff hunks of tagged lines.
/// An older report is refused rather than converted: its diffs are text, and reading them
/// back into lines is what schema 3 is rid of.
pub const SCHEMA: u32 = 3;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    pub schema: u32,
    /// `replay`, `aws`, or the endpoint.
    pub target: String,
    pub conform: String,
    /// What the target said it is (`moto 5.2.5`), when the run was told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_version: Option<String>,
    /// `K/N` when the run was one shard of N.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// What the target declared it is not judged on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_judged: Vec<NotJudged>,
    pub cases: Vec<CaseReport>,
}

/// How many cases of a group agree at each level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Agreement {
    pub cases: usize,
    /// Per level, in [`Level::ALL`] order: cases agreeing at that level (and all before it).
    pub at: [usize; 6],
}

impl Agreement {
    pub fn of<'a>(cases: impl IntoIterator<Item = &'a CaseReport>) -> Agreement {
        let mut a = Agreement::default();
        for c in cases {
            a.cases += 1;
            if let Some(g) = c.grade {
                for (i, l) in Level::ALL.iter().enumerate() {
                    if *l <= g {
                        a.at[i] += 1;
                    }
                }
            }
        }
        a
    }

    /// `87% (315)`, or `-` for an empty group.
    pub fn share(&self, level: usize) -> String {
        if self.cases == 0 {
            return "-".into();
        }
        format!(
            "{}% ({})",
            percent(self.at[level], self.cases),
            self.at[level]
        )
    }
}

/// A whole percentage, rounded down so that 99.7% never shows as 100%.
pub fn percent(part: usize, all: usize) -> usize {
    (part * 100).checked_div(all).unwrap_or(0)
}

/// A run's counts, as summaries print them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub cases: usize,
    pub passed: usize,
    /// Cases whose judged deviations are all known.
    pub baselined: usize,
    pub failed: usize,
    pub incomplete: usize,
    pub missing: usize,
    pub errors: usize,
    pub new: usize,
    pub known: usize,
    /// Not-judged deviations by kind.
    pub not_judged: BTreeMap<Kind, usize>,
}

impl Counts {
    pub fn not_judged_total(&self) -> usize {
        self.not_judged.values().sum()
    }

    /// `12 not judged (element-order 10, value-shape 2)`, or nothing.
    pub fn not_judged_text(&self) -> Option<String> {
        let n = self.not_judged_total();
        (n > 0).then(|| {
            let parts: Vec<String> = self
                .not_judged
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            format!("{n} not judged ({})", parts.join(", "))
        })
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MergeError {
    #[error("nothing to merge")]
    Empty,
    #[error("the reports are of different targets ({0} and {1}); merge shards of one run")]
    Targets(String, String),
    #[error("{0} is in more than one report: the shards overlap")]
    Duplicate(String),
    #[error(
        "a report of schema {0}; this conform reads schema {SCHEMA} only: write it again with this conform (`conform run ... --report-json FILE` against the same target), or use the conform that wrote it"
    )]
    Schema(u32),
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(
        "a report of schema {0}; this conform reads schema {SCHEMA} only: write it again with this conform (`conform run ... --report-json FILE` against the same target), or use the conform that wrote it"
    )]
    Schema(u32),
    #[error("not a conform JSON report: {0}")]
    Json(#[from] serde_json::Error),
}

/// How much of a case's diff the reports and the terminal show: real AWS answers differ
/// in a few dozen lines, so these keep every real diff whole and stop a hostile or runaway
/// answer from making every output as large as itself.
pub const DIFF_LINES: usize = 400;
pub const DIFF_BYTES: usize = 64 * 1024;
/// The same for a message (why a case stopped), which may quote an answer.
pub const MESSAGE_LINES: usize = 40;
pub const MESSAGE_BYTES: usize = 8 * 1024;
/// How many deviations of one case the renderings list; the JSON keeps them all.
pub const SHOWN_DEVIATIONS: usize = 200;

impl RunReport {
    /// The report of a run, every deviation `new` until a baseline or the target's
    /// not-judged rules say otherwise.
    pub fn from_results<'a>(
        results: impl IntoIterator<Item = Ran<'a>>,
        target: &str,
        shard: Option<(u32, u32)>,
    ) -> RunReport {
        let cases = results.into_iter().map(CaseReport::of).collect();
        RunReport {
            schema: SCHEMA,
            target: target.to_owned(),
            conform: env!("CARGO_PKG_VERSION").to_owned(),
            target_version: None,
            shard: shard.map(|(k, n)| format!("{k}/{n}")),
            not_judged: Vec::new(),
            cases,
        }
    }

    /// A report read back from its JSON; one of another schema is refused before its fields
    /// are read, since they would mean something else.
    pub fn from_json(text: &str) -> Result<RunReport, ReadError> {
        #[derive(Deserialize)]
        struct Head {
            schema: u32,
        }
        let head: Head = serde_json::from_str(text)?;
        if head.schema != SCHEMA {
            return Err(ReadError::Schema(head.schema));
        }
        Ok(serde_json::from_str(text)?)
    }

    /// One report of the shards of one run; a case in two shards is an error.
    pub fn merge(reports: Vec<RunReport>) -> Result<RunReport, MergeError> {
        let first = reports.first().ok_or(MergeError::Empty)?.clone();
        let mut seen = BTreeSet::new();
        let mut cases = Vec::new();
        for r in reports {
            if r.schema != SCHEMA {
                return Err(MergeError::Schema(r.schema));
            }
            if r.target != first.target {
                return Err(MergeError::Targets(first.target.clone(), r.target));
            }
            for c in r.cases {
                if !seen.insert(c.name.clone()) {
                    return Err(MergeError::Duplicate(c.name));
                }
                cases.push(c);
            }
        }
        cases.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(RunReport {
            shard: None,
            cases,
            ..first
        })
    }

    pub fn counts(&self) -> Counts {
        let mut n = Counts {
            cases: self.cases.len(),
            ..Counts::default()
        };
        for c in &self.cases {
            match c.status() {
                Status::Pass => n.passed += 1,
                Status::Baselined => n.baselined += 1,
                Status::Fail => n.failed += 1,
                Status::Incomplete => n.incomplete += 1,
                Status::Missing => n.missing += 1,
                Status::Error => n.errors += 1,
            }
            for d in &c.deviations {
                match d.judged {
                    Judged::New => n.new += 1,
                    Judged::Known => n.known += 1,
                    Judged::NotJudged => *n.not_judged.entry(d.deviation.kind).or_default() += 1,
                }
            }
        }
        n
    }

    /// The agreement of the cases whose name starts with `prefix` (`sts::AssumeRole::`).
    pub fn agreement(&self, prefix: &str) -> Agreement {
        Agreement::of(self.cases.iter().filter(|c| c.name.starts_with(prefix)))
    }

    /// The `service::operation::` prefixes of the cases.
    pub fn operations(&self) -> BTreeSet<String> {
        operations(self.cases.iter().map(|c| c.name.as_str()))
    }
}

impl RunReport {
    /// The target's not-judged rules, each with how many deviations it left out (a
    /// deviation counts for the first rule that matches it, as when it was judged).
    pub fn not_judged_counts(&self) -> Vec<(&NotJudged, usize)> {
        let mut counts = vec![0; self.not_judged.len()];
        if let Ok(set) = crate::deviation::NotJudgedSet::new(&self.not_judged) {
            for c in &self.cases {
                for d in c.judged(Judged::NotJudged) {
                    if let Some(i) = set.index_for(&c.name, &d.deviation) {
                        counts[i] += 1;
                    }
                }
            }
        }
        self.not_judged.iter().zip(counts).collect()
    }
}

fn operations<'a>(names: impl Iterator<Item = &'a str>) -> BTreeSet<String> {
    names
        .filter_map(|n| n.rsplit_once("::").map(|(op, _)| format!("{op}::")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::{case, mixed, report};

    #[test]
    fn merging_shards_refuses_overlaps_other_targets_and_old_schemas() {
        let m = RunReport::merge(vec![
            report(vec![case("b", CaseOutcome::Pass, &[])], "2/2"),
            report(vec![case("a", CaseOutcome::Fail, &[Kind::Status])], "1/2"),
        ])
        .unwrap();
        assert_eq!(
            m.cases.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(m.shard, None);
        assert_eq!(
            RunReport::merge(vec![
                report(vec![case("a", CaseOutcome::Pass, &[])], "1/2"),
                report(vec![case("a", CaseOutcome::Pass, &[])], "2/2")
            ]),
            Err(MergeError::Duplicate("a".into()))
        );
        let mut other = report(vec![case("c", CaseOutcome::Pass, &[])], "2/2");
        other.target = "aws".into();
        assert!(matches!(
            RunReport::merge(vec![report(vec![], "1/2"), other]),
            Err(MergeError::Targets(..))
        ));
        assert_eq!(RunReport::merge(vec![]), Err(MergeError::Empty));
        let mut old = report(vec![], "1/1");
        old.schema = 1;
        assert_eq!(RunReport::merge(vec![old]), Err(MergeError::Schema(1)));
    }

    #[test]
    fn grades_count_per_level_and_not_judged_deviations_are_left_out() {
        let mut r = report(
            vec![
                case("sts::AssumeRole::a", CaseOutcome::Pass, &[]),
                case("sts::AssumeRole::b", CaseOutcome::Fail, &[Kind::ValueShape]),
                case(
                    "sts::AssumeRole::c",
                    CaseOutcome::Fail,
                    &[Kind::ErrorMessage, Kind::ElementOrder],
                ),
                case(
                    "sts::GetCallerIdentity::d",
                    CaseOutcome::Fail,
                    &[Kind::Status],
                ),
                case("sts::GetCallerIdentity::e", CaseOutcome::Error, &[]),
            ],
            "1/1",
        );
        let a = r.agreement("");
        assert_eq!((a.cases, a.at), (5, [3, 3, 2, 2, 2, 1]));
        assert_eq!(a.share(0), "60% (3)");
        assert_eq!(r.agreement("sts::GetCallerIdentity::").at, [0; 6]);
        // The target is not judged on element order: c's grade stays at code (its message
        // differs), and the count of what is not judged shows.
        r.cases[2].deviations[1].judged = Judged::NotJudged;
        r.cases[2].regrade();
        assert_eq!(r.cases[2].grade, Some(Level::Code));
        let n = r.counts();
        assert_eq!(
            n.not_judged_text().as_deref(),
            Some("1 not judged (element-order 1)")
        );
        assert_eq!((n.passed, n.failed, n.errors, n.new), (1, 3, 1, 3));
    }

    #[test]
    fn each_not_judged_rule_counts_what_it_left_out_even_when_reasons_repeat() {
        let rule = |path: &str| NotJudged {
            kind: Some(Kind::ElementOrder),
            path: Some(path.into()),
            case: None,
            reason: "same reason".into(),
        };
        let mut r = report(
            vec![case(
                "sts::AssumeRole::a",
                CaseOutcome::Fail,
                &[Kind::ElementOrder, Kind::ElementOrder],
            )],
            "1/1",
        );
        r.not_judged = vec![rule("R"), rule("R/**")];
        r.cases[0].deviations[1].deviation.path = "R/A/B".into();
        for d in &mut r.cases[0].deviations {
            d.judged = Judged::NotJudged;
        }
        let counts: Vec<usize> = r.not_judged_counts().into_iter().map(|(_, n)| n).collect();
        assert_eq!(counts, [0, 2]);
        assert!(
            r.to_markdown()
                .contains("- kind `element-order`, paths `R/**`: same reason (2 deviations)")
        );
    }

    #[test]
    fn a_report_reads_back_from_its_json_and_another_schema_is_refused() {
        let r = mixed();
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.contains("\"judged\":\"known\""), "{json}");
        assert!(json.contains("\"grade\":\"order\""), "{json}");
        assert_eq!(RunReport::from_json(&json).unwrap(), r);
        // A report of an older schema is refused, saying how to get one of this schema.
        let old = json.replacen("\"schema\":3", "\"schema\":2", 1);
        assert!(matches!(
            RunReport::from_json(&old),
            Err(ReadError::Schema(2))
        ));
        assert!(
            RunReport::from_json(&old)
                .unwrap_err()
                .to_string()
                .contains("write it again with this conform (`conform run ... --report-json FILE`"),
        );
        assert!(
            RunReport::from_json("{")
                .unwrap_err()
                .to_string()
                .contains("line 1")
        );
    }
}
