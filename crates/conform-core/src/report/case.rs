//! One case as a report keeps it: its outcome, its deviations as judged, and its grade.

use std::borrow::Cow;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{DIFF_BYTES, DIFF_LINES, MESSAGE_BYTES, MESSAGE_LINES};
use crate::deviation::{self, Deviation, Diff, Level};
use crate::outcome::{CaseOutcome, Outcome, Status, StopKind};
use crate::scenario::Case;
use crate::text::{cut, visible};

/// What a report takes in of one case's result: the case's names, what became of it, and
/// where its whole transcript is written for people, which a cut diff points to.
#[derive(Debug, Clone)]
pub struct Ran<'a> {
    /// `<service>::<operation>::<case-id>`.
    pub name: String,
    pub service: &'a str,
    pub operation: &'a str,
    pub kind: String,
    pub provenance: String,
    pub outcome: &'a Outcome,
    /// The case's `.snap.new`.
    pub snap_new: PathBuf,
    /// The scenario file as the run names it (CI pages link a case to it).
    pub file: String,
    /// Where the case's id is written in `file`.
    pub line: u32,
    pub elapsed: Duration,
}

impl<'a> Ran<'a> {
    /// `file` is the case's scenario file as the run names it: `case.file` is relative to
    /// the scenarios directory, which only the caller knows.
    pub fn new(
        case: &'a Case,
        outcome: &'a Outcome,
        snap_new: PathBuf,
        file: String,
        elapsed: Duration,
    ) -> Ran<'a> {
        Ran {
            name: case.test_name(),
            service: &case.service,
            operation: &case.operation,
            kind: case.kind.to_string(),
            provenance: case.provenance.to_string(),
            outcome,
            snap_new,
            file,
            line: case.line,
            elapsed,
        }
    }
}

/// How a deviation was judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Judged {
    /// Not in the baseline (or no baseline): it fails the gate.
    New,
    /// The baseline lists it.
    Known,
    /// The target declared it is not judged on it.
    NotJudged,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgedDeviation {
    #[serde(flatten)]
    pub deviation: Deviation,
    pub judged: Judged,
    /// Why it is known or not judged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl JudgedDeviation {
    /// A deviation nothing has excused yet.
    pub fn new(deviation: &Deviation) -> JudgedDeviation {
        JudgedDeviation {
            deviation: deviation.clone(),
            judged: Judged::New,
            reason: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseReport {
    /// `<service>::<operation>::<case-id>`.
    pub name: String,
    pub service: String,
    pub operation: String,
    pub kind: String,
    pub provenance: String,
    pub outcome: CaseOutcome,
    /// Why an incomplete or erroneous case stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<StopKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<Diff>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deviations: Vec<JudgedDeviation>,
    /// The last level at which the case agrees with its snapshot, not-judged deviations
    /// aside; absent when not even the status does, or nothing could be judged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade: Option<Level>,
    /// When the run's baseline lists this case: the case's reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known: Option<String>,
    /// The scenario file, as the run named it; absent in reports written before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The line a CI page points at: the step that stopped an erroneous case, else the
    /// case's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// Seconds the case took, from its first step to its judgement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<f64>,
}

impl CaseReport {
    /// A case's report, every deviation `new` and every text from the endpoint as the
    /// renderings show it (control characters visible, a long diff or message cut).
    pub fn of(ran: Ran<'_>) -> CaseReport {
        // An error's text, located at its step, made here and borrowed below.
        let error_text: String;
        let line = match ran.outcome {
            Outcome::Error(e) => e.place().line,
            _ => ran.line,
        };
        let (outcome, stop, diff, message) = match ran.outcome {
            Outcome::Pass => (CaseOutcome::Pass, None, None, None),
            Outcome::Fail { diff, .. } => (CaseOutcome::Fail, None, Some(diff), None),
            Outcome::Incomplete { message, diff, .. } => (
                CaseOutcome::Incomplete,
                Some(StopKind::Capture),
                Some(diff),
                Some(message.as_str()),
            ),
            Outcome::Missing => (CaseOutcome::Missing, None, None, Some("no snapshot")),
            Outcome::Error(e) => {
                error_text = e.to_string();
                (
                    CaseOutcome::Error,
                    Some(e.kind()),
                    None,
                    Some(error_text.as_str()),
                )
            }
        };
        let deviations = ran
            .outcome
            .deviations()
            .iter()
            .map(|d| {
                let mut d = JudgedDeviation::new(d);
                for v in [&mut d.deviation.expected, &mut d.deviation.actual]
                    .into_iter()
                    .flatten()
                {
                    if let Cow::Owned(shown) = visible(v) {
                        *v = shown;
                    }
                }
                d
            })
            .collect();
        let mut report = CaseReport {
            name: ran.name,
            service: ran.service.to_owned(),
            operation: ran.operation.to_owned(),
            kind: ran.kind,
            provenance: ran.provenance,
            outcome,
            stop,
            // Only a diff points to the whole transcript: a passing case formats no note.
            diff: diff.map(|d| {
                let whole = format!(
                    "the whole transcript is in {} when conform writes one (not with --no-new or in CI), else it was not kept",
                    ran.snap_new.display()
                );
                shown_diff(d.clone(), &whole)
            }),
            message: message.map(shown_message),
            deviations,
            grade: None,
            known: None,
            file: Some(ran.file),
            line: Some(line),
            time: Some(ran.elapsed.as_secs_f64()),
        };
        report.regrade();
        report
    }

    /// What people read: `pass` (also when every deviation is not judged), `baselined` (every
    /// judged deviation is known), else the outcome.
    pub fn status(&self) -> Status {
        match self.outcome {
            CaseOutcome::Fail | CaseOutcome::Incomplete if !self.deviations.is_empty() => {
                let judged = || {
                    self.deviations
                        .iter()
                        .filter(|d| d.judged != Judged::NotJudged)
                };
                if judged().next().is_none() {
                    Status::Pass
                } else if judged().all(|d| d.judged == Judged::Known) {
                    Status::Baselined
                } else {
                    self.outcome.into()
                }
            }
            o => o.into(),
        }
    }

    /// Deviations judged `how`.
    pub fn judged(&self, how: Judged) -> impl Iterator<Item = &JudgedDeviation> {
        self.deviations.iter().filter(move |d| d.judged == how)
    }

    /// The grade from the deviations as judged now.
    pub fn regrade(&mut self) {
        self.grade = match self.outcome {
            CaseOutcome::Pass => Some(Level::Values),
            CaseOutcome::Fail | CaseOutcome::Incomplete => deviation::grade(
                self.deviations
                    .iter()
                    .filter(|d| d.judged != Judged::NotJudged)
                    .map(|d| d.deviation.kind),
            ),
            CaseOutcome::Missing | CaseOutcome::Error => None,
        };
    }
}

/// A case's diff as every rendering shows it: control characters visible, cut when long.
fn shown_diff(diff: Diff, whole: &str) -> Diff {
    diff.map_text(|t| visible(t).into_owned())
        .cut(DIFF_LINES, DIFF_BYTES, whole)
}

/// A case's message as every rendering shows it.
fn shown_message(message: &str) -> String {
    cut(
        &visible(message),
        MESSAGE_LINES,
        MESSAGE_BYTES,
        "the rest of the message was not kept",
    )
    .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deviation::Kind;
    use crate::report::fixtures::case;

    fn ran(outcome: &Outcome) -> Ran<'_> {
        Ran {
            name: "sts::AssumeRole::x".into(),
            service: "sts",
            operation: "AssumeRole",
            kind: "limit".into(),
            provenance: "documented".into(),
            outcome,
            snap_new: PathBuf::from("snapshots/sts/AssumeRole/x.snap.new"),
            file: "scenarios/sts/AssumeRole/x.yaml".into(),
            line: 7,
            elapsed: Duration::from_millis(1_500),
        }
    }

    #[test]
    fn a_result_becomes_a_case_report_with_endpoint_text_shown_and_long_text_cut() {
        let lines: String = (0..1_000).map(|i| format!("<A>{i}</A>\n")).collect();
        let (expected, actual) = (format!("\u{1b}[2J{lines}"), lines.replace("</A>", "</B>"));
        let deviation = Deviation {
            step: 1,
            kind: Kind::ValueText,
            path: "R/A".into(),
            expected: Some("a".into()),
            actual: Some("b\u{7}".into()),
        };
        let fail = Outcome::Fail {
            diff: Diff::between(&expected, &actual),
            deviations: vec![deviation],
        };
        let c = CaseReport::of(ran(&fail));
        assert_eq!(
            (c.outcome, c.stop, c.grade),
            (CaseOutcome::Fail, None, Some(Level::Order))
        );
        assert_eq!(c.deviations[0].judged, Judged::New);
        assert_eq!(
            (c.file.as_deref(), c.line, c.time),
            (Some("scenarios/sts/AssumeRole/x.yaml"), Some(7), Some(1.5))
        );
        assert_eq!(c.deviations[0].deviation.actual.as_deref(), Some("b\\u{7}"));
        let diff = c.diff.as_ref().unwrap();
        let shown = diff.to_string();
        assert!(
            shown.contains("\n-\\u{1b}[2J<A>0</A>\n"),
            "{}",
            &shown[..300]
        );
        assert_eq!(shown.lines().count(), DIFF_LINES + 1);
        let cut = diff.cut.as_ref().unwrap();
        assert_eq!(
            cut.whole,
            "the whole transcript is in snapshots/sts/AssumeRole/x.snap.new when conform writes one (not with --no-new or in CI), else it was not kept"
        );

        let error = Outcome::Error(Box::new(crate::run_error::RunError::NoAnswer {
            step: crate::run_error::StepRef {
                place: crate::run_error::Place {
                    file: "scenarios/sts/x.yaml".into(),
                    line: 3,
                    col: 5,
                },
                which: crate::run_error::Which::Checked(1),
                title: "AssumeRole".into(),
            },
            cause: "refused\n".repeat(100),
            why: crate::run_error::Silence::Unreachable,
        }));
        let c = CaseReport::of(ran(&error));
        assert_eq!(
            (c.outcome, c.stop, c.grade),
            (CaseOutcome::Error, Some(StopKind::NoAnswer), None)
        );
        // A CI page points at the step that stopped it, not at the case's id.
        assert_eq!(c.line, Some(3));
        let message = c.message.unwrap();
        assert!(
            message.ends_with("not shown; the rest of the message was not kept"),
            "{message}"
        );
        let incomplete = Outcome::Incomplete {
            message: "no RoleArn to capture".into(),
            diff: Diff::between("a", "b"),
            deviations: Vec::new(),
        };
        let c = CaseReport::of(ran(&incomplete));
        assert_eq!(
            (c.status(), c.stop),
            (Status::Incomplete, Some(StopKind::Capture))
        );
        let c = CaseReport::of(ran(&Outcome::Missing));
        assert_eq!(
            (c.status(), c.message.as_deref()),
            (Status::Missing, Some("no snapshot"))
        );
        assert_eq!(
            CaseReport::of(ran(&Outcome::Pass)).grade,
            Some(Level::Values)
        );
    }

    #[test]
    fn a_case_whose_deviations_are_all_known_is_baselined_and_one_new_fails_it() {
        let mut c = case(
            "sts::AssumeRole::b",
            CaseOutcome::Fail,
            &[Kind::Status, Kind::ValueText],
        );
        c.deviations[0].judged = Judged::Known;
        assert_eq!(c.status(), Status::Fail);
        c.deviations[1].judged = Judged::Known;
        assert_eq!(c.status(), Status::Baselined);
        c.deviations[1].judged = Judged::NotJudged;
        assert_eq!(c.status(), Status::Baselined);
        c.deviations[0].judged = Judged::NotJudged;
        assert_eq!(c.status(), Status::Pass);
        // An error stays an error, whatever marks.
        assert_eq!(case("x", CaseOutcome::Error, &[]).status(), Status::Error);
    }
}
