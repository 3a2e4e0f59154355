//! What a run tells its reporters while it goes, in the order things happen to each case:
//! the library prints nothing, so the terminal, a progress bar or a test read these.

use std::time::Duration;

use std::sync::Arc;

use tokio::sync::Notify;
use tokio::sync::mpsc::UnboundedSender;

use super::CaseResult;
use crate::http::{HttpRequest, HttpResponse};
use crate::run_error::StepRef;
use crate::secrets::Secrets;

#[derive(Debug)]
pub enum Event<'a> {
    /// A case began: its first step is about to be sent.
    CaseStarted { index: usize, test_name: String },
    /// A step's request came back: `status` is none when no answer came (refused, timed
    /// out, interrupted) or the request could not be sent.
    StepAnswered {
        index: usize,
        step: StepRef,
        status: Option<u16>,
        elapsed: Duration,
    },
    /// A request goes again (the run's policy asked for it): `call` names it
    /// (`sts:AssumeRole`), `why` says what the answer was.
    Retrying {
        index: usize,
        call: String,
        why: &'static str,
        delay: Duration,
    },
    /// A request went out and this came of it (only from a runner `showing_exchanges`).
    Exchange(Box<Exchange>),
    /// A case's result. Every case a run was given gets one, those it did not run included;
    /// `elapsed` is zero for those.
    CaseFinished {
        result: &'a CaseResult,
        elapsed: Duration,
    },
}

/// Where one case's events go: to its run's reporter, or nowhere for a case run alone.
///
/// The reporter's loop reads the queue when a case ends and when `urgent` wakes it (a retry
/// note must show before its wait, not after). Waking it for every event cost a futex call
/// and two context switches per step, about a tenth of a case's CPU.
#[derive(Debug, Clone, Default)]
pub(crate) struct Events {
    to: Option<(UnboundedSender<Event<'static>>, Arc<Notify>)>,
    index: usize,
}

impl Events {
    pub(crate) fn to(
        to: UnboundedSender<Event<'static>>,
        urgent: Arc<Notify>,
        index: usize,
    ) -> Self {
        Events {
            to: Some((to, urgent)),
            index,
        }
    }

    /// Whether anyone hears these events: work done only to tell them can be skipped.
    pub(crate) fn listening(&self) -> bool {
        self.to.is_some()
    }

    /// The case the events are about.
    pub(crate) fn index(&self) -> usize {
        self.index
    }

    pub(crate) fn send(&self, event: Event<'static>) {
        if let Some((to, urgent)) = &self.to {
            // Notes a person watches for must show before the wait or the next step.
            let now = matches!(event, Event::Retrying { .. } | Event::Exchange(_));
            // A reporter that went away wants nothing more; the run goes on.
            let _ = to.send(event);
            if now {
                urgent.notify_one();
            }
        }
    }
}

/// One request of a step as it was sent and the answer to it, for a person to read: every
/// secret the run has met is masked in every part (URL, header values, bodies), and the
/// signature is left out of the Authorization header, whose other parts (algorithm, key id,
/// scope, signed headers) say how the request was signed.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The case's test name.
    pub case: String,
    /// `sts:AssumeRole`, `raw POST /`.
    pub call: String,
    pub request: HttpRequest,
    /// The answer, or why none came.
    pub answer: Result<HttpResponse, String>,
}

impl Exchange {
    pub(crate) fn scrubbed(
        case: String,
        call: String,
        request: &HttpRequest,
        answer: Result<&HttpResponse, String>,
        secrets: &Secrets,
    ) -> Exchange {
        let headers = |hs: &[(String, String)]| -> Vec<(String, String)> {
            hs.iter()
                .map(|(k, v)| {
                    let v = if k.eq_ignore_ascii_case("authorization") {
                        without_signature(v)
                    } else {
                        v.clone()
                    };
                    (k.clone(), secrets.scrub_owned(v))
                })
                .collect()
        };
        let request = HttpRequest {
            method: request.method.clone(),
            url: secrets.scrub(&request.url),
            headers: headers(&request.headers),
            body: secrets
                .scrub_owned(String::from_utf8_lossy(&request.body).into_owned())
                .into_bytes(),
        };
        let answer = match answer {
            Ok(a) => Ok(HttpResponse {
                status: a.status,
                reason: a.reason.clone(),
                content_type: a.content_type.as_deref().map(|c| secrets.scrub(c)),
                body: secrets.scrub(&a.body),
                headers: headers(&a.headers),
            }),
            Err(e) => Err(secrets.scrub_owned(e)),
        };
        Exchange {
            case,
            call,
            request,
            answer,
        }
    }
}

/// `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=[left out]`: the
/// signature proves the secret key for as long as the request may be replayed.
fn without_signature(authorization: &str) -> String {
    match authorization.find("Signature=") {
        Some(at) => format!("{}Signature=[left out]", &authorization[..at]),
        None => authorization.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exchange_masks_every_secret_and_leaves_the_signature_out() {
        let secrets = Secrets::new();
        secrets.add("the-secret-key-0815");
        secrets.add("the-session-token-4711");
        let request = HttpRequest {
            method: "POST".into(),
            url: "http://127.0.0.1:1/?Token=the-session-token-4711".into(),
            headers: vec![
                (
                    "authorization".into(),
                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261201/us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date, Signature=0123abcd".into(),
                ),
                ("x-amz-security-token".into(), "the-session-token-4711".into()),
            ],
            body: b"Action=X&Key=the-secret-key-0815".to_vec(),
        };
        let answer = HttpResponse {
            status: 200,
            reason: "OK".into(),
            content_type: Some("text/xml".into()),
            body: "<SecretAccessKey>the-secret-key-0815</SecretAccessKey>".into(),
            headers: vec![("x-echo".into(), "the-session-token-4711".into())],
        };
        let e = Exchange::scrubbed(
            "sts::X::y".into(),
            "sts:X".into(),
            &request,
            Ok(&answer),
            &secrets,
        );
        let all = format!("{e:?}");
        assert!(!all.contains("the-secret-key-0815"), "{all}");
        assert!(!all.contains("the-session-token-4711"), "{all}");
        assert!(!all.contains("0123abcd"), "{all}");
        assert!(
            e.request.headers[0]
                .1
                .ends_with("SignedHeaders=host;x-amz-date, Signature=[left out]"),
            "{all}"
        );
        assert!(all.contains("Credential=AKIDEXAMPLE/"), "{all}");
    }
}
