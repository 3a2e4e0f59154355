//! A case's run against its stored snapshot: pass, fail (a diff and the deviations),
//! incomplete (a capture found nothing: what ran is compared), missing, or an error.

use super::{CaseRun, Outcome, StopKind};
use crate::deviation::{self, Deviation, Diff};
use crate::secrets::Secrets;
use crate::snapshot::{self, Verdict};

/// `expected`: the stored snapshot's contents, if there is one.
pub(crate) fn judge(expected: Option<&str>, run: &CaseRun, secrets: &Secrets) -> Outcome {
    let deviations =
        |expected: &str, actual: &str| scrubbed(secrets, deviation::between(expected, actual));
    match (&run.stop, expected) {
        (Some(stop), _) if stop.kind() != StopKind::Capture => Outcome::Error(stop.clone()),
        // A capture that fails in a case with no snapshot yet: the message is all there is.
        (Some(stop), None) => Outcome::Error(stop.clone()),
        (None, None) => Outcome::Missing,
        (Some(stop), Some(expected)) => {
            let actual = snapshot::normalize_contents(&run.transcript);
            Outcome::Incomplete {
                message: stop.to_string(),
                diff: Diff::between(expected, &actual).map_text(|t| secrets.scrub(t)),
                deviations: deviations(expected, &actual),
            }
        }
        (None, Some(expected)) => match snapshot::compare(Some(expected), &run.transcript) {
            Verdict::Match => Outcome::Pass,
            Verdict::Missing => Outcome::Missing,
            Verdict::Mismatch { diff } => Outcome::Fail {
                diff: diff.map_text(|t| secrets.scrub(t)),
                deviations: deviations(expected, &snapshot::normalize_contents(&run.transcript)),
            },
        },
    }
}

/// The transcript is scrubbed already; a secret seen only later in the run is not.
fn scrubbed(secrets: &Secrets, mut deviations: Vec<Deviation>) -> Vec<Deviation> {
    for d in &mut deviations {
        for v in [&mut d.expected, &mut d.actual].into_iter().flatten() {
            *v = secrets.scrub(v);
        }
    }
    deviations
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deviation::Kind;
    use crate::run_error::{Place, RunError, Silence, StepRef, Which};

    const ANSWER: &str =
        "=== step 1: GetCallerIdentity\nHTTP 200 OK\ncontent-type: text/xml\n<A>\n  <B>1</B>\n</A>";

    fn run(transcript: &str, stop: Option<RunError>) -> CaseRun {
        CaseRun {
            transcript: transcript.into(),
            stop: stop.map(Box::new),
            warnings: Vec::new(),
        }
    }

    fn step() -> StepRef {
        StepRef {
            place: Place {
                file: "scenarios/sts/GetCallerIdentity/c.yaml".into(),
                line: 8,
                col: 20,
            },
            which: Which::Checked(1),
            title: "GetCallerIdentity".into(),
        }
    }

    fn capture() -> RunError {
        RunError::Capture {
            step: step(),
            status: 200,
            path: "A/C".into(),
            variable: "c".into(),
        }
    }

    #[test]
    fn the_same_answer_passes_and_one_without_a_snapshot_is_missing() {
        let secrets = Secrets::new();
        // Trailing whitespace does not count, as for insta.
        let trailing = format!("{ANSWER}\n\n");
        assert_eq!(
            judge(Some(ANSWER), &run(&trailing, None), &secrets),
            Outcome::Pass
        );
        assert_eq!(judge(None, &run(ANSWER, None), &secrets), Outcome::Missing);
    }

    #[test]
    fn a_different_answer_fails_with_a_diff_and_its_deviations_scrubbed() {
        let secrets = Secrets::new();
        let actual = ANSWER.replace("<B>1</B>", "<B>s3cret-value</B>");
        secrets.add("s3cret-value");
        let Outcome::Fail { diff, deviations } = judge(Some(ANSWER), &run(&actual, None), &secrets)
        else {
            panic!("a fail")
        };
        let text = diff.to_string();
        assert!(text.contains("-  <B>1</B>"), "{text}");
        assert!(!text.contains("s3cret-value"), "{text}");
        assert_eq!(deviations.len(), 1, "{deviations:?}");
        assert_eq!(deviations[0].path, "A/B");
        assert!(
            !deviations[0]
                .actual
                .as_deref()
                .unwrap_or_default()
                .contains("s3cret-value"),
            "{deviations:?}"
        );
    }

    #[test]
    fn a_capture_that_found_nothing_is_incomplete_against_a_snapshot_and_an_error_without() {
        let secrets = Secrets::new();
        let expected = format!(
            "{ANSWER}\n\n=== step 2: GetCallerIdentity\nHTTP 200 OK\ncontent-type: text/xml\n<A/>"
        );
        let Outcome::Incomplete {
            message,
            deviations,
            ..
        } = judge(Some(&expected), &run(ANSWER, Some(capture())), &secrets)
        else {
            panic!("incomplete")
        };
        assert_eq!(message, capture().to_string());
        assert!(
            message.starts_with("scenarios/sts/GetCallerIdentity/c.yaml:8:20: step 1"),
            "{message}"
        );
        assert_eq!(deviations.len(), 1);
        assert_eq!(deviations[0].kind, Kind::MissingStep);
        assert_eq!(
            judge(None, &run(ANSWER, Some(capture())), &secrets),
            Outcome::Error(Box::new(capture()))
        );
    }

    #[test]
    fn a_case_stopped_otherwise_is_an_error_even_with_a_snapshot() {
        let secrets = Secrets::new();
        let silent = RunError::NoAnswer {
            step: step(),
            cause: "cannot connect".into(),
            why: Silence::Unreachable,
        };
        assert_eq!(
            judge(Some(ANSWER), &run("", Some(silent.clone())), &secrets),
            Outcome::Error(Box::new(silent))
        );
    }
}
