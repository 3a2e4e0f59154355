//! Whether a corpus agrees with itself and with what is known of its service
//! (`models/<service>.facts.yaml`): every expected answer says where it comes from, a case is
//! `recorded` only when it cites a recording, every error message follows a known format with
//! that format's code, status and namespace, one code is not spelled two ways, and cases whose
//! requests break the same rule of the same member do not expect different answers.
//! `conform check` prints what this finds and fails on it.

use std::collections::BTreeMap;

use crate::answers::{Answers, ErrorStep};
use crate::coverage;
use crate::facts::{self, Facts, Format};
use crate::scenario::{Case, Provenance};
use crate::suite::Suite;

/// One contradiction, at the case it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The scenario file and the line of the case's id.
    pub file: String,
    pub line: u32,
    pub case: String,
    pub message: String,
    /// What to do about it.
    pub help: String,
}

impl Finding {
    fn at(case: &Case, message: String, help: String) -> Finding {
        Finding {
            file: case.file.clone(),
            line: case.line,
            case: case.test_name(),
            message,
            help,
        }
    }
}

/// A rule of a member: `(service, operation, member, rule label)`.
type RuleKey = (String, String, String, String);

/// Every finding of the suite, case by case in the suite's order; `answers` are the error
/// steps of the suite's snapshots ([`Answers::of_suite`]).
pub fn check(suite: &Suite, answers: &Answers) -> Vec<Finding> {
    let vars = crate::target::default_vars("us-east-1");
    let mut judge = coverage::Judge::default();
    let mut out = Vec::new();
    let mut alike: BTreeMap<RuleKey, Vec<(&Case, String)>> = BTreeMap::new();
    // (service, code) -> the first case that holds it.
    let mut codes: BTreeMap<(String, String), &Case> = BTreeMap::new();
    for (index, case) in suite.cases.iter().enumerate() {
        let Some(facts) = suite.facts.get(&case.service) else {
            continue;
        };
        let find = |message: String, help: &str| Finding::at(case, message, help.to_owned());
        sources(case, facts, &find, &mut out);
        let answers = answers.of(index);
        for a in answers {
            codes
                .entry((case.service.clone(), a.error.code.clone()))
                .or_insert(case);
            answer(a, facts, &find, &mut out);
        }
        // A case that breaks exactly one rule in its first checked step speaks for that rule.
        if let Some(model) = suite.models.get(&case.service) {
            let hits = judge.hits(model, case, &vars);
            let broken: Vec<_> = hits.iter().filter(|h| h.step == 0 && !h.accepted).collect();
            if let ([rule], Some(first)) = (broken.as_slice(), answers.iter().find(|a| a.step == 0))
            {
                let format = facts
                    .format_of(Some(&first.error.code), &first.error.message)
                    .map_or("no known format".to_owned(), |f| f.name().to_owned());
                alike
                    .entry((
                        case.service.clone(),
                        rule.operation.clone(),
                        rule.member.clone(),
                        rule.label.clone(),
                    ))
                    .or_default()
                    .push((case, format!("{} in {format}", first.error.code)));
            }
        }
    }
    for ((_, op, member, rule), cases) in &alike {
        // The answer most of them expect speaks for the rule; the others are the odd ones.
        let mut votes: BTreeMap<&str, (usize, &Case)> = BTreeMap::new();
        for (case, answer) in cases {
            votes.entry(answer.as_str()).or_insert((0, case)).0 += 1;
        }
        let Some((expected, (_, first))) = votes.iter().max_by_key(|(_, (n, _))| *n) else {
            continue;
        };
        for (case, answer) in cases {
            if answer != expected {
                out.push(Finding::at(
                    case,
                    format!(
                        "{op} {member} {rule}: this case expects {answer}, but {} expects {expected} for the same rule",
                        first.id
                    ),
                    "alike requests get alike answers: make one expectation follow the other, or say in both sources why they differ and change one request so they are not alike".into(),
                ));
            }
        }
    }
    let spelled: Vec<_> = codes.iter().collect();
    for (i, ((service, a), _)) in spelled.iter().enumerate() {
        for ((other_service, b), case) in &spelled[i + 1..] {
            let distinct = suite.facts.get(service).is_some_and(|f| f.distinct(a, b));
            if service == other_service && facts::same_code_word(a, b) && !distinct {
                out.push(Finding::at(
                    case,
                    format!("the error code is spelled `{b}` here and `{a}` elsewhere"),
                    format!(
                        "use one spelling, or declare both in `distinct_codes` of models/{service}.facts.yaml with the source that shows they differ"
                    ),
                ));
            }
        }
    }
    out
}

fn sources(
    case: &Case,
    facts: &Facts,
    find: &dyn Fn(String, &str) -> Finding,
    out: &mut Vec<Finding>,
) {
    let source = case.source.as_deref().unwrap_or("").trim();
    if source.is_empty() {
        out.push(find(
            format!(
                "the case is {} but says nothing of where its expected answer comes from",
                case.provenance
            ),
            "write `source`: the recording ([R:id] ...), the document, or the rule the answer is inferred by",
        ));
        return;
    }
    let mut cites = false;
    for id in facts::citations(source) {
        cites = true;
        if !facts.recordings.contains_key(id) {
            let known: Vec<&str> = facts.recordings.keys().map(String::as_str).collect();
            let help = match crate::diagnostic::did_you_mean(id, known.iter().copied()) {
                Some(k) => format!("did you mean `[R:{k}]`?"),
                None => format!("cite one of: {}", known.join(", ")),
            };
            out.push(find(
                format!("`[R:{id}]` is no recording of {}", facts.file),
                &help,
            ));
        }
    }
    if case.provenance == Provenance::Recorded && !cites {
        out.push(find(
            "a recorded case cites no recording".into(),
            &format!(
                "cite the recording its answer comes from as [R:id] (ids in {}), or call it documented or inferred",
                facts.file
            ),
        ));
    }
}

fn answer(
    a: &ErrorStep,
    facts: &Facts,
    find: &dyn Fn(String, &str) -> Finding,
    out: &mut Vec<Finding>,
) {
    let step = a.step + 1;
    let Some(format) = facts.format_of(Some(&a.error.code), &a.error.message) else {
        out.push(find(
            format!(
                "step {step}: the message of {} follows no template: {}",
                a.error.code, a.error.message
            ),
            &format!(
                "add a template to {} with where it comes from, or make the message follow one",
                facts.file
            ),
        ));
        return;
    };
    let (code, status, namespace) = match &format {
        Format::Validation => {
            let v = facts
                .validation
                .as_ref()
                .expect("a validation format matched");
            (
                v.spec.code.as_str(),
                v.spec.status,
                facts.namespace.as_str(),
            )
        }
        Format::Template(t) => (
            t.code.as_str(),
            t.status,
            t.namespace.as_deref().unwrap_or(&facts.namespace),
        ),
    };
    let name = format.name();
    if code != a.error.code {
        out.push(find(
            format!("step {step}: the message is {name}'s, whose code is {code}, but the answer says {}", a.error.code),
            "one message, one code: change the code, or the message if the code is the one known",
        ));
    }
    if status != a.status {
        out.push(find(
            format!(
                "step {step}: {name} answers HTTP {status}, the snapshot says {}",
                a.status
            ),
            "change the status, or the template if a recording shows otherwise",
        ));
    }
    if namespace != a.error.namespace {
        out.push(find(
            format!("step {step}: {name}'s error document is in namespace {namespace}, the snapshot's in {}", a.error.namespace),
            "change the snapshot's xmlns, or the template's namespace if a recording shows otherwise",
        ));
    }
}
