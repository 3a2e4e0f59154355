//! A service's redaction rules read from their text and checked: element rules (by path
//! suffix, with a shape, secret, relative time, target variable or pinnability) and value
//! rules (a target variable's value or a pattern inside any text).

use regex::Regex;
use serde::Deserialize;
use serde_saphyr::Spanned;

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
    pub(super) elements: Vec<ElementRule>,
    pub(super) values: Vec<ValueRule>,
}

#[derive(Debug, Clone)]
pub(super) struct ElementRule {
    /// The `element:` as written: the name a case pins it by.
    pub(super) element: String,
    /// Path suffix of local names, innermost last (`["Credentials", "AccessKeyId"]`).
    suffix: Vec<String>,
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

impl ElementRule {
    /// One element rule, checked; a mistake points at the line of its `element:`.
    fn from_raw(r: RawElementRule, path: &str) -> Result<ElementRule, RulesError> {
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
        Ok(ElementRule {
            suffix: element.split('/').map(str::to_owned).collect(),
            element,
            placeholder: r.placeholder,
            shape,
            secret: r.secret,
            numbered: r.numbered,
            relative_time: r.relative_time,
            variable: r.variable,
            pinnable: r.pinnable,
        })
    }
}

impl ValueRule {
    fn from_raw(r: RawValueRule, path: &str) -> Result<ValueRule, RulesError> {
        let invalid = |message: String| RulesError::Invalid {
            path: path.to_owned(),
            message,
        };
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
        Ok(ValueRule {
            matcher,
            placeholder: r.placeholder,
            numbered: r.numbered,
        })
    }
}

impl Rules {
    pub fn parse(text: &str, path: &str) -> Result<Rules, RulesError> {
        let raw: RawRules = serde_saphyr::from_str(text).map_err(|e| RulesError::Invalid {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        let elements = raw
            .elements
            .into_iter()
            .map(|r| ElementRule::from_raw(r, path))
            .collect::<Result<_, _>>()?;
        let values = raw
            .values
            .into_iter()
            .map(|r| ValueRule::from_raw(r, path))
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

/// Why a case may not pin an element rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinRefusal {
    /// No element rule is written so.
    Unknown,
    /// The rule exists, but its value must stay a placeholder, for this reason.
    NotPinnable(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::tests::PINNABLE;

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
