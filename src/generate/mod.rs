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

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use crate::coverage::ServiceCoverage;
use crate::memo::TextMemos;
use crate::scenario::{self, Case, Request};
use crate::suite::Suite;

pub use cases::Skipped;
pub use files::{Change, changes, write};
pub use yaml::MARK;

/// The name of every generated scenario file, in its operation's directory.
pub const FILE_NAME: &str = "limits.generated.yaml";

/// Whether a case comes from a generated file.
pub fn is_generated(case: &Case) -> bool {
    case.file
        .strip_suffix(FILE_NAME)
        .is_some_and(|dir| dir.ends_with('/'))
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
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

/// What generating for one operation yielded, kept in a memo.
#[derive(serde::Serialize, serde::Deserialize)]
struct ForOperation {
    outputs: Vec<Output>,
    cases: usize,
    skipped: Vec<Skipped>,
}

/// The generated files of `services` (every service with a validation format when empty).
pub fn generate(suite: &Suite, services: &[String]) -> Result<Generated, GenerateError> {
    generate_remembering(suite, services, None)
}

/// [`generate`], keeping in `memos` what each operation yields, by everything it is made
/// from: the model, facts, redaction rules and variables (the files' contents), the
/// hand-written cases its coverage comes from (as loaded), and the ids its cases could clash
/// with.
/// `conform check` after an edit then generates only for the operations it touched:
/// generating everything was the longest part of a check.
pub fn generate_remembering(
    suite: &Suite,
    services: &[String],
    memos: Option<&TextMemos>,
) -> Result<Generated, GenerateError> {
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
    let inputs = memos.map(|_| inputs_digest(suite));
    for service in &wanted {
        let memos = memos.zip(inputs.as_deref());
        service_files(suite, service, memos, &mut out)?;
    }
    Ok(out)
}

/// The digest of every file generating may read besides the scenarios: the models
/// directory and each service's variables.
fn inputs_digest(suite: &Suite) -> String {
    let files = |dir: &std::path::Path| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        v.sort();
        v
    };
    let mut all: Vec<PathBuf> = files(&suite.layout.models)
        .into_iter()
        .filter(|p| p.is_file())
        .collect();
    all.extend(
        files(&suite.layout.scenarios)
            .into_iter()
            .map(|d| d.join("variables.yaml")),
    );
    crate::memo::contents_digest(&all)
}

fn service_files(
    suite: &Suite,
    service: &str,
    memos: Option<(&TextMemos, &str)>,
    out: &mut Generated,
) -> Result<(), GenerateError> {
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
    // Borrowed, not cloned: the corpus's cases cloned once per service were a third of
    // what `conform check` spent on generated files.
    let by_hand: Vec<&Case> = suite.cases.iter().filter(|c| !is_generated(c)).collect();
    let taken: BTreeSet<String> = by_hand.iter().map(|c| c.id.clone()).collect();
    // An operation's coverage comes from the hand-written cases of its directory and those
    // that call it: those cases (as loaded), with the files named above and the ids its
    // cases could clash with, are all its generated files are made from. Operations whose
    // memo holds for these are not generated again, nor is the coverage computed when none
    // needs it.
    let memos = memos.map(|(m, inputs)| {
        // Each case is digested once (as loaded), then named by its digest in the keys of
        // every operation it makes: a cleanup step's operation is made by hundreds.
        let mut making: BTreeMap<&str, Vec<u8>> = BTreeMap::new();
        for &case in by_hand.iter().filter(|c| c.service == service) {
            let Ok(bytes) = postcard::to_allocvec(case) else {
                continue;
            };
            let digest = crate::memo::digest_hex(&bytes);
            let mut ops: BTreeSet<&str> = BTreeSet::from([case.operation.as_str()]);
            for step in case.steps.iter().filter(|s| s.service == service) {
                if let Request::Call { operation, .. } = &step.request {
                    ops.insert(operation);
                }
            }
            for op in ops {
                making
                    .entry(op)
                    .or_default()
                    .extend_from_slice(digest.as_bytes());
            }
        }
        (m, inputs, making)
    });
    let mut done: Vec<Option<ForOperation>> = Vec::new();
    let mut keys: Vec<Option<(String, String)>> = Vec::new();
    for op in model.operations.values() {
        let key = memos.as_ref().map(|(_, inputs, making)| {
            let made_of = making.get(op.name.as_str()).map_or(&[][..], Vec::as_slice);
            let prefix = cases::id_prefix(op);
            let clashing: Vec<&String> = taken
                .range(prefix.clone()..)
                .take_while(|id| id.starts_with(&prefix))
                .collect();
            let key = format!(
                "{inputs}\n{}\n{clashing:?}",
                crate::memo::digest_hex(made_of)
            );
            (format!("{service}/{}", op.name), key)
        });
        let kept = memos
            .as_ref()
            .zip(key.as_ref())
            .and_then(|((m, ..), (name, key))| m.recall::<ForOperation>(name, key));
        done.push(kept);
        keys.push(key);
    }
    let coverage = done
        .iter()
        .any(Option::is_none)
        .then(|| ServiceCoverage::compute(model, by_hand.iter().copied(), &[], &vars, None));
    let ops = model.operations.values().zip(done).zip(keys);
    for (i, ((op, kept), key)) in ops.enumerate() {
        if let Some(kept) = kept {
            out.cases += kept.cases;
            out.outputs.extend(kept.outputs);
            out.skipped.extend(kept.skipped);
            continue;
        }
        let Some(op_cov) = coverage.as_ref().map(|c| &c.operations[i]) else {
            continue;
        };
        let before = (out.outputs.len(), out.skipped.len(), out.cases);
        let making = Making {
            suite,
            service,
            taken: &taken,
            fillers: &fillers,
            vars: &vars,
        };
        operation_files(&making, op, op_cov, out)?;
        if let (Some((m, ..)), Some((name, key))) = (&memos, &key) {
            let kept = ForOperation {
                outputs: out.outputs[before.0..].to_vec(),
                cases: out.cases - before.2,
                skipped: out.skipped[before.1..].to_vec(),
            };
            m.keep(name, key, &kept);
        }
    }
    Ok(())
}

/// What every operation of a service is generated with.
struct Making<'a> {
    suite: &'a Suite,
    service: &'a str,
    /// The hand-written cases' ids.
    taken: &'a BTreeSet<String>,
    /// The variables a generated value may name.
    fillers: &'a crate::template::Vars,
    /// The variables templates are rendered with.
    vars: &'a crate::template::Vars,
}

/// The generated scenario file of one operation and its cases' snapshots.
fn operation_files(
    making: &Making<'_>,
    op: &crate::model::Operation,
    op_cov: &crate::coverage::OperationCoverage,
    out: &mut Generated,
) -> Result<(), GenerateError> {
    let Making {
        suite,
        service,
        taken,
        fillers,
        vars,
    } = *making;
    let model = &suite.models[service];
    let facts = &suite.facts[service];
    let echoes = facts
        .validation
        .as_ref()
        .is_some_and(|v| v.spec.echoes_value);
    let no_rules = crate::redact::Rules::default();
    let rules = suite.rules.get(service).unwrap_or(&no_rules);
    let model_file = format!("models/{}-{}.json", model.service, model.api_version);
    let facts_file = format!("models/{service}.facts.yaml");
    {
        let mut planned =
            cases::for_operation(model, op, op_cov, taken, fillers, echoes, &mut out.skipped);
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
            let loaded: Vec<&Case> = if files::holds(&path, &text) {
                suite.cases.iter().filter(|c| c.file == rel).collect()
            } else {
                Vec::new()
            };
            let fresh: Vec<Case>;
            let parsed = if loaded.is_empty() {
                fresh = scenario::parse_file(&rel, &text, &suite.models, rules, service, &op.name)
                    .map_err(|d| GenerateError::Unloadable {
                        file: rel.clone(),
                        problems: d
                            .iter()
                            .map(|d| d.render_inline())
                            .collect::<Vec<_>>()
                            .join("; "),
                    })?;
                fresh.iter().collect()
            } else {
                loaded
            };
            let mut snapshots = Vec::new();
            let mut accepted = Vec::new();
            for &case in &parsed {
                match answer::expected(model, facts, rules, vars, case) {
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
