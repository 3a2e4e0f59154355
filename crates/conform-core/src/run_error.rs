//! Why a case could not run to its end, or what went wrong around it, as data: each error
//! names the scenario file and the line:col of the step (or case) it concerns, the way load
//! errors do, and says what to do. Reports keep its text; the terminal adds the hint.

use std::fmt;

use serde::{Deserialize, Serialize};

/// How a stopped case counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StopKind {
    /// A checked step was answered, but without a value a later step needs: what ran is
    /// judged, the steps after it are missing.
    Capture,
    /// No answer at all: refused, timed out, cut off.
    NoAnswer,
    /// A setup step was refused or answered without what the case needs.
    Setup,
    /// The request could not be built (a variable or capture with no value).
    Request,
    /// Not run: the run was interrupted first.
    Interrupted,
    /// The case's snapshot could not be read when its answer was judged.
    Snapshot,
    /// A bug in conform.
    Internal,
}

impl StopKind {
    /// How a gate or a summary names it, in capitals.
    pub fn headline(self) -> &'static str {
        match self {
            StopKind::Capture => "INCOMPLETE",
            StopKind::NoAnswer => "NO ANSWER",
            StopKind::Setup => "SETUP FAILED",
            StopKind::Request => "NOT SENT",
            StopKind::Interrupted => "NOT RUN",
            StopKind::Snapshot => "BAD SNAPSHOT",
            StopKind::Internal => "INTERNAL ERROR",
        }
    }
}

/// Where something is written in a scenario file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// As load errors show it: `scenarios/sts/AssumeRole/limits.yaml`.
    pub file: String,
    pub line: u32,
    pub col: u32,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.col)
    }
}

/// How a run counts a step: checked steps by their number in the snapshot, the others by
/// what they are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    Setup,
    Checked(usize),
    Cleanup,
}

/// A step as errors name it: where it is written, and its title in the snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRef {
    pub place: Place,
    pub which: Which,
    pub title: String,
}

impl fmt::Display for StepRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.which {
            Which::Setup => write!(f, "setup step ({})", self.title),
            Which::Checked(n) => write!(f, "step {n} ({})", self.title),
            Which::Cleanup => write!(f, "cleanup step ({})", self.title),
        }
    }
}

/// Why no answer came back, which decides what to suggest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Silence {
    TimedOut,
    Unreachable,
    TooLarge,
    Broken,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RunError {
    /// Sent, but no answer: refused, timed out, cut off, too large.
    #[error("{}: {step}: {cause}", .step.place)]
    NoAnswer {
        step: StepRef,
        cause: String,
        why: Silence,
    },
    /// The request could not be built or signed (a variable with no value).
    #[error("{}: {step} was not sent: {cause}", .step.place)]
    NotSent { step: StepRef, cause: String },
    /// A setup or cleanup step was answered with an error: `answer` is `HTTP 409 Code`.
    #[error("{}: {step} was refused: {answer}", .step.place)]
    Refused { step: StepRef, answer: String },
    /// The answer has no element at a capture's path, so later steps cannot run.
    #[error(
        "{}: {step} answered HTTP {status} without `{path}`, which capture `{variable}` takes for later steps{}",
        .step.place,
        later(.step)
    )]
    Capture {
        step: StepRef,
        status: u16,
        path: String,
        variable: String,
    },
    /// The run was interrupted while the step was under way.
    #[error(
        "{}: interrupted at {step}; the cleanup steps ran, the steps after it did not",
        .step.place
    )]
    Interrupted { step: StepRef },
    /// The run was interrupted before the case started.
    #[error("{case}: not run: the run was interrupted")]
    NotRun { case: Place },
    /// The grace time after an interrupt ran out with the case still under way.
    #[error(
        "{case}: interrupted: did not finish within the grace time, so its cleanup steps may not have run"
    )]
    GaveUp { case: Place },
    /// A bug in conform.
    #[error("{case}: internal error: the case panicked (a bug in conform, please report it)")]
    Panicked { case: Place },
    /// Its snapshot, read when the answer came (a run against an endpoint keeps none in
    /// memory), is unreadable or not a snapshot.
    #[error("{case}: the snapshot cannot be read: {cause}")]
    Snapshot { case: Place, cause: String },
}

fn later(step: &StepRef) -> &'static str {
    match step.which {
        Which::Checked(_) => "; the steps after it were not run",
        _ => "",
    }
}

impl RunError {
    /// Where it happened.
    pub fn place(&self) -> &Place {
        match self {
            RunError::NoAnswer { step, .. }
            | RunError::NotSent { step, .. }
            | RunError::Refused { step, .. }
            | RunError::Capture { step, .. }
            | RunError::Interrupted { step } => &step.place,
            RunError::NotRun { case }
            | RunError::GaveUp { case }
            | RunError::Panicked { case }
            | RunError::Snapshot { case, .. } => case,
        }
    }

    /// What stopped the case, as gates and summaries count it.
    pub fn kind(&self) -> StopKind {
        let setup = |step: &StepRef| step.which == Which::Setup;
        match self {
            RunError::NoAnswer { .. } => StopKind::NoAnswer,
            RunError::NotSent { .. } => StopKind::Request,
            RunError::Refused { .. } => StopKind::Setup,
            RunError::Capture { step, .. } if setup(step) => StopKind::Setup,
            RunError::Capture { .. } => StopKind::Capture,
            RunError::Interrupted { .. } | RunError::NotRun { .. } | RunError::GaveUp { .. } => {
                StopKind::Interrupted
            }
            RunError::Panicked { .. } => StopKind::Internal,
            RunError::Snapshot { .. } => StopKind::Snapshot,
        }
    }

    /// What to do about it.
    pub fn help(&self) -> &'static str {
        match self {
            RunError::NoAnswer { why, .. } => match why {
                Silence::TimedOut => {
                    "a slow target needs a longer --timeout; otherwise check that the endpoint is the target's"
                }
                Silence::Unreachable => {
                    "start the target, or fix --endpoint (or the target's entry in conform.toml)"
                }
                Silence::TooLarge => {
                    "raise the limit with --max-answer-bytes if the target really answers this much"
                }
                Silence::Broken => "check that the endpoint speaks HTTP and answers requests",
            },
            RunError::NotSent { .. } => {
                "give the variable a value (--var NAME=VALUE or the target's `variables` in conform.toml), or capture it in an earlier step"
            }
            RunError::Refused { step, .. } if step.which == Which::Cleanup => {
                "what the case created may still exist: `conform cleanup` deletes what recordings tagged"
            }
            RunError::Refused { .. } => {
                "the account state the case needs was not made: the code says why (`conform cleanup` removes what an earlier run left)"
            }
            RunError::Capture { .. } => {
                "compare the capture's path with the answer (in the report, or the .snap.new)"
            }
            RunError::Interrupted { .. } | RunError::NotRun { .. } => "run the case again",
            RunError::GaveUp { .. } => {
                "the target may still hold what its setup steps made: `conform cleanup` deletes what recordings tagged"
            }
            RunError::Panicked { .. } => {
                "report it with the scenario at this place; the other cases are judged as usual"
            }
            RunError::Snapshot { .. } => {
                "restore the snapshot from version control, or delete it and run the case to write a new one for review (`conform check` reads every snapshot)"
            }
        }
    }

    /// The same error with every text it carries passed through `scrub` (secrets the run
    /// met after the error was made).
    pub fn scrubbed(mut self, scrub: impl Fn(&str) -> String) -> Self {
        match &mut self {
            RunError::NoAnswer { cause, .. } | RunError::NotSent { cause, .. } => {
                *cause = scrub(cause)
            }
            RunError::Refused { answer, .. } => *answer = scrub(answer),
            _ => {}
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(which: Which) -> StepRef {
        StepRef {
            place: Place {
                file: "scenarios/sts/AssumeRole/a.yaml".into(),
                line: 12,
                col: 22,
            },
            which,
            title: "AssumeRole".into(),
        }
    }

    #[test]
    fn every_error_starts_with_the_place_of_its_step() {
        let e = RunError::NoAnswer {
            step: step(Which::Checked(2)),
            cause: "no answer within 1s (the request timed out)".into(),
            why: Silence::TimedOut,
        };
        assert_eq!(
            e.to_string(),
            "scenarios/sts/AssumeRole/a.yaml:12:22: step 2 (AssumeRole): no answer within 1s (the request timed out)"
        );
        assert_eq!(e.kind(), StopKind::NoAnswer);
        assert!(e.help().contains("--timeout"), "{}", e.help());
        let e = RunError::NotSent {
            step: step(Which::Cleanup),
            cause: "unknown variable `{{x}}`".into(),
        };
        assert_eq!(
            e.to_string(),
            "scenarios/sts/AssumeRole/a.yaml:12:22: cleanup step (AssumeRole) was not sent: unknown variable `{{x}}`"
        );
    }

    #[test]
    fn a_capture_stops_a_checked_case_as_incomplete_and_a_setup_as_failed() {
        let capture = |which| RunError::Capture {
            step: step(which),
            status: 200,
            path: "A/B".into(),
            variable: "x".into(),
        };
        assert_eq!(capture(Which::Checked(1)).kind(), StopKind::Capture);
        assert!(
            capture(Which::Checked(1))
                .to_string()
                .ends_with("takes for later steps; the steps after it were not run")
        );
        assert_eq!(capture(Which::Setup).kind(), StopKind::Setup);
        assert!(
            capture(Which::Setup)
                .to_string()
                .ends_with("takes for later steps")
        );
    }

    #[test]
    fn case_level_errors_name_the_case_and_a_cleanup_refusal_its_own_remedy() {
        let case = Place {
            file: "scenarios/sts/X/b.yaml".into(),
            line: 3,
            col: 9,
        };
        let e = RunError::NotRun { case: case.clone() };
        assert_eq!(
            e.to_string(),
            "scenarios/sts/X/b.yaml:3:9: not run: the run was interrupted"
        );
        assert_eq!(e.place(), &case);
        assert_eq!(e.kind(), StopKind::Interrupted);
        assert_eq!(RunError::Panicked { case }.kind(), StopKind::Internal);
        let refused = |which| RunError::Refused {
            step: step(which),
            answer: "HTTP 409 DeleteConflict".into(),
        };
        assert_ne!(refused(Which::Cleanup).help(), refused(Which::Setup).help());
    }

    #[test]
    fn scrubbing_reaches_the_texts_an_endpoint_can_fill() {
        let e = RunError::Refused {
            step: step(Which::Setup),
            answer: "HTTP 400 s3cret".into(),
        }
        .scrubbed(|t| t.replace("s3cret", "[redacted-secret]"));
        assert!(e.to_string().ends_with("HTTP 400 [redacted-secret]"), "{e}");
    }
}
