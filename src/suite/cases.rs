//! Every case of a project from its scenario files: each file in a service and operation
//! directory the models know, checked by `scenario`, and ids unique across the suite.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use super::SuiteError;
use super::sources::{Place, ScenarioFile};
use crate::diagnostic::{Diagnostic, did_you_mean, span_at};
use crate::memo::TextMemos;
use crate::model::Model;
use crate::redact::Rules;
use crate::scenario::{self, Case};

/// The cases of every file, sorted by test name; or every problem found in them.
pub(super) fn cases(
    files: &[ScenarioFile],
    models: &BTreeMap<String, Model>,
    rules: &HashMap<String, Rules>,
    memos: Option<&TextMemos>,
) -> Result<Vec<Case>, SuiteError> {
    let no_rules = Rules::default();
    // First, in file order, where each file sits (cheap); then the files placed right are
    // parsed on every core, and the outcomes are taken in file order again, so cases and
    // problems come out as one pass over the files would give them.
    let mut outcomes: Vec<Option<Result<Vec<Case>, Vec<Diagnostic>>>> = Vec::new();
    let mut to_parse: Vec<(usize, &str, &str, &str)> = Vec::new();
    let mut refused: Option<&Place> = None;
    for file in files {
        outcomes.push(None);
        let at = outcomes.len() - 1;
        if refused == Some(&file.place) {
            continue;
        }
        let text = match &file.text {
            Ok(t) => t.as_str(),
            Err(d) => {
                outcomes[at] = Some(Err(vec![(**d).clone()]));
                continue;
            }
        };
        let (service, operation) = match &file.place {
            Place::Operation { service, operation } => (service, operation),
            Place::Root => {
                outcomes[at] = Some(Err(vec![misplaced(
                    file,
                    "a scenario file outside a service and operation directory".into(),
                    "move it to scenarios/<service>/<operation>/".into(),
                )]));
                continue;
            }
            Place::Service(service) => {
                outcomes[at] = Some(Err(vec![misplaced(
                    file,
                    "a scenario file outside an operation directory".into(),
                    format!("move it to scenarios/{service}/<operation>/"),
                )]));
                continue;
            }
        };
        if let Err(d) = placed(file, service, operation, models) {
            outcomes[at] = Some(Err(vec![*d]));
            refused = Some(&file.place);
            continue;
        }
        to_parse.push((at, text, service, operation));
    }
    let parse = |(at, text, service, operation): (usize, &str, &str, &str)| {
        let rel = &files[at].rel;
        if let Some(cases) = memos.and_then(|m| m.recall::<Vec<Case>>(rel, text)) {
            return (at, Ok(cases));
        }
        let rules = rules.get(service).unwrap_or(&no_rules);
        let parsed = scenario::parse_file(rel, text, models, rules, service, operation);
        if let (Some(m), Ok(cases)) = (memos, &parsed) {
            m.keep(rel, text, cases);
        }
        (at, parsed)
    };
    for (at, parsed) in on_every_core(to_parse, |(_, text, _, _)| text.len(), parse) {
        outcomes[at] = Some(parsed);
    }
    // Sized once: grown by doubling, the list would hold up to twice the cases for a moment
    // while every file's own list still holds them too.
    let total = outcomes
        .iter()
        .flatten()
        .map(|o| o.as_ref().map_or(0, Vec::len))
        .sum();
    let mut cases: Vec<Case> = Vec::with_capacity(total);
    let mut errors: Vec<Diagnostic> = Vec::new();
    for outcome in outcomes.into_iter().flatten() {
        match outcome {
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
/// `work` applied to every item, on as many threads as there are cores (at most 4), each
/// taking a run of items of about the same total `size`; the results in no particular order.
fn on_every_core<I: Send, R: Send>(
    items: Vec<I>,
    size: impl Fn(&I) -> usize,
    work: impl Fn(I) -> R + Sync,
) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let total: usize = items.iter().map(&size).sum();
    if threads < 2 || items.len() < 2 {
        return items.into_iter().map(work).collect();
    }
    let share = total.div_ceil(threads).max(1);
    let mut runs: Vec<Vec<I>> = vec![Vec::new()];
    let mut filled = 0;
    for item in items {
        let n = size(&item);
        if filled >= share && runs.len() < threads {
            runs.push(Vec::new());
            filled = 0;
        }
        filled += n;
        runs.last_mut().expect("one run at least").push(item);
    }
    let work = &work;
    std::thread::scope(|scope| {
        let handles: Vec<_> = runs
            .into_iter()
            .map(|run| scope.spawn(move || run.into_iter().map(work).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

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
