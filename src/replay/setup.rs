//! Answers to setup and cleanup steps, which have no snapshot: enough for what they create
//! and what later steps capture. An operation whose model has no output answers with an
//! empty result; any other needs its answer in the service's replay file (`setup:`).

use super::decode::param;
use super::expect::Entry;
use super::fresh::escape;
use super::matching::Binding;
use super::render::Rendering;
use super::{NO_MATCH_CODE, Replay, Reply, error_reply};
use crate::stand_in::Setup;
use crate::template::Vars;

/// How one operation's setup steps are answered.
#[derive(Debug, Clone)]
pub(super) enum SetupAnswer {
    /// The operation has no output: only the response metadata.
    Empty,
    /// The result element (the model's wrapper) holding what the replay file says.
    Result { wrapper: String, setup: Setup },
}

impl Replay {
    pub(super) fn setup_answer(
        &self,
        e: &Entry,
        params: &[(String, String)],
        binding: &Binding,
        owners: &std::sync::Arc<[usize]>,
    ) -> Reply {
        let action = param(params, "Action").unwrap_or("");
        let service = self.services.get(&e.service);
        let answer = service.and_then(|s| s.setup.get(action));
        let result = match answer {
            Some(SetupAnswer::Empty) => Ok(String::new()),
            Some(SetupAnswer::Result { wrapper, setup }) => {
                fill(setup, params, &self.vars).map(|r| format!("<{wrapper}>{r}</{wrapper}>"))
            }
            None => Err(format!(
                "describe its answer under `setup:` in models/{}.replay.yaml",
                e.service
            )),
        };
        let namespace = service.and_then(|s| s.namespace.as_deref());
        let result = match result {
            Ok(r) => r,
            Err(why) => {
                return error_reply(
                    400,
                    NO_MATCH_CODE,
                    &format!(
                        "{} has a setup or cleanup step ({action}) the replay server cannot answer: {why}.",
                        e.test_name
                    ),
                    namespace,
                );
            }
        };
        let xmlns = namespace.map_or(String::new(), |n| format!(" xmlns=\"{n}\""));
        let body = format!(
            "<{action}Response{xmlns}>{result}<ResponseMetadata><RequestId>[request-id]</RequestId></ResponseMetadata></{action}Response>"
        );
        Reply {
            status: 200,
            content_type: Some("text/xml".into()),
            body: self.render(&body, binding, &Rendering::of(e, owners, action)),
        }
    }
}

/// A setup answer's result with the request's values in it (escaped): what a parameter
/// binds, else the parameter as sent, else its default, else the server's variable. A
/// parameter not sent is empty, as the step left it out.
fn fill(setup: &Setup, params: &[(String, String)], server: &Vars) -> Result<String, String> {
    let mut groups: Vec<(&str, &str)> = Vec::new();
    for (member, re) in &setup.bind {
        let value = param(params, member)
            .or(setup.defaults.get(member).map(String::as_str))
            .unwrap_or("");
        let Some(c) = re.captures(value) else {
            return Err(format!(
                "its {member} does not have the shape `{}`",
                re.as_str()
            ));
        };
        for name in re.capture_names().flatten() {
            groups.push((name, c.name(name).map_or("", |m| m.as_str())));
        }
    }
    // Only the variables the result names: the server's own are many and some are long.
    let vars: Vars = setup
        .result
        .variables()
        .map(|v| {
            let value = groups
                .iter()
                .find(|(g, _)| *g == v)
                .map(|(_, x)| *x)
                .or_else(|| param(params, v))
                .or(setup.defaults.get(v).map(String::as_str))
                .or(server.get(v).map(String::as_str))
                .unwrap_or("");
            (v.to_owned(), escape(value))
        })
        .collect();
    setup.result.render(&vars).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::Template;

    fn assume_role() -> Setup {
        Setup {
            bind: vec![(
                "RoleArn".into(),
                regex::Regex::new("^(?:(?:.*/)?(?P<role>[^/]*))$").unwrap(),
            )],
            defaults: [("DurationSeconds".to_owned(), "3600".to_owned())].into(),
            result: Template::parse(
                "<Arn>arn:aws:sts::{{account_id}}:assumed-role/{{role}}/{{RoleSessionName}}</Arn><E>+{{DurationSeconds}}s</E>",
            )
            .unwrap(),
        }
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_result_takes_parameters_groups_defaults_and_variables() {
        let server: Vars = [("account_id".to_owned(), "123456789012".to_owned())].into();
        let got = fill(
            &assume_role(),
            &pairs(&[
                ("RoleArn", "arn:aws:iam::123456789012:role/path/demo"),
                ("RoleSessionName", "a<b"),
            ]),
            &server,
        )
        .unwrap();
        assert_eq!(
            got,
            "<Arn>arn:aws:sts::123456789012:assumed-role/demo/a&lt;b</Arn><E>+3600s</E>"
        );
        // What a step leaves out is empty; a parameter sent wins over its default.
        let got = fill(
            &assume_role(),
            &pairs(&[("DurationSeconds", "900")]),
            &server,
        )
        .unwrap();
        assert_eq!(
            got,
            "<Arn>arn:aws:sts::123456789012:assumed-role//</Arn><E>+900s</E>"
        );
    }
}
