//! A service's coverage computed from its model, its cases and their snapshots.

use std::collections::{BTreeMap, BTreeSet};

use crate::answers::ErrorStep;
use crate::facts::Facts;
use crate::model::{Model, Operation};
use crate::scenario::{Case, Kind, Provenance, Request};
use crate::template::Vars;

use super::check::{checks_for, member_specs, satisfies};
use super::observation::{Seen, observe_structure};
use super::{CheckCoverage, ErrorCoverage, MemberCoverage, OperationCoverage, ServiceCoverage};

/// What the cases of one service did, gathered before it is laid over the model.
#[derive(Default)]
struct Observed<'c> {
    /// What each call sent, by operation and member path, with the case that sent it.
    seen: BTreeMap<(String, String), Vec<(Seen, String)>>,
    /// The cases that call each operation.
    calls: BTreeMap<String, BTreeSet<String>>,
    /// The cases whose snapshot holds each `(operation, code)`.
    codes: BTreeMap<(String, String), BTreeSet<String>>,
    kinds: BTreeMap<Kind, usize>,
    provenances: BTreeMap<Provenance, usize>,
    /// The cases of each operation's directory by provenance.
    by_operation: BTreeMap<&'c str, BTreeMap<Provenance, usize>>,
}

impl<'c> Observed<'c> {
    fn of(
        model: &Model,
        cases: impl IntoIterator<Item = &'c Case>,
        errors: &[&[ErrorStep]],
        vars: &Vars,
    ) -> Self {
        let mut o = Observed::default();
        let none: &[ErrorStep] = &[];
        let errors = errors.iter().copied().chain(std::iter::repeat(none));
        for (case, errors) in cases.into_iter().zip(errors) {
            if case.service != model.service {
                continue;
            }
            *o.kinds.entry(case.kind).or_insert(0) += 1;
            *o.provenances.entry(case.provenance).or_insert(0) += 1;
            *o.by_operation
                .entry(case.operation.as_str())
                .or_default()
                .entry(case.provenance)
                .or_insert(0) += 1;
            o.calls_of(model, case, vars);
            for e in errors {
                o.codes
                    .entry((e.operation.clone(), e.error.code.clone()))
                    .or_default()
                    .insert(case.id.clone());
            }
        }
        o
    }

    /// What each of the case's calls of the service sends.
    fn calls_of(&mut self, model: &Model, case: &Case, vars: &Vars) {
        for step in case.steps.iter().filter(|s| s.service == model.service) {
            let Request::Call { operation, params } = &step.request else {
                continue;
            };
            self.calls
                .entry(operation.clone())
                .or_default()
                .insert(case.id.clone());
            if let Some(input) = model.operation(operation).and_then(|o| o.input.as_deref()) {
                let mut out = Vec::new();
                observe_structure(model, input, params, "", vars, &mut out);
                for (path, s) in out {
                    self.seen
                        .entry((operation.clone(), path))
                        .or_default()
                        .push((s, case.id.clone()));
                }
            }
        }
    }

    /// Each constrained member of the operation's input with the cases meeting each check.
    fn members(&self, model: &Model, op: &Operation) -> Vec<MemberCoverage> {
        let mut members = Vec::new();
        let Some(input) = op.input.as_deref() else {
            return members;
        };
        let mut specs = Vec::new();
        member_specs(model, input, "", &mut specs, 0);
        for (path, shape, required) in specs {
            let observed = self.seen.get(&(op.name.clone(), path.clone()));
            let checks = checks_for(shape, required)
                .into_iter()
                .map(|(check, label, accepted)| {
                    let cases = observed
                        .into_iter()
                        .flatten()
                        .filter(|(s, _)| satisfies(s, &check, shape))
                        .map(|(_, id)| id.clone())
                        .collect();
                    CheckCoverage {
                        check,
                        label,
                        accepted,
                        cases,
                    }
                })
                .collect::<Vec<_>>();
            if !checks.is_empty() {
                members.push(MemberCoverage { path, checks });
            }
        }
        members
    }

    /// The operation's modeled errors, then the codes the corpus meets that the model does
    /// not list (ValidationError, AccessDenied); each taken out of what is left.
    fn errors(
        &mut self,
        model: &Model,
        op: &Operation,
        facts: Option<&Facts>,
    ) -> Vec<ErrorCoverage> {
        let mut errors: Vec<ErrorCoverage> = model
            .errors_of(op)
            .filter_map(|s| s.error.as_ref())
            .map(|e| ErrorCoverage {
                code: e.code.clone(),
                status: Some(e.status),
                modeled: true,
                beyond: facts
                    .and_then(|f| f.beyond_request(&op.name, &e.code))
                    .map(str::to_owned),
                cases: self
                    .codes
                    .remove(&(op.name.clone(), e.code.clone()))
                    .unwrap_or_default(),
            })
            .collect();
        let extra: Vec<(String, String)> = self
            .codes
            .keys()
            .filter(|(o, _)| *o == op.name)
            .cloned()
            .collect();
        for key in extra {
            let cases = self.codes.remove(&key).unwrap_or_default();
            errors.push(ErrorCoverage {
                code: key.1,
                status: None,
                modeled: false,
                beyond: None,
                cases,
            });
        }
        errors
    }
}

impl ServiceCoverage {
    /// Coverage of `model` by the cases, with the error steps of each case's snapshot
    /// (`errors[i]` for `cases[i]`; a case past the end has none) for error codes. `vars`
    /// renders templates that use target variables (their defaults will do: only lengths
    /// matter). The service's `facts` say which errors no request brings about.
    pub fn compute<'c>(
        model: &Model,
        cases: impl IntoIterator<Item = &'c Case>,
        errors: &[&[ErrorStep]],
        vars: &Vars,
        facts: Option<&Facts>,
    ) -> ServiceCoverage {
        let mut observed = Observed::of(model, cases, errors, vars);
        let mut operations = Vec::new();
        for op in model.operations.values() {
            operations.push(OperationCoverage {
                operation: op.name.clone(),
                members: observed.members(model, op),
                errors: observed.errors(model, op, facts),
                cases: observed.calls.remove(&op.name).unwrap_or_default(),
                provenances: observed
                    .by_operation
                    .remove(op.name.as_str())
                    .unwrap_or_default(),
            });
        }
        ServiceCoverage {
            service: model.service.clone(),
            operations,
            kinds: observed.kinds,
            provenances: observed.provenances,
        }
    }

    /// Constrained members no case touches at all: `conform check` refuses these.
    pub fn uncovered_members(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for op in &self.operations {
            for m in &op.members {
                if m.checks.iter().all(|c| c.cases.is_empty()) {
                    out.push((op.operation.clone(), m.path.clone()));
                }
            }
        }
        out
    }
}
