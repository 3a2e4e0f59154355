//! A case's `pin:`: element rules of its service's redaction rules whose values the
//! snapshot holds as they are. Each must exist, be pinnable, and be named once.

use serde_saphyr::Spanned;

use super::Checker;
use crate::diagnostic::{Diagnostic, Span, did_you_mean, yaml_span};
use crate::redact::PinRefusal;

impl Checker<'_> {
    pub(super) fn pins(
        &self,
        pin: Option<Spanned<Vec<Spanned<String>>>>,
        errors: &mut Vec<Diagnostic>,
    ) -> Vec<String> {
        let Some(pin) = pin else {
            return Vec::new();
        };
        if pin.value.is_empty() {
            errors.push(
                self.err(yaml_span(&pin), "`pin` names no element rule")
                    .with_help("name the rules whose values this case knows (`pin: [PackedPolicySize]`), or leave `pin` out"),
            );
            return Vec::new();
        }
        let service = &self.model.service;
        let mut out: Vec<String> = Vec::new();
        for entry in pin.value {
            let at = yaml_span(&entry);
            let name = entry.value;
            if out.contains(&name) {
                errors.push(
                    self.err(at, format!("`{name}` is pinned twice"))
                        .with_help("name each rule once in `pin`"),
                );
                continue;
            }
            match self.rules.check_pin(&name) {
                Ok(()) => {}
                Err(PinRefusal::Unknown) => errors.push(self.unknown_pin(at, &name)),
                Err(PinRefusal::NotPinnable(why)) => errors.push(
                    self.err(
                        at,
                        format!("the rule `{name}` is not pinnable because {why}"),
                    )
                    .with_help(format!("remove it from `pin`: its value stays a placeholder that checks its shape (models/{service}.redact.yaml)")),
                ),
            }
            // Named again, even a refused one is "pinned twice": one message per mistake.
            out.push(name);
        }
        out
    }

    fn unknown_pin(&self, at: Span, name: &str) -> Diagnostic {
        let service = &self.model.service;
        let pinnable: Vec<&str> = self.rules.pinnable_elements().collect();
        let list = if pinnable.is_empty() {
            format!("models/{service}.redact.yaml has no pinnable rule")
        } else {
            format!(
                "the pinnable rules of {service} are: {}",
                pinnable.join(", ")
            )
        };
        // A path written longer than the rule (`AssumeRoleResult/PackedPolicySize`) is as
        // likely a slip as a misspelling.
        let suggestion = pinnable
            .iter()
            .copied()
            .find(|p| name.ends_with(&format!("/{p}")))
            .or_else(|| did_you_mean(name, pinnable.iter().copied()));
        let help = match suggestion {
            Some(s) => format!("did you mean `{s}`? ({list})"),
            None => format!("write a rule's `element:` exactly; {list}"),
        };
        self.err(at, format!("`{name}` is no element rule of {service}"))
            .with_help(help)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_problem, case_with, load, problems};

    fn with(pin: &str) -> String {
        case_with(&format!(
            "    pin: {pin}\n    steps:\n      - params: {{RoleArn: x, RoleSessionName: ab}}\n"
        ))
    }

    #[test]
    fn a_pinnable_rule_is_kept_by_its_name() {
        let cases = load("AssumeRole", &with("[PackedPolicySize]")).unwrap();
        assert_eq!(cases[0].pin, ["PackedPolicySize"]);
    }

    #[test]
    fn an_empty_pin_is_refused() {
        let p = problems("AssumeRole", &with("[]"));
        assert_problem(&p, "6:10", "`pin` names no element rule");
    }

    #[test]
    fn an_unknown_rule_suggests_a_pinnable_one() {
        let p = problems(
            "AssumeRole",
            &with("[PackedPolicySise, AssumeRoleResult/PackedPolicySize, Nothing]"),
        );
        assert_problem(
            &p,
            "6:11",
            "`PackedPolicySise` is no element rule of sts (help: did you mean `PackedPolicySize`? (the pinnable rules of sts are: ",
        );
        assert_problem(&p, "6:29", "(help: did you mean `PackedPolicySize`?");
        assert_problem(
            &p,
            "6:64",
            "(help: write a rule's `element:` exactly; the pinnable rules of sts are: ",
        );
    }

    #[test]
    fn a_rule_that_may_not_be_pinned_or_is_named_twice_is_refused() {
        let p = problems(
            "AssumeRole",
            &with("[Credentials/SecretAccessKey, PackedPolicySize, PackedPolicySize]"),
        );
        assert_problem(
            &p,
            "6:11",
            "the rule `Credentials/SecretAccessKey` is not pinnable because",
        );
        assert_problem(&p, "6:58", "`PackedPolicySize` is pinned twice");
    }
}
