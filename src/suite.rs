//! A project's whole input, loaded once per run: models, redaction rules, every scenario
//! and every stored snapshot.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::diagnostic::{Diagnostic, ReadError, did_you_mean, read_text, span_at};
use crate::facts::Facts;
use crate::model::{self, Model, ModelError};
use crate::redact::{Rules, RulesError};
use crate::scenario::{self, Case};
use crate::snapshot::{SnapshotError, SnapshotStore};
use crate::stand_in::StandIn;

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

/// A variable a target provides, with a stand-in for local targets.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variable {
    /// What the target must provide, for people setting one up.
    pub description: String,
    /// The value used unless the target sets one (fine for local emulators, not for AWS).
    pub default: String,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct VariablesFile {
    #[serde(default)]
    variables: BTreeMap<String, Variable>,
    /// Variable name to the shape of the values a client may send for it.
    #[serde(default)]
    client_chosen: BTreeMap<String, String>,
    /// Operation name to the parameters a success answer repeats.
    #[serde(default)]
    free_parameters: BTreeMap<String, Vec<String>>,
}

/// A variable whose value a client chooses (the role it assumes): the replay server accepts
/// any value of its shape where a scenario sends it, and takes the variables the shape's
/// named groups name from that value (the role's name and account).
#[derive(Debug, Clone)]
pub struct ClientChosen {
    /// Anchored: a value has the shape or not.
    pub shape: regex::Regex,
    /// The shape as written, for messages.
    pub written: String,
    /// The variables its named groups set.
    pub derived: Vec<String>,
}

impl ClientChosen {
    /// The variables a value sets when it has the shape (the value itself under `name`).
    pub fn bind(&self, name: &str, value: &str) -> Option<Vec<(String, String)>> {
        let c = self.shape.captures(value)?;
        let mut out = vec![(name.to_owned(), value.to_owned())];
        for d in &self.derived {
            if let Some(m) = c.name(d) {
                out.push((d.clone(), m.as_str().to_owned()));
            }
        }
        Some(out)
    }
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
    /// services that have such a file.
    pub facts: BTreeMap<String, Facts>,
    /// What the replay server needs to stand in for each service
    /// (`models/<service>.replay.yaml`), for the services that have such a file.
    pub stand_ins: BTreeMap<String, StandIn>,
    /// Sorted by test name.
    pub cases: Vec<Case>,
    pub snapshots: SnapshotStore,
}

impl Suite {
    pub fn load(layout: &Layout) -> Result<Suite, SuiteError> {
        let models = model::load_dir(&layout.models)?;
        let mut rules = HashMap::new();
        for service in models.keys() {
            let path = layout.models.join(format!("{service}.redact.yaml"));
            let r = if path.exists() {
                Rules::load(&path)?
            } else {
                Rules::default()
            };
            rules.insert(service.clone(), r);
        }
        let mut facts = BTreeMap::new();
        let mut fact_errors = Vec::new();
        for service in models.keys() {
            let path = layout.models.join(format!("{service}.facts.yaml"));
            if path.exists() {
                match Facts::load(&path, service) {
                    Ok(f) => {
                        facts.insert(service.clone(), f);
                    }
                    Err(mut e) => fact_errors.append(&mut e),
                }
            }
        }
        if !fact_errors.is_empty() {
            return Err(SuiteError::Scenarios(fact_errors));
        }
        let Declared {
            variables,
            client_chosen,
            free_parameters,
        } = load_variables(&layout.scenarios, &models)?;
        let builtin = crate::target::default_vars("us-east-1");
        let is_variable = |v: &str| builtin.contains_key(v) || variables.contains_key(v);
        let mut stand_ins = BTreeMap::new();
        let mut stand_in_errors = Vec::new();
        for (service, model) in &models {
            let path = layout.models.join(format!("{service}.replay.yaml"));
            if path.exists() {
                let text = read_text(&path, &path).map_err(|e| match e {
                    ReadError::Io(source) => SuiteError::Io {
                        path: path.clone(),
                        source,
                    },
                    ReadError::NotUtf8(d) => SuiteError::Scenarios(vec![*d]),
                })?;
                match StandIn::parse(&text, &path, model, &rules[service], &is_variable) {
                    Ok(s) => {
                        stand_ins.insert(service.clone(), s);
                    }
                    Err(mut e) => stand_in_errors.append(&mut e),
                }
            }
        }
        if !stand_in_errors.is_empty() {
            return Err(SuiteError::Scenarios(stand_in_errors));
        }
        let cases = load_cases(&layout.scenarios, &models, &rules)?;
        check_variables(&layout.scenarios, &cases, &variables)?;
        let mut snapshots = SnapshotStore::load(&layout.snapshots)?;
        for (service, f) in &facts {
            if let Some(note) = f.order_note() {
                snapshots.order_notes.insert(service.clone(), note);
            }
        }
        Ok(Suite {
            layout: layout.clone(),
            models,
            variables,
            client_chosen,
            free_parameters,
            rules,
            facts,
            stand_ins,
            cases,
            snapshots,
        })
    }

    /// Cases whose test name contains any of the filters (all when there are none), as
    /// libtest filters.
    pub fn select(&self, filters: &[String], exact: bool) -> Vec<&Case> {
        self.cases
            .iter()
            .filter(|c| {
                let name = c.test_name();
                filters.is_empty()
                    || filters.iter().any(|f| {
                        if exact {
                            name == *f
                        } else {
                            name.contains(f.as_str())
                        }
                    })
            })
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

/// What `variables.yaml` files declare.
#[derive(Default)]
struct Declared {
    variables: BTreeMap<String, Variable>,
    client_chosen: BTreeMap<String, ClientChosen>,
    free_parameters: BTreeMap<(String, String), Vec<String>>,
}

fn load_variables(root: &Path, models: &BTreeMap<String, Model>) -> Result<Declared, SuiteError> {
    let mut out = Declared::default();
    for (service, model) in models {
        let path = root.join(service).join("variables.yaml");
        if !path.exists() {
            continue;
        }
        let rel = path
            .strip_prefix(root.parent().unwrap_or(root))
            .unwrap_or(&path)
            .display()
            .to_string();
        let text = match read_text(&path, Path::new(&rel)) {
            Ok(t) => t,
            Err(ReadError::Io(source)) => return Err(SuiteError::Io { path, source }),
            Err(ReadError::NotUtf8(d)) => return Err(SuiteError::Scenarios(vec![*d])),
        };
        // A mistake in a value the parser accepted: pointed at the line that names it.
        let at = |needle: &str, message: String, help: &str| {
            let (line, col) = text
                .lines()
                .enumerate()
                .find_map(|(i, l)| l.find(needle).map(|c| (i as u32 + 1, c as u32 + 1)))
                .unwrap_or((1, 1));
            SuiteError::Scenarios(vec![
                Diagnostic::new(
                    Path::new(&rel),
                    Arc::from(text.as_str()),
                    span_at(&text, line, col, needle.len()),
                    message,
                )
                .with_help(help.to_owned()),
            ])
        };
        let f = match serde_saphyr::from_str::<VariablesFile>(&text) {
            Ok(f) => f,
            Err(e) => {
                let (line, col) = e
                    .location()
                    .map_or((1, 1), |l| (l.line() as u32, l.column() as u32));
                let d = Diagnostic::new(
                    Path::new(&rel),
                    Arc::from(text.as_str()),
                    span_at(&text, line.max(1), col.max(1), 1),
                    crate::scenario::yaml_message(&e),
                )
                .with_help("each variable has a `description` (what the target must provide) and a `default` (a stand-in for local targets); `client_chosen` maps a variable to a regex, `free_parameters` an operation to parameter names");
                return Err(SuiteError::Scenarios(vec![d]));
            }
        };
        let builtin = crate::target::default_vars("us-east-1");
        let known = |v: &str| builtin.contains_key(v) || f.variables.contains_key(v);
        for (name, written) in &f.client_chosen {
            if !known(name) {
                return Err(at(
                    &format!("{name}:"),
                    format!("client_chosen names `{name}`, which is no variable"),
                    "name a built-in target variable or one declared under `variables`",
                ));
            }
            let shape = regex::Regex::new(&format!("^(?:{written})$")).map_err(|e| {
                at(
                    &format!("{name}:"),
                    format!("the shape of `{name}` is not a regex: {e}"),
                    "write the values a client may send as a regex; named groups set other variables",
                )
            })?;
            let derived: Vec<String> = shape.capture_names().flatten().map(str::to_owned).collect();
            if let Some(d) = derived.iter().find(|d| !known(d)) {
                return Err(at(
                    &format!("{name}:"),
                    format!("the shape of `{name}` sets `{d}`, which is no variable"),
                    "a named group sets the variable of its name: a built-in one or one declared under `variables`",
                ));
            }
            out.client_chosen.insert(
                name.clone(),
                ClientChosen {
                    shape,
                    written: written.clone(),
                    derived,
                },
            );
        }
        for (op_name, params) in &f.free_parameters {
            let Some(op) = model.operation(op_name) else {
                return Err(at(
                    &format!("{op_name}:"),
                    format!("free_parameters names `{op_name}`, which is no {service} operation"),
                    &format!("the operations are: {}", model.operation_list()),
                ));
            };
            let members: Vec<&str> = match model.input_members(op).map(|s| &s.kind) {
                Some(model::ShapeKind::Structure { members, .. }) => {
                    members.keys().map(String::as_str).collect()
                }
                _ => Vec::new(),
            };
            if let Some(p) = params.iter().find(|p| !members.contains(&p.as_str())) {
                return Err(at(
                    p,
                    format!("free_parameters: {op_name} has no parameter `{p}`"),
                    &format!("its parameters are: {}", members.join(", ")),
                ));
            }
            out.free_parameters
                .insert((service.clone(), op_name.clone()), params.clone());
        }
        out.variables.extend(f.variables);
    }
    Ok(out)
}

/// Every `{{variable}}` must be a built-in target variable, a declared one, or a capture of
/// an earlier step: a typo is a load error, not a failure in the middle of a run.
fn check_variables(
    root: &Path,
    cases: &[Case],
    declared: &BTreeMap<String, Variable>,
) -> Result<(), SuiteError> {
    let builtin = crate::target::default_vars("us-east-1");
    let mut errors = Vec::new();
    for case in cases {
        for r in &case.requires {
            if !builtin.contains_key(r) && !declared.contains_key(r) {
                let text = std::fs::read_to_string(root.parent().unwrap_or(root).join(&case.file))
                    .unwrap_or_default();
                errors.push(
                    Diagnostic::new(Path::new(&case.file), Arc::from(text.as_str()), span_at(&text, case.line, case.col, case.id.len()), format!("case `{}` requires `{r}`, which is not a declared variable", case.id))
                        .with_help(format!("declare it in scenarios/{}/variables.yaml with what the target must provide", case.service)),
                );
            }
        }
        let mut captured: Vec<&str> = Vec::new();
        let all_captures: Vec<&str> = case
            .steps
            .iter()
            .flat_map(|s| s.captures.iter().map(|c| c.variable.as_str()))
            .collect();
        for step in &case.steps {
            let cleanup = step.role == crate::scenario::Role::Cleanup;
            for v in step.variables() {
                let known = builtin.contains_key(v)
                    || declared.contains_key(v)
                    || captured.contains(&v)
                    // Cleanup runs last, after any step that may have captured.
                    || (cleanup && all_captures.contains(&v));
                if known {
                    continue;
                }
                let text = std::fs::read_to_string(root.parent().unwrap_or(root).join(&case.file))
                    .unwrap_or_default();
                let candidates = builtin
                    .keys()
                    .chain(declared.keys())
                    .map(String::as_str)
                    .chain(captured.iter().copied());
                let mut help = format!(
                    "declare it in scenarios/{}/variables.yaml (what the target must provide, and a default for local targets), or capture it in an earlier step",
                    case.service
                );
                if let Some(s) = did_you_mean(v, candidates) {
                    help = format!("did you mean `{{{{{s}}}}}`? Otherwise {help}");
                }
                errors.push(
                    Diagnostic::new(
                        Path::new(&case.file),
                        Arc::from(text.as_str()),
                        span_at(&text, step.line.max(1), 1, 0),
                        format!("case `{}` uses the unknown variable `{{{{{v}}}}}`", case.id),
                    )
                    .with_help(help),
                );
            }
            captured.extend(step.captures.iter().map(|c| c.variable.as_str()));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(SuiteError::Scenarios(errors))
    }
}

fn read_dir_sorted(dir: &Path) -> Result<Vec<PathBuf>, SuiteError> {
    let rd = std::fs::read_dir(dir).map_err(|source| SuiteError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let mut v: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    v.sort();
    Ok(v)
}

fn is_yaml(p: &Path) -> bool {
    p.extension().is_some_and(|e| e == "yaml" || e == "yml")
}

fn load_cases(
    root: &Path,
    models: &BTreeMap<String, Model>,
    rules: &HashMap<String, Rules>,
) -> Result<Vec<Case>, SuiteError> {
    let no_rules = Rules::default();
    let mut cases: Vec<Case> = Vec::new();
    let mut errors: Vec<Diagnostic> = Vec::new();
    if !root.exists() {
        return Ok(cases);
    }
    let rel = |p: &Path| {
        let r = p.strip_prefix(root.parent().unwrap_or(root)).unwrap_or(p);
        r.display().to_string().replace('\\', "/")
    };
    let misplaced = |p: &Path, text: &str, msg: String, help: String| {
        Diagnostic::new(
            Path::new(&rel(p)),
            Arc::from(text),
            span_at(text, 1, 1, 0),
            msg,
        )
        .with_help(help)
    };
    for service_dir in read_dir_sorted(root)? {
        if !service_dir.is_dir() {
            if is_yaml(&service_dir) {
                let text = std::fs::read_to_string(&service_dir).unwrap_or_default();
                errors.push(misplaced(
                    &service_dir,
                    &text,
                    "a scenario file outside a service and operation directory".into(),
                    "move it to scenarios/<service>/<operation>/".into(),
                ));
            }
            continue;
        }
        let service = service_dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_owned();
        let model = models.get(&service);
        for op_dir in read_dir_sorted(&service_dir)? {
            let op = op_dir
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("")
                .to_owned();
            let files: Vec<PathBuf> = if op_dir.is_dir() {
                read_dir_sorted(&op_dir)?
                    .into_iter()
                    .filter(|p| is_yaml(p))
                    .collect()
            } else if op_dir.file_name().is_some_and(|n| n == "variables.yaml") {
                continue;
            } else if is_yaml(&op_dir) {
                let text = std::fs::read_to_string(&op_dir).unwrap_or_default();
                errors.push(misplaced(
                    &op_dir,
                    &text,
                    "a scenario file outside an operation directory".into(),
                    format!("move it to scenarios/{service}/<operation>/"),
                ));
                continue;
            } else {
                continue;
            };
            for file in files {
                let text = match read_text(&file, Path::new(&rel(&file))) {
                    Ok(t) => t,
                    Err(ReadError::Io(source)) => {
                        return Err(SuiteError::Io { path: file, source });
                    }
                    Err(ReadError::NotUtf8(d)) => {
                        errors.push(*d);
                        continue;
                    }
                };
                let Some(model) = model else {
                    let help = match did_you_mean(&service, models.keys().map(String::as_str)) {
                        Some(s) => format!(
                            "did you mean scenarios/{s}/? models/ holds: {}",
                            models.keys().cloned().collect::<Vec<_>>().join(", ")
                        ),
                        None => format!(
                            "add its model to models/, or use one of: {}",
                            models.keys().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    };
                    errors.push(misplaced(
                        &file,
                        &text,
                        format!("no model for service `{service}`"),
                        help,
                    ));
                    break;
                };
                if model.operation(&op).is_none() {
                    let help = match did_you_mean(&op, model.operations.keys().map(String::as_str))
                    {
                        Some(s) => format!("did you mean scenarios/{service}/{s}/?"),
                        None => format!("{service} has: {}", model.operation_list()),
                    };
                    errors.push(misplaced(
                        &file,
                        &text,
                        format!("the directory `{op}` is not a {service} operation"),
                        help,
                    ));
                    break;
                }
                let rules = rules.get(&service).unwrap_or(&no_rules);
                match scenario::parse_file(&rel(&file), &text, models, rules, &service, &op) {
                    Ok(mut c) => cases.append(&mut c),
                    Err(mut e) => errors.append(&mut e),
                }
            }
        }
    }
    // Ids name snapshot files and tests: they must be unique across the suite.
    let mut first: HashMap<&str, &Case> = HashMap::new();
    for c in &cases {
        if let Some(prev) = first.get(c.id.as_str()) {
            let text = std::fs::read_to_string(root.parent().unwrap_or(root).join(&c.file))
                .unwrap_or_default();
            errors.push(
                Diagnostic::new(Path::new(&c.file), Arc::from(text.as_str()), span_at(&text, c.line, c.col, c.id.len()), format!("case id `{}` is used twice", c.id))
                    .with_help(format!("ids name tests and snapshots, so they are unique across the suite; the first is at {}:{}", prev.file, prev.line)),
            );
        } else {
            first.insert(&c.id, c);
        }
    }
    if !errors.is_empty() {
        return Err(SuiteError::Scenarios(errors));
    }
    cases.sort_by_key(Case::test_name);
    Ok(cases)
}
