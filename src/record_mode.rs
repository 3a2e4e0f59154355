//! What record mode adds to how steps are sent, as a runner [`Policy`]: what setup steps
//! create in IAM carries the tag `conform=<run id>`, so `conform cleanup` can find what a run
//! left behind; throttled answers, and answers refused while what setup created may still be
//! propagating, are asked again after a jittered backoff. A conformance run uses none of
//! this: it reports what it got.

use std::time::Duration;

use crate::model::{Model, Operation, ShapeKind};
use crate::runner::{Attempt, Policy};
use crate::scenario::{ParamValue, Role, Step};
use crate::template::{Template, Vars};
use crate::transport::HttpResponse;

/// The tag key that marks what a recording created.
pub const CONFORM_TAG: &str = "conform";

#[derive(Debug, Clone)]
pub struct RecordMode {
    /// Attempts in all, the first included.
    pub attempts: u32,
    pub base: Duration,
    pub max: Duration,
    /// Codes that mean "ask again later", from the services' `retry` data.
    pub retry: crate::resources::Retry,
}

impl RecordMode {
    /// Full-jitter exponential backoff: a delay drawn evenly below base x 2^attempt, capped,
    /// so that recorders throttled together do not come back together.
    fn delay(&self, attempt: u32) -> Duration {
        let cap = self.base.saturating_mul(1 << attempt.min(16)).min(self.max);
        cap.mul_f64(fastrand::f64())
    }
}

impl Policy for RecordMode {
    fn params(
        &self,
        step: &Step,
        model: &Model,
        operation: &Operation,
        params: &[(String, ParamValue)],
        vars: &Vars,
    ) -> Option<Vec<(String, ParamValue)>> {
        let taggable = model.input_members(operation).is_some_and(|s| {
            matches!(&s.kind, ShapeKind::Structure { members, .. } if members.contains_key("Tags"))
        });
        (step.role == Role::Setup && operation.name.starts_with("Create") && taggable)
            .then(|| with_conform_tag(params, vars))
    }

    fn retry(
        &self,
        answer: &HttpResponse,
        attempt: &Attempt<'_>,
    ) -> Option<(&'static str, Duration)> {
        if attempt.retries + 1 >= self.attempts {
            return None;
        }
        retryable(&self.retry, answer, attempt).map(|why| (why, self.delay(attempt.retries + 1)))
    }
}

/// Why an answer is worth asking again, if it is: HTTP 429 or 503, a throttling code, or
/// (while what setup created may be propagating) a refusal the services' data name, unless
/// the case's snapshot expects that very refusal (a user deleted twice: waiting for
/// NoSuchEntity to go away cost seconds per such case against AWS).
fn retryable(
    retry: &crate::resources::Retry,
    resp: &HttpResponse,
    attempt: &Attempt<'_>,
) -> Option<&'static str> {
    let code = resp
        .body
        .split("<Code>")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .unwrap_or("");
    let named = |codes: &[String]| codes.iter().any(|c| c == code);
    if resp.status == 429 || resp.status == 503 || named(&retry.throttled) {
        return Some("throttled");
    }
    if attempt.fresh_state && named(&retry.propagating) && attempt.expected_code != Some(code) {
        return Some("refused while what setup created may still be propagating");
    }
    None
}

/// Whether a tag list already holds a `conform` key: a case at a resource's tag quota names
/// it among its own tags (`conform: '{{run_id}}'`), so the tag cleanup needs adds none past it.
fn tags_conform(items: &[ParamValue]) -> bool {
    items.iter().any(|item| match item {
        ParamValue::Map(fields) => fields.iter().any(|(k, v)| {
            k.as_literal() == Some("Key")
                && matches!(v, ParamValue::Str(t) if t.as_literal() == Some(CONFORM_TAG))
        }),
        _ => false,
    })
}

/// `params` with `{Key: conform, Value: <run id>}` added to its Tags, unless they hold one.
fn with_conform_tag(params: &[(String, ParamValue)], vars: &Vars) -> Vec<(String, ParamValue)> {
    let run_id = vars.get("run_id").cloned().unwrap_or_default();
    let tag = ParamValue::Map(vec![
        (
            Template::literal("Key"),
            ParamValue::Str(Template::literal(CONFORM_TAG)),
        ),
        (
            Template::literal("Value"),
            ParamValue::Str(Template::literal(run_id)),
        ),
    ]);
    let mut out: Vec<(String, ParamValue)> = params.to_vec();
    match out.iter_mut().find(|(k, _)| k == "Tags") {
        Some((_, ParamValue::List(items))) if tags_conform(items) => {}
        Some((_, ParamValue::List(items))) => items.push(tag),
        _ => out.push(("Tags".into(), ParamValue::List(vec![tag]))),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, code: &str) -> HttpResponse {
        HttpResponse {
            status,
            reason: String::new(),
            content_type: Some("text/xml".into()),
            body: format!("<ErrorResponse><Error><Code>{code}</Code></Error></ErrorResponse>"),
            headers: Vec::new(),
        }
    }

    fn at(fresh_state: bool, retries: u32) -> Attempt<'static> {
        Attempt {
            retries,
            fresh_state,
            expected_code: None,
        }
    }

    fn mode(attempts: u32) -> RecordMode {
        RecordMode {
            attempts,
            base: Duration::from_millis(100),
            max: Duration::from_millis(250),
            retry: crate::resources::Retry {
                throttled: vec!["Throttling".into()],
                propagating: vec!["AccessDenied".into()],
            },
        }
    }

    #[test]
    fn throttling_is_retried_and_a_refusal_only_while_setup_state_propagates() {
        let m = mode(3);
        for throttled in [answer(429, ""), answer(503, ""), answer(400, "Throttling")] {
            assert_eq!(
                m.retry(&throttled, &at(false, 0)).map(|r| r.0),
                Some("throttled")
            );
        }
        let denied = answer(403, "AccessDenied");
        assert_eq!(m.retry(&denied, &at(false, 0)), None);
        assert!(m.retry(&denied, &at(true, 0)).is_some());
        assert_eq!(m.retry(&answer(400, "ValidationError"), &at(true, 0)), None);
    }

    #[test]
    fn a_refusal_the_snapshot_expects_is_not_waited_out_but_throttling_still_is() {
        let m = mode(3);
        let expecting = |code| Attempt {
            expected_code: Some(code),
            ..at(true, 0)
        };
        assert_eq!(
            m.retry(&answer(403, "AccessDenied"), &expecting("AccessDenied")),
            None
        );
        assert!(
            m.retry(&answer(403, "AccessDenied"), &expecting("NoSuchEntity"))
                .is_some(),
            "a refusal other than the expected one may still be propagation"
        );
        assert_eq!(
            m.retry(&answer(400, "Throttling"), &expecting("Throttling"))
                .map(|r| r.0),
            Some("throttled")
        );
    }

    #[test]
    fn attempts_count_the_first_and_delays_stay_under_the_cap() {
        let m = mode(3);
        let throttled = answer(429, "");
        let (_, first) = m.retry(&throttled, &at(false, 0)).unwrap();
        assert!(first <= Duration::from_millis(200), "{first:?}");
        // Full jitter: draws spread over the whole range below the cap, not its upper half.
        let draws: Vec<Duration> = (0..200)
            .map(|_| m.retry(&throttled, &at(false, 0)).unwrap().1)
            .collect();
        assert!(
            draws.iter().any(|d| *d < Duration::from_millis(50)),
            "{draws:?}"
        );
        assert!(
            draws.iter().any(|d| *d > Duration::from_millis(150)),
            "{draws:?}"
        );
        let (_, second) = m.retry(&throttled, &at(false, 1)).unwrap();
        assert!(second <= Duration::from_millis(250), "{second:?}");
        assert_eq!(
            m.retry(&throttled, &at(false, 2)),
            None,
            "the third attempt is the last"
        );
        assert_eq!(mode(1).retry(&throttled, &at(false, 0)), None);
    }

    #[test]
    fn the_tag_joins_tags_already_given_or_becomes_the_only_one() {
        let vars = Vars::from([("run_id".to_owned(), "r1".to_owned())]);
        let tag = |p: &[(String, ParamValue)]| format!("{:?}", with_conform_tag(p, &vars));
        let none = tag(&[]);
        assert!(
            none.contains("\"conform\"") && none.contains("\"r1\""),
            "{none}"
        );
        let given = vec![(
            "Tags".to_owned(),
            ParamValue::List(vec![ParamValue::Str(Template::literal("mine"))]),
        )];
        let out = with_conform_tag(&given, &vars);
        assert_eq!(out.len(), 1);
        let ParamValue::List(items) = &out[0].1 else {
            panic!("{out:?}")
        };
        assert_eq!(items.len(), 2);
        // A case at the tag quota names the conform tag itself: none is added past it.
        let own = ParamValue::Map(vec![
            (
                Template::literal("Key"),
                ParamValue::Str(Template::literal("conform")),
            ),
            (
                Template::literal("Value"),
                ParamValue::Str(Template::parse("{{run_id}}").unwrap()),
            ),
        ]);
        let at_quota = vec![("Tags".to_owned(), ParamValue::List(vec![own]))];
        let ParamValue::List(items) = &with_conform_tag(&at_quota, &vars)[0].1 else {
            panic!("a list")
        };
        assert_eq!(items.len(), 1);
    }
}
