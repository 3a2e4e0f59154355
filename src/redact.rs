//! Redaction rules (data, one YAML file per service) and the per-case state that applies
//! them: run-dependent values become placeholders that still check their shape, and a value
//! seen twice keeps one numbered placeholder so equalities survive.

use std::collections::HashMap;
use std::path::Path;
use std::time::SystemTime;

use regex::Regex;
use serde::Deserialize;
use serde_saphyr::Spanned;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("cannot read redaction rules {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    /// A mistake in one rule, pointed at the line of its `element:`.
    #[error("{path}:{line}:{col}: {message}")]
    Rule {
        path: String,
        line: usize,
        col: usize,
        message: String,
    },
}

/// The rules of one service.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    elements: Vec<ElementRule>,
    values: Vec<ValueRule>,
}

#[derive(Debug, Clone)]
struct ElementRule {
    /// The `element:` as written: the name a case pins it by.
    element: String,
    /// Path suffix of local names, innermost last (`["Credentials", "AccessKeyId"]`).
    suffix: Vec<String>,
    placeholder: String,
    /// Full-match shape; a `keep` group is kept in the placeholder (a key prefix).
    shape: Option<Regex>,
    secret: bool,
    numbered: bool,
    relative_time: bool,
    /// The element must hold exactly this target variable's value.
    variable: Option<String>,
    /// The same request always gets the same value, so a case that knows it may pin it.
    pinnable: bool,
}

#[derive(Debug, Clone)]
enum ValueMatch {
    /// A target variable's value, e.g. the account id.
    Variable(String),
    Pattern(Regex),
}

#[derive(Debug, Clone)]
struct ValueRule {
    matcher: ValueMatch,
    placeholder: String,
    numbered: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRules {
    #[serde(default)]
    elements: Vec<RawElementRule>,
    #[serde(default)]
    values: Vec<RawValueRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawElementRule {
    element: Spanned<String>,
    placeholder: String,
    shape: Option<String>,
    #[serde(default)]
    secret: bool,
    #[serde(default = "yes")]
    numbered: bool,
    #[serde(default)]
    relative_time: bool,
    variable: Option<String>,
    #[serde(default)]
    pinnable: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawValueRule {
    variable: Option<String>,
    pattern: Option<String>,
    placeholder: String,
    #[serde(default = "yes")]
    numbered: bool,
}

fn yes() -> bool {
    true
}

impl Rules {
    pub fn load(path: &Path) -> Result<Rules, RulesError> {
        let text = std::fs::read_to_string(path).map_err(|source| RulesError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, path: &str) -> Result<Rules, RulesError> {
        let invalid = |message: String| RulesError::Invalid {
            path: path.to_owned(),
            message,
        };
        let raw: RawRules = serde_saphyr::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let mut elements = Vec::new();
        for r in raw.elements {
            let element = r.element.value;
            let at = |message: String| RulesError::Rule {
                path: path.to_owned(),
                line: r.element.referenced.line() as usize,
                col: r.element.referenced.column() as usize,
                message,
            };
            // A pinned value reaches the snapshot as it is: only a value that neither leaks
            // nor moves with the clock or the target may be pinned.
            let unpinnable = if r.secret {
                Some("`secret: true` (a secret never reaches a snapshot)")
            } else if r.relative_time {
                Some("`relative_time: true` (the value moves with the time of the request)")
            } else if r.variable.is_some() {
                Some("a `variable:` (the value is the target's own, checked by equality already)")
            } else {
                None
            };
            if r.pinnable
                && let Some(why) = unpinnable
            {
                return Err(at(format!(
                    "element rule `{element}` is `pinnable: true` but has {why}; remove `pinnable: true` from it"
                )));
            }
            let shape = match r.shape.as_deref() {
                None => None,
                Some(p) => Some(
                    Regex::new(&format!("^(?:{p})$"))
                        .map_err(|e| at(format!("element rule `{element}` has a bad shape `{p}`: {e}; write a regex for the values it stands for")))?,
                ),
            };
            elements.push(ElementRule {
                suffix: element.split('/').map(str::to_owned).collect(),
                element,
                placeholder: r.placeholder,
                shape,
                secret: r.secret,
                numbered: r.numbered,
                relative_time: r.relative_time,
                variable: r.variable,
                pinnable: r.pinnable,
            });
        }
        let mut values = Vec::new();
        for r in raw.values {
            let matcher = match (r.variable, r.pattern) {
                (Some(v), None) => ValueMatch::Variable(v),
                (None, Some(p)) => ValueMatch::Pattern(
                    Regex::new(&p).map_err(|e| invalid(format!("bad pattern `{p}`: {e}")))?,
                ),
                _ => {
                    return Err(invalid(format!(
                        "value rule `{}` needs exactly one of `variable` and `pattern`",
                        r.placeholder
                    )));
                }
            };
            values.push(ValueRule {
                matcher,
                placeholder: r.placeholder,
                numbered: r.numbered,
            });
        }
        Ok(Rules { elements, values })
    }

    /// `(placeholder, variable)` for every rule that stands for a variable's value: the
    /// replay side turns those placeholders back into the value.
    pub fn variable_placeholders(&self) -> Vec<(String, String)> {
        let values = self.values.iter().filter_map(|r| match &r.matcher {
            ValueMatch::Variable(v) => Some((r.placeholder.clone(), v.clone())),
            ValueMatch::Pattern(_) => None,
        });
        let elements = self.elements.iter().filter_map(|r| {
            r.variable
                .as_ref()
                .map(|v| (r.placeholder.clone(), v.clone()))
        });
        values.chain(elements).collect()
    }

    /// What each placeholder's values look like (the first rule that says), for the replay
    /// side to make fresh ones; placeholders that stand for a variable have their value.
    pub fn looks(&self) -> Vec<(&str, Look<'_>)> {
        let mut out: Vec<(&str, Look<'_>)> = Vec::new();
        let elements = self.elements.iter().filter_map(|r| {
            let look = match &r.shape {
                _ if r.variable.is_some() => return None,
                _ if r.relative_time => Look::RelativeTime,
                Some(shape) => Look::Shape(shape),
                None => return None,
            };
            Some((r.placeholder.as_str(), look))
        });
        let values = self.values.iter().filter_map(|r| match &r.matcher {
            ValueMatch::Pattern(re) => Some((r.placeholder.as_str(), Look::Within(re))),
            ValueMatch::Variable(_) => None,
        });
        for (name, look) in elements.chain(values) {
            if !out.iter().any(|(n, _)| *n == name) {
                out.push((name, look));
            }
        }
        out
    }

    /// Whether a case may pin the element rule written `element` (as its `element:` is).
    pub fn check_pin(&self, element: &str) -> Result<(), PinRefusal> {
        let rule = self
            .elements
            .iter()
            .find(|r| r.element == element)
            .ok_or(PinRefusal::Unknown)?;
        let why = if rule.pinnable {
            return Ok(());
        } else if rule.secret {
            "its value is a secret, which never reaches a snapshot".to_owned()
        } else if rule.relative_time {
            "its value moves with the time of the request".to_owned()
        } else if let Some(v) = &rule.variable {
            format!("it already checks that the value is the target's `{v}`")
        } else {
            "its value may change from run to run (the rule does not say `pinnable: true`)"
                .to_owned()
        };
        Err(PinRefusal::NotPinnable(why))
    }

    /// The `element:` of every rule a case may pin, as written.
    pub fn pinnable_elements(&self) -> impl Iterator<Item = &str> {
        self.elements
            .iter()
            .filter(|r| r.pinnable)
            .map(|r| r.element.as_str())
    }

    /// The element names whose text the rules treat as secret (for scrubbing captures).
    pub fn is_secret(&self, path: &[&str]) -> bool {
        self.element_rule(path).is_some_and(|r| r.secret)
    }

    fn element_rule(&self, path: &[&str]) -> Option<&ElementRule> {
        self.elements.iter().find(|r| {
            r.suffix.len() <= path.len()
                && r.suffix
                    .iter()
                    .rev()
                    .zip(path.iter().rev())
                    .all(|(a, b)| a == b)
        })
    }
}

/// What the values a placeholder stands for look like.
#[derive(Debug, Clone, Copy)]
pub enum Look<'a> {
    /// The whole value matches this (anchored) regex.
    Shape(&'a Regex),
    /// The value is the part of a match of this regex that its `v` group marks, or the
    /// whole match without one.
    Within(&'a Regex),
    /// A time relative to the request (`[expiration:+3600s]`).
    RelativeTime,
}

/// Why a case may not pin an element rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinRefusal {
    /// No element rule is written so.
    Unknown,
    /// The rule exists, but its value must stay a placeholder, for this reason.
    NotPinnable(String),
}

/// Applies a service's rules within one case, numbering the values it meets.
pub struct Redactor<'a> {
    rules: &'a Rules,
    vars: &'a HashMap<String, String>,
    seen: HashMap<(String, String), usize>,
    counters: HashMap<String, usize>,
    /// The element rules (as written) whose values this case keeps literally.
    pinned: Vec<String>,
    /// Secret values met in answers: they must never reach a snapshot or a report.
    pub secrets: Vec<String>,
}

impl<'a> Redactor<'a> {
    pub fn new(rules: &'a Rules, vars: &'a HashMap<String, String>) -> Self {
        Redactor {
            rules,
            vars,
            seen: HashMap::new(),
            counters: HashMap::new(),
            pinned: Vec::new(),
            secrets: Vec::new(),
        }
    }

    /// Keeps the values of these element rules as they are (a case's `pin:`), so the
    /// snapshot checks the value itself rather than its shape. Only pinnable rules take
    /// part, so a secret is never kept.
    pub fn pinning(mut self, elements: &[String]) -> Self {
        self.pinned = elements.to_vec();
        self
    }

    fn number(&mut self, placeholder: &str, value: &str) -> usize {
        let key = (placeholder.to_owned(), value.to_owned());
        if let Some(n) = self.seen.get(&key) {
            return *n;
        }
        let n = self.counters.entry(placeholder.to_owned()).or_insert(0);
        *n += 1;
        let n = *n;
        self.seen.insert(key, n);
        n
    }

    /// The text of the element at `path` as it goes into the snapshot. `sent_at` is when the
    /// request left, for expirations.
    pub fn element_text(&mut self, path: &[&str], text: &str, sent_at: SystemTime) -> String {
        // Copy the shared reference out, so rules can be read while `self` is mutated
        // (cloning a rule would clone its regex and throw away its match cache).
        let rules = self.rules;
        let Some(rule) = rules.element_rule(path) else {
            return self.values(text);
        };
        if rule.secret && !text.is_empty() {
            self.secrets.push(text.to_owned());
        }
        // A target's own value (its account id) is checked by equality, which says more than
        // a shape: let the value rules name it. (A rule that names its variable already does.)
        if !rule.secret
            && rule.variable.is_none()
            && rules.values.iter().any(|v| {
                matches!(&v.matcher, ValueMatch::Variable(n) if self.vars.get(n).is_some_and(|x| x == text))
            })
        {
            return self.values(text);
        }
        if rule.pinnable && self.pinned.contains(&rule.element) {
            return text.to_owned();
        }
        if let Some(var) = &rule.variable {
            return if self.vars.get(var).is_some_and(|v| v == text) {
                format!("[{}]", rule.placeholder)
            } else {
                self.values(text)
            };
        }
        if rule.relative_time {
            return match relative_time(text, sent_at) {
                Some(rel) => format!("[{}:{rel}]", rule.placeholder),
                None => self.values(text),
            };
        }
        let keep = match &rule.shape {
            None => None,
            Some(re) => match re.captures(text) {
                Some(c) => c.name("keep").map(|m| m.as_str()),
                None => {
                    // Wrong shape: the diff must show it, but never a secret's value.
                    return if rule.secret {
                        format!(
                            "[{}:unexpected-shape:{}-chars]",
                            rule.placeholder,
                            text.chars().count()
                        )
                    } else {
                        self.values(text)
                    };
                }
            },
        };
        let mut out = format!("[{}", rule.placeholder);
        if let Some(k) = keep {
            out.push(':');
            out.push_str(k);
        }
        if rule.numbered {
            let n = self.number(&rule.placeholder, text);
            out.push_str(&format!(":{n}"));
        }
        out.push(']');
        out
    }

    /// Any other text: value rules replace run-dependent values inside it.
    pub fn values(&mut self, text: &str) -> String {
        let rules = self.rules;
        let mut out: Option<String> = None;
        for rule in &rules.values {
            let cur = out.as_deref().unwrap_or(text);
            match &rule.matcher {
                ValueMatch::Variable(v) => {
                    if let Some(value) = self.vars.get(v).filter(|v| !v.is_empty())
                        && cur.contains(value.as_str())
                    {
                        out = Some(cur.replace(value.as_str(), &format!("[{}]", rule.placeholder)));
                    }
                }
                ValueMatch::Pattern(re) => {
                    if re.is_match(cur) {
                        // A group named `v` marks the value inside a longer match (the
                        // number in "consumes 498% of"); without one the whole match is it.
                        let replaced = re
                            .replace_all(cur, |c: &regex::Captures<'_>| {
                                let whole = c.get(0).map_or("", |m| m.as_str());
                                let offset = c.get(0).map_or(0, |m| m.start());
                                let (start, v) = match c.name("v") {
                                    Some(m) => (m.start() - offset, m.as_str()),
                                    None => (0, whole),
                                };
                                let placeholder = if rule.numbered {
                                    let n = self.number(&rule.placeholder, v);
                                    format!("[{}:{n}]", rule.placeholder)
                                } else {
                                    format!("[{}]", rule.placeholder)
                                };
                                format!(
                                    "{}{placeholder}{}",
                                    &whole[..start],
                                    &whole[start + v.len()..]
                                )
                            })
                            .into_owned();
                        out = Some(replaced);
                    }
                }
            }
        }
        out.unwrap_or_else(|| text.to_owned())
    }
}

/// `+3600s` for an ISO 8601 UTC time 3600 s after `sent_at`, rounded to the minute so that
/// clock skew and latency do not show; `+3600s:subsecond` when the time carries a fraction
/// (AWS writes whole seconds). None when it is not such a time at all.
fn relative_time(text: &str, sent_at: SystemTime) -> Option<String> {
    if !text.ends_with('Z') || !text.contains('T') {
        return None;
    }
    let t = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    let sent = OffsetDateTime::from(sent_at);
    let delta = (t - sent).whole_seconds();
    let rounded = ((delta as f64) / 60.0).round() as i64 * 60;
    let sign = if rounded < 0 { "-" } else { "+" };
    let mut out = format!("{sign}{}s", rounded.abs());
    if t.nanosecond() != 0 || text.contains('.') {
        out.push_str(":subsecond");
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    const RULES: &str = r#"
elements:
  - element: RequestId
    placeholder: request-id
    shape: '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
    numbered: false
  - element: Credentials/AccessKeyId
    placeholder: access-key-id
    shape: '(?P<keep>ASIA|AKIA)[A-Z0-9]{16}'
  - element: SecretAccessKey
    placeholder: secret-access-key
    shape: '[A-Za-z0-9/+]{40}'
    secret: true
  - element: Expiration
    placeholder: expiration
    relative_time: true
values:
  - variable: account_id
    placeholder: account-id
    numbered: false
  - pattern: 'AROA[A-Z0-9]{17}'
    placeholder: role-id
"#;

    fn vars() -> HashMap<String, String> {
        [("account_id".to_owned(), "123456789012".to_owned())].into()
    }

    #[test]
    fn placeholders_keep_prefixes_numbers_and_equalities() {
        let rules = Rules::parse(RULES, "t").unwrap();
        let v = vars();
        let mut r = Redactor::new(&rules, &v);
        let now = at(1_700_000_000);
        let p = [
            "AssumeRoleResponse",
            "AssumeRoleResult",
            "Credentials",
            "AccessKeyId",
        ];
        assert_eq!(
            r.element_text(&p, "ASIAIOSFODNN7EXAMPLE", now),
            "[access-key-id:ASIA:1]"
        );
        assert_eq!(
            r.element_text(&p, "ASIAZZZZZZZZZZZZZZZZ", now),
            "[access-key-id:ASIA:2]"
        );
        assert_eq!(
            r.element_text(&p, "ASIAIOSFODNN7EXAMPLE", now),
            "[access-key-id:ASIA:1]"
        );
        // Only under Credentials: the rule's path suffix must match.
        assert_eq!(
            r.element_text(&["X", "AccessKeyId"], "ASIAIOSFODNN7EXAMPLE", now),
            "ASIAIOSFODNN7EXAMPLE"
        );
        assert_eq!(
            r.values("arn:aws:sts::123456789012:assumed-role/demo/s AROA1234567890ABCDEFG:s AROA1234567890ABCDEFG"),
            "arn:aws:sts::[account-id]:assumed-role/demo/s [role-id:1]:s [role-id:1]"
        );
    }

    #[test]
    fn a_targets_own_value_wins_over_a_shape_placeholder() {
        let rules = Rules::parse(
            "elements:\n  - element: Account\n    placeholder: key-account\n    shape: '[0-9]{12}'\nvalues:\n  - variable: account_id\n    placeholder: account-id\n    numbered: false\n",
            "t",
        )
        .unwrap();
        let v = vars();
        let mut r = Redactor::new(&rules, &v);
        assert_eq!(
            r.element_text(&["Account"], "123456789012", at(0)),
            "[account-id]"
        );
        assert_eq!(
            r.element_text(&["Account"], "999999999999", at(0)),
            "[key-account:1]"
        );
    }

    #[test]
    fn wrong_shapes_show_but_secrets_never_do() {
        let rules = Rules::parse(RULES, "t").unwrap();
        let v = vars();
        let mut r = Redactor::new(&rules, &v);
        let now = at(0);
        assert_eq!(
            r.element_text(&["RequestId"], "not-a-uuid", now),
            "not-a-uuid"
        );
        assert_eq!(
            r.element_text(&["RequestId"], "c6104cbe-af31-11e0-8154-cbc7ccf896c7", now),
            "[request-id]"
        );
        let secret41 = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY";
        assert_eq!(
            r.element_text(&["SecretAccessKey"], secret41, now),
            "[secret-access-key:unexpected-shape:41-chars]"
        );
        assert_eq!(r.secrets, [secret41]);
        let secret40 = "abcdefghijklmnopqrstuvwxyz0123456789ABCD";
        assert_eq!(
            r.element_text(&["SecretAccessKey"], secret40, now),
            "[secret-access-key:1]"
        );
        assert_eq!(
            r.secrets,
            [secret41, secret40],
            "well-shaped secrets are remembered too"
        );
    }

    #[test]
    fn expirations_are_relative_to_the_request_time() {
        let rules = Rules::parse(RULES, "t").unwrap();
        let v = vars();
        let mut r = Redactor::new(&rules, &v);
        // 2023-11-14T22:13:20Z is 1_700_000_000.
        let sent = at(1_700_000_000 - 2);
        assert_eq!(
            r.element_text(&["Expiration"], "2023-11-14T23:13:20Z", sent),
            "[expiration:+3600s]"
        );
        assert_eq!(
            r.element_text(&["Expiration"], "2023-11-14T23:13:20.123456Z", sent),
            "[expiration:+3600s:subsecond]"
        );
        assert_eq!(
            r.element_text(&["Expiration"], "tomorrow", sent),
            "tomorrow"
        );
    }

    #[test]
    fn a_named_group_marks_the_value_inside_a_longer_match() {
        let rules = Rules::parse(
            "values:\n  - pattern: 'consumes (?P<v>[0-9]+)% of'\n    placeholder: packed-percent\n    numbered: false\n",
            "t",
        )
        .unwrap();
        let v = vars();
        let mut r = Redactor::new(&rules, &v);
        assert_eq!(
            r.values("Packed policy consumes 498% of allotted space"),
            "Packed policy consumes [packed-percent]% of allotted space"
        );
    }

    const PINNABLE: &str = "elements:\n  - element: SecretAccessKey\n    placeholder: secret-access-key\n    secret: true\n  - element: PackedPolicySize\n    placeholder: packed-policy-size\n    shape: '[0-9]{1,3}'\n    numbered: false\n    pinnable: true\n";

    #[test]
    fn a_pinned_element_keeps_its_value_and_an_unpinned_one_its_placeholder() {
        let rules = Rules::parse(PINNABLE, "t").unwrap();
        let v = vars();
        let path = ["AssumeRoleResult", "PackedPolicySize"];
        let pins = ["PackedPolicySize".to_owned()];
        let mut pinned = Redactor::new(&rules, &v).pinning(&pins);
        assert_eq!(pinned.element_text(&path, "16", at(0)), "16");
        // Pinning one rule leaves the others as they were.
        assert_eq!(
            pinned.element_text(&["SecretAccessKey"], "s3cr3t", at(0)),
            "[secret-access-key:1]"
        );
        let mut unpinned = Redactor::new(&rules, &v);
        assert_eq!(
            unpinned.element_text(&path, "16", at(0)),
            "[packed-policy-size]"
        );
        assert_eq!(
            unpinned.element_text(&path, "sixteen", at(0)),
            "sixteen",
            "a wrong shape still shows where nothing is pinned"
        );
    }

    #[test]
    fn a_pin_on_a_rule_that_is_not_pinnable_keeps_the_placeholder() {
        // The loader refuses such a case; the redactor must not rely on that for secrets.
        let rules = Rules::parse(PINNABLE, "t").unwrap();
        let v = vars();
        let pins = ["SecretAccessKey".to_owned()];
        let mut r = Redactor::new(&rules, &v).pinning(&pins);
        assert_eq!(
            r.element_text(&["SecretAccessKey"], "s3cr3t", at(0)),
            "[secret-access-key:1]"
        );
        assert_eq!(r.secrets, ["s3cr3t"]);
    }

    #[test]
    fn which_rules_a_case_may_pin() {
        let rules = Rules::parse(&format!("{PINNABLE}{}", "  - element: Expiration\n    placeholder: expiration\n    relative_time: true\n  - element: Account\n    placeholder: account-id\n    variable: account_id\n  - element: RequestId\n    placeholder: request-id\n"), "t").unwrap();
        assert_eq!(rules.check_pin("PackedPolicySize"), Ok(()));
        assert_eq!(
            rules.check_pin("packedpolicysize"),
            Err(PinRefusal::Unknown)
        );
        for (element, why) in [
            ("SecretAccessKey", "secret"),
            ("Expiration", "time of the request"),
            ("Account", "`account_id`"),
            ("RequestId", "`pinnable: true`"),
        ] {
            match rules.check_pin(element) {
                Err(PinRefusal::NotPinnable(reason)) => {
                    assert!(reason.contains(why), "{element}: {reason}")
                }
                other => panic!("{element}: {other:?}"),
            }
        }
        assert_eq!(
            rules.pinnable_elements().collect::<Vec<_>>(),
            ["PackedPolicySize"]
        );
    }

    #[test]
    fn a_pinnable_rule_that_leaks_or_moves_is_refused_at_its_line() {
        for (extra, says) in [
            ("    secret: true\n", "`secret: true`"),
            ("    relative_time: true\n", "`relative_time: true`"),
            ("    variable: account_id\n", "`variable:`"),
        ] {
            let text = format!(
                "elements:\n  - element: RequestId\n    placeholder: r\n  - element: Credentials/X\n    placeholder: x\n    pinnable: true\n{extra}"
            );
            let e = Rules::parse(&text, "models/sts.redact.yaml")
                .unwrap_err()
                .to_string();
            assert!(
                e.starts_with(
                    "models/sts.redact.yaml:4:14: element rule `Credentials/X` is `pinnable: true`"
                ),
                "{e}"
            );
            assert!(
                e.contains(says) && e.contains("remove `pinnable: true`"),
                "{e}"
            );
        }
    }

    #[test]
    fn bad_rules_are_reported() {
        assert!(
            Rules::parse("values:\n  - placeholder: x\n", "r.yaml")
                .unwrap_err()
                .to_string()
                .contains("exactly one")
        );
        assert!(
            Rules::parse(
                "elements:\n  - element: A\n    placeholder: a\n    shape: '('\n",
                "r.yaml"
            )
            .is_err()
        );
    }
}
