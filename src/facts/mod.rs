//! What is known of how a service answers, as data (`models/<service>.facts.yaml`): the
//! recordings a corpus may cite, the validation message format, the other message templates
//! (each with how it is known), codes that look alike but are distinct, and which element
//! orders are recorded rather than only documented. The expected-answer author
//! (`cargo xtask expect`) writes messages from it; the consistency check reads answers
//! against it.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use regex::Regex;
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::deviation::{Kind, NotJudged};
use crate::diagnostic::{Diagnostic, did_you_mean, span_at};
use crate::scenario::Provenance;

/// One service's facts.
#[derive(Debug, Clone)]
pub struct Facts {
    pub service: String,
    /// The file, as given to `load`, for messages.
    pub file: String,
    /// The namespace of the service's error documents, unless a template says otherwise.
    pub namespace: String,
    pub recordings: BTreeMap<String, Recording>,
    pub validation: Option<Validation>,
    pub templates: Vec<Template>,
    /// Groups of codes that differ only in case or an `Exception` suffix and are still
    /// distinct codes of the service.
    pub distinct_codes: Vec<Vec<String>>,
    pub order: Vec<Order>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recording {
    pub what: String,
    #[serde(rename = "where")]
    pub location: String,
}

/// The format of a refusal for a model constraint, and a matcher of its messages.
#[derive(Debug, Clone)]
pub struct Validation {
    pub spec: ValidationSpec,
    matcher: Regex,
}

/// A violated constraint, for [`Validation::message`].
#[derive(Debug, Clone)]
pub struct Violation {
    /// The lowerCamel wire path (`roleSessionName`, `tags.1.member.key`).
    pub member: String,
    /// None: the member is missing.
    pub value: Option<String>,
    /// A rule name of the validation format (`max_length`) and its arguments (`max` = `64`).
    pub rule: &'static str,
    pub args: Vec<(&'static str, String)>,
}

#[derive(Debug, Clone)]
pub struct Template {
    pub id: String,
    pub code: String,
    pub status: u16,
    /// With `{name}` where a value goes.
    pub message: String,
    pub namespace: Option<String>,
    pub provenance: Provenance,
    pub source: String,
    matcher: Regex,
}

/// An element order: recorded (an emulator is judged on it) or only documented (it is not).
#[derive(Debug, Clone)]
pub struct Order {
    /// A glob over element paths, as not-judged rules write them.
    pub path: String,
    pub provenance: Provenance,
    pub source: String,
}

/// How an error message was recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format<'a> {
    Validation,
    Template(&'a Template),
}

impl Format<'_> {
    pub fn name(&self) -> &str {
        match self {
            Format::Validation => "the validation format",
            Format::Template(t) => &t.id,
        }
    }
}

impl PartialEq for Template {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}
impl Eq for Template {}

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
}

/// `validation` as the facts file writes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidationSpec {
    /// Whether the offending value is quoted in the message.
    pub echoes_value: bool,
    pub code: String,
    pub status: u16,
    pub one: String,
    pub several: String,
    pub separator: String,
    pub violation: String,
    pub missing: String,
    pub rules: BTreeMap<String, String>,
    /// Where each rule's wording comes from: recordings cited `[R:id]`, and what is inferred.
    pub recorded: Vec<String>,
    pub inferred: String,
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

/// The ids of the `[R:id]` citations in a text.
pub fn citations(text: &str) -> impl Iterator<Item = &str> {
    text.match_indices("[R:").filter_map(move |(i, _)| {
        let rest = &text[i + 3..];
        let end = rest.find([']', ' '])?;
        Some(&rest[..end])
    })
}

/// What to write instead of `[R:id]` when `id` is none of `recordings`, or None when it is one.
pub fn unknown_citation(recordings: &BTreeMap<String, Recording>, id: &str) -> Option<String> {
    if recordings.contains_key(id) {
        return None;
    }
    let ids: Vec<&str> = recordings.keys().map(String::as_str).collect();
    Some(match did_you_mean(id, ids.iter().copied()) {
        Some(s) => format!("did you mean `[R:{s}]`?"),
        None => format!("cite one of: {}", ids.join(", ")),
    })
}

/// A template as a regex fragment: literal text escaped, each `{name}` slot the fragment
/// given for it, or a lazy wildcard.
fn pattern(template: &str, fragments: &[(&str, &str)]) -> Result<String, String> {
    let mut re = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let name = &rest[open + 1..open + close];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("`{{{name}}}` is not a slot: write `{{name}}`"));
        }
        re.push_str(&regex::escape(&rest[..open]));
        match fragments.iter().find(|(n, _)| *n == name) {
            Some((_, f)) => re.push_str(f),
            None => re.push_str(".*?"),
        }
        rest = &rest[open + close + 1..];
    }
    re.push_str(&regex::escape(rest));
    Ok(re)
}

/// A message follows the template when the whole of it matches.
fn template_regex(message: &str) -> Result<Regex, String> {
    Regex::new(&format!("^(?s:{})$", pattern(message, &[])?)).map_err(|e| e.to_string())
}

/// Any message of the validation format: one violation or several, each with one of the
/// format's rules or the missing form.
fn validation_regex(v: &ValidationSpec) -> Result<Regex, String> {
    let rules = v
        .rules
        .values()
        .map(|r| pattern(r, &[]))
        .collect::<Result<Vec<_>, _>>()?
        .join("|");
    let one = format!(
        "(?:{}|{})",
        pattern(&v.violation, &[("rule", &format!("(?:{rules})"))])?,
        pattern(&v.missing, &[])?
    );
    let many = format!("{one}(?:{}{one})+", regex::escape(&v.separator));
    let head_one = pattern(&v.one, &[("violation", &one)])?;
    let head_many = pattern(&v.several, &[("count", "[0-9]+"), ("violations", &many)])?;
    Regex::new(&format!("^(?s:{head_one}|{head_many})$")).map_err(|e| e.to_string())
}

fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = template.to_owned();
    for (k, v) in args {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

fn provenance(s: &str) -> Option<Provenance> {
    match s {
        "recorded" => Some(Provenance::Recorded),
        "documented" => Some(Provenance::Documented),
        "inferred" => Some(Provenance::Inferred),
        _ => None,
    }
}

impl Validation {
    /// The whole message for these violations, in the order given.
    pub fn message(&self, violations: &[Violation]) -> String {
        let parts: Vec<String> = violations
            .iter()
            .map(|v| match &v.value {
                None => fill(&self.spec.missing, &[("member", &v.member)]),
                Some(value) => {
                    let args: Vec<(&str, &str)> =
                        v.args.iter().map(|(k, a)| (*k, a.as_str())).collect();
                    let rule = fill(
                        self.spec.rules.get(v.rule).map_or("", String::as_str),
                        &args,
                    );
                    let value = if self.spec.echoes_value {
                        value.as_str()
                    } else {
                        ""
                    };
                    fill(
                        &self.spec.violation,
                        &[("value", value), ("member", &v.member), ("rule", &rule)],
                    )
                }
            })
            .collect();
        if parts.len() == 1 {
            fill(&self.spec.one, &[("violation", &parts[0])])
        } else {
            let count = parts.len().to_string();
            let joined = parts.join(&self.spec.separator);
            fill(
                &self.spec.several,
                &[("count", &count), ("violations", &joined)],
            )
        }
    }

    pub fn has_rule(&self, rule: &str) -> bool {
        self.spec.rules.contains_key(rule)
    }
}

impl Template {
    pub fn render(&self, args: &[(&str, &str)]) -> String {
        fill(&self.message, args)
    }
}

impl Facts {
    pub fn load(path: &Path, service: &str) -> Result<Facts, Vec<Diagnostic>> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            vec![Diagnostic::new(
                path,
                Arc::from(""),
                span_at("", 1, 1, 0),
                format!("cannot read the facts file: {e}"),
            )]
        })?;
        Self::parse(&text, path, service)
    }

    pub fn parse(text: &str, path: &Path, service: &str) -> Result<Facts, Vec<Diagnostic>> {
        let source: Arc<str> = Arc::from(text);
        let at = |line: usize, col: usize, msg: String, help: &str| {
            Diagnostic::new(
                path,
                source.clone(),
                span_at(text, line.max(1) as u32, col.max(1) as u32, 1),
                msg,
            )
            .with_help(help.to_owned())
        };
        let raw: RawFacts = serde_saphyr::from_str(text).map_err(|e| {
            let (line, col) = e
                .location()
                .map_or((1, 1), |l| (l.line() as usize, l.column() as usize));
            vec![at(
                line,
                col,
                e.to_string().lines().next().unwrap_or("").to_owned(),
                "fix the YAML there; the comment at the top of the file says what each part holds",
            )]
        })?;
        let mut errors = Vec::new();
        let cited = |text: &str, line: usize, col: usize, errors: &mut Vec<Diagnostic>| {
            for id in citations(text) {
                if let Some(help) = unknown_citation(&raw.recordings, id) {
                    errors.push(at(line, col, format!("`[R:{id}]` is no recording"), &help));
                }
            }
        };
        let validation = match raw.validation {
            None => None,
            Some(v) => {
                let (line, col) = (v.referenced.line() as usize, v.referenced.column() as usize);
                let v = v.value;
                for r in &v.recorded {
                    cited(r, line, col, &mut errors);
                }
                if v.inferred.trim().is_empty() {
                    errors.push(at(line, col, "the validation format does not say which of its parts are inferred".into(), "write `inferred`: the rules and forms no recording shows, and why they are believed"));
                }
                if citations(&v.recorded.join(" ")).next().is_none() {
                    errors.push(at(
                        line,
                        col,
                        "the validation format cites no recording".into(),
                        "list the recorded answers it rests on in `recorded`, each `[R:id] ...`",
                    ));
                }
                match validation_regex(&v) {
                    Ok(matcher) => Some(Validation { spec: v, matcher }),
                    Err(e) => {
                        errors.push(at(
                            line,
                            col,
                            format!("validation: {e}"),
                            "slots are `{name}`",
                        ));
                        None
                    }
                }
            }
        };
        let mut templates: Vec<Template> = Vec::new();
        for t in raw.templates {
            let (line, col) = (t.referenced.line() as usize, t.referenced.column() as usize);
            let t = t.value;
            if templates.iter().any(|o| o.id == t.id) {
                errors.push(at(
                    line,
                    col,
                    format!("template `{}` is defined twice", t.id),
                    "give each template its own id",
                ));
            }
            cited(&t.source, line, col, &mut errors);
            let Some(p) = provenance(&t.provenance) else {
                errors.push(at(
                    line,
                    col,
                    format!(
                        "provenance `{}` is not recorded, documented or inferred",
                        t.provenance
                    ),
                    "say how the template is known",
                ));
                continue;
            };
            if p == Provenance::Recorded && citations(&t.source).next().is_none() {
                errors.push(at(
                    line,
                    col,
                    format!(
                        "template `{}` is recorded but its source cites no recording",
                        t.id
                    ),
                    "cite one as `[R:id] which answer`, or call it documented or inferred",
                ));
            }
            if t.source.trim().is_empty() {
                errors.push(at(
                    line,
                    col,
                    format!("template `{}` says nothing of where it comes from", t.id),
                    "write its `source`: a recording, a document, or the rule it is inferred by",
                ));
            }
            match template_regex(&t.message) {
                Ok(matcher) => templates.push(Template {
                    id: t.id,
                    code: t.code,
                    status: t.status,
                    message: t.message,
                    namespace: t.namespace,
                    provenance: p,
                    source: t.source,
                    matcher,
                }),
                Err(e) => errors.push(at(
                    line,
                    col,
                    format!("template `{}`: {e}", t.id),
                    "slots are `{name}`",
                )),
            }
        }
        let mut distinct_codes = Vec::new();
        for d in raw.distinct_codes {
            let (line, col) = (d.referenced.line() as usize, d.referenced.column() as usize);
            cited(&d.value.source, line, col, &mut errors);
            if d.value.codes.len() < 2 {
                errors.push(at(
                    line,
                    col,
                    "a group of distinct codes names at least two".into(),
                    "list the codes that look alike",
                ));
            }
            distinct_codes.push(d.value.codes);
        }
        let mut order = Vec::new();
        for o in raw.order {
            let (line, col) = (o.referenced.line() as usize, o.referenced.column() as usize);
            let o = o.value;
            cited(&o.source, line, col, &mut errors);
            match provenance(&o.provenance) {
                Some(p @ (Provenance::Recorded | Provenance::Documented)) => order.push(Order {
                    path: o.path,
                    provenance: p,
                    source: o.source,
                }),
                _ => errors.push(at(
                    line,
                    col,
                    format!("an order is recorded or documented, not `{}`", o.provenance),
                    "an order nobody recorded or documented is not a fact: leave it out",
                )),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
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
        })
    }

    pub fn template(&self, id: &str) -> Option<&Template> {
        self.templates.iter().find(|t| t.id == id)
    }

    /// How `message` is formed: the validation format, or the first template whose text it
    /// follows (for `code`, when given, a template of that code first).
    pub fn format_of(&self, code: Option<&str>, message: &str) -> Option<Format<'_>> {
        if let Some(v) = &self.validation
            && code.is_none_or(|c| c == v.spec.code)
            && v.matcher.is_match(message)
        {
            return Some(Format::Validation);
        }
        let follows = |t: &&Template| t.matcher.is_match(message);
        self.templates
            .iter()
            .filter(|t| code.is_none_or(|c| c == t.code))
            .find(follows)
            .or_else(|| self.templates.iter().find(follows))
            .map(Format::Template)
    }

    /// Whether two different codes are declared distinct.
    pub fn distinct(&self, a: &str, b: &str) -> bool {
        self.distinct_codes
            .iter()
            .any(|g| g.iter().any(|c| c == a) && g.iter().any(|c| c == b))
    }

    /// The element orders that are only documented, not recorded.
    pub fn documented_orders(&self) -> impl Iterator<Item = &Order> {
        self.order
            .iter()
            .filter(|o| o.provenance == Provenance::Documented)
    }

    /// What a snapshot holding a result says of its order, when the service's result order
    /// is only documented.
    pub fn order_note(&self) -> Option<String> {
        self.documented_orders().next().map(|o| {
            format!(
                "; element order of results: documented ({}), not recorded",
                o.source
            )
        })
    }

    /// Element orders that are only documented: rules that leave such order deviations
    /// unjudged for every target, since no target can be wrong against an order AWS is not
    /// known to use.
    pub fn not_judged(&self) -> Vec<NotJudged> {
        self.documented_orders()
            .map(|o| NotJudged {
                kind: Some(Kind::ElementOrder),
                path: Some(o.path.clone()),
                case: Some(format!("{}::*", self.service)),
                reason: format!(
                    "{}: element order documented, not recorded ({})",
                    self.service, o.source
                ),
            })
            .collect()
    }
}

/// Two spellings of one code: the same letters apart from case and an `Exception` suffix.
pub fn same_code_word(a: &str, b: &str) -> bool {
    let key = |s: &str| {
        let l = s.to_ascii_lowercase();
        l.strip_suffix("exception").map(str::to_owned).unwrap_or(l)
    };
    a != b && key(a) == key(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FACTS: &str = r#"
namespace: https://sts.amazonaws.com/doc/2011-06-15/
recordings:
  r1: {what: answers, where: somewhere}
validation:
  echoes_value: true
  code: ValidationError
  status: 400
  one: '1 validation error detected: {violation}'
  several: '{count} validation errors detected: {violations}'
  separator: '; '
  violation: "Value '{value}' at '{member}' failed to satisfy constraint: Member must {rule}"
  missing: "Value null at '{member}' failed to satisfy constraint: Member must not be null"
  rules:
    max_length: have length less than or equal to {max}
    pattern: 'satisfy regular expression pattern: {pattern}'
  recorded: ['[R:r1] the max_length rule']
  inferred: the rest
templates:
  - id: invalid-arn
    code: ValidationError
    status: 400
    message: '{value} is invalid'
    provenance: recorded
    source: '[R:r1] malformed RoleArn'
  - id: invalid-action
    code: InvalidAction
    status: 400
    message: Could not find operation {operation} for version {version}
    namespace: http://webservices.amazon.com/AWSFault/2005-15-09
    provenance: inferred
    source: the rule
distinct_codes:
  - codes: [ExpiredToken, ExpiredTokenException]
    source: documented as two codes
order:
  - path: '*Response/*Result/**'
    provenance: documented
    source: the API reference's examples
"#;

    fn facts() -> Facts {
        Facts::parse(FACTS, Path::new("models/sts.facts.yaml"), "sts").unwrap()
    }

    #[test]
    fn validation_messages_are_written_and_recognised_in_one_format() {
        let f = facts();
        let v = f.validation.as_ref().unwrap();
        let one = v.message(&[Violation {
            member: "roleSessionName".into(),
            value: Some("s".repeat(65)),
            rule: "max_length",
            args: vec![("max", "64".into())],
        }]);
        assert_eq!(
            one,
            format!(
                "1 validation error detected: Value '{}' at 'roleSessionName' failed to satisfy constraint: Member must have length less than or equal to 64",
                "s".repeat(65)
            )
        );
        assert_eq!(
            f.format_of(Some("ValidationError"), &one),
            Some(Format::Validation)
        );
        let two = v.message(&[
            Violation {
                member: "roleArn".into(),
                value: None,
                rule: "",
                args: vec![],
            },
            Violation {
                member: "policy".into(),
                value: Some("x".into()),
                rule: "pattern",
                args: vec![("pattern", "[a]+".into())],
            },
        ]);
        assert!(
            two.starts_with("2 validation errors detected: Value null at 'roleArn'"),
            "{two}"
        );
        assert_eq!(f.format_of(None, &two), Some(Format::Validation));
        // A rule the format does not have is no validation message.
        let odd = "1 validation error detected: Value 'x' at 'a' failed to satisfy constraint: Member must be nice";
        assert_eq!(f.format_of(None, odd), None);
    }

    #[test]
    fn templates_match_whole_messages_and_prefer_their_code() {
        let f = facts();
        let arn = f
            .format_of(Some("ValidationError"), "arn:a:::x is invalid")
            .unwrap();
        assert_eq!(arn.name(), "invalid-arn");
        assert!(f.format_of(None, "arn is invalid, really").is_none());
        let action = f
            .format_of(
                Some("InvalidAction"),
                "Could not find operation GetCallerIdentity for version NO_VERSION_SPECIFIED",
            )
            .unwrap();
        assert_eq!(action.name(), "invalid-action");
        // The message alone still names the template a wrong code was given with.
        assert_eq!(
            f.format_of(Some("Nope"), "x is invalid").unwrap().name(),
            "invalid-arn"
        );
    }

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

    #[test]
    fn documented_orders_become_rules_for_every_target() {
        let rules = facts().not_judged();
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].kind, Some(Kind::ElementOrder));
        assert_eq!(rules[0].case.as_deref(), Some("sts::*"));
        assert!(same_code_word("ExpiredToken", "ExpiredTokenException"));
        assert!(!same_code_word("ExpiredToken", "ExpiredToken"));
        assert!(facts().distinct("ExpiredTokenException", "ExpiredToken"));
    }
}
