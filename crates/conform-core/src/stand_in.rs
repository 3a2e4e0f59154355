//! What the replay server must know to stand in for a service beyond its model, its
//! redaction rules and its snapshots (`models/<service>.replay.yaml`): fresh values that a
//! rule's shape does not describe well, the keys the service hands out and whom they stand
//! for, and the answers to setup and cleanup steps, which have no snapshot. Parsed here,
//! with every name checked against the model, the rules and the declared variables; the
//! replay server reads it.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use regex::Regex;
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::diagnostic::{Diagnostic, did_you_mean, span_at};
use crate::model::{Model, ShapeKind};
use crate::redact::{Look, Rules};
use crate::template::Template;

/// A service's stand-in knowledge. Every part is optional: a service without the file
/// still gets fresh values from its rules' shapes.
#[derive(Debug, Clone, Default)]
pub struct StandIn {
    /// Placeholder to how its fresh values are made where its rule's shape does not say.
    pub fresh: BTreeMap<String, Fresh>,
    /// Placeholders whose value stays the same across the steps of a case (one role's id).
    pub stable: Vec<String>,
    /// The temporary keys the service hands out, when it does.
    pub sessions: Option<Sessions>,
    /// Operation to the answer of setup and cleanup steps calling it. Operations whose model
    /// has no output need none: their answer is empty.
    pub setup: BTreeMap<String, Setup>,
}

/// How fresh values of one placeholder are made.
#[derive(Debug, Clone, PartialEq)]
pub enum Fresh {
    /// Always this text.
    Text(String),
    /// From the rule's shape, its open-ended parts (`+`, `*`) repeated this often.
    Repeat(u32),
    /// Epoch seconds: number 1 is now, each later number `step` seconds further on.
    Clock(i64),
}

/// Temporary keys a service hands out, and whom they stand for.
#[derive(Debug, Clone)]
pub struct Sessions {
    /// The placeholder of the key ids handed out.
    pub key: String,
    /// The element of an answer that says when they expire.
    pub expires: String,
    /// Elements of an answer that name whom the keys stand for, the first found wins.
    pub principals: Vec<Principal>,
    /// Variables naming the caller, for keys that stand for the caller itself.
    pub caller: Caller,
    /// The error code of an answer to keys whose session has ended.
    pub expired_code: String,
    /// The error code of an answer to temporary keys the server never handed out.
    pub unknown_code: String,
    /// The call that tells a caller who it is, answered for any session.
    pub identity: Option<IdentityCall>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Principal {
    pub element: String,
    pub arn: String,
    pub id: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Caller {
    pub arn: String,
    pub id: String,
    pub account: String,
}

/// An operation whose answer names the caller: its elements are set to the session's.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityCall {
    pub operation: String,
    pub arn: String,
    pub id: String,
    pub account: String,
}

/// The answer of a setup or cleanup step.
#[derive(Debug, Clone)]
pub struct Setup {
    /// Member to a regex whose named groups set variables from the member's value.
    pub bind: Vec<(String, Regex)>,
    /// Values of members a request may leave out.
    pub defaults: BTreeMap<String, String>,
    /// The content of the result element: `{{member}}`, `{{group}}` and `{{variable}}`
    /// filled in, then placeholders made fresh.
    pub result: Template,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStandIn {
    #[serde(default)]
    fresh: BTreeMap<String, Spanned<RawFresh>>,
    #[serde(default)]
    stable: Option<Spanned<Vec<String>>>,
    sessions: Option<Spanned<RawSessions>>,
    #[serde(default)]
    setup: BTreeMap<String, Spanned<RawSetup>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFresh {
    value: Option<String>,
    repeat: Option<u32>,
    clock: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSessions {
    key: String,
    expires: String,
    #[serde(default)]
    principals: Vec<Principal>,
    caller: Caller,
    expired_code: String,
    unknown_code: String,
    identity: Option<IdentityCall>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSetup {
    #[serde(default)]
    bind: BTreeMap<String, String>,
    #[serde(default)]
    defaults: BTreeMap<String, String>,
    result: String,
}

impl StandIn {
    /// The replay file of `model`'s service; `path` names it in errors, `is_variable` says
    /// which names are target variables (built in or declared).
    pub fn parse(
        text: &str,
        path: &Path,
        model: &Model,
        rules: &Rules,
        is_variable: &dyn Fn(&str) -> bool,
    ) -> Result<StandIn, Vec<Diagnostic>> {
        let source: Arc<str> = Arc::from(text);
        let at = |line: u64, col: u64, msg: String, help: String| {
            Diagnostic::new(
                path,
                source.clone(),
                span_at(text, line.max(1) as u32, col.max(1) as u32, 1),
                msg,
            )
            .with_help(help)
        };
        let raw: RawStandIn = serde_saphyr::from_str(text).map_err(|e| {
            let (line, col) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
            vec![at(
                line,
                col,
                e.to_string().lines().next().unwrap_or("").to_owned(),
                "the comment at the top of models/sts.replay.yaml says what each part holds".into(),
            )]
        })?;
        let looks = rules.looks();
        let placeholders: Vec<&str> = looks.iter().map(|(n, _)| *n).collect();
        let unknown_placeholder =
            |name: &str| match did_you_mean(name, placeholders.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!(
                    "name a placeholder of the service's redaction rules with a shape: {}",
                    placeholders.join(", ")
                ),
            };
        let mut errors = Vec::new();

        let mut fresh = BTreeMap::new();
        for (name, spec) in raw.fresh {
            let (line, col) = (spec.referenced.line(), spec.referenced.column());
            let Some((_, look)) = looks.iter().find(|(n, _)| *n == name) else {
                errors.push(at(
                    line,
                    col,
                    format!("fresh: `{name}` is no placeholder of the redaction rules"),
                    unknown_placeholder(&name),
                ));
                continue;
            };
            let made = match (spec.value.value, spec.value.repeat, spec.value.clock) {
                (Some(v), None, None) => {
                    if let Look::Shape(shape) = look
                        && !shape.is_match(&v)
                    {
                        errors.push(at(
                            line,
                            col,
                            format!("fresh: the value of `{name}` does not have its rule's shape `{}`", shape.as_str()),
                            "a value of another shape comes back from the redaction unchanged and fails the case; write one of the shape".into(),
                        ));
                    }
                    Fresh::Text(v)
                }
                (None, Some(n), None) => Fresh::Repeat(n),
                (None, None, Some(step)) => Fresh::Clock(step),
                _ => {
                    errors.push(at(
                        line,
                        col,
                        format!("fresh: `{name}` needs exactly one of `value`, `repeat` and `clock`"),
                        "`value`: always this text; `repeat`: how often the shape's open-ended parts repeat; `clock`: epoch seconds, each later number this many seconds on".into(),
                    ));
                    continue;
                }
            };
            fresh.insert(name, made);
        }

        let mut stable = Vec::new();
        if let Some(s) = raw.stable {
            for name in s.value {
                if placeholders.contains(&name.as_str()) {
                    stable.push(name);
                } else {
                    errors.push(at(
                        s.referenced.line(),
                        s.referenced.column(),
                        format!("stable: `{name}` is no placeholder of the redaction rules"),
                        unknown_placeholder(&name),
                    ));
                }
            }
        }

        let sessions = raw.sessions.map(|s| {
            let (line, col) = (s.referenced.line(), s.referenced.column());
            let s = s.value;
            if !matches!(
                looks.iter().find(|(n, _)| *n == s.key),
                Some((_, Look::Shape(_)))
            ) {
                errors.push(at(
                    line,
                    col,
                    format!(
                        "sessions: the key placeholder `{}` has no shape in the redaction rules",
                        s.key
                    ),
                    unknown_placeholder(&s.key),
                ));
            }
            for v in [&s.caller.arn, &s.caller.id, &s.caller.account] {
                if !is_variable(v) {
                    errors.push(at(
                        line,
                        col,
                        format!("sessions: caller names `{v}`, which is no variable"),
                        "name a built-in target variable or one declared in variables.yaml".into(),
                    ));
                }
            }
            if let Some(call) = &s.identity
                && model.operation(&call.operation).is_none()
            {
                errors.push(at(
                    line,
                    col,
                    format!(
                        "sessions: the identity operation `{}` is no {} operation",
                        call.operation, model.service
                    ),
                    format!("the operations are: {}", model.operation_list()),
                ));
            }
            Sessions {
                key: s.key,
                expires: s.expires,
                principals: s.principals,
                caller: s.caller,
                expired_code: s.expired_code,
                unknown_code: s.unknown_code,
                identity: s.identity,
            }
        });

        let mut setup = BTreeMap::new();
        for (op_name, spec) in raw.setup {
            let (line, col) = (spec.referenced.line(), spec.referenced.column());
            match setup_answer(&op_name, spec.value, model, is_variable) {
                Ok(s) => {
                    setup.insert(op_name, s);
                }
                Err((msg, help)) => errors.push(at(line, col, msg, help)),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(StandIn {
            fresh,
            stable,
            sessions,
            setup,
        })
    }
}

/// One setup answer, its names checked: the operation's, its members', the groups' and
/// the variables'.
fn setup_answer(
    op_name: &str,
    raw: RawSetup,
    model: &Model,
    is_variable: &dyn Fn(&str) -> bool,
) -> Result<Setup, (String, String)> {
    let Some(op) = model.operation(op_name) else {
        let help = match did_you_mean(op_name, model.operations.keys().map(String::as_str)) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("the operations are: {}", model.operation_list()),
        };
        return Err((
            format!("setup: `{op_name}` is no {} operation", model.service),
            help,
        ));
    };
    let members: Vec<&str> = match model.input_members(op).map(|s| &s.kind) {
        Some(ShapeKind::Structure { members, .. }) => members.keys().map(String::as_str).collect(),
        _ => Vec::new(),
    };
    let member_help = || format!("{op_name}'s parameters are: {}", members.join(", "));
    let mut bind = Vec::new();
    let mut groups: Vec<String> = Vec::new();
    for (member, pattern) in raw.bind {
        if !members.contains(&member.as_str()) {
            return Err((
                format!("setup: {op_name} has no parameter `{member}` to bind"),
                member_help(),
            ));
        }
        let re = Regex::new(&format!("^(?:{pattern})$")).map_err(|e| {
            (
                format!("setup: the pattern bound to {op_name}'s `{member}` is not a regex: {e}"),
                "write a regex whose named groups set the variables the answer uses".to_owned(),
            )
        })?;
        groups.extend(re.capture_names().flatten().map(str::to_owned));
        bind.push((member, re));
    }
    for member in raw.defaults.keys() {
        if !members.contains(&member.as_str()) {
            return Err((
                format!("setup: {op_name} has no parameter `{member}` to default"),
                member_help(),
            ));
        }
    }
    let result = Template::parse(&raw.result)
        .map_err(|e| (format!("setup: {op_name}'s result: {e}"), String::new()))?;
    if let Some(v) = result
        .variables()
        .find(|v| !members.contains(v) && !groups.iter().any(|g| g == v) && !is_variable(v))
    {
        return Err((
            format!(
                "setup: {op_name}'s result uses `{{{{{v}}}}}`, which is no parameter, bound group or variable"
            ),
            member_help(),
        ));
    }
    Ok(Setup {
        bind,
        defaults: raw.defaults,
        result,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODEL: &str = r#"{
      "metadata": {"apiVersion": "2020-01-01", "endpointPrefix": "vault", "protocol": "query",
                   "xmlNamespace": "https://vault.example/doc/2020-01-01/"},
      "operations": {
        "OpenSession": {"name": "OpenSession", "input": {"shape": "OpenSessionRequest"},
                        "output": {"shape": "OpenSessionResponse", "resultWrapper": "OpenSessionResult"}},
        "WhoAmI": {"name": "WhoAmI"}
      },
      "shapes": {
        "OpenSessionRequest": {"type": "structure", "members": {"Name": {"shape": "S"}}},
        "OpenSessionResponse": {"type": "structure", "members": {"Key": {"shape": "S"}}},
        "S": {"type": "string"}
      }
    }"#;

    const RULES: &str = "elements:\n  - element: Key\n    placeholder: key\n    shape: 'K[0-9]{4}'\n  - element: Token\n    placeholder: token\n    shape: '[a-z]+'\n";

    fn parse(text: &str) -> Result<StandIn, Vec<Diagnostic>> {
        let model = Model::from_json(MODEL, Path::new("m.json")).unwrap();
        let rules = Rules::parse(RULES, "r").unwrap();
        StandIn::parse(
            text,
            Path::new("models/vault.replay.yaml"),
            &model,
            &rules,
            &|v| v == "account_id",
        )
    }

    fn first_error(text: &str) -> String {
        parse(text).unwrap_err()[0].to_string()
    }

    #[test]
    fn a_whole_file_is_read() {
        let s = parse(
            "fresh:\n  token: {repeat: 3}\n  key: {value: K0000}\nstable: [key]\nsessions:\n  key: key\n  expires: Until\n  caller: {arn: account_id, id: account_id, account: account_id}\n  expired_code: Gone\n  unknown_code: Who\n  identity: {operation: WhoAmI, arn: Arn, id: Id, account: Account}\nsetup:\n  OpenSession:\n    bind: {Name: '(?P<first>.)(?:.*)'}\n    defaults: {Name: x}\n    result: '<Key>[key]</Key><N>{{first}}{{Name}}@{{account_id}}</N>'\n",
        )
        .unwrap();
        assert_eq!(s.fresh["token"], Fresh::Repeat(3));
        assert_eq!(s.fresh["key"], Fresh::Text("K0000".into()));
        assert_eq!(s.stable, ["key"]);
        assert_eq!(s.sessions.unwrap().identity.unwrap().operation, "WhoAmI");
        let setup = &s.setup["OpenSession"];
        assert_eq!(setup.bind[0].0, "Name");
        assert_eq!(setup.defaults["Name"], "x");
    }

    #[test]
    fn names_are_checked_against_the_model_the_rules_and_the_variables() {
        for (text, says) in [
            (
                "fresh:\n  tokn: {repeat: 3}\n",
                "fresh: `tokn` is no placeholder",
            ),
            (
                "fresh:\n  key: {value: nope}\n",
                "does not have its rule's shape",
            ),
            ("fresh:\n  key: {repeat: 1, clock: 2}\n", "exactly one of"),
            ("stable: [nope]\n", "stable: `nope` is no placeholder"),
            (
                "setup:\n  OpenSesion:\n    result: x\n",
                "`OpenSesion` is no vault operation",
            ),
            (
                "setup:\n  OpenSession:\n    bind: {Nme: x}\n    result: x\n",
                "no parameter `Nme` to bind",
            ),
            (
                "setup:\n  OpenSession:\n    bind: {Name: '('}\n    result: x\n",
                "is not a regex",
            ),
            (
                "setup:\n  OpenSession:\n    result: '{{nope}}'\n",
                "uses `{{nope}}`",
            ),
            (
                "sessions:\n  key: key\n  expires: E\n  caller: {arn: a, id: account_id, account: account_id}\n  expired_code: X\n  unknown_code: Y\n",
                "caller names `a`",
            ),
        ] {
            let e = first_error(text);
            assert!(e.starts_with("models/vault.replay.yaml:"), "{e}");
            assert!(e.contains(says), "{text}: {e}");
        }
        assert!(first_error("fresh:\n  tokn: {repeat: 3}\n").contains(":2:"));
        assert!(
            parse("fresh:\n  tokn: {repeat: 3}\n").unwrap_err()[0]
                .help
                .as_deref()
                .is_some_and(|h| h.contains("`token`"))
        );
    }
}
