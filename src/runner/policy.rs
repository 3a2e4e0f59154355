//! What a mode of running adds to how steps are sent, beyond what the scenario says. Record
//! mode tags what setup creates and asks again when throttled; the runner applies a policy
//! without knowing its rules, so those rules live with record mode.

use std::time::Duration;

use crate::model::{Model, Operation};
use crate::scenario::{ParamValue, Step};
use crate::template::Vars;
use crate::transport::HttpResponse;

pub trait Policy: Send + Sync {
    /// Parameters to send instead of a modelled step's own, if any.
    fn params(
        &self,
        _step: &Step,
        _model: &Model,
        _operation: &Operation,
        _params: &[(String, ParamValue)],
        _vars: &Vars,
    ) -> Option<Vec<(String, ParamValue)>> {
        None
    }

    /// Whether to send a request again after `answer`, why and after how long.
    fn retry(
        &self,
        _answer: &HttpResponse,
        _attempt: &Attempt<'_>,
    ) -> Option<(&'static str, Duration)> {
        None
    }
}

/// What the runner knows of a request it may send again.
#[derive(Debug, Clone, Copy, Default)]
pub struct Attempt<'a> {
    /// How many times it went again already.
    pub retries: u32,
    /// The case created account state in setup steps, which a service may still be
    /// propagating.
    pub fresh_state: bool,
    /// The error code the case's snapshot holds for this step, when it holds one: an answer
    /// with that code is the one expected, not a sign of state still settling.
    pub expected_code: Option<&'a str>,
}
