//! One step: its request built from the scenario (serialized or raw, templates rendered
//! with the variables so far), signed, sent (again when the run's policy says so), and its
//! answer normalized, with the captures read from it.

use std::time::SystemTime;

use super::event::{Event, Events, Exchange};
use super::{Attempt, Runner};
use crate::model::Model;
use crate::normalize;
use crate::query;
use crate::redact::Redactor;
use crate::run_error::{RunError, Silence, StepRef};
use crate::scenario::{Case, CredentialsSpec, Request, Step};
use crate::sign::{self, Credentials};
use crate::target::Target;
use crate::template::{Template, Vars};
use crate::transport::{HttpRequest, TransportError};
use crate::xml::{Element, ElementPath};

const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";

/// Why a step brought no answer. It knows nothing of where the step is written, so that
/// calls outside any case (`crate::call`) share it; a case turns it into a [`RunError`].
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error("{0}")]
    NoAnswer(#[from] TransportError),
    /// The request could not be built or signed.
    #[error("{0}")]
    NotSent(String),
}

impl StepError {
    /// The error as the case it stopped reports it, at its step.
    pub(crate) fn at(self, step: StepRef) -> RunError {
        match self {
            StepError::NoAnswer(e) => {
                let why = match &e {
                    TransportError::Timeout(_) => Silence::TimedOut,
                    TransportError::Connect { .. } => Silence::Unreachable,
                    TransportError::TooLarge { .. } => Silence::TooLarge,
                    TransportError::Other(_) => Silence::Broken,
                };
                RunError::NoAnswer {
                    step,
                    cause: e.to_string(),
                    why,
                }
            }
            StepError::NotSent(cause) => RunError::NotSent { step, cause },
        }
    }
}

/// A capture whose path found nothing in the answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MissingCapture {
    pub path: String,
    pub variable: String,
}

/// One step's answer, normalized.
#[derive(Debug)]
pub(crate) struct Answer {
    pub text: String,
    pub document: Option<Element>,
    pub captured: Vec<(String, String)>,
    /// The first capture that found nothing: later steps cannot run.
    pub missing: Option<MissingCapture>,
    pub status: u16,
    /// The error code of an error answer.
    pub code: Option<String>,
}

impl Answer {
    pub fn succeeded(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// `HTTP 409 EntityAlreadyExists`.
    pub fn summary(&self) -> String {
        match &self.code {
            Some(c) => format!("HTTP {} {c}", self.status),
            None => format!("HTTP {}", self.status),
        }
    }
}

/// The step as the snapshot names it: never rendered values, so no secret can show. A step
/// calling another service than the case's says which (`iam:CreateRole`).
pub(crate) fn title(case: &Case, step: &Step) -> String {
    let what = match &step.request {
        Request::Call { operation, .. } if step.service != case.service => {
            format!("{}:{operation}", step.service)
        }
        Request::Call { operation, .. } => operation.clone(),
        Request::Raw(raw) => {
            let mut s = format!("raw {} {}", raw.method, raw.path);
            if let Some(q) = &raw.query {
                s.push('?');
                s.push_str(&q.to_string());
            }
            s
        }
    };
    match &step.name {
        Some(n) => format!("{what} ({n})"),
        None => what,
    }
}

/// The call a retry note names: `sts:AssumeRole`, `raw POST /`.
pub(crate) fn call_name(step: &Step) -> String {
    match &step.request {
        Request::Call { operation, .. } => format!("{}:{operation}", step.service),
        Request::Raw(r) => format!("raw {} {}", r.method, r.path),
    }
}

/// A step's request before signing.
#[derive(Debug)]
pub(crate) struct Built {
    pub request: HttpRequest,
    /// The model marks the operation as sent without a signature.
    pub unsigned_op: bool,
    /// Values the request carries that are secrets (a web identity token).
    pub sensitive: Vec<String>,
}

/// Builds a step's request with `params` in place of a modelled step's own (a policy's);
/// `host` is the Host header of the step's service.
pub(crate) fn build(
    step: &Step,
    model: &Model,
    target: &Target,
    host: &str,
    vars: &Vars,
    params: Option<&[(String, crate::scenario::ParamValue)]>,
) -> Result<Built, StepError> {
    let not_sent = |e: &dyn std::fmt::Display| StepError::NotSent(e.to_string());
    let host = ("host".to_owned(), host.to_owned());
    match &step.request {
        Request::Call {
            operation,
            params: own,
        } => {
            let op = model
                .operation(operation)
                .ok_or_else(|| StepError::NotSent(format!("unknown operation {operation}")))?;
            let call = query::serialize(model, op, params.unwrap_or(own), vars)
                .map_err(|e| not_sent(&e))?;
            Ok(Built {
                request: HttpRequest {
                    method: "POST".to_owned(),
                    url: target.url_for(&step.service, "/", None),
                    headers: vec![host, ("content-type".to_owned(), FORM.to_owned())],
                    body: query::encode(&call.pairs).into_bytes(),
                },
                unsigned_op: op.unsigned,
                sensitive: call.sensitive,
            })
        }
        Request::Raw(raw) => {
            let render = |t: &Template| t.render(vars).map_err(|e| not_sent(&e));
            let path = render(&raw.path)?;
            let query = raw.query.as_ref().map(render).transpose()?;
            let body = raw.body.as_ref().map(render).transpose()?;
            let mut headers = vec![host];
            for (k, v) in &raw.headers {
                headers.push((k.to_ascii_lowercase(), render(v)?));
            }
            if body.is_some() && !headers.iter().any(|(k, _)| k == "content-type") {
                headers.push(("content-type".to_owned(), FORM.to_owned()));
            }
            Ok(Built {
                request: HttpRequest {
                    method: raw.method.clone(),
                    url: target.url_for(&step.service, &path, query.as_deref()),
                    headers,
                    body: body.unwrap_or_default().into_bytes(),
                },
                unsigned_op: false,
                sensitive: Vec::new(),
            })
        }
    }
}

/// The keys a step signs with, if it is signed at all.
pub(crate) fn credentials(
    spec: &CredentialsSpec,
    unsigned_op: bool,
    target: &Credentials,
    vars: &Vars,
) -> Result<Option<Credentials>, StepError> {
    let render = |t: &Template| {
        t.render(vars)
            .map_err(|e| StepError::NotSent(format!("credentials: {e}")))
    };
    Ok(match spec {
        CredentialsSpec::Default if unsigned_op => None,
        CredentialsSpec::Default | CredentialsSpec::Target => Some(target.clone()),
        CredentialsSpec::Unsigned => None,
        CredentialsSpec::Explicit {
            access_key_id,
            secret_access_key,
            session_token,
        } => Some(Credentials {
            access_key_id: render(access_key_id)?,
            secret_access_key: render(secret_access_key)?,
            session_token: session_token.as_ref().map(render).transpose()?,
        }),
    })
}

/// The values the step's captures take from `document`, or the first that found nothing.
pub(crate) fn capture(
    step: &Step,
    document: Option<&Element>,
) -> (Vec<(String, String)>, Option<MissingCapture>) {
    let mut captured = Vec::new();
    for cap in &step.captures {
        match document.and_then(|doc| cap.path.select(doc)) {
            Some(value) => captured.push((cap.variable.clone(), value)),
            None => {
                let missing = MissingCapture {
                    path: cap.path.to_string(),
                    variable: cap.variable.clone(),
                };
                return (captured, Some(missing));
            }
        }
    }
    (captured, None)
}

impl Runner {
    /// Sends one step and reads its answer. `attempt` says what the run's policy needs to
    /// decide whether to send it again (its `retries` counted here).
    pub(crate) async fn run_step(
        &self,
        step: &Step,
        vars: &Vars,
        redactor: &mut Redactor<'_>,
        mut attempt: Attempt<'_>,
        events: &Events,
    ) -> Result<Answer, StepError> {
        let model = &self.suite.models[&step.service];
        let swapped = match (&step.request, &self.policy) {
            (Request::Call { operation, params }, Some(policy)) => model
                .operation(operation)
                .and_then(|op| policy.params(step, model, op, params, vars)),
            _ => None,
        };
        let host = match self.hosts.get(&step.service) {
            Some(h) => std::borrow::Cow::Borrowed(h.as_str()),
            None => std::borrow::Cow::Owned(self.target.host_for(&step.service)),
        };
        let built = build(step, model, &self.target, &host, vars, swapped.as_deref())?;
        for v in &built.sensitive {
            self.secrets.add(v);
        }
        let mut request = built.request;
        let keys = credentials(
            &step.credentials,
            built.unsigned_op,
            &self.target.credentials,
            vars,
        )?;
        if let Some(c) = keys {
            self.secrets.add(&c.secret_access_key);
            if let Some(t) = &c.session_token {
                self.secrets.add(t);
            }
            let signed = sign::sign_headers(
                &c,
                &self.target.region,
                &model.signing_name,
                &request,
                SystemTime::now(),
            )
            .map_err(|e| StepError::NotSent(e.to_string()))?;
            request.headers.extend(signed);
        }
        let showing = self.show_exchanges && events.listening();
        let tell = |answer: Result<&crate::http::HttpResponse, String>| {
            if showing {
                let case = self.suite.cases[events.index()].test_name();
                let e = Exchange::scrubbed(case, call_name(step), &request, answer, &self.secrets);
                events.send(Event::Exchange(Box::new(e)));
            }
        };
        let mut sent_at = SystemTime::now();
        let mut response = self.transport.send(&request).await.inspect_err(|e| {
            tell(Err(e.to_string()));
        })?;
        if let Some(policy) = &self.policy {
            while let Some((why, delay)) = policy.retry(&response, &attempt) {
                tell(Ok(&response));
                attempt.retries += 1;
                events.send(Event::Retrying {
                    index: events.index(),
                    call: call_name(step),
                    why,
                    delay,
                });
                tokio::time::sleep(delay).await;
                sent_at = SystemTime::now();
                response = self.transport.send(&request).await.inspect_err(|e| {
                    tell(Err(e.to_string()));
                })?;
            }
        }
        let normalized = normalize::response(&response, redactor, sent_at);
        if showing {
            // The answer's own secrets (keys it hands out) are known only now.
            for s in &redactor.secrets {
                self.secrets.add(s);
            }
            tell(Ok(&response));
        }
        let (captured, missing) = capture(step, normalized.document.as_ref());
        static CODE: std::sync::LazyLock<Option<ElementPath>> =
            std::sync::LazyLock::new(|| ElementPath::parse("//Code").ok());
        let code = normalized
            .document
            .as_ref()
            .zip(CODE.as_ref())
            .and_then(|(d, path)| d.select(path));
        Ok(Answer {
            document: normalized.document,
            text: normalized.text,
            captured,
            missing,
            status: response.status,
            code,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use super::*;
    use crate::redact::Rules;

    fn models() -> BTreeMap<String, Model> {
        crate::input::models(&Path::new(env!("CARGO_MANIFEST_DIR")).join("models")).unwrap()
    }

    /// The steps of one case written in `scenarios/sts/<operation>/a.yaml`.
    fn steps(operation: &str, steps: &str) -> (Case, BTreeMap<String, Model>) {
        let models = models();
        let text = format!(
            "cases:\n  - id: a\n    kind: protocol\n    provenance: inferred\n    description: d\n    steps:\n{steps}"
        );
        let mut cases = crate::scenario::parse_file(
            "scenarios/sts/x/a.yaml",
            &text,
            &models,
            &Rules::default(),
            "sts",
            operation,
        )
        .unwrap_or_else(|e| panic!("{}", e[0].render()));
        (cases.remove(0), models)
    }

    fn target() -> Target {
        Target::at_endpoint("http://127.0.0.1:4566", "us-east-1", |_| None).unwrap()
    }

    const HOST: &str = "127.0.0.1:4566";

    fn vars(pairs: &[(&str, &str)]) -> Vars {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_modelled_call_is_a_form_post_with_its_variables_rendered() {
        let (case, models) = steps(
            "AssumeRole",
            "      - params: {RoleArn: '{{role_arn}}', RoleSessionName: s}\n",
        );
        let step = &case.steps[0];
        let v = vars(&[("role_arn", "arn:aws:iam::1:role/r")]);
        let built = build(step, &models["sts"], &target(), HOST, &v, None).unwrap();
        assert_eq!(built.request.method, "POST");
        assert_eq!(built.request.url, "http://127.0.0.1:4566/");
        assert_eq!(
            String::from_utf8(built.request.body).unwrap(),
            "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr&RoleSessionName=s"
        );
        assert!(
            built
                .request
                .headers
                .contains(&("host".into(), "127.0.0.1:4566".into()))
        );
        assert!(!built.unsigned_op);
        assert_eq!(
            (step.line, step.col),
            (7, 17),
            "where the params are written"
        );
    }

    #[test]
    fn a_policy_s_parameters_replace_the_step_s_own() {
        let (case, models) = steps("AssumeRole", "      - params: {RoleSessionName: s}\n");
        let other = vec![(
            "RoleSessionName".to_owned(),
            crate::scenario::ParamValue::Str(Template::literal("t")),
        )];
        let built = build(
            &case.steps[0],
            &models["sts"],
            &target(),
            HOST,
            &Vars::new(),
            Some(&other),
        )
        .unwrap();
        assert!(
            String::from_utf8(built.request.body)
                .unwrap()
                .ends_with("RoleSessionName=t")
        );
    }

    #[test]
    fn a_raw_request_renders_path_query_headers_and_body() {
        let (case, models) = steps(
            "GetCallerIdentity",
            "      - raw:\n          method: get\n          path: /{{p}}\n          query: a={{p}}\n          headers: {X-Thing: '{{p}}'}\n          body: b={{p}}\n",
        );
        let step = &case.steps[0];
        let built = build(
            step,
            &models["sts"],
            &target(),
            HOST,
            &vars(&[("p", "v")]),
            None,
        )
        .unwrap();
        let r = &built.request;
        assert_eq!(r.method, "GET", "sent upper-case");
        assert_eq!(r.url, "http://127.0.0.1:4566/v?a=v");
        assert!(r.headers.contains(&("x-thing".into(), "v".into())));
        assert!(r.headers.contains(&("content-type".into(), FORM.into())));
        assert_eq!(r.body, b"b=v");
        assert_eq!(
            title(&case, step),
            "raw GET /{{p}}?a={{p}}",
            "never rendered"
        );
        // A variable with no value: the request is not sent, and the error says which.
        let e = build(step, &models["sts"], &target(), HOST, &Vars::new(), None).unwrap_err();
        assert!(
            matches!(&e, StepError::NotSent(m) if m.contains("{{p}}")),
            "{e:?}"
        );
    }

    #[test]
    fn credentials_follow_the_scenario_and_the_model() {
        let keys = target().credentials;
        let explicit = CredentialsSpec::Explicit {
            access_key_id: Template::parse("{{ak}}").unwrap(),
            secret_access_key: Template::literal("sk"),
            session_token: None,
        };
        let v = vars(&[("ak", "AKIDCAPTURED")]);
        let got = |spec: &CredentialsSpec, unsigned_op: bool, v: &Vars| {
            credentials(spec, unsigned_op, &keys, v)
                .map(|c| c.map(|c| c.access_key_id))
                .map_err(|e| e.to_string())
        };
        assert_eq!(got(&CredentialsSpec::Default, true, &v), Ok(None));
        assert_eq!(
            got(&CredentialsSpec::Target, true, &v),
            Ok(Some(keys.access_key_id.clone()))
        );
        assert_eq!(got(&CredentialsSpec::Unsigned, false, &v), Ok(None));
        assert_eq!(
            got(&explicit, false, &v),
            Ok(Some("AKIDCAPTURED".to_owned()))
        );
        let missing = got(&explicit, false, &Vars::new()).unwrap_err();
        assert!(missing.starts_with("credentials: "), "{missing}");
    }

    #[test]
    fn titles_name_another_service_and_the_step_s_name() {
        let (case, _) = steps(
            "AssumeRole",
            "      - service: iam\n        operation: GetRole\n        params: {RoleName: r}\n      - operation: GetCallerIdentity\n        name: as the session\n",
        );
        assert_eq!(title(&case, &case.steps[0]), "iam:GetRole");
        assert_eq!(
            title(&case, &case.steps[1]),
            "GetCallerIdentity (as the session)"
        );
        assert_eq!(call_name(&case.steps[1]), "sts:GetCallerIdentity");
    }

    #[test]
    fn captures_take_values_in_order_and_stop_at_the_first_missing() {
        let (case, _) = steps(
            "GetCallerIdentity",
            "      - operation: GetCallerIdentity\n        capture: {a: A, b: //B, c: X/C}\n",
        );
        let doc = crate::xml::parse("<R><A>1</A><X><B>2</B></X></R>").unwrap();
        let (got, missing) = capture(&case.steps[0], Some(&doc));
        assert_eq!(got, [("a".into(), "1".into()), ("b".into(), "2".into())]);
        assert_eq!(
            missing,
            Some(MissingCapture {
                path: "X/C".into(),
                variable: "c".into()
            })
        );
        // An answer that is no XML has nothing to capture.
        let (got, missing) = capture(&case.steps[0], None);
        assert!(got.is_empty());
        assert_eq!(missing.map(|m| m.variable), Some("a".into()));
    }
}
