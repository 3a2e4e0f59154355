//! A project's whole input, loaded once per run: models, redaction rules, facts, declared
//! variables, every scenario and every stored snapshot.
//!
//! Loading is two steps: `sources` reads the files into memory (the only disk access), and
//! [`Suite::from_sources`] builds and checks the suite from them (`cases` for the scenario
//! files, `variables` for what variables.yaml declares and what cases use).

mod cases;
mod narrow;
mod selection;
mod sources;
mod variables;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use selection::Selection;
pub use sources::{Input, Place, ScenarioFile, Sources};
pub use variables::{ClientChosen, Variable};

use crate::diagnostic::Diagnostic;
use crate::facts::Facts;
use crate::memo::TextMemos;
use crate::model::{Model, ModelError};
use crate::redact::{Rules, RulesError};
use crate::resources::Resources;
use crate::scenario::Case;
use crate::snapshot::{SnapshotError, SnapshotStore};
use crate::stand_in::StandIn;
use variables::{Declared, check_variables};

/// Where a project keeps its inputs (all relative to one root by default).
#[derive(Debug, Clone)]
pub struct Layout {
    pub scenarios: PathBuf,
    pub snapshots: PathBuf,
    pub models: PathBuf,
}

impl Layout {
    pub fn at(root: &Path) -> Layout {
        Layout {
            scenarios: root.join("scenarios"),
            snapshots: root.join("snapshots"),
            models: root.join("models"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Rules(#[from] RulesError),
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} problem(s) in the scenarios", .0.len())]
    Scenarios(Vec<Diagnostic>),
}

#[derive(Debug)]
pub struct Suite {
    pub layout: Layout,
    pub models: BTreeMap<String, Model>,
    /// Variables scenarios may use beyond the built-in target ones, declared in
    /// `scenarios/<service>/variables.yaml` with what a target must provide.
    pub variables: BTreeMap<String, Variable>,
    /// Variables a client chooses (`client_chosen` in variables.yaml), for the replay server.
    pub client_chosen: BTreeMap<String, ClientChosen>,
    /// `(service, operation)` to the parameters whose value a success answer repeats
    /// (`free_parameters`): the replay server accepts any value the model allows for them.
    pub free_parameters: BTreeMap<(String, String), Vec<String>>,
    pub rules: HashMap<String, Rules>,
    /// What is known of how each service answers (`models/<service>.facts.yaml`), for the
    /// services that have such a file. A suite of selected cases holds what a run reads:
    /// the namespace, recordings and orders, no templates or validation format.
    pub facts: BTreeMap<String, Facts>,
    /// What the replay server needs to stand in for each service
    /// (`models/<service>.replay.yaml`), for the services that have such a file.
    pub stand_ins: BTreeMap<String, StandIn>,
    /// How conform acts in an account with each service (`models/<service>.resources.yaml`):
    /// what cleanup deletes and which answers record mode asks again.
    pub resources: BTreeMap<String, Resources>,
    /// Sorted by test name.
    pub cases: Vec<Case>,
    pub snapshots: SnapshotStore,
}

impl Suite {
    /// Builds every client-chosen shape now (a run builds the ones it meets): the located
    /// error of each the regex crate cannot build, for `conform check` and `conform serve`.
    pub fn build_shapes(&self) -> Result<(), SuiteError> {
        let errors: Vec<_> = self
            .client_chosen
            .values()
            .filter_map(|c| c.built().err().map(|d| *d))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(SuiteError::Scenarios(errors))
        }
    }

    /// Reads the project's files ([`Sources::read`]) and builds the suite from them.
    pub fn load(layout: &Layout) -> Result<Suite, SuiteError> {
        Suite::from_sources(Sources::read(layout)?)
    }

    /// The suite as far as the selected cases need it: only the scenario files that may hold
    /// one are read and checked, and only the selected cases are kept, with their snapshots.
    /// A broken file holding no selected case goes unnoticed; [`Suite::load`] reads it.
    pub fn load_selected(layout: &Layout, selection: Selection) -> Result<Suite, SuiteError> {
        Suite::from_sources(Sources::read_selected(layout, selection)?)
    }

    /// [`Suite::load_selected`], keeping in `cache` what each scenario file yields when every
    /// file is read: a file whose text (and the models and redaction rules) is as it was when
    /// it last loaded gives its cases again unparsed. Only files that load are kept, so every
    /// mistake is still found; parsing was a third of what `conform check` spent.
    pub fn load_remembering(
        layout: &Layout,
        selection: Selection,
        cache: &Path,
    ) -> Result<Suite, SuiteError> {
        let memos = selection
            .is_all()
            .then(|| scenario_memos(layout, cache))
            .flatten();
        // The snapshots are read on a thread of their own while the rest is read and the
        // suite built from it: reading them was the longest part of a load.
        let suite = std::thread::scope(|scope| {
            let snapshots = scope.spawn(|| Sources::snapshots_of(layout, &selection));
            let suite = Sources::read_besides_snapshots(layout, &selection)
                .and_then(|sources| Suite::from_sources_with(sources, memos.as_ref()));
            let snapshots = snapshots
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p));
            let mut suite = suite?;
            let mut snapshots = snapshots?;
            snapshots.order_notes = std::mem::take(&mut suite.snapshots.order_notes);
            suite.snapshots = snapshots;
            Ok(suite)
        });
        if let (Ok(_), Some(m)) = (&suite, &memos) {
            m.prune();
        }
        suite
    }

    /// Builds the suite from files already read: checks every input against the models
    /// and each other, reading nothing more. The first file with a mistake in the
    /// redaction rules, facts or variables stops here; every scenario problem is reported.
    pub fn from_sources(sources: Sources) -> Result<Suite, SuiteError> {
        Suite::from_sources_with(sources, None)
    }

    fn from_sources_with(sources: Sources, memos: Option<&TextMemos>) -> Result<Suite, SuiteError> {
        let Sources {
            layout,
            models,
            rules: rule_files,
            facts: fact_files,
            variables: variable_files,
            stand_ins: stand_in_files,
            resources: resource_files,
            scenarios,
            selection,
            mut snapshots,
        } = sources;
        let mut errors = Vec::new();
        let mut rules = HashMap::new();
        for service in models.keys() {
            let r = match rule_files.get(service).map(rules_of) {
                None => Rules::default(),
                Some(Ok(r)) => r,
                Some(Err(d)) => {
                    errors.push(*d);
                    Rules::default()
                }
            };
            rules.insert(service.clone(), r);
        }
        let facts = parsed(&fact_files, &mut errors, |service, text, shown| {
            let f = Facts::parse(text, shown, service)?;
            match models.get(service) {
                Some(model) => unmodeled_beyond(&f, model, text, shown).map(|()| f),
                None => Ok(f),
            }
        });
        if !errors.is_empty() {
            return Err(SuiteError::Scenarios(errors));
        }
        let mut declared = Declared::default();
        for (service, input) in &variable_files {
            let added = match &input.text {
                Ok(text) => declared.add(service, &models[service], &input.shown, text),
                Err(d) => Err(d.clone()),
            };
            added.map_err(|d| SuiteError::Scenarios(vec![*d]))?;
        }
        let builtin = crate::target::default_vars("us-east-1");
        let is_variable = |v: &str| builtin.contains_key(v) || declared.variables.contains_key(v);
        let stand_ins = parsed(&stand_in_files, &mut errors, |service, text, shown| {
            StandIn::parse(text, shown, &models[service], &rules[service], &is_variable)
        });
        let resources = parsed(&resource_files, &mut errors, |service, text, shown| {
            Resources::parse(text, shown, &models[service])
        });
        if !errors.is_empty() {
            return Err(SuiteError::Scenarios(errors));
        }
        let mut cases = cases::cases(&scenarios, &models, &rules, memos)?;
        check_variables(&cases, &declared.variables, &cases::texts(&scenarios))?;
        if !selection.is_all() {
            cases.retain(|c| selection.wants(&c.test_name()));
        }
        // Files are appended one after another: the room left over would stay for the run.
        cases.shrink_to_fit();
        for (service, f) in &facts {
            if let Some(note) = f.order_note() {
                snapshots.order_notes.insert(service.clone(), note);
            }
        }
        Ok(Suite {
            layout,
            models,
            variables: declared.variables,
            client_chosen: declared.client_chosen,
            free_parameters: declared.free_parameters,
            rules,
            facts,
            stand_ins,
            resources,
            cases,
            snapshots,
        })
    }

    /// Cases whose test name contains any of the filters (all when there are none), as
    /// libtest filters.
    pub fn select(&self, filters: &[String], exact: bool) -> Vec<&Case> {
        self.select_indices(filters, exact)
            .into_iter()
            .map(|i| &self.cases[i])
            .collect()
    }

    /// The same selection as suite indices, in suite order.
    pub fn select_indices(&self, filters: &[String], exact: bool) -> Vec<usize> {
        let selection = Selection::new(filters.to_vec(), exact);
        (0..self.cases.len())
            .filter(|&i| selection.wants(&self.cases[i].test_name()))
            .collect()
    }

    pub fn into_shared(self) -> Arc<Suite> {
        Arc::new(self)
    }

    /// The declared variables' defaults, for a target that does not set them.
    pub fn default_vars(&self) -> impl Iterator<Item = (&String, &String)> {
        self.variables.iter().map(|(k, v)| (k, &v.default))
    }
}

/// The memos of what scenario files yield, for the project laid out as `layout`: named after
/// this build of conform and the contents of what a file's cases depend on besides its text
/// (every model, since a step may call another service, and the redaction rules).
fn scenario_memos(layout: &Layout, cache: &Path) -> Option<TextMemos> {
    let program = crate::memo::program()?;
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(&layout.models)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(".json") || n.ends_with(".redact.yaml"))
        })
        .collect();
    inputs.sort();
    let salt = format!("{program}\0{}", crate::memo::contents_digest(&inputs));
    Some(TextMemos::of(
        cache,
        "cases",
        &[layout.scenarios.clone(), layout.models.clone()],
        salt,
    ))
}

/// A service's redaction rules, or the first mistake in them.
fn rules_of(input: &Input) -> Result<Rules, Box<Diagnostic>> {
    let text = input.text.as_ref().map_err(Box::clone)?;
    Rules::parse(text, &input.shown.display().to_string())
}
/// A code declared beyond a request must be one of the model's errors, and each operation it
/// is limited to must be one that lists it: a misspelling would leave the real code counted
/// as missing without a word.
fn unmodeled_beyond(
    facts: &Facts,
    model: &crate::model::Model,
    text: &str,
    shown: &Path,
) -> Result<(), Vec<Diagnostic>> {
    fn codes_of<'m>(
        model: &'m crate::model::Model,
        op: &'m crate::model::Operation,
    ) -> Vec<&'m str> {
        model
            .errors_of(op)
            .filter_map(|s| s.error.as_ref().map(|e| e.code.as_str()))
            .collect()
    }
    let modeled: std::collections::BTreeSet<&str> = model
        .operations
        .values()
        .flat_map(|op| codes_of(model, op))
        .collect();
    let mut errors = Vec::new();
    for b in &facts.beyond_requests {
        let at = |message: String, help: String| {
            Diagnostic::new(
                shown,
                std::sync::Arc::from(text),
                crate::diagnostic::span_at(text, b.line.max(1) as u32, 1, 1),
                message,
            )
            .with_help(help)
        };
        if !modeled.contains(b.code.as_str()) {
            let alike = modeled
                .iter()
                .copied()
                .find(|c| crate::facts::same_code_word(&b.code, c))
                .or_else(|| crate::diagnostic::did_you_mean(&b.code, modeled.iter().copied()));
            let help = match alike {
                Some(s) => format!("did you mean `{s}`?"),
                None => "name an error code the model lists for an operation".to_owned(),
            };
            errors.push(at(
                format!("`{}` is no modeled error of {}", b.code, model.service),
                help,
            ));
            continue;
        }
        for name in &b.operations {
            let problem = match model.operation(name) {
                None => format!("`{name}` is no operation of {}", model.service),
                Some(op) if !codes_of(model, op).contains(&b.code.as_str()) => {
                    format!("{name} does not list `{}` among its errors", b.code)
                }
                Some(_) => continue,
            };
            errors.push(at(
                problem,
                "list only operations whose model names the code".to_owned(),
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Each service's file parsed with `parse(service, text, shown path)`; the mistakes of all
/// of them (an unreadable file included) join `errors`.
fn parsed<T>(
    files: &BTreeMap<String, Input>,
    errors: &mut Vec<Diagnostic>,
    parse: impl Fn(&str, &str, &Path) -> Result<T, Vec<Diagnostic>>,
) -> BTreeMap<String, T> {
    let mut out = BTreeMap::new();
    for (service, input) in files {
        let result = match &input.text {
            Ok(text) => parse(service, text, &input.shown),
            Err(d) => Err(vec![(**d).clone()]),
        };
        match result {
            Ok(t) => {
                out.insert(service.clone(), t);
            }
            Err(mut e) => errors.append(&mut e),
        }
    }
    out
}
