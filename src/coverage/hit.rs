//! The constraint checks one case's calls meet, step by step: what the consistency check
//! compares between cases that break the same rule.

use crate::model::Model;
use crate::scenario::{Case, Request};
use crate::template::Vars;

use super::check::{checks_for, member_specs, satisfies};
use super::observation::observe_structure;

/// A constraint check that one call of a case meets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// Which of the case's checked steps (0-based, among those the snapshot holds).
    pub step: usize,
    pub operation: String,
    pub member: String,
    /// `length 19 (under the minimum)`: names the member's bound, so equal labels of one
    /// member are the same rule.
    pub label: String,
    pub accepted: bool,
}

/// The constraint checks the case's checked calls of `model`'s service meet.
pub fn hits(model: &Model, case: &Case, vars: &Vars) -> Vec<Hit> {
    let mut out = Vec::new();
    let checked = case
        .steps
        .iter()
        .filter(|s| s.role == crate::scenario::Role::Check);
    for (i, step) in checked.enumerate() {
        let Request::Call { operation, params } = &step.request else {
            continue;
        };
        if step.service != model.service {
            continue;
        }
        let Some(input) = model.operation(operation).and_then(|o| o.input.as_deref()) else {
            continue;
        };
        let mut specs = Vec::new();
        member_specs(model, input, "", &mut specs, 0);
        let mut seen = Vec::new();
        observe_structure(model, input, params, "", vars, &mut seen);
        for (path, s) in seen {
            let Some((_, shape, required)) = specs.iter().find(|(p, _, _)| *p == path) else {
                continue;
            };
            for (check, label, accepted) in checks_for(shape, *required) {
                if satisfies(&s, &check, shape) {
                    out.push(Hit {
                        step: i,
                        operation: operation.clone(),
                        member: path.clone(),
                        label,
                        accepted,
                    });
                }
            }
        }
    }
    out
}
