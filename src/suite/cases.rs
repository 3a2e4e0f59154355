//! Every case of a project from its scenario files: each file in a service and operation
//! directory the models know, checked by `scenario`, and ids unique across the suite.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use super::SuiteError;
use super::sources::{Place, ScenarioFile};
use crate::diagnostic::{Diagnostic, did_you_mean, span_at};
use crate::model::Model;
use crate::redact::Rules;
use crate::scenario::{self, Case};

/// The cases of every file, sorted by test name; or every problem found in them.
pub(super) fn cases(
    files: &[ScenarioFile],
    models: &BTreeMap<String, Model>,
    rules: &HashMap<String, Rules>,
) -> Result<Vec<Case>, SuiteError> {
    let no_rules = Rules::default();
    let mut cases: Vec<Case> = Vec::new();
    let mut errors: Vec<Diagnostic> = Vec::new();
    // A directory named wrong is said once, at its first file.
    let mut refused: Option<&Place> = None;
    for file in files {
        if refused == Some(&file.place) {
            continue;
        }
        let text = match &file.text {
            Ok(t) => t.as_str(),
            Err(d) => {
                errors.push((**d).clone());
                continue;
            }
        };
        let (service, operation) = match &file.place {
            Place::Operation { service, operation } => (service, operation),
            Place::Root => {
                errors.push(misplaced(
                    file,
                    "a scenario file outside a service and operation directory".into(),
                    "move it to scenarios/<service>/<operation>/".into(),
                ));
                continue;
            }
            Place::Service(service) => {
                errors.push(misplaced(
                    file,
                    "a scenario file outside an operation directory".into(),
                    format!("move it to scenarios/{service}/<operation>/"),
                ));
                continue;
            }
        };
        if let Err(d) = placed(file, service, operation, models) {
            errors.push(*d);
            refused = Some(&file.place);
            continue;
        }
        let rules = rules.get(service).unwrap_or(&no_rules);
        match scenario::parse_file(&file.rel, text, models, rules, service, operation) {
            Ok(mut c) => cases.append(&mut c),
            Err(mut e) => errors.append(&mut e),
        }
    }
    unique_ids(&cases, files, &mut errors);
    if !errors.is_empty() {
        return Err(SuiteError::Scenarios(errors));
    }
    // Each name is made once, not once per comparison.
    cases.sort_by_cached_key(Case::test_name);
    Ok(cases)
}

/// A file's directories must name a modelled service and one of its operations.
fn placed(
    file: &ScenarioFile,
    service: &str,
    op: &str,
    models: &BTreeMap<String, Model>,
) -> Result<(), Box<Diagnostic>> {
    let Some(model) = models.get(service) else {
        let known = models.keys().cloned().collect::<Vec<_>>().join(", ");
        let help = match did_you_mean(service, models.keys().map(String::as_str)) {
            Some(s) => format!("did you mean scenarios/{s}/? models/ holds: {known}"),
            None => format!("add its model to models/, or use one of: {known}"),
        };
        return Err(Box::new(misplaced(
            file,
            format!("no model for service `{service}`"),
            help,
        )));
    };
    if model.operation(op).is_none() {
        let help = match did_you_mean(op, model.operations.keys().map(String::as_str)) {
            Some(s) => format!("did you mean scenarios/{service}/{s}/?"),
            None => format!("{service} has: {}", model.operation_list()),
        };
        return Err(Box::new(misplaced(
            file,
            format!("the directory `{op}` is not a {service} operation"),
            help,
        )));
    }
    Ok(())
}

/// A problem with where a file is rather than what it says: pointed at its start.
fn misplaced(file: &ScenarioFile, msg: String, help: String) -> Diagnostic {
    let text = file.text.as_deref().unwrap_or_default();
    Diagnostic::new(
        Path::new(&file.rel),
        Arc::from(text),
        span_at(text, 1, 1, 0),
        msg,
    )
    .with_help(help)
}

/// The text of each readable file by the name cases give it, for errors found after
/// parsing.
pub(super) fn texts(files: &[ScenarioFile]) -> HashMap<&str, &str> {
    files
        .iter()
        .filter_map(|f| Some((f.rel.as_str(), f.text.as_deref().ok()?)))
        .collect()
}

/// Ids name snapshot files and tests: they must be unique across the suite.
fn unique_ids(cases: &[Case], files: &[ScenarioFile], errors: &mut Vec<Diagnostic>) {
    let texts = texts(files);
    let mut first: HashMap<&str, &Case> = HashMap::new();
    for c in cases {
        let Some(prev) = first.get(c.id.as_str()) else {
            first.insert(&c.id, c);
            continue;
        };
        let text = texts.get(c.file.as_str()).copied().unwrap_or_default();
        errors.push(
            Diagnostic::new(Path::new(&c.file), Arc::from(text), span_at(text, c.line, c.col, c.id.len()), format!("case id `{}` is used twice", c.id))
                .with_help(format!("ids name tests and snapshots, so they are unique across the suite; the first is at {}:{}", prev.file, prev.line)),
        );
    }
}
