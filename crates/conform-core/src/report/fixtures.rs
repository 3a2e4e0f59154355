//! Reports made by hand for the tests of the report and its renderings.

use super::*;
use crate::deviation::{Deviation, Diff, Kind};
use crate::outcome::StopKind;

pub(crate) fn dev(kind: Kind) -> JudgedDeviation {
    JudgedDeviation {
        deviation: Deviation {
            step: 1,
            kind,
            path: "R/A".into(),
            expected: Some("a".into()),
            actual: Some("b|c".into()),
        },
        judged: Judged::New,
        reason: None,
    }
}

pub(crate) fn case(name: &str, outcome: CaseOutcome, kinds: &[Kind]) -> CaseReport {
    let mut c = CaseReport {
        name: name.into(),
        service: "sts".into(),
        operation: name.split("::").nth(1).unwrap_or("AssumeRole").into(),
        kind: "limit".into(),
        provenance: "documented".into(),
        outcome,
        stop: (outcome == CaseOutcome::Error).then_some(StopKind::NoAnswer),
        diff: (outcome == CaseOutcome::Fail).then(|| Diff::between("a", "b")),
        message: (outcome == CaseOutcome::Error).then(|| "cannot connect".into()),
        deviations: kinds.iter().map(|k| dev(*k)).collect(),
        grade: None,
        known: None,
        file: Some(format!("scenarios/{}.yaml", name.replace("::", "/"))),
        line: Some(12),
        time: Some(0.25),
    };
    c.regrade();
    c
}

pub(crate) fn report(cases: Vec<CaseReport>, shard: &str) -> RunReport {
    RunReport {
        schema: SCHEMA,
        target: "moto".into(),
        conform: "0".into(),
        target_version: None,
        shard: Some(shard.into()),
        not_judged: Vec::new(),
        cases,
    }
}

/// Four cases: a pass, a new deviation, an error, and a failure whose deviation is known.
pub(crate) fn mixed() -> RunReport {
    let mut r = report(
        vec![
            case("sts::AssumeRole::a", CaseOutcome::Pass, &[]),
            case("sts::AssumeRole::b", CaseOutcome::Fail, &[Kind::ValueText]),
            case("sts::AssumeRole::c", CaseOutcome::Error, &[]),
            case("sts::AssumeRole::k", CaseOutcome::Fail, &[Kind::Status]),
        ],
        "1/1",
    );
    r.cases[3].deviations[0].judged = Judged::Known;
    r.cases[3].known = Some("limit not enforced".into());
    r
}
