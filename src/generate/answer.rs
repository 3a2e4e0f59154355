//! The expected answer of a generated case: its request serialized as the runner sends it,
//! validated against the model, and refused in the service's validation format; then
//! normalized by the same code a run's answers go through, so the snapshot is what a
//! conforming endpoint makes a run write.

use std::time::SystemTime;

use crate::facts::Facts;
use crate::http::HttpResponse;
use crate::model::Model;
use crate::normalize;
use crate::query;
use crate::redact::{Redactor, Rules};
use crate::scenario::{Case, Request};
use crate::secrets::Secrets;
use crate::template::Vars;

/// A request id of the shape AWS uses: the redaction rules turn it into `[request-id]`.
const REQUEST_ID: &str = "00000000-0000-4000-8000-000000000000";

/// Why a generated case has no expected answer.
pub(super) enum NoAnswer {
    /// The model accepts the request as sent.
    Accepted,
    Other(String),
}

/// The snapshot contents a generated case expects, or why it has none.
pub(super) fn expected(
    model: &Model,
    facts: &Facts,
    rules: &Rules,
    vars: &Vars,
    case: &Case,
) -> Result<String, NoAnswer> {
    let other = |s: String| NoAnswer::Other(s);
    let [step] = case.steps.as_slice() else {
        return Err(other("a generated case has one step".to_owned()));
    };
    let Request::Call { operation, params } = &step.request else {
        return Err(other("a generated case calls an operation".to_owned()));
    };
    let op = model
        .operation(operation)
        .ok_or_else(|| other(format!("{operation} is not in the model")))?;
    let sent = query::serialize(model, op, params, vars).map_err(|e| other(e.to_string()))?;
    let input = op.input.as_deref().unwrap_or_default();
    let violations = crate::validation::violations(model, input, &sent.pairs);
    if violations.is_empty() {
        return Err(NoAnswer::Accepted);
    }
    let format = facts
        .validation
        .as_ref()
        .ok_or_else(|| other(format!("{} has no `validation` format", facts.file)))?;
    let message = format.message(&violations);
    let body = query::error_document(
        Some(&facts.namespace),
        &format.spec.code,
        &message,
        REQUEST_ID,
    );
    let status = format.spec.status;
    let answer = HttpResponse {
        status,
        reason: reqwest::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("")
            .to_owned(),
        content_type: Some("text/xml".to_owned()),
        body,
        headers: Vec::new(),
    };
    let mut redactor = Redactor::new(rules, vars);
    let normalized = normalize::response(&answer, &mut redactor, SystemTime::now());
    // What the model marks sensitive (a phone number, a token) is a secret of the run: the
    // runner scrubs it from the transcript, so the expected text holds it scrubbed too.
    let secrets = Secrets::new();
    for s in &sent.sensitive {
        secrets.add(s);
    }
    Ok(secrets.scrub_owned(format!(
        "{}{}",
        crate::transcript::header(1, operation),
        normalized.text
    )))
}
