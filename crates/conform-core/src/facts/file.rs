//! The facts file read from its text: the YAML shape, then every mistake found at once,
//! each at the line of the entry it is in. No file access: the runner crate reads the file.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::diagnostic::{Diagnostic, span_at, yaml_error};
use crate::scenario::Provenance;

use super::recording::{Recording, citations, unknown_citation};
use super::{Beyond, Facts, Order, Template, Validation, ValidationSpec, template, validation};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFacts {
    namespace: String,
    #[serde(default)]
    recordings: BTreeMap<String, Recording>,
    validation: Option<Spanned<ValidationSpec>>,
    #[serde(default)]
    templates: Vec<Spanned<RawTemplate>>,
    #[serde(default)]
    distinct_codes: Vec<Spanned<RawDistinct>>,
    #[serde(default)]
    order: Vec<Spanned<RawOrder>>,
    #[serde(default)]
    beyond_requests: Vec<Spanned<RawBeyond>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBeyond {
    code: String,
    /// Only for these operations; every operation when absent.
    #[serde(default)]
    operations: Vec<String>,
    why: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTemplate {
    id: String,
    code: String,
    status: u16,
    message: String,
    namespace: Option<String>,
    provenance: String,
    source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDistinct {
    codes: Vec<String>,
    source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOrder {
    path: String,
    provenance: String,
    source: String,
}

/// Line and column of an entry, where its mistakes are reported.
type At = (usize, usize);

fn at<T>(s: &Spanned<T>) -> At {
    (s.referenced.line() as usize, s.referenced.column() as usize)
}

fn provenance(s: &str) -> Option<Provenance> {
    match s {
        "recorded" => Some(Provenance::Recorded),
        "documented" => Some(Provenance::Documented),
        "inferred" => Some(Provenance::Inferred),
        _ => None,
    }
}

/// The file being read, for pointing at its lines.
struct Site<'a> {
    path: &'a Path,
    text: &'a str,
    source: Arc<str>,
}

impl Site<'_> {
    fn diagnostic(&self, (line, col): At, message: String, help: &str) -> Diagnostic {
        Diagnostic::new(
            self.path,
            self.source.clone(),
            span_at(self.text, line.max(1) as u32, col.max(1) as u32, 1),
            message,
        )
        .with_help(help.to_owned())
    }
}

/// The mistakes found so far, and the recordings citations must name.
struct Findings<'a> {
    site: Site<'a>,
    recordings: &'a BTreeMap<String, Recording>,
    errors: Vec<Diagnostic>,
}

impl Findings<'_> {
    fn push(&mut self, at: At, message: String, help: &str) {
        let d = self.site.diagnostic(at, message, help);
        self.errors.push(d);
    }

    /// Every `[R:id]` in `text` must name a recording.
    fn cited(&mut self, text: &str, at: At) {
        for id in citations(text) {
            if let Some(help) = unknown_citation(self.recordings, id) {
                self.push(at, format!("`[R:{id}]` is no recording"), &help);
            }
        }
    }

    fn validation(&mut self, v: Spanned<ValidationSpec>) -> Option<Validation> {
        let at = at(&v);
        let v = v.value;
        for r in &v.recorded {
            self.cited(r, at);
        }
        if v.inferred.trim().is_empty() {
            self.push(at, "the validation format does not say which of its parts are inferred".into(), "write `inferred`: the rules and forms no recording shows, and why they are believed");
        }
        if citations(&v.recorded.join(" ")).next().is_none() {
            self.push(
                at,
                "the validation format cites no recording".into(),
                "list the recorded answers it rests on in `recorded`, each `[R:id] ...`",
            );
        }
        match validation::regex(&v) {
            Ok(matcher) => Some(Validation { spec: v, matcher }),
            Err(e) => {
                self.push(at, format!("validation: {e}"), "slots are `{name}`");
                None
            }
        }
    }

    fn templates(&mut self, raw: Vec<Spanned<RawTemplate>>) -> Vec<Template> {
        let mut templates: Vec<Template> = Vec::new();
        for t in raw {
            let at = at(&t);
            let t = t.value;
            if templates.iter().any(|o| o.id == t.id) {
                self.push(
                    at,
                    format!("template `{}` is defined twice", t.id),
                    "give each template its own id",
                );
            }
            if let Some(t) = self.template(t, at) {
                templates.push(t);
            }
        }
        templates
    }

    fn template(&mut self, t: RawTemplate, at: At) -> Option<Template> {
        self.cited(&t.source, at);
        let Some(p) = provenance(&t.provenance) else {
            self.push(
                at,
                format!(
                    "provenance `{}` is not recorded, documented or inferred",
                    t.provenance
                ),
                "say how the template is known",
            );
            return None;
        };
        if p == Provenance::Recorded && citations(&t.source).next().is_none() {
            self.push(
                at,
                format!(
                    "template `{}` is recorded but its source cites no recording",
                    t.id
                ),
                "cite one as `[R:id] which answer`, or call it documented or inferred",
            );
        }
        if t.source.trim().is_empty() {
            self.push(
                at,
                format!("template `{}` says nothing of where it comes from", t.id),
                "write its `source`: a recording, a document, or the rule it is inferred by",
            );
        }
        match template::regex(&t.message) {
            Ok(matcher) => Some(Template {
                id: t.id,
                code: t.code,
                status: t.status,
                message: t.message,
                namespace: t.namespace,
                provenance: p,
                source: t.source,
                matcher,
            }),
            Err(e) => {
                self.push(
                    at,
                    format!("template `{}`: {e}", t.id),
                    "slots are `{name}`",
                );
                None
            }
        }
    }

    fn distinct_codes(&mut self, raw: Vec<Spanned<RawDistinct>>) -> Vec<Vec<String>> {
        let mut groups = Vec::new();
        for d in raw {
            let at = at(&d);
            self.cited(&d.value.source, at);
            if d.value.codes.len() < 2 {
                self.push(
                    at,
                    "a group of distinct codes names at least two".into(),
                    "list the codes that look alike",
                );
            }
            groups.push(d.value.codes);
        }
        groups
    }

    fn orders(&mut self, raw: Vec<Spanned<RawOrder>>) -> Vec<Order> {
        let mut order = Vec::new();
        for o in raw {
            let at = at(&o);
            let o = o.value;
            self.cited(&o.source, at);
            match provenance(&o.provenance) {
                Some(p @ (Provenance::Recorded | Provenance::Documented)) => order.push(Order {
                    path: o.path,
                    provenance: p,
                    source: o.source,
                }),
                _ => self.push(
                    at,
                    format!("an order is recorded or documented, not `{}`", o.provenance),
                    "an order nobody recorded or documented is not a fact: leave it out",
                ),
            }
        }
        order
    }

    fn beyond_requests(&mut self, raw: Vec<Spanned<RawBeyond>>) -> Vec<Beyond> {
        let mut beyond: Vec<Beyond> = Vec::new();
        for b in raw {
            let at = at(&b);
            let b = b.value;
            let overlaps = |o: &Beyond| {
                o.code == b.code
                    && (o.operations.is_empty()
                        || b.operations.is_empty()
                        || o.operations.iter().any(|op| b.operations.contains(op)))
            };
            if beyond.iter().any(overlaps) {
                self.push(
                    at,
                    format!("`{}` is declared beyond a request twice", b.code),
                    "keep one entry per code and operation",
                );
            }
            if b.why.trim().is_empty() {
                self.push(
                    at,
                    format!(
                        "`{}` is declared beyond a request without saying why",
                        b.code
                    ),
                    "write `why`: what brings the error about that no request can",
                );
            }
            beyond.push(Beyond {
                code: b.code,
                operations: b.operations,
                why: b.why,
                line: at.0,
            });
        }
        beyond
    }
}

impl Facts {
    pub fn parse(text: &str, path: &Path, service: &str) -> Result<Facts, Vec<Diagnostic>> {
        let site = Site {
            path,
            text,
            source: Arc::from(text),
        };
        let raw: RawFacts = serde_saphyr::from_str(text).map_err(|e| {
            vec![yaml_error(path, site.source.clone(), &e).with_help(
                "fix the YAML there; the comment at the top of the file says what each part holds",
            )]
        })?;
        let mut found = Findings {
            site,
            recordings: &raw.recordings,
            errors: Vec::new(),
        };
        let validation = raw.validation.and_then(|v| found.validation(v));
        let templates = found.templates(raw.templates);
        let distinct_codes = found.distinct_codes(raw.distinct_codes);
        let order = found.orders(raw.order);
        let beyond_requests = found.beyond_requests(raw.beyond_requests);
        if !found.errors.is_empty() {
            return Err(found.errors);
        }
        Ok(Facts {
            service: service.to_owned(),
            file: path.display().to_string(),
            namespace: raw.namespace,
            recordings: raw.recordings,
            validation,
            templates,
            distinct_codes,
            order,
            beyond_requests,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::tests::FACTS;

    #[test]
    fn mistakes_in_the_file_point_at_their_line() {
        let bad = FACTS.replace(
            "source: '[R:r1] malformed RoleArn'",
            "source: '[R:r2] malformed RoleArn'",
        );
        let errs = Facts::parse(&bad, Path::new("models/sts.facts.yaml"), "sts").unwrap_err();
        let text = errs[0].render();
        assert!(text.contains("`[R:r2]` is no recording"), "{text}");
        assert!(text.contains("did you mean `[R:r1]`"), "{text}");
        assert!(text.contains("models/sts.facts.yaml:"), "{text}");
        let unrecorded = FACTS.replace("source: '[R:r1] malformed RoleArn'", "source: a blog");
        let errs = Facts::parse(&unrecorded, Path::new("f.yaml"), "sts").unwrap_err();
        assert!(
            errs[0]
                .render()
                .contains("is recorded but its source cites no recording")
        );
    }
}
