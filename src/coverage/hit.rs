//! The constraint checks one case's calls meet, step by step: what the consistency check
//! compares between cases that break the same rule.

use crate::model::{Model, Shape};
use crate::scenario::{Case, Request};
use crate::template::Vars;

use super::check::{Labelled, checks_for, member_specs, satisfies};
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

/// The checks of one operation's constrained input members, by member path.
type Rules<'m> = std::collections::HashMap<String, (&'m Shape, Vec<Labelled>)>;

/// Judges cases' calls against their members' constraints, working out the checks of each
/// operation once: every case was walking its operation's input shape again, a third of
/// what judging it cost.
#[derive(Default)]
pub struct Judge<'m> {
    rules: std::collections::HashMap<(&'m str, &'m str), Rules<'m>>,
}

impl<'m> Judge<'m> {
    /// The constraint checks the case's checked calls of `model`'s service meet.
    pub fn hits(&mut self, model: &'m Model, case: &Case, vars: &Vars) -> Vec<Hit> {
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
            let Some(op) = model.operation(operation) else {
                continue;
            };
            let Some(input) = op.input.as_deref() else {
                continue;
            };
            let rules = self
                .rules
                .entry((model.service.as_str(), op.name.as_str()))
                .or_insert_with(|| rules_of(model, input));
            let mut seen = Vec::new();
            observe_structure(model, input, params, "", vars, &mut seen);
            for (path, s) in seen {
                let Some((shape, checks)) = rules.get(&path) else {
                    continue;
                };
                for (check, label, accepted) in checks {
                    if satisfies(&s, check, shape) {
                        out.push(Hit {
                            step: i,
                            operation: operation.clone(),
                            member: path.clone(),
                            label: label.clone(),
                            accepted: *accepted,
                        });
                    }
                }
            }
        }
        out
    }
}

/// The checks of each constrained member of `input`; a path written twice keeps its first.
fn rules_of<'m>(model: &'m Model, input: &str) -> Rules<'m> {
    let mut specs = Vec::new();
    member_specs(model, input, "", &mut specs, 0);
    let mut rules = Rules::new();
    for (path, shape, required) in specs {
        rules
            .entry(path)
            .or_insert_with(|| (shape, checks_for(shape, required)));
    }
    rules
}
