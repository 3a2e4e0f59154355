//! The format of a refusal for a model constraint: one message for one or several
//! violations, each worded by a rule of the format, written and recognised from one spec.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::template::{Matcher, anchored, fill, pattern};

/// The format of a refusal for a model constraint, and a matcher of its messages.
#[derive(Debug, Clone)]
pub struct Validation {
    pub spec: ValidationSpec,
    pub(super) matcher: Matcher,
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

/// Any message of the validation format: one violation or several, each with one of the
/// format's rules or the missing form.
pub(super) fn regex(v: &ValidationSpec) -> Result<Matcher, String> {
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
    Ok(anchored(&format!("{head_one}|{head_many}")))
}

impl Validation {
    /// The whole message for these violations, in the order given.
    pub fn message(&self, violations: &[Violation]) -> String {
        let parts: Vec<String> = violations.iter().map(|v| self.part(v)).collect();
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

    /// One violation's words within the message.
    fn part(&self, v: &Violation) -> String {
        let Some(value) = &v.value else {
            return fill(&self.spec.missing, &[("member", &v.member)]);
        };
        let args: Vec<(&str, &str)> = v.args.iter().map(|(k, a)| (*k, a.as_str())).collect();
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

    pub fn has_rule(&self, rule: &str) -> bool {
        self.spec.rules.contains_key(rule)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Format;
    use crate::facts::tests::facts;

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
}
