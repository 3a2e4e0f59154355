//! One case's steps in their order: setup steps, the checked steps (their answers make the
//! transcript), then cleanup steps whatever happened before, even after an interrupt.

use std::borrow::Cow;
use std::time::Instant;

use super::event::{Event, Events};
use super::step::Answer;
use super::{Attempt, CaseRun, Runner, step};
use crate::redact::{Redactor, Rules};
use crate::run_error::{Place, RunError, StepRef, Which};
use crate::scenario::{Case, Role, Step};
use crate::template::Vars;

/// Where a case's step is written.
pub(crate) fn place(case: &Case, step: &Step) -> Place {
    Place {
        file: case.file.clone(),
        line: step.line,
        col: step.col,
    }
}

/// Where a case's id is written, for what concerns the whole case.
pub(crate) fn case_place(case: &Case) -> Place {
    Place {
        file: case.file.clone(),
        line: case.line,
        col: case.col,
    }
}

impl Runner {
    /// The error steps of the case's snapshot, read only for a policy that may send a step
    /// again: an answer the snapshot expects is not worth waiting out. A snapshot that cannot
    /// be read expects nothing.
    fn expected_errors(&self, case: &Case) -> Vec<crate::answers::ErrorStep> {
        if self.policy.is_none() {
            return Vec::new();
        }
        match self.suite.snapshots.read_expected(case) {
            Ok(Some(snapshot)) => crate::answers::error_steps(&snapshot, &case.operation),
            _ => Vec::new(),
        }
    }

    /// Runs the steps of a case against the target.
    pub async fn run_case(&self, case: &Case) -> CaseRun {
        self.run_case_telling(case, &Events::default()).await
    }

    pub(crate) async fn run_case_telling(&self, case: &Case, events: &Events) -> CaseRun {
        let empty = Rules::default();
        let rules = self.suite.rules.get(&case.service).unwrap_or(&empty);
        let mut redactor = Redactor::new(rules, &self.target.vars).pinning(&case.pin);
        // Setup and cleanup answers stay out of the snapshot, so they must not take part in
        // its numbering either: they get a redactor of their own (for its secrets).
        let mut plumbing = Redactor::new(rules, &self.target.vars);
        // Most cases capture nothing: they read the target's variables without a copy.
        let mut vars: Cow<'_, Vars> = Cow::Borrowed(&self.target.vars);
        let mut transcript = String::with_capacity(1024);
        let mut stop: Option<RunError> = None;
        let mut checked = 0;
        let fresh_state = case.steps.iter().any(|s| s.role == Role::Setup);
        let expected = self.expected_errors(case);
        for step in case.steps.iter().filter(|s| s.role != Role::Cleanup) {
            let which = if step.role == Role::Check {
                checked += 1;
                Which::Checked(checked)
            } else {
                Which::Setup
            };
            let attempt = Attempt {
                fresh_state,
                expected_code: match which {
                    Which::Checked(n) => expected
                        .iter()
                        .find(|e| e.step == n - 1)
                        .map(|e| e.error.code.as_str()),
                    _ => None,
                },
                ..Attempt::default()
            };
            let at = StepRef {
                place: place(case, step),
                which,
                title: step::title(case, step),
            };
            if step.role == Role::Check {
                if checked > 1 {
                    transcript.push('\n');
                }
                transcript.push_str(&crate::transcript::header(checked, &at.title));
            }
            let r = if step.role == Role::Check {
                &mut redactor
            } else {
                &mut plumbing
            };
            if self.interrupt.is_triggered() {
                stop = Some(RunError::Interrupted { step: at });
                break;
            }
            let started = Instant::now();
            let outcome = tokio::select! {
                biased;
                o = self.run_step(step, &vars, r, attempt, events) => o,
                () = self.interrupt.triggered() => {
                    told(events, &at, None, started);
                    stop = Some(RunError::Interrupted { step: at });
                    break;
                }
            };
            for s in redactor.secrets.drain(..).chain(plumbing.secrets.drain(..)) {
                self.secrets.add(&s);
            }
            told(events, &at, outcome.as_ref().ok(), started);
            match outcome {
                Ok(answer) if step.role == Role::Setup && !answer.succeeded() => {
                    stop = Some(RunError::Refused {
                        step: at,
                        answer: answer.summary(),
                    });
                    break;
                }
                Ok(answer) => {
                    if step.role == Role::Check {
                        transcript.push_str(&answer.text);
                    }
                    if let Some(m) = answer.missing {
                        stop = Some(RunError::Capture {
                            step: at,
                            status: answer.status,
                            path: m.path,
                            variable: m.variable,
                        });
                        break;
                    }
                    if !answer.captured.is_empty() {
                        vars.to_mut().extend(answer.captured);
                    }
                }
                Err(e) => {
                    if step.role == Role::Check {
                        transcript.push_str(&format!("error: {e}\n"));
                    }
                    stop = Some(e.at(at));
                    break;
                }
            }
        }
        let mut warnings = Vec::new();
        for step in case.steps.iter().filter(|s| s.role == Role::Cleanup) {
            let at = StepRef {
                place: place(case, step),
                which: Which::Cleanup,
                title: step::title(case, step),
            };
            let started = Instant::now();
            let outcome = self
                .run_step(
                    step,
                    &vars,
                    &mut plumbing,
                    Attempt {
                        fresh_state,
                        ..Attempt::default()
                    },
                    events,
                )
                .await;
            told(events, &at, outcome.as_ref().ok(), started);
            match outcome {
                Ok(answer) if !answer.succeeded() => warnings.push(RunError::Refused {
                    step: at,
                    answer: answer.summary(),
                }),
                Ok(_) => {}
                Err(e) => warnings.push(e.at(at)),
            }
            for s in plumbing.secrets.drain(..) {
                self.secrets.add(&s);
            }
        }
        let scrub = |e: RunError| e.scrubbed(|t| self.secrets.scrub(t));
        CaseRun {
            transcript: self.secrets.scrub_owned(transcript),
            stop: stop.map(|e| Box::new(scrub(e))),
            warnings: warnings.into_iter().map(scrub).collect(),
        }
    }
}

fn told(events: &Events, step: &StepRef, answer: Option<&Answer>, started: Instant) {
    events.send(Event::StepAnswered {
        index: events.index(),
        step: step.clone(),
        status: answer.map(|a| a.status),
        elapsed: started.elapsed(),
    });
}
