//! The error answers each case's snapshot holds, read once for everything that asks:
//! coverage (which codes the corpus meets) and the consistency check (whether each message
//! follows its facts). Reading a snapshot parses every step's XML, which was most of
//! `conform check` when each of them did it.

use crate::scenario::Case;
use crate::suite::Suite;
use crate::transcript::{self, ErrorAnswer};

/// A step of a snapshot that answered with an error document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorStep {
    /// The step's place among the checked steps, from 0.
    pub step: usize,
    /// The operation the step called: its title's, or the case's for a raw step.
    pub operation: String,
    /// The HTTP status, 0 when the step got no answer.
    pub status: u16,
    pub error: ErrorAnswer,
}

/// Every case's error steps, in the suite's order of cases (none for a case without a
/// snapshot in memory).
#[derive(Debug, Default)]
pub struct Answers {
    by_case: Vec<Vec<ErrorStep>>,
}

impl Answers {
    /// The error steps of every case of the suite whose snapshot was read at load.
    pub fn of_suite(suite: &Suite) -> Answers {
        Answers::of_cases(&suite.cases, |c| suite.snapshots.expected(c))
    }

    /// The error steps of each case, its snapshot given by `snapshot_of`.
    pub fn of_cases<'s>(cases: &[Case], snapshot_of: impl Fn(&Case) -> Option<&'s str>) -> Answers {
        let by_case = cases
            .iter()
            .map(|c| snapshot_of(c).map_or_else(Vec::new, |s| error_steps(s, &c.operation)))
            .collect();
        Answers { by_case }
    }

    /// The error steps of the case at `index` in the cases they were read for.
    pub fn of(&self, index: usize) -> &[ErrorStep] {
        self.by_case.get(index).map_or(&[], Vec::as_slice)
    }
}

/// The steps of a snapshot that answered with an error document; `case_operation` names
/// what a raw step called.
pub fn error_steps(snapshot: &str, case_operation: &str) -> Vec<ErrorStep> {
    transcript::steps(snapshot)
        .iter()
        .enumerate()
        .filter_map(|(i, step)| {
            let first = step.title.split_whitespace().next().unwrap_or("");
            let operation = if first == "raw" || first.is_empty() {
                case_operation
            } else {
                first
            };
            Some(ErrorStep {
                step: i,
                operation: operation.to_owned(),
                status: step.status().unwrap_or(0),
                error: step.error()?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_answers_are_read_from_every_step_with_their_operation() {
        let snap = "=== step 1: AssumeRole\nHTTP 200 OK\ncontent-type: text/xml\n<AssumeRoleResponse xmlns=\"ns\">\n  <AssumeRoleResult/>\n</AssumeRoleResponse>\n\n=== step 2: raw POST /\nHTTP 400 Bad Request\ncontent-type: text/xml\n<ErrorResponse xmlns=\"http://webservices.amazon.com/AWSFault/2005-15-09\">\n  <Error>\n    <Type>Sender</Type>\n    <Code>InvalidAction</Code>\n    <Message>Could not find operation X for version Y</Message>\n  </Error>\n</ErrorResponse>\n\n=== step 3: AssumeRole (again)\nHTTP 403 Forbidden\ncontent-type: text/xml\n<ErrorResponse>\n  <Error>\n    <Code>AccessDenied</Code>\n  </Error>\n</ErrorResponse>\n";
        let a = error_steps(snap, "GetCallerIdentity");
        assert_eq!(a.len(), 2);
        assert_eq!((a[0].step, a[0].status), (1, 400));
        assert_eq!(a[0].operation, "GetCallerIdentity");
        assert_eq!(a[0].error.code, "InvalidAction");
        assert_eq!(
            a[0].error.message,
            "Could not find operation X for version Y"
        );
        assert_eq!(
            a[0].error.namespace,
            "http://webservices.amazon.com/AWSFault/2005-15-09"
        );
        assert_eq!((a[1].step, a[1].status), (2, 403));
        assert_eq!(a[1].operation, "AssumeRole");
        assert_eq!(a[1].error.code, "AccessDenied");
    }
}
