//! Runs cases against a target: for each step, build the request (serialize or raw), sign
//! it, send it, normalize the answer and capture variables; then compare the transcript with
//! the stored snapshot.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::deviation::{self, Deviation, Diff};
use crate::normalize;
pub use crate::outcome::{Outcome, StopKind};
use crate::query;
use crate::redact::{Redactor, Rules};
use crate::scenario::{Case, CredentialsSpec, Request, Role, Step};
use crate::secrets::Secrets;
use crate::sign::{self, Credentials};
use crate::snapshot::{self, Verdict};
use crate::suite::Suite;
use crate::target::Target;
use crate::template::Vars;
use crate::transport::{HttpRequest, Transport, TransportError};

const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";
const PANICKED: &str = "internal error: the case panicked (a bug in conform, please report it)";

/// The answer of GetCallerIdentity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    pub arn: String,
    pub account: String,
    pub user_id: String,
}

/// What running one case produced.
#[derive(Debug, Clone)]
pub struct CaseRun {
    /// Every step's normalized answer: the snapshot's contents.
    pub transcript: String,
    /// Why the case could not run to its end.
    pub stop: Option<Stop>,
    /// Problems that do not change the verdict (a cleanup step that failed).
    pub warnings: Vec<String>,
}

/// Why a case stopped before its last step.
#[derive(Debug, Clone, PartialEq)]
pub struct Stop {
    pub kind: StopKind,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct CaseResult {
    /// Index into the suite's cases.
    pub index: usize,
    pub test_name: String,
    pub run: CaseRun,
    pub outcome: Outcome,
}

/// Told about something worth a line in a log (a retry).
pub type Notify = Box<dyn Fn(&str) + Send + Sync>;

/// A run's interruption, shared by whoever catches the signal and the runner: once
/// triggered, no case starts, and cases under way leave their checked and setup steps
/// (an answer awaited is abandoned) and go straight to their cleanup steps.
#[derive(Debug, Clone, Default)]
pub struct Interrupt {
    set: Arc<std::sync::atomic::AtomicBool>,
    wake: Arc<tokio::sync::Notify>,
}

impl Interrupt {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn trigger(&self) {
        self.set.store(true, std::sync::atomic::Ordering::SeqCst);
        self.wake.notify_waiters();
    }

    pub fn is_triggered(&self) -> bool {
        self.set.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Resolves once triggered (at once if it already was).
    pub async fn triggered(&self) {
        let woken = self.wake.notified();
        tokio::pin!(woken);
        // Registered before the flag is read, so a trigger in between is not missed.
        woken.as_mut().enable();
        if self.is_triggered() {
            return;
        }
        woken.await;
    }
}

/// Retries that only record mode uses: throttling, and account state still propagating.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    pub base: Duration,
    pub max: Duration,
}

impl RetryPolicy {
    /// Full-jitter exponential backoff: a random delay up to base x 2^attempt, capped.
    fn delay(&self, attempt: u32) -> Duration {
        let cap = self.base.saturating_mul(1 << attempt.min(16)).min(self.max);
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let fraction = 0.5 + (nanos % 1000) as f64 / 2000.0;
        cap.mul_f64(fraction)
    }
}

/// Why an answer is worth asking again, if it is.
fn retryable(resp: &crate::transport::HttpResponse, fresh_state: bool) -> Option<&'static str> {
    let code = resp
        .body
        .split("<Code>")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .unwrap_or("");
    if resp.status == 429
        || resp.status == 503
        || matches!(
            code,
            "Throttling"
                | "ThrottlingException"
                | "RequestLimitExceeded"
                | "TooManyRequestsException"
        )
    {
        return Some("throttled");
    }
    if fresh_state
        && matches!(
            code,
            "AccessDenied" | "InvalidClientTokenId" | "NoSuchEntity"
        )
    {
        return Some("refused while what setup created may still be propagating");
    }
    None
}

/// The tag key that marks what a recording created.
pub const CONFORM_TAG: &str = "conform";

/// `params` with `{Key: conform, Value: <run id>}` added to its Tags.
fn with_conform_tag(
    params: &[(String, crate::scenario::ParamValue)],
    vars: &Vars,
) -> Vec<(String, crate::scenario::ParamValue)> {
    use crate::scenario::ParamValue;
    use crate::template::Template;
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
        Some((_, ParamValue::List(items))) => items.push(tag),
        _ => out.push(("Tags".into(), ParamValue::List(vec![tag]))),
    }
    out
}

fn step_label(step: &Step) -> String {
    match &step.request {
        Request::Call { operation, .. } => format!("{}:{operation}", step.service),
        Request::Raw(r) => format!("raw {} {}", r.method, r.path),
    }
}

pub struct Runner {
    /// Record mode: IAM resources that setup steps create carry the tag `conform=<run id>`,
    /// so `conform cleanup` can find what a run left behind.
    tag_created: bool,
    retry: Option<RetryPolicy>,
    retry_note: Option<Notify>,
    /// Set on Ctrl-C: cases not started yet are not run; running ones skip to their cleanup.
    interrupt: Interrupt,
    suite: Arc<Suite>,
    target: Target,
    transport: Transport,
    secrets: Secrets,
}

#[derive(Debug, thiserror::Error)]
enum StepError {
    #[error("{0}")]
    Transport(#[from] TransportError),
    #[error("{0}")]
    Setup(String),
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
        let transport = Transport::new(target.timeout, target.retries)?
            .with_answer_limit(target.max_answer_bytes);
        secrets.add(&target.credentials.secret_access_key);
        if let Some(t) = &target.credentials.session_token {
            secrets.add(t);
        }
        Ok(Runner {
            tag_created: false,
            retry: None,
            retry_note: None,
            interrupt: Interrupt::new(),
            suite,
            target,
            transport,
            secrets,
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

    /// Who the target's credentials are, asked with GetCallerIdentity (record mode prints it
    /// before anything else, and takes the account id and caller from it).
    pub async fn caller_identity(&self) -> Result<CallerIdentity, String> {
        let capture = |variable: &str, path: &str| crate::scenario::Capture {
            variable: variable.to_owned(),
            path: crate::xml::ElementPath::parse(path).expect("a valid path"),
        };
        let step = Step {
            service: "sts".into(),
            name: None,
            role: Role::Check,
            request: Request::Call {
                operation: "GetCallerIdentity".into(),
                params: Vec::new(),
            },
            credentials: CredentialsSpec::Target,
            captures: vec![
                capture("arn", "//Arn"),
                capture("account", "//Account"),
                capture("user_id", "//UserId"),
            ],
            line: 0,
        };
        let answer = self.ad_hoc(&step).await?;
        if let Some(e) = answer.capture_error {
            return Err(format!(
                "GetCallerIdentity {e}{}",
                answer.code.map(|c| format!(" ({c})")).unwrap_or_default()
            ));
        }
        let get = |k: &str| {
            answer
                .captured
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        Ok(CallerIdentity {
            arn: get("arn"),
            account: get("account"),
            user_id: get("user_id"),
        })
    }

    /// Tags what setup steps create in IAM with `conform=<run id>` (record mode).
    pub fn tagging_created(mut self) -> Self {
        self.tag_created = true;
        self
    }

    /// One modelled call outside any case (cleanup's listings and deletions): the parsed
    /// answer and its status.
    pub async fn call(
        &self,
        service: &str,
        operation: &str,
        params: Vec<(String, crate::scenario::ParamValue)>,
    ) -> Result<(u16, Option<crate::xml::Element>), String> {
        let step = Step {
            service: service.into(),
            name: None,
            role: Role::Check,
            request: Request::Call {
                operation: operation.into(),
                params,
            },
            credentials: CredentialsSpec::Target,
            captures: Vec::new(),
            line: 0,
        };
        let answer = self.ad_hoc(&step).await?;
        Ok((answer.status, answer.document))
    }

    /// Runs a step that belongs to no case with the target's own variables and no redaction
    /// rules; secrets it meets still join the run's scrub list.
    async fn ad_hoc(&self, step: &Step) -> Result<Answer, String> {
        let empty = Rules::default();
        let mut redactor = Redactor::new(&empty, &self.target.vars);
        let answer = self
            .run_step(step, &self.target.vars, &mut redactor, false)
            .await
            .map_err(|e| e.to_string())?;
        for s in redactor.secrets.drain(..) {
            self.secrets.add(&s);
        }
        Ok(answer)
    }

    /// At most `per_second` requests per second (record mode's `--rate`).
    pub fn with_rate(mut self, per_second: f64) -> Self {
        self.transport = self.transport.with_rate(per_second);
        self
    }

    /// Retries throttled answers and answers refused while setup's state propagates (record
    /// mode), telling `note` about each retry.
    pub fn with_retry(
        mut self,
        policy: RetryPolicy,
        note: Box<dyn Fn(&str) + Send + Sync>,
    ) -> Self {
        self.retry = Some(policy);
        self.retry_note = Some(note);
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

    /// A case the interruption kept from running (or from finishing in time).
    pub fn not_run(&self, index: usize, message: &str) -> CaseResult {
        self.stopped(index, StopKind::Interrupted, message)
    }

    /// A case that has no run to show, only what stopped it.
    fn stopped(&self, index: usize, kind: StopKind, message: &str) -> CaseResult {
        let stop = Stop {
            kind,
            message: message.to_owned(),
        };
        CaseResult {
            index,
            test_name: self.suite.cases[index].test_name(),
            outcome: Outcome::Error {
                kind,
                message: stop.message.clone(),
            },
            run: CaseRun {
                transcript: String::new(),
                stop: Some(stop),
                warnings: Vec::new(),
            },
        }
    }

    /// Runs one case and compares it with its snapshot.
    pub async fn check(&self, index: usize) -> CaseResult {
        let case = &self.suite.cases[index];
        if self.interrupt.is_triggered() {
            return self.not_run(index, "not run: the run was interrupted");
        }
        let run = self.run_case(case).await;
        let outcome = self.judge(case, &run);
        CaseResult {
            index,
            test_name: case.test_name(),
            run,
            outcome,
        }
    }

    fn judge(&self, case: &Case, run: &CaseRun) -> Outcome {
        let expected = self.suite.snapshots.expected(case);
        match (&run.stop, expected) {
            (Some(stop), _) if stop.kind != StopKind::Capture => Outcome::Error {
                kind: stop.kind,
                message: stop.message.clone(),
            },
            // A capture that fails in a case with no snapshot yet: the message is all there is.
            (Some(stop), None) => Outcome::Error {
                kind: stop.kind,
                message: stop.message.clone(),
            },
            (None, None) => Outcome::Missing,
            (Some(stop), Some(expected)) => {
                let actual = snapshot::normalize_contents(&run.transcript);
                Outcome::Incomplete {
                    message: stop.message.clone(),
                    diff: Diff::between(expected, &actual).map_text(|t| self.secrets.scrub(t)),
                    deviations: self.scrubbed(deviation::between(expected, &actual)),
                }
            }
            (None, Some(_)) => match self.suite.snapshots.compare(case, &run.transcript) {
                Verdict::Match => Outcome::Pass,
                Verdict::Missing => Outcome::Missing,
                Verdict::Mismatch { diff } => Outcome::Fail {
                    diff: diff.map_text(|t| self.secrets.scrub(t)),
                    deviations: self.scrubbed(deviation::between(
                        expected.unwrap_or_default(),
                        &snapshot::normalize_contents(&run.transcript),
                    )),
                },
            },
        }
    }

    /// The transcript is scrubbed already; a secret seen only later in the run is not.
    fn scrubbed(&self, mut deviations: Vec<Deviation>) -> Vec<Deviation> {
        for d in &mut deviations {
            for v in [&mut d.expected, &mut d.actual].into_iter().flatten() {
                *v = self.secrets.scrub(v);
            }
        }
        deviations
    }

    /// Runs cases with at most `jobs` in flight; `on_done` sees each result as it lands.
    /// Results come back in the order of `indices`.
    pub async fn check_all(
        self: &Arc<Self>,
        indices: &[usize],
        jobs: usize,
        on_done: impl FnMut(&CaseResult),
    ) -> Vec<CaseResult> {
        self.check_all_until(indices, jobs, on_done, std::future::pending())
            .await
    }

    /// `check_all`, giving up on the cases still running when `give_up` resolves (an
    /// interrupt's grace time is over): they are reported as not run, and what finished is
    /// kept.
    pub async fn check_all_until(
        self: &Arc<Self>,
        indices: &[usize],
        jobs: usize,
        mut on_done: impl FnMut(&CaseResult),
        give_up: impl std::future::Future<Output = ()>,
    ) -> Vec<CaseResult> {
        let limit = Arc::new(Semaphore::new(jobs.max(1)));
        let mut set = JoinSet::new();
        for (slot, &index) in indices.iter().enumerate() {
            let runner = Arc::clone(self);
            let limit = Arc::clone(&limit);
            set.spawn(async move {
                let _permit = limit.acquire_owned().await.expect("never closed");
                (slot, runner.check(index).await)
            });
        }
        let mut out: Vec<Option<CaseResult>> = vec![None; indices.len()];
        let mut gave_up = false;
        tokio::pin!(give_up);
        loop {
            let joined = tokio::select! {
                biased;
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
                    on_done(&result);
                    out[slot] = Some(result);
                }
                // Aborted after giving up, or a panic inside a case (a bug in conform):
                // reported as that case's error rather than losing the whole run.
                Some(Err(_)) => {}
            }
        }
        out.into_iter()
            .enumerate()
            .map(|(slot, r)| {
                r.unwrap_or_else(|| {
                    if gave_up {
                        self.not_run(
                            indices[slot],
                            "interrupted: did not finish within the grace time, so its cleanup steps may not have run",
                        )
                    } else {
                        self.stopped(indices[slot], StopKind::Internal, PANICKED)
                    }
                })
            })
            .collect()
    }

    /// Runs the steps of a case against the target: setup steps, the checked steps (their
    /// answers make the transcript), then cleanup steps whatever happened before.
    pub async fn run_case(&self, case: &Case) -> CaseRun {
        let empty = Rules::default();
        let rules = self.suite.rules.get(&case.service).unwrap_or(&empty);
        let mut redactor = Redactor::new(rules, &self.target.vars).pinning(&case.pin);
        // Setup and cleanup answers stay out of the snapshot, so they must not take part in
        // its numbering either: they get a redactor of their own (for its secrets).
        let mut plumbing = Redactor::new(rules, &self.target.vars);
        let mut vars: Vars = self.target.vars.clone();
        let mut transcript = String::with_capacity(1024);
        let mut stop: Option<Stop> = None;
        let mut warnings = Vec::new();
        let mut checked = 0;
        let fresh_state = case.steps.iter().any(|s| s.role == Role::Setup);
        for step in case.steps.iter().filter(|s| s.role != Role::Cleanup) {
            let title = step_title(case, step);
            if step.role == Role::Check {
                checked += 1;
                if checked > 1 {
                    transcript.push('\n');
                }
                transcript.push_str(&crate::transcript::header(checked, &title));
            }
            let r = if step.role == Role::Check {
                &mut redactor
            } else {
                &mut plumbing
            };
            let interrupted = || Stop {
                kind: StopKind::Interrupted,
                message: match step.role {
                    Role::Setup => format!("interrupted at setup step ({title})"),
                    _ => format!("interrupted at step {checked} ({title})"),
                } + "; the cleanup steps ran, the steps after it did not",
            };
            if self.interrupt.is_triggered() {
                stop = Some(interrupted());
                break;
            }
            let outcome = tokio::select! {
                biased;
                o = self.run_step(step, &vars, r, fresh_state) => o,
                () = self.interrupt.triggered() => {
                    stop = Some(interrupted());
                    break;
                }
            };
            for s in redactor.secrets.drain(..).chain(plumbing.secrets.drain(..)) {
                self.secrets.add(&s);
            }
            match outcome {
                Ok(answer) if step.role == Role::Setup && !answer.succeeded() => {
                    stop = Some(Stop {
                        kind: StopKind::Setup,
                        message: format!("setup step ({title}) was refused: {}", answer.summary()),
                    });
                    break;
                }
                Ok(answer) => {
                    if step.role == Role::Check {
                        transcript.push_str(&answer.text);
                    }
                    if let Some(e) = answer.capture_error {
                        stop = Some(match step.role {
                            Role::Setup => Stop {
                                kind: StopKind::Setup,
                                message: format!("setup step ({title}) {e}"),
                            },
                            _ => Stop {
                                kind: StopKind::Capture,
                                message: format!(
                                    "step {checked} ({title}) {e}; the steps after it were not run"
                                ),
                            },
                        });
                        break;
                    }
                    vars.extend(answer.captured);
                }
                Err(e) => {
                    let which = match step.role {
                        Role::Setup => format!("setup step ({title})"),
                        _ => format!("step {checked} ({title})"),
                    };
                    if step.role == Role::Check {
                        transcript.push_str(&format!("error: {e}\n"));
                    }
                    let kind = match e {
                        StepError::Transport(_) => StopKind::NoAnswer,
                        StepError::Setup(_) => StopKind::Request,
                    };
                    stop = Some(Stop {
                        kind,
                        message: format!("{which}: {e}"),
                    });
                    break;
                }
            }
        }
        for step in case.steps.iter().filter(|s| s.role == Role::Cleanup) {
            let title = step_title(case, step);
            match self.run_step(step, &vars, &mut plumbing, fresh_state).await {
                Ok(answer) if !answer.succeeded() => warnings.push(format!(
                    "cleanup step ({title}) was refused: {}",
                    answer.summary()
                )),
                Ok(_) => {}
                Err(e) => warnings.push(format!("cleanup step ({title}) did not run: {e}")),
            }
            for s in plumbing.secrets.drain(..) {
                self.secrets.add(&s);
            }
        }
        CaseRun {
            transcript: self.secrets.scrub(&transcript),
            stop: stop.map(|s| Stop {
                kind: s.kind,
                message: self.secrets.scrub(&s.message),
            }),
            warnings: warnings.iter().map(|w| self.secrets.scrub(w)).collect(),
        }
    }

    /// `fresh_state`: the case created account state in setup steps, so an answer may still
    /// be refused while IAM propagates it (record mode retries those).
    async fn run_step(
        &self,
        step: &Step,
        vars: &Vars,
        redactor: &mut Redactor<'_>,
        fresh_state: bool,
    ) -> Result<Answer, StepError> {
        let model = &self.suite.models[&step.service];
        let setup = |e: &dyn std::fmt::Display| StepError::Setup(e.to_string());
        let (method, url, headers, body, unsigned_op) = match &step.request {
            Request::Call { operation, params } => {
                let op = model
                    .operation(operation)
                    .ok_or_else(|| StepError::Setup(format!("unknown operation {operation}")))?;
                let tagged;
                let params = if self.tag_created
                    && step.role == Role::Setup
                    && operation.starts_with("Create")
                    && model
                        .input_members(op)
                        .is_some_and(|s| matches!(&s.kind, crate::model::ShapeKind::Structure { members, .. } if members.contains_key("Tags")))
                {
                    tagged = with_conform_tag(params, vars);
                    &tagged
                } else {
                    params
                };
                let call = query::serialize(model, op, params, vars).map_err(|e| setup(&e))?;
                for v in &call.sensitive {
                    self.secrets.add(v);
                }
                let body = query::encode(&call.pairs).into_bytes();
                let headers = vec![
                    ("host".to_owned(), self.target.host_for(&step.service)),
                    ("content-type".to_owned(), FORM.to_owned()),
                ];
                (
                    "POST".to_owned(),
                    self.target.url_for(&step.service, "/", None),
                    headers,
                    body,
                    op.unsigned,
                )
            }
            Request::Raw(raw) => {
                let path = raw.path.render(vars).map_err(|e| setup(&e))?;
                let query = raw
                    .query
                    .as_ref()
                    .map(|q| q.render(vars))
                    .transpose()
                    .map_err(|e| setup(&e))?;
                let body = raw
                    .body
                    .as_ref()
                    .map(|b| b.render(vars))
                    .transpose()
                    .map_err(|e| setup(&e))?;
                let mut headers = vec![("host".to_owned(), self.target.host_for(&step.service))];
                for (k, v) in &raw.headers {
                    headers.push((
                        k.to_ascii_lowercase(),
                        v.render(vars).map_err(|e| setup(&e))?,
                    ));
                }
                if body.is_some() && !headers.iter().any(|(k, _)| k == "content-type") {
                    headers.push(("content-type".to_owned(), FORM.to_owned()));
                }
                let url = self.target.url_for(&step.service, &path, query.as_deref());
                (
                    raw.method.clone(),
                    url,
                    headers,
                    body.unwrap_or_default().into_bytes(),
                    false,
                )
            }
        };
        let mut request = HttpRequest {
            method,
            url,
            headers,
            body,
        };
        if let Some(c) = self.credentials(&step.credentials, unsigned_op, vars)? {
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
            .map_err(|e| setup(&e))?;
            request.headers.extend(signed);
        }
        let mut sent_at = SystemTime::now();
        let mut response = self.transport.send(&request).await?;
        if let Some(policy) = &self.retry {
            let mut attempt = 0;
            while attempt + 1 < policy.attempts {
                let Some(why) = retryable(&response, fresh_state) else {
                    break;
                };
                attempt += 1;
                let delay = policy.delay(attempt);
                if let Some(note) = &self.retry_note {
                    note(&format!(
                        "{}: {why}, retrying in {} ms",
                        step_label(step),
                        delay.as_millis()
                    ));
                }
                tokio::time::sleep(delay).await;
                sent_at = SystemTime::now();
                response = self.transport.send(&request).await?;
            }
        }
        let normalized = normalize::response(&response, redactor, sent_at);
        let mut captured = Vec::new();
        let mut capture_error = None;
        for cap in &step.captures {
            match normalized
                .document
                .as_ref()
                .and_then(|doc| cap.path.select(doc))
            {
                Some(value) => captured.push((cap.variable.clone(), value)),
                None => {
                    capture_error = Some(format!(
                        "answered HTTP {} without `{}`, which capture `{}` takes for later steps",
                        response.status, cap.path, cap.variable
                    ));
                    break;
                }
            }
        }
        let code = normalized.document.as_ref().and_then(|d| {
            d.select(&crate::xml::ElementPath::parse("//Code").expect("a valid path"))
        });
        Ok(Answer {
            document: normalized.document.clone(),
            text: normalized.text,
            captured,
            capture_error,
            status: response.status,
            code,
        })
    }

    fn credentials(
        &self,
        spec: &CredentialsSpec,
        unsigned_op: bool,
        vars: &Vars,
    ) -> Result<Option<Credentials>, StepError> {
        let render = |t: &crate::template::Template| {
            t.render(vars)
                .map_err(|e| StepError::Setup(format!("credentials: {e}")))
        };
        Ok(match spec {
            CredentialsSpec::Default if unsigned_op => None,
            CredentialsSpec::Default | CredentialsSpec::Target => {
                Some(self.target.credentials.clone())
            }
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
}

/// One step's answer, normalized.
struct Answer {
    text: String,
    document: Option<crate::xml::Element>,
    captured: Vec<(String, String)>,
    /// A capture that found nothing: later steps cannot run.
    capture_error: Option<String>,
    status: u16,
    /// The error code of an error answer.
    code: Option<String>,
}

impl Answer {
    fn succeeded(&self) -> bool {
        (200..300).contains(&self.status)
    }

    fn summary(&self) -> String {
        match &self.code {
            Some(c) => format!("HTTP {} {c}", self.status),
            None => format!("HTTP {}", self.status),
        }
    }
}

/// The step as the snapshot names it: never rendered values, so no secret can show. A step
/// calling another service than the case's says which (`iam:CreateRole`).
fn step_title(case: &Case, step: &Step) -> String {
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

/// The normalized text a snapshot holds for a result, for `.snap.new` writers.
pub fn snapshot_contents(result: &CaseResult) -> String {
    snapshot::normalize_contents(&result.run.transcript)
}
