//! A step's `credentials:`: a word (`none`, `target`) or explicit keys.

use serde_saphyr::Spanned;

use super::Checker;
use super::case::CredentialsSpec;
use super::raw::RawNode;
use crate::diagnostic::{Diagnostic, did_you_mean, yaml_span};

const HELP: &str = "write `credentials: none` (unsigned), `credentials: target`, or a mapping with access_key_id, secret_access_key and optionally session_token";
const FIELDS: [&str; 3] = ["access_key_id", "secret_access_key", "session_token"];

impl Checker<'_> {
    pub(super) fn credentials(
        &self,
        c: &Spanned<RawNode>,
        errors: &mut Vec<Diagnostic>,
    ) -> CredentialsSpec {
        match &c.value {
            RawNode::Str(s) if s == "none" => CredentialsSpec::Unsigned,
            RawNode::Str(s) if s == "target" => CredentialsSpec::Target,
            RawNode::Map(entries) => self.keys(c, entries, errors),
            other => {
                errors.push(
                    self.err(
                        yaml_span(c),
                        format!("credentials cannot be {}", other.describe()),
                    )
                    .with_help(HELP),
                );
                CredentialsSpec::Default
            }
        }
    }

    fn keys(
        &self,
        c: &Spanned<RawNode>,
        entries: &[(Spanned<String>, Spanned<RawNode>)],
        errors: &mut Vec<Diagnostic>,
    ) -> CredentialsSpec {
        let mut slots = [None, None, None];
        for (k, v) in entries {
            let Some(i) = FIELDS.iter().position(|f| *f == k.value) else {
                let d = self.err(
                    yaml_span(k),
                    format!("unknown credentials field `{}`", k.value),
                );
                errors.push(match did_you_mean(&k.value, FIELDS) {
                    Some(s) => d.with_help(format!("did you mean `{s}`?")),
                    None => d.with_help(HELP),
                });
                continue;
            };
            match &v.value {
                RawNode::Str(s) => slots[i] = self.template(s, yaml_span(v), errors),
                other => errors.push(self.err(
                    yaml_span(v),
                    format!("`{}` must be text, not {}", k.value, other.describe()),
                )),
            }
        }
        let [ak, sk, token] = slots;
        let (Some(access_key_id), Some(secret_access_key)) = (ak, sk) else {
            errors.push(
                self.err(
                    yaml_span(c),
                    "credentials need both access_key_id and secret_access_key",
                )
                .with_help(HELP),
            );
            return CredentialsSpec::Default;
        };
        CredentialsSpec::Explicit {
            access_key_id,
            secret_access_key,
            session_token: token,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::case::CredentialsSpec;
    use super::super::testing::{assert_problem, case_with, load, problems};

    fn with(credentials: &str) -> String {
        case_with(&format!(
            "    steps:\n      - operation: GetCallerIdentity\n        credentials: {credentials}\n"
        ))
    }

    #[test]
    fn words_and_keys_are_read() {
        let spec = |c: &str| {
            load("GetCallerIdentity", &with(c)).unwrap()[0].steps[0]
                .credentials
                .clone()
        };
        assert!(matches!(spec("none"), CredentialsSpec::Unsigned));
        assert!(matches!(spec("target"), CredentialsSpec::Target));
        let CredentialsSpec::Explicit {
            access_key_id,
            session_token,
            ..
        } = spec("{access_key_id: '{{k}}', secret_access_key: s}")
        else {
            panic!("not explicit");
        };
        assert_eq!(access_key_id.variables().collect::<Vec<_>>(), ["k"]);
        assert!(session_token.is_none());
    }

    #[test]
    fn a_mistake_in_credentials_is_pointed_at_and_explained() {
        let p = problems("GetCallerIdentity", &with("signed"));
        assert_problem(
            &p,
            "8:22",
            "credentials cannot be the text \"signed\" (help: write `credentials: none`",
        );
        let p = problems("GetCallerIdentity", &with("{access_key_id: x}"));
        assert_problem(
            &p,
            "8:22",
            "credentials need both access_key_id and secret_access_key",
        );
        let p = problems(
            "GetCallerIdentity",
            &with("{access_key_id: x, secret_acess_key: y, session_token: 3}"),
        );
        assert_problem(
            &p,
            "8:41",
            "unknown credentials field `secret_acess_key` (help: did you mean `secret_access_key`?)",
        );
        assert_problem(&p, "8:77", "`session_token` must be text, not the number 3");
    }
}
