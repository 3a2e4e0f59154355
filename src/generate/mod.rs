//! `conform generate`: limit cases written from a service's model. For every constraint
//! side the model refuses (a length or value past its bound, a broken pattern, a value
//! outside an enumeration, a required member left out) that no hand-written case covers,
//! one case that breaks only it, and its snapshot: the refusal in the service's validation
//! format (`models/<service>.facts.yaml`), provenance inferred, the rule in its source.
//!
//! Rooms: `value` (values that fit or break a shape), `cases` (which cases, from coverage),
//! `yaml` (the file's text), `answer` (the expected snapshot); `files` alone touches the disk.
//! Generating is deterministic: the same inputs give the same bytes, so `conform check` can
//! tell a generated file that no longer matches its model, its facts or the hand-written
//! cases.

mod answer;
mod cases;
mod files;
mod value;
mod yaml;

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::coverage::ServiceCoverage;
use crate::scenario::{self, Case};
use crate::suite::Suite;

pub use cases::Skipped;
pub use files::{Change, changes, write};
pub use yaml::MARK;

/// The name of every generated scenario file, in its operation's directory.
pub const FILE_NAME: &str = "limits.generated.yaml";

/// Whether a case comes from a generated file.
pub fn is_generated(case: &Case) -> bool {
    case.file.ends_with(&format!("/{FILE_NAME}"))
}

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("there is no model of a service `{name}` (the models are: {known})")]
    UnknownService { name: String, known: String },
    #[error(
        "{service} has no facts file: limit answers are written in the validation format of \
         models/{service}.facts.yaml; add one with a `validation` section"
    )]
    NoFacts { service: String },
    #[error(
        "{file} has no `validation` section: add the format of the service's refusals for a \
         model constraint (see models/sts.facts.yaml)"
    )]
    NoValidation { file: String },
    #[error("generated {file} does not load (a bug in conform generate): {problems}")]
    Unloadable { file: String, problems: String },
    #[error("cannot write the expected answer of {case}: {why}")]
    Answer { case: String, why: String },
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A file generation yields, with its whole text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub path: PathBuf,
    pub text: String,
    /// The service it is generated for.
    pub service: String,
}

/// What generating for some services yields.
#[derive(Debug, Default)]
pub struct Generated {
    /// Scenario files and their cases' snapshots.
    pub outputs: Vec<Output>,
    /// How many cases the scenario files hold.
    pub cases: usize,
    /// Refused sides no case covers that nothing could be written for.
    pub skipped: Vec<Skipped>,
    /// The services generated for: generated files of theirs that are not among the outputs
    /// are obsolete.
    pub services: Vec<String>,
}

/// The generated files of `services` (every service with a validation format when empty).
pub fn generate(suite: &Suite, services: &[String]) -> Result<Generated, GenerateError> {
    let wanted: Vec<String> = if services.is_empty() {
        suite
            .facts
            .iter()
            .filter(|(s, f)| f.validation.is_some() && suite.models.contains_key(*s))
            .map(|(s, _)| s.clone())
            .collect()
    } else {
        services.to_vec()
    };
    let mut out = Generated {
        services: wanted.clone(),
        ..Generated::default()
    };
    for service in &wanted {
        service_files(suite, service, &mut out)?;
    }
    Ok(out)
}

fn service_files(suite: &Suite, service: &str, out: &mut Generated) -> Result<(), GenerateError> {
    let Some(model) = suite.models.get(service) else {
        return Err(GenerateError::UnknownService {
            name: service.to_owned(),
            known: suite.models.keys().cloned().collect::<Vec<_>>().join(", "),
        });
    };
    let facts = suite
        .facts
        .get(service)
        .ok_or_else(|| GenerateError::NoFacts {
            service: service.to_owned(),
        })?;
    if facts.validation.is_none() {
        return Err(GenerateError::NoValidation {
            file: facts.file.clone(),
        });
    }
    let echoes = facts
        .validation
        .as_ref()
        .is_some_and(|v| v.spec.echoes_value);
    // Fillers may name only a built-in target variable that points at something read, not
    // changed (`{{role_arn}}`): every target has it, a run of one case included, and no
    // case can alter it for another, as a shared name (`{{role_name}}`) could.
    let fillers: crate::template::Vars = crate::target::default_vars("us-east-1")
        .into_iter()
        .filter(|(k, _)| k.ends_with("_arn"))
        .collect();
    let mut vars = crate::target::default_vars("us-east-1");
    for (k, v) in suite.default_vars() {
        vars.entry(k.clone()).or_insert_with(|| v.clone());
    }
    let by_hand: Vec<Case> = suite
        .cases
        .iter()
        .filter(|c| !is_generated(c))
        .cloned()
        .collect();
    let taken: BTreeSet<String> = by_hand.iter().map(|c| c.id.clone()).collect();
    let coverage = ServiceCoverage::compute(model, &by_hand, &[], &vars, None);
    let no_rules = crate::redact::Rules::default();
    let rules = suite.rules.get(service).unwrap_or(&no_rules);
    let model_file = format!("models/{}-{}.json", model.service, model.api_version);
    let facts_file = format!("models/{service}.facts.yaml");
    for op_cov in &coverage.operations {
        let op = &model.operations[&op_cov.operation];
        let mut planned = cases::for_operation(
            model,
            op,
            op_cov,
            &taken,
            &fillers,
            echoes,
            &mut out.skipped,
        );
        let rel = format!("scenarios/{service}/{}/{FILE_NAME}", op.name);
        // A case whose request the model accepts once serialized (a list item whose only
        // member is the one left out sends nothing at all) is dropped and the file written
        // again without it, so line numbers stay true.
        loop {
            if planned.is_empty() {
                break;
            }
            let text = yaml::file(service, &model_file, &facts_file, &planned);
            let path = suite
                .layout
                .scenarios
                .join(service)
                .join(&op.name)
                .join(FILE_NAME);
            // The file on disk holds this very text (the usual case for `conform check`):
            // the suite parsed it already, so its cases are these.
            let loaded: Vec<Case> = if files::holds(&path, &text) {
                suite
                    .cases
                    .iter()
                    .filter(|c| c.file == rel)
                    .cloned()
                    .collect()
            } else {
                Vec::new()
            };
            let parsed = if loaded.is_empty() {
                scenario::parse_file(&rel, &text, &suite.models, rules, service, &op.name).map_err(
                    |d| GenerateError::Unloadable {
                        file: rel.clone(),
                        problems: d
                            .iter()
                            .map(|d| d.render_inline())
                            .collect::<Vec<_>>()
                            .join("; "),
                    },
                )?
            } else {
                loaded
            };
            let mut snapshots = Vec::new();
            let mut accepted = Vec::new();
            for case in &parsed {
                match answer::expected(model, facts, rules, &vars, case) {
                    Ok(contents) => {
                        let description = suite.snapshots.description(case, &contents);
                        snapshots.push(Output {
                            path: suite.snapshots.path_of(case),
                            text: crate::snapshot::file_text(case, &description, &contents),
                            service: service.to_owned(),
                        });
                    }
                    Err(answer::NoAnswer::Accepted) => accepted.push(case.id.clone()),
                    Err(answer::NoAnswer::Other(why)) => {
                        return Err(GenerateError::Answer {
                            case: case.test_name(),
                            why,
                        });
                    }
                }
            }
            if !accepted.is_empty() {
                for p in planned.iter().filter(|p| accepted.contains(&p.id)) {
                    out.skipped.push(Skipped {
                        service: service.to_owned(),
                        operation: op.name.clone(),
                        member: p.member.clone(),
                        check: p.check.clone(),
                        why: "the request says nothing of it once serialized".to_owned(),
                    });
                }
                planned.retain(|p| !accepted.contains(&p.id));
                continue;
            }
            out.cases += parsed.len();
            out.outputs.extend(snapshots);
            out.outputs.push(Output {
                path: suite
                    .layout
                    .scenarios
                    .join(service)
                    .join(&op.name)
                    .join(FILE_NAME),
                text,
                service: service.to_owned(),
            });
            break;
        }
    }
    Ok(())
}
