//! Scenario files: YAML in, typed and model-checked [`Case`]s out. Every problem is a
//! [`Diagnostic`] anchored at the file, line and column where it was written.
//!
//! `raw` reads the YAML and keeps the place of every node; the [`Checker`] turns that into
//! the types of `case`, one part of a case per module (`check`: a case's own fields and the
//! order of its steps, `step`, `params`, `credentials`, `capture`, `pin`), and collects
//! every problem of a file rather than stopping at the first.

mod capture;
mod case;
mod check;
mod credentials;
mod params;
mod pin;
mod raw;
mod step;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

pub use case::{
    Capture, Case, CredentialsSpec, Kind, ParamValue, Provenance, RawRequest, Request, Role, Step,
};

use crate::diagnostic::{Diagnostic, Span, span_at, yaml_error};
use crate::model::Model;
use crate::redact::Rules;
use crate::template::Template;

/// Parses one scenario file. `rel` is the path shown in errors and reports; `service` and
/// `operation` come from the directory the file is in, and `rules` are that service's
/// redaction rules (what a case may pin).
pub fn parse_file(
    rel: &str,
    text: &str,
    models: &BTreeMap<String, Model>,
    rules: &Rules,
    service: &str,
    operation: &str,
) -> Result<Vec<Case>, Vec<Diagnostic>> {
    let checker = Checker {
        file: Path::new(rel),
        source: Arc::from(text),
        model: &models[service],
        models,
        rules,
    };
    let mut cases = Vec::new();
    let mut errors = Vec::new();
    // Each case is checked as soon as it is read; a YAML mistake anywhere in the file is
    // the file's only problem, as when the whole file was read first.
    let read = raw::read_cases(text, &mut |rc| match checker.case(rc, operation) {
        Ok(c) => cases.push(c),
        Err(mut e) => errors.append(&mut e),
    });
    if let Err(e) = read {
        return Err(vec![checker.yaml_error(&e)]);
    }
    if cases.is_empty() && errors.is_empty() {
        errors.push(
            checker
                .err(span_at(text, 1, 1, 0), "the file holds no cases")
                .with_help("add at least one entry under `cases:`"),
        );
    }
    if errors.is_empty() {
        Ok(cases)
    } else {
        Err(errors)
    }
}

/// What checking one file needs: where it is, its text (for the excerpt under each error),
/// the models it may call and its service's redaction rules.
struct Checker<'a> {
    file: &'a Path,
    source: Arc<str>,
    /// The case's service.
    model: &'a Model,
    models: &'a BTreeMap<String, Model>,
    /// The case's service's redaction rules.
    rules: &'a Rules,
}

impl Checker<'_> {
    fn err(&self, span: Span, msg: impl Into<String>) -> Diagnostic {
        Diagnostic::new(self.file, self.source.clone(), span, msg)
    }

    fn yaml_error(&self, e: &serde_saphyr::Error) -> Diagnostic {
        let d = yaml_error(self.file, self.source.clone(), e);
        let help = if d.message.contains("unknown field") {
            "check the spelling; scenarios/README.md lists every field"
        } else if d.message.contains("missing field") {
            "add the field; scenarios/README.md says what each case and step needs"
        } else {
            "fix the YAML at that place; scenarios/README.md shows the format"
        };
        d.with_help(help)
    }

    fn template(&self, text: &str, span: Span, errors: &mut Vec<Diagnostic>) -> Option<Template> {
        match Template::parse(text) {
            Ok(t) => Some(t),
            Err(e) => {
                errors.push(
                    self.err(span, e.to_string())
                        .with_help("variables are written `{{name}}`"),
                );
                None
            }
        }
    }
}

/// What the unit tests of the checker share: the repository's models and STS's rules, and
/// a file's problems as `line:col: message` (with the hint, when one is asked for).
#[cfg(test)]
mod testing {
    use std::collections::BTreeMap;
    use std::path::Path;
    use std::sync::OnceLock;

    use super::{Case, parse_file};
    use crate::model::Model;
    use crate::redact::Rules;

    fn models() -> &'static BTreeMap<String, Model> {
        static MODELS: OnceLock<BTreeMap<String, Model>> = OnceLock::new();
        MODELS.get_or_init(|| {
            [
                include_str!("../../../../models/sts-2011-06-15.json"),
                include_str!("../../../../models/iam-2010-05-08.json"),
            ]
            .into_iter()
            .map(|json| {
                let m = Model::from_json(json, Path::new("model.json")).expect("a model");
                (m.service.clone(), m)
            })
            .collect()
        })
    }

    fn rules() -> &'static Rules {
        static RULES: OnceLock<Rules> = OnceLock::new();
        RULES.get_or_init(|| {
            Rules::parse(
                include_str!("../../../../models/sts.redact.yaml"),
                "sts.redact.yaml",
            )
            .expect("the repository's rules")
        })
    }

    /// The cases of a file of `sts/<operation>/`, or its problems.
    pub fn load(operation: &str, yaml: &str) -> Result<Vec<Case>, Vec<String>> {
        parse_file("a.yaml", yaml, models(), rules(), "sts", operation).map_err(|ds| {
            ds.iter()
                .map(|d| {
                    let at = format!("{}:{}: {}", d.span.line, d.span.col, d.message);
                    match &d.help {
                        Some(h) => format!("{at} (help: {h})"),
                        None => at,
                    }
                })
                .collect()
        })
    }

    /// The problems of a file, which must have some.
    pub fn problems(operation: &str, yaml: &str) -> Vec<String> {
        match load(operation, yaml) {
            Ok(cases) => panic!("loaded {} case(s), but the file is wrong", cases.len()),
            Err(p) => p,
        }
    }

    /// A case around `steps` (written at the indentation of a case's fields).
    pub fn case_with(steps: &str) -> String {
        format!(
            "cases:\n  - id: c\n    kind: limit\n    provenance: documented\n    description: d\n{steps}"
        )
    }

    /// Whether `problems` holds one that starts with `line:col:` and contains `says`.
    #[track_caller]
    pub fn assert_problem(problems: &[String], at: &str, says: &str) {
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with(&format!("{at}: ")) && p.contains(says)),
            "no problem at {at} saying {says:?} in:\n{}",
            problems.join("\n")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{assert_problem, case_with, load, problems};

    #[test]
    fn broken_yaml_is_pointed_at_where_the_parser_stopped() {
        let p = problems("GetCallerIdentity", "cases:\n  - id: 'c\n    kind: limit\n");
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].starts_with("2:9: unclosed quote"), "{p:?}");
        assert!(p[0].contains("fix the YAML at that place"), "{p:?}");
    }

    #[test]
    fn unknown_and_missing_fields_name_the_field_and_what_to_do() {
        let p = problems(
            "GetCallerIdentity",
            "cases:\n  - id: c\n    kidn: limit\n    steps: []\n",
        );
        assert_problem(&p, "3:5", "unknown field `kidn`");
        assert_problem(&p, "3:5", "check the spelling");
        let p = problems(
            "GetCallerIdentity",
            "cases:\n  - id: c\n    kind: limit\n    provenance: documented\n    steps:\n      - {}\n",
        );
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].contains("missing field `description`"), "{p:?}");
        assert!(p[0].contains("add the field"), "{p:?}");
    }

    #[test]
    fn a_list_where_a_mapping_belongs_says_so_in_our_words() {
        let p = problems("GetCallerIdentity", "cases:\n  id: c\n");
        assert_problem(&p, "2:3", "expected a list here (items start with `- `)");
    }

    #[test]
    fn a_file_without_cases_is_refused_at_its_start() {
        let p = problems("GetCallerIdentity", "cases: []\n");
        assert_eq!(
            p,
            ["1:1: the file holds no cases (help: add at least one entry under `cases:`)"]
        );
    }

    #[test]
    fn a_good_file_loads_every_case_in_order() {
        let step = "    steps:\n      - operation: GetCallerIdentity\n";
        let yaml = format!(
            "{}  - id: second\n    kind: flow\n    provenance: recorded\n    description: ' two '\n{step}",
            case_with(step)
        );
        let cases = load("GetCallerIdentity", &yaml).unwrap();
        let ids: Vec<&str> = cases.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["c", "second"]);
        assert_eq!((cases[1].line, cases[1].col), (8, 9));
        assert_eq!(cases[1].description, "two");
        assert_eq!(cases[0].file, "a.yaml");
    }
}
