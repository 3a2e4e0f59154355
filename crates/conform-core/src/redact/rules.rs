//! A service's redaction rules as data (`models/<service>.redact.yaml`): element rules by
//! path suffix, value rules by variable or pattern, which of them a case may pin. A mistake
//! in the file is a diagnostic at its line.

use std::path::Path;
use std::sync::Arc;

use regex::Regex;
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::diagnostic::{Diagnostic, yaml_error, yaml_span};

#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("cannot read redaction rules {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    /// A mistake in the file, at its line and column.
    #[error("{}", .0.render_inline())]
    Invalid(Box<Diagnostic>),
}

// Not `#[from]`: that would make the diagnostic the error's cause too, said twice.
impl From<Box<Diagnostic>> for RulesError {
    fn from(d: Box<Diagnostic>) -> Self {
        RulesError::Invalid(d)
    }
}

/// The rules of one service.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    pub(super) elements: Vec<ElementRule>,
    pub(super) values: Vec<ValueRule>,
}

#[derive(Debug, Clone)]
pub(super) struct ElementRule {
    /// The `element:` as written: the name a case pins it by.
    pub(super) element: String,
    /// Path suffix of local names, innermost last (`["Credentials", "AccessKeyId"]`).
    pub(super) suffix: Vec<String>,
    pub(super) placeholder: String,
    /// Full-match shape; a `keep` group is kept in the placeholder (a key prefix).
    pub(super) shape: Option<Regex>,
    pub(super) secret: bool,
    pub(super) numbered: bool,
    pub(super) relative_time: bool,
    /// The element must hold exactly this target variable's value.
    pub(super) variable: Option<String>,
    /// The same request always gets the same value, so a case that knows it may pin it.
    pub(super) pinnable: bool,
}

#[derive(Debug, Clone)]
pub(super) enum ValueMatch {
    /// A target variable's value, e.g. the account id.
    Variable(String),
    Pattern(Regex),
}

#[derive(Debug, Clone)]
pub(super) struct ValueRule {
    pub(super) matcher: ValueMatch,
    pub(super) placeholder: String,
    pub(super) numbered: bool,
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
    shape: Option<Spanned<String>>,
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
    pattern: Option<Spanned<String>>,
    placeholder: Spanned<String>,
    #[serde(default = "yes")]
    numbered: bool,
}

fn yes() -> bool {
    true
}

/// How a mistake in the rules file is said: where, what, and what to do.
type At<'a> = dyn Fn(crate::diagnostic::Span, String, &str) -> Box<Diagnostic> + 'a;

impl RawElementRule {
    fn checked(self, at: &At<'_>) -> Result<ElementRule, Box<Diagnostic>> {
        let element_span = yaml_span(&self.element);
        let element = self.element.value;
        // A pinned value reaches the snapshot as it is: only a value that neither leaks
        // nor moves with the clock or the target may be pinned.
        let unpinnable = if self.secret {
            Some("`secret: true` (a secret never reaches a snapshot)")
        } else if self.relative_time {
            Some("`relative_time: true` (the value moves with the time of the request)")
        } else if self.variable.is_some() {
            Some("a `variable:` (the value is the target's own, checked by equality already)")
        } else {
            None
        };
        if self.pinnable
            && let Some(why) = unpinnable
        {
            return Err(at(
                element_span,
                format!("element rule `{element}` is `pinnable: true` but has {why}"),
                "remove `pinnable: true` from it",
            ));
        }
        let shape = match &self.shape {
            None => None,
            Some(p) => Some(Regex::new(&format!("^(?:{})$", p.value)).map_err(|e| {
                at(
                    yaml_span(p),
                    format!("element rule `{element}` has a bad shape: {e}"),
                    "write a regex for the values it stands for",
                )
            })?),
        };
        Ok(ElementRule {
            suffix: element.split('/').map(str::to_owned).collect(),
            element,
            placeholder: self.placeholder,
            shape,
            secret: self.secret,
            numbered: self.numbered,
            relative_time: self.relative_time,
            variable: self.variable,
            pinnable: self.pinnable,
        })
    }
}

impl RawValueRule {
    fn checked(self, at: &At<'_>) -> Result<ValueRule, Box<Diagnostic>> {
        let matcher = match (self.variable, self.pattern) {
            (Some(v), None) => ValueMatch::Variable(v),
            (None, Some(p)) => ValueMatch::Pattern(Regex::new(&p.value).map_err(|e| {
                at(
                    yaml_span(&p),
                    format!("bad pattern `{}`: {e}", p.value),
                    "write a regex for the values the placeholder stands for",
                )
            })?),
            _ => {
                return Err(at(
                    yaml_span(&self.placeholder),
                    format!(
                        "value rule `{}` needs exactly one of `variable` and `pattern`",
                        self.placeholder.value
                    ),
                    "name the target variable whose value it replaces, or a regex",
                ));
            }
        };
        Ok(ValueRule {
            matcher,
            placeholder: self.placeholder.value,
            numbered: self.numbered,
        })
    }
}

impl Rules {
    /// The rules of one file; `path` is how errors name it.
    pub fn parse(text: &str, path: &str) -> Result<Rules, Box<Diagnostic>> {
        let source: Arc<str> = Arc::from(text);
        let at = |span, message: String, help: &str| {
            Box::new(
                Diagnostic::new(Path::new(path), source.clone(), span, message)
                    .with_help(help.to_owned()),
            )
        };
        let raw: RawRules = serde_saphyr::from_str(text).map_err(|e| {
            Box::new(yaml_error(Path::new(path), source.clone(), &e).with_help(
                "an element rule has `element:` and `placeholder:`, a value rule `placeholder:` and one of `variable:` and `pattern:`; the comment at the top of the file says what each field does",
            ))
        })?;
        let elements = raw
            .elements
            .into_iter()
            .map(|r| r.checked(&at))
            .collect::<Result<_, _>>()?;
        let values = raw
            .values
            .into_iter()
            .map(|r| r.checked(&at))
            .collect::<Result<_, _>>()?;
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

    pub(super) fn element_rule(&self, path: &[&str]) -> Option<&ElementRule> {
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

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(in crate::redact) const PINNABLE: &str = "elements:\n  - element: SecretAccessKey\n    placeholder: secret-access-key\n    secret: true\n  - element: PackedPolicySize\n    placeholder: packed-policy-size\n    shape: '[0-9]{1,3}'\n    numbered: false\n    pinnable: true\n";

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
            let e = Rules::parse(&text, "models/sts.redact.yaml").unwrap_err();
            let shown = e.to_string();
            assert!(
                shown.starts_with(
                    "models/sts.redact.yaml:4:14: element rule `Credentials/X` is `pinnable: true`"
                ),
                "{shown}"
            );
            assert!(shown.contains(says), "{shown}");
            assert_eq!(e.help.as_deref(), Some("remove `pinnable: true` from it"));
        }
    }

    #[test]
    fn bad_rules_are_pointed_at_with_a_caret() {
        let at = |text: &str| {
            let e = Rules::parse(text, "r.yaml").unwrap_err();
            (e.to_string(), e.render())
        };
        let (e, _) = at("values:\n  - placeholder: x\n");
        assert_eq!(
            e,
            "r.yaml:2:18: value rule `x` needs exactly one of `variable` and `pattern`"
        );
        let (e, _) = at("values:\n  - placeholder: x\n    pattern: '(a'\n");
        assert!(e.starts_with("r.yaml:3:14: bad pattern `(a`"), "{e}");
        let (e, shown) = at("elements:\n  - element: A\n    placeholder: a\n    shape: '('\n");
        assert!(
            e.starts_with("r.yaml:4:12: element rule `A` has a bad shape"),
            "{e}"
        );
        assert!(
            shown.contains("4 │     shape: '('\n   ·            ─┬─"),
            "{shown}"
        );
        let (e, shown) = at("elements:\n  - element: A\n    placholder: a\n");
        assert!(
            e.starts_with("r.yaml:3:5: unknown field `placholder`"),
            "{e}"
        );
        assert!(
            shown.contains("3 │     placholder: a\n   ·     ┬"),
            "{shown}"
        );
        assert!(shown.contains("help: an element rule has"), "{shown}");
    }
}
