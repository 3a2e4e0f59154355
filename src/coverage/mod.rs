//! Which constraints and errors of each operation the scenarios exercise. Nothing is
//! declared by hand: a case covers a bound when one of its calls sends a value at or just
//! past it, and an error code when its snapshot holds that code.
//!
//! Everything here works on loaded data and returns data, except `file` (`of_suite`,
//! `refresh`), which takes a whole suite and reads and writes its COVERAGE.md files.

mod check;
mod file;
mod hit;
mod markdown;
mod observation;
mod pattern;
mod service;

use std::collections::{BTreeMap, BTreeSet};

use crate::scenario::{Kind, Provenance};

pub use check::Check;
pub use file::{CoverageFile, FileState, of_suite, refresh};
pub use hit::{Hit, Judge};
pub use pattern::{as_regex, compile_pattern, pattern_matches};

#[derive(Debug, Clone)]
pub struct CheckCoverage {
    pub check: Check,
    /// What the check means, for people: `length 2 (the minimum)`.
    pub label: String,
    /// Whether AWS should accept such a value.
    pub accepted: bool,
    pub cases: BTreeSet<String>,
}

#[derive(Debug, Clone)]
pub struct MemberCoverage {
    /// `RoleSessionName`, `Tags[].Key`, `TaskPolicyArn.arn`.
    pub path: String,
    pub checks: Vec<CheckCoverage>,
}

#[derive(Debug, Clone)]
pub struct ErrorCoverage {
    pub code: String,
    pub status: Option<u16>,
    pub modeled: bool,
    /// Why no request brings it about, when the service's facts say so.
    pub beyond: Option<String>,
    pub cases: BTreeSet<String>,
}

#[derive(Debug, Clone)]
pub struct OperationCoverage {
    pub operation: String,
    pub members: Vec<MemberCoverage>,
    pub errors: Vec<ErrorCoverage>,
    /// Cases that call the operation at all.
    pub cases: BTreeSet<String>,
    /// The cases of the operation's directory by where their expected answers come from.
    pub provenances: BTreeMap<Provenance, usize>,
}

#[derive(Debug, Clone)]
pub struct ServiceCoverage {
    pub service: String,
    pub operations: Vec<OperationCoverage>,
    /// Cases by kind and by provenance.
    pub kinds: BTreeMap<Kind, usize>,
    pub provenances: BTreeMap<Provenance, usize>,
}
