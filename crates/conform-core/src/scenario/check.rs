//! A case's own fields (id, kind, provenance, description) and the order of its steps;
//! the steps themselves are checked by `step`.

use serde_saphyr::Spanned;

use super::Checker;
use super::case::{Case, Kind, Provenance, Role, Step};
use super::raw::RawCase;
use crate::diagnostic::{Diagnostic, did_you_mean, span_at, yaml_span};

impl Checker<'_> {
    pub(super) fn case(&self, rc: RawCase, dir_operation: &str) -> Result<Case, Vec<Diagnostic>> {
        let mut errors = Vec::new();
        let id_span = yaml_span(&rc.id);
        if !id_is_usable(&rc.id.value) {
            errors.push(
                self.err(id_span, format!("case id `{}` is not usable as a test and file name", rc.id.value))
                    .with_help("use letters, digits, `-`, `_` and `.`, starting with a letter or digit, at most 100 characters"),
            );
        }
        let kind = self.choice(&rc.kind, &Kind::ALL, "kind", &mut errors);
        let provenance = self.choice(&rc.provenance, &Provenance::ALL, "provenance", &mut errors);
        if rc.description.value.trim().is_empty() {
            errors.push(
                self.err(yaml_span(&rc.description), "the description is empty")
                    .with_help("say in a sentence what the case checks"),
            );
        }
        if rc.steps.value.is_empty() {
            errors.push(
                self.err(yaml_span(&rc.steps), "a case needs at least one step")
                    .with_help("add a step with `operation:` and `params:`, or `raw:`"),
            );
        }
        let pin = self.pins(rc.pin, &mut errors);
        let mut steps = self.steps(rc.steps.value, dir_operation, &mut errors);
        self.step_order(&steps, &mut errors);
        if !steps.is_empty() && !steps.iter().any(|s| s.role == Role::Check) {
            errors.push(
                self.err(id_span, "this case has no step whose answer it checks")
                    .with_help("setup and cleanup steps stay out of the snapshot; add a step without `setup` or `cleanup`"),
            );
        }
        let (Some(kind), Some(provenance), true) = (kind, provenance, errors.is_empty()) else {
            return Err(errors);
        };
        // A vector grown by pushes keeps room for four steps; a suite keeps every case for
        // the whole run, so the slack is given back (8 MB of a 10,000-case run).
        steps.shrink_to_fit();
        Ok(Case {
            id: rc.id.value,
            service: self.model.service.clone(),
            operation: dir_operation.to_owned(),
            kind,
            provenance,
            description: rc.description.value.trim().to_owned(),
            source: rc.source,
            requires: rc.requires,
            pin,
            steps,
            file: self.file.display().to_string().replace('\\', "/"),
            line: id_span.line,
            col: id_span.col,
        })
    }

    /// The steps that check, each knowing the captures of the steps before it.
    fn steps(
        &self,
        raw: Vec<super::raw::RawStep>,
        dir_operation: &str,
        errors: &mut Vec<Diagnostic>,
    ) -> Vec<Step> {
        let mut steps = Vec::new();
        let mut captured: Vec<String> = Vec::new();
        for rs in raw {
            match self.step(rs, dir_operation, &captured) {
                Ok(s) => {
                    captured.extend(s.captures.iter().map(|c| c.variable.clone()));
                    steps.push(s);
                }
                Err(mut e) => errors.append(&mut e),
            }
        }
        steps
    }

    /// Setup steps first, then the checked ones, then cleanup: the order they run in.
    fn step_order(&self, steps: &[Step], errors: &mut Vec<Diagnostic>) {
        let rank = |r: Role| match r {
            Role::Setup => 0,
            Role::Check => 1,
            Role::Cleanup => 2,
        };
        for pair in steps.windows(2) {
            if rank(pair[1].role) < rank(pair[0].role) {
                errors.push(
                    self.err(span_at(&self.source, pair[1].line.max(1), 1, 0), "steps are out of order: setup steps come first, cleanup steps last")
                        .with_help("move this step so that setup, checked and cleanup steps follow each other in that order"),
                );
            }
        }
    }

    /// One of a fixed set of words (a kind, a provenance), with a did-you-mean.
    fn choice<T: Copy>(
        &self,
        given: &Spanned<String>,
        all: &[(&'static str, T)],
        what: &str,
        errors: &mut Vec<Diagnostic>,
    ) -> Option<T> {
        if let Some((_, v)) = all.iter().find(|(n, _)| *n == given.value) {
            return Some(*v);
        }
        let names: Vec<&str> = all.iter().map(|(n, _)| *n).collect();
        let mut help = format!("{what} is one of: {}", names.join(", "));
        if let Some(s) = did_you_mean(&given.value, names.iter().copied()) {
            help = format!("did you mean `{s}`? ({help})");
        }
        errors.push(
            self.err(
                yaml_span(given),
                format!("unknown {what} `{}`", given.value),
            )
            .with_help(help),
        );
        None
    }
}

/// An id names a test and a snapshot file, so it must be safe as both.
fn id_is_usable(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 100
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && id.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_problem, case_with, problems};

    const STEP: &str = "    steps:\n      - operation: GetCallerIdentity\n";

    #[test]
    fn an_id_unfit_for_a_file_name_is_refused_where_it_is_written() {
        for id in ["-lead", "a/b", "white space", &"x".repeat(101)] {
            let yaml = case_with(STEP).replace("id: c", &format!("id: '{id}'"));
            let p = problems("GetCallerIdentity", &yaml);
            assert_problem(&p, "2:9", "is not usable as a test and file name");
        }
        let ok = case_with(STEP).replace("id: c", &format!("id: A.b-c_{}", "d".repeat(94)));
        super::super::testing::load("GetCallerIdentity", &ok).unwrap();
    }

    #[test]
    fn an_unknown_kind_or_provenance_suggests_the_closest_word() {
        let yaml = case_with(STEP)
            .replace("kind: limit", "kind: limits")
            .replace("provenance: documented", "provenance: guessed");
        let p = problems("GetCallerIdentity", &yaml);
        assert_problem(
            &p,
            "3:11",
            "unknown kind `limits` (help: did you mean `limit`?",
        );
        assert_problem(
            &p,
            "4:17",
            "unknown provenance `guessed` (help: provenance is one of: documented, recorded, inferred)",
        );
    }

    #[test]
    fn a_blank_description_and_no_steps_are_refused() {
        let yaml = case_with("    steps: []\n").replace("description: d", "description: '  '");
        let p = problems("GetCallerIdentity", &yaml);
        assert_problem(&p, "5:18", "the description is empty");
        assert_problem(&p, "6:12", "a case needs at least one step");
    }

    #[test]
    fn setup_after_a_checked_step_is_out_of_order() {
        let yaml = case_with(
            "    steps:\n      - operation: GetCallerIdentity\n      - operation: GetCallerIdentity\n        setup: true\n",
        );
        let p = problems("GetCallerIdentity", &yaml);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_problem(&p, "8:1", "steps are out of order");
    }

    #[test]
    fn a_case_of_setup_and_cleanup_only_checks_nothing() {
        let yaml = case_with(
            "    steps:\n      - operation: GetCallerIdentity\n        setup: true\n      - operation: GetCallerIdentity\n        cleanup: true\n",
        );
        let p = problems("GetCallerIdentity", &yaml);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_problem(&p, "2:9", "this case has no step whose answer it checks");
    }
}
