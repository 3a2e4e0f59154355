//! What became of a case: the outcome of its run and comparison (with the diff and the
//! deviations when it differs), and why a case stopped early. Plain data, shared by the
//! runner that makes it and the reports that keep it.

use serde::{Deserialize, Serialize};

use crate::deviation::{Deviation, Diff};
// Why a case stopped is the run error's to say; the outcome carries it.
pub use crate::run_error::{RunError, StopKind};

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Pass,
    /// The answer differs from the snapshot: a line diff for people, and the deviations.
    Fail {
        diff: Diff,
        deviations: Vec<Deviation>,
    },
    /// A checked step's answer lacked a value a later step needs (`message` says which, at
    /// its step's place):
    /// the steps that ran are compared, the others are missing steps.
    Incomplete {
        message: String,
        diff: Diff,
        deviations: Vec<Deviation>,
    },
    /// No snapshot is stored for the case yet.
    Missing,
    /// The case could not be run to its end, and nothing can be judged.
    Error(Box<RunError>),
}

impl Outcome {
    pub fn is_pass(&self) -> bool {
        matches!(self, Outcome::Pass)
    }

    /// What differs from the snapshot (nothing for a pass, a missing snapshot or an error).
    pub fn deviations(&self) -> &[Deviation] {
        match self {
            Outcome::Fail { deviations, .. } | Outcome::Incomplete { deviations, .. } => deviations,
            _ => &[],
        }
    }
}

/// What became of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CaseOutcome {
    Pass,
    /// The answers differ from the snapshot.
    Fail,
    /// A step's answer lacked a value later steps need; what ran was compared.
    Incomplete,
    /// No snapshot to compare with.
    Missing,
    /// Nothing could be judged (no answer, a refused setup step, ...).
    Error,
}

impl CaseOutcome {
    pub fn name(self) -> &'static str {
        Status::from(self).name()
    }
}

/// What people read of a case: its outcome, except that a failure whose judged deviations
/// are all known is `baselined` (and one with none judged is a pass).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Pass,
    Fail,
    Baselined,
    Incomplete,
    Missing,
    Error,
}

impl Status {
    /// In the order people read them.
    pub const ALL: [Status; 6] = [
        Status::Pass,
        Status::Fail,
        Status::Baselined,
        Status::Incomplete,
        Status::Missing,
        Status::Error,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Baselined => "baselined",
            Status::Incomplete => "incomplete",
            Status::Missing => "missing",
            Status::Error => "error",
        }
    }
}

impl From<CaseOutcome> for Status {
    fn from(o: CaseOutcome) -> Status {
        match o {
            CaseOutcome::Pass => Status::Pass,
            CaseOutcome::Fail => Status::Fail,
            CaseOutcome::Incomplete => Status::Incomplete,
            CaseOutcome::Missing => Status::Missing,
            CaseOutcome::Error => Status::Error,
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
