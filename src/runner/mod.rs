//! Runs cases against a target: for each step, build the request (serialize or raw), sign
//! it, send it, normalize the answer and capture variables; then compare the transcript with
//! the stored snapshot. Cases run concurrently and tell reporters what happens as
//! [`Event`]s; the runner prints nothing.

mod case;
mod claims;
mod event;
mod interrupt;
mod judgement;
mod policy;
mod step;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

pub use self::event::{Event, Exchange};
pub use self::interrupt::Interrupt;
pub use self::policy::{Attempt, Policy};
pub(crate) use self::step::Answer;
pub use self::step::StepError;
pub use crate::outcome::{Outcome, StopKind};
use crate::redact::{Redactor, Rules};
use crate::run_error::{Place, RunError};
use crate::scenario::Step;
use crate::secrets::Secrets;
use crate::snapshot;
use crate::suite::Suite;
use crate::target::Target;
use crate::transport::{Transport, TransportError};
use event::Events;

/// What running one case produced.
#[derive(Debug, Clone)]
pub struct CaseRun {
    /// Every step's normalized answer: the snapshot's contents.
    pub transcript: String,
    /// Why the case could not run to its end.
    pub stop: Option<Box<RunError>>,
    /// Problems that do not change the verdict (a cleanup step that failed).
    pub warnings: Vec<RunError>,
}

#[derive(Debug, Clone)]
pub struct CaseResult {
    /// Index into the suite's cases.
    pub index: usize,
    pub test_name: String,
    pub run: CaseRun,
    pub outcome: Outcome,
    /// How long the case took, from its first step to its judgement (zero for a case not
    /// run): JUnit's `time`.
    pub elapsed: Duration,
}

pub struct Runner {
    /// What the mode of running adds to how steps are sent (record mode's tags and retries).
    policy: Option<Arc<dyn Policy>>,
    /// Set on Ctrl-C: cases not started yet are not run; running ones skip to their cleanup.
    interrupt: Interrupt,
    suite: Arc<Suite>,
    target: Target,
    /// The Host header of each service's requests, worked out once: parsing the endpoint
    /// URL on every request was a measurable part of a case.
    hosts: std::collections::HashMap<String, String>,
    transport: Transport,
    secrets: Secrets,
    /// Passing cases come back without their transcript (`forgetting_passed`).
    forget_passed: bool,
    /// Each request and answer is told as an `Event::Exchange` (`showing_exchanges`).
    show_exchanges: bool,
    /// Account-wide names held by the cases running now.
    claims: claims::Claims,
}

impl Runner {
    pub fn new(
        suite: Arc<Suite>,
        mut target: Target,
        secrets: Secrets,
    ) -> Result<Runner, TransportError> {
        // Declared variables take their default unless the target sets them.
        for (k, v) in suite.default_vars() {
            target.vars.entry(k.clone()).or_insert_with(|| v.clone());
        }
        let run_id = target.vars.get("run_id").map(String::as_str);
        let transport = Transport::new(target.timeout, target.retries, run_id)?
            .with_answer_limit(target.max_answer_bytes);
        secrets.add(&target.credentials.secret_access_key);
        if let Some(t) = &target.credentials.session_token {
            secrets.add(t);
        }
        let hosts = suite
            .models
            .keys()
            .map(|service| (service.clone(), target.host_for(service)))
            .collect();
        Ok(Runner {
            policy: None,
            interrupt: Interrupt::new(),
            suite,
            target,
            hosts,
            transport,
            secrets,
            forget_passed: false,
            show_exchanges: false,
            claims: claims::Claims::default(),
        })
    }

    pub fn suite(&self) -> &Arc<Suite> {
        &self.suite
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    pub fn secrets(&self) -> &Secrets {
        &self.secrets
    }

    /// Sends steps the way `policy` says (record mode: `crate::record_mode`).
    pub fn with_policy(mut self, policy: Arc<dyn Policy>) -> Self {
        self.policy = Some(policy);
        self
    }

    /// Passing cases come back with an empty transcript: what a run's reports and `.snap.new`
    /// files need is only the answers that differ, and a long run's memory stays small.
    pub fn forgetting_passed(mut self) -> Self {
        self.forget_passed = true;
        self
    }

    /// Tells every request and its answer, with their headers, as `Event::Exchange`
    /// (`run --verbose`): scrubbed of every secret the run has met, the answer's own too.
    pub fn showing_exchanges(mut self) -> Self {
        self.show_exchanges = true;
        self.transport = self.transport.with_headers();
        self
    }

    /// At most `per_second` requests per second (record mode's `--rate`).
    pub fn with_rate(mut self, per_second: f64) -> Self {
        self.transport = self.transport.with_rate(per_second);
        self
    }

    /// Shares an interruption triggered elsewhere (a signal handler installed before the
    /// runner existed).
    pub fn with_interrupt(mut self, interrupt: Interrupt) -> Self {
        self.interrupt = interrupt;
        self
    }

    /// Stops starting cases; those under way go to their cleanup steps.
    pub fn cancel(&self) {
        self.interrupt.trigger();
    }

    /// Runs a step that belongs to no case with the target's own variables and no redaction
    /// rules; secrets it meets still join the run's scrub list.
    pub(crate) async fn one_off(&self, step: &Step) -> Result<Answer, StepError> {
        let empty = Rules::default();
        let mut redactor = Redactor::new(&empty, &self.target.vars);
        let answer = self
            .run_step(
                step,
                &self.target.vars,
                &mut redactor,
                Attempt::default(),
                &Events::default(),
            )
            .await?;
        for s in redactor.secrets.drain(..) {
            self.secrets.add(&s);
        }
        Ok(answer)
    }

    /// A case that has no run to show, only what stopped it.
    fn stopped(&self, index: usize, error: impl FnOnce(Place) -> RunError) -> CaseResult {
        let case = &self.suite.cases[index];
        let error = Box::new(error(case::case_place(case)));
        CaseResult {
            index,
            test_name: case.test_name(),
            outcome: Outcome::Error(error.clone()),
            run: CaseRun {
                transcript: String::new(),
                stop: Some(error),
                warnings: Vec::new(),
            },
            elapsed: Duration::ZERO,
        }
    }

    /// Runs one case and compares it with its snapshot.
    pub async fn check(&self, index: usize) -> CaseResult {
        self.check_telling(index, &Events::default()).await
    }

    async fn check_telling(&self, index: usize, events: &Events) -> CaseResult {
        let case = &self.suite.cases[index];
        if self.interrupt.is_triggered() {
            return self.stopped(index, |case| RunError::NotRun { case });
        }
        let started = Instant::now();
        let test_name = case.test_name();
        events.send(Event::CaseStarted {
            index,
            test_name: test_name.clone(),
        });
        let mut run = self.run_case_telling(case, events).await;
        let outcome = match self.suite.snapshots.read_expected(case) {
            Ok(expected) => judgement::judge(expected.as_deref(), &run, &self.secrets),
            Err(e) => Outcome::Error(Box::new(RunError::Snapshot {
                case: case::case_place(case),
                cause: e.to_string(),
            })),
        };
        if self.forget_passed && outcome == Outcome::Pass {
            // A passing case's answer is its snapshot, which is on disk: keeping 10,000 of
            // them was most of what a long run held.
            run.transcript = String::new();
        }
        CaseResult {
            index,
            test_name,
            run,
            outcome,
            elapsed: started.elapsed(),
        }
    }

    /// Runs cases with at most `jobs` in flight; `on_event` hears what happens, each case's
    /// events in order and its `CaseFinished` last. Results come back in the order of
    /// `indices`.
    pub async fn check_all(
        self: &Arc<Self>,
        indices: &[usize],
        jobs: usize,
        on_event: impl FnMut(&Event<'_>),
    ) -> Vec<CaseResult> {
        self.check_all_until(indices, jobs, on_event, std::future::pending())
            .await
    }

    /// `check_all`, giving up on the cases still running when `give_up` resolves (an
    /// interrupt's grace time is over): they are reported as not run, and what finished is
    /// kept.
    pub async fn check_all_until(
        self: &Arc<Self>,
        indices: &[usize],
        jobs: usize,
        mut on_event: impl FnMut(&Event<'_>),
        give_up: impl std::future::Future<Output = ()>,
    ) -> Vec<CaseResult> {
        // Never awaited with `recv`, so a send wakes nobody: the queue is read when a case
        // ends or an urgent event rings (`Events`).
        let (to, mut heard) = tokio::sync::mpsc::unbounded_channel();
        let urgent = Arc::new(tokio::sync::Notify::new());
        let mut set = JoinSet::new();
        // Only `jobs` cases are tasks at any time, the next one started as one ends: a task
        // per case up front held every case's future in memory at once (22 MB of a
        // 10,000-case run).
        let mut waiting = indices.iter().copied().enumerate();
        let start_next =
            |set: &mut JoinSet<_>, waiting: &mut dyn Iterator<Item = (usize, usize)>| {
                if let Some((slot, index)) = waiting.next() {
                    let runner = Arc::clone(self);
                    let events = Events::to(to.clone(), Arc::clone(&urgent), index);
                    set.spawn(async move {
                        let keys = claims::keys(&runner.suite, &runner.suite.cases[index]);
                        let _held = runner.claims.hold(&keys).await;
                        let result = runner.check_telling(index, &events).await;
                        (slot, result)
                    });
                }
            };
        for _ in 0..jobs.max(1) {
            start_next(&mut set, &mut waiting);
        }
        let mut out: Vec<Option<CaseResult>> = vec![None; indices.len()];
        let mut gave_up = false;
        tokio::pin!(give_up);
        loop {
            let joined = tokio::select! {
                biased;
                () = urgent.notified() => {
                    while let Ok(event) = heard.try_recv() {
                        on_event(&event);
                    }
                    continue;
                }
                j = set.join_next() => j,
                () = &mut give_up, if !gave_up => {
                    gave_up = true;
                    set.abort_all();
                    continue;
                }
            };
            match joined {
                None => break,
                Some(Ok((slot, result))) => {
                    // What the case told before it ended comes before its end.
                    while let Ok(event) = heard.try_recv() {
                        on_event(&event);
                    }
                    on_event(&Event::CaseFinished {
                        result: &result,
                        elapsed: result.elapsed,
                    });
                    out[slot] = Some(result);
                    if !gave_up {
                        start_next(&mut set, &mut waiting);
                    }
                }
                // Aborted after giving up, or a panic inside a case (a bug in conform):
                // reported as that case's error rather than losing the whole run.
                Some(Err(_)) => {
                    if !gave_up {
                        start_next(&mut set, &mut waiting);
                    }
                }
            }
        }
        while let Ok(event) = heard.try_recv() {
            on_event(&event);
        }
        out.into_iter()
            .enumerate()
            .map(|(slot, r)| {
                r.unwrap_or_else(|| {
                    let result = if gave_up {
                        self.stopped(indices[slot], |case| RunError::GaveUp { case })
                    } else {
                        self.stopped(indices[slot], |case| RunError::Panicked { case })
                    };
                    on_event(&Event::CaseFinished {
                        result: &result,
                        elapsed: Duration::ZERO,
                    });
                    result
                })
            })
            .collect()
    }
}

/// The normalized text a snapshot holds for a result, for `.snap.new` writers.
pub fn snapshot_contents(result: &CaseResult) -> String {
    snapshot::normalize_contents(&result.run.transcript)
}

#[cfg(test)]
mod tests;
