//! One case as a report keeps it: its outcome, its deviations as judged, and its grade.

use serde::{Deserialize, Serialize};

use crate::deviation::{self, Deviation, Diff, Level};
use crate::outcome::{CaseOutcome, Status, StopKind};

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
}

impl CaseReport {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deviation::Kind;
    use crate::report::fixtures::case;

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
