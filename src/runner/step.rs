//! One step: its request built from the scenario (serialized or raw, templates rendered
//! with the variables so far), signed, sent (again when the run's policy says so), and its
//! answer normalized, with the captures read from it.

use std::time::SystemTime;

use super::Runner;
use super::event::{Event, Events};
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

/// Builds a step's request with `params` in place of a modelled step's own (a policy's).
pub(crate) fn build(
    step: &Step,
    model: &Model,
    target: &Target,
    vars: &Vars,
    params: Option<&[(String, crate::scenario::ParamValue)]>,
) -> Result<Built, StepError> {
    let not_sent = |e: &dyn std::fmt::Display| StepError::NotSent(e.to_string());
    let host = ("host".to_owned(), target.host_for(&step.service));
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
    /// Sends one step and reads its answer. `fresh_state`: the case created account state in
    /// setup steps, which the run's policy may wait for.
    pub(crate) async fn run_step(
        &self,
        step: &Step,
        vars: &Vars,
        redactor: &mut Redactor<'_>,
        fresh_state: bool,
        events: &Events,
    ) -> Result<Answer, StepError> {
        let model = &self.suite.models[&step.service];
        let swapped = match (&step.request, &self.policy) {
            (Request::Call { operation, params }, Some(policy)) => model
                .operation(operation)
                .and_then(|op| policy.params(step, model, op, params, vars)),
            _ => None,
        };
        let built = build(step, model, &self.target, vars, swapped.as_deref())?;
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
        let mut sent_at = SystemTime::now();
        let mut response = self.transport.send(&request).await?;
        if let Some(policy) = &self.policy {
            let mut retries = 0;
            while let Some((why, delay)) = policy.retry(&response, fresh_state, retries) {
                retries += 1;
                events.send(Event::Retrying {
                    index: events.index(),
                    call: call_name(step),
                    why,
                    delay,
                });
                tokio::time::sleep(delay).await;
                sent_at = SystemTime::now();
                response = self.transport.send(&request).await?;
            }
        }
        let normalized = normalize::response(&response, redactor, sent_at);
        let (captured, missing) = capture(step, normalized.document.as_ref());
        let code = normalized.document.as_ref().and_then(|d| {
            ElementPath::parse("//Code")
                .ok()
                .and_then(|path| d.select(&path))
        });
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
