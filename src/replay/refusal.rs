//! What a request that no case expects is told when it breaks its operation's model
//! constraints: the service's own validation error, worded as its facts file says the
//! service words it. An SDK test that sends a value over a limit no case happens to send
//! then gets what the service would answer, not an error of the harness. As the service
//! does, it judges values only once the request is signed (or the operation needs no
//! signature): an unsigned one is still told which case it missed, and why.

use super::decode::{Incoming, param};
use super::{Replay, Reply, error_reply};
use crate::facts::Validation;
use crate::model::Model;

/// A service's model and the format of its validation errors.
#[derive(Debug, Clone)]
pub(super) struct Constraints {
    pub(super) model: Model,
    pub(super) format: Validation,
}

impl Replay {
    /// The service's validation error for a request that breaks a constraint of its
    /// operation's input, or None when it breaks none (or the service has no format).
    pub(super) fn refusal(&self, req: &Incoming, params: &[(String, String)]) -> Option<Reply> {
        let action = param(params, "Action")?;
        let service = self
            .services
            .get(self.service_of(Some(action), req.signed_for()))?;
        let constraints = service.constraints.as_ref()?;
        let operation = constraints.model.operation(action)?;
        if !operation.unsigned && req.access_key().is_none() {
            return None;
        }
        let input = operation.input.as_deref()?;
        let violations = crate::validation::violations(&constraints.model, input, params);
        if violations.is_empty() {
            return None;
        }
        let spec = &constraints.format.spec;
        Some(error_reply(
            spec.status,
            &spec.code,
            &constraints.format.message(&violations),
            service.namespace.as_deref(),
        ))
    }
}
