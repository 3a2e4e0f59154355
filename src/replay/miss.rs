//! What a request that no case expects is told, and what the server keeps of it: the
//! closest cases (the fewest differences, documented examples first) and, in words, what
//! would make each match, down to the `--var` that makes a value the server stands for the
//! client's own.

use super::decode::{Incoming, param};
use super::expect::{Entry, Value};
use super::matching::{Near, Shapes};
use super::{NO_MATCH_CODE, REJECTED_CODE, Replay, Reply, error_reply};

/// How many messages of unmatched requests the server keeps for its report (all are
/// counted, and each is told to the observer as it happens).
pub(super) const UNMATCHED_KEPT: usize = 100;

/// How many of the closest cases a miss names.
const CLOSEST: usize = 3;

impl Replay {
    /// A request that matches a case but breaks what an SDK must send.
    pub(super) fn rejected(&self, e: &Entry, problem: &str) -> Reply {
        let msg = format!("The request matches {}, but {problem}.", e.test_name);
        self.note(&msg);
        error_reply(400, REJECTED_CODE, &msg, self.namespace(&e.service))
    }

    /// A request no case expects, with the cases that came closest.
    pub(super) fn no_match<'a>(
        &'a self,
        req: &Incoming,
        params: &[(String, String)],
        mut near: Vec<Near<'a>>,
    ) -> Reply {
        let action = param(params, "Action");
        if near.is_empty() {
            // Nothing with these parameter names: look for what comes closest by action.
            near = self
                .entries
                .iter()
                .filter(|e| e.action().is_some() && e.action() == action)
                .map(|e| {
                    (
                        e.params.len().abs_diff(params.len()) + 1,
                        e,
                        names_differ(&e.params, params),
                    )
                })
                .collect();
        }
        // The fewest differences first; among equals a documented example, the likeliest
        // to be what the client meant.
        near.sort_by_key(|(m, e, _)| (*m, !e.doc, e.test_name.clone()));
        near.dedup_by(|a, b| a.1.test_name == b.1.test_name);
        near.truncate(CLOSEST);
        // The closest ones, now in words.
        let mut shapes = Shapes::new();
        for (_, e, why) in &mut near {
            if why.iter().all(String::is_empty)
                && let Some(c) = self.compare(e, params, &mut shapes, true)
            {
                *why = c.misses;
            }
        }
        let mut msg = format!(
            "No scenario expects this {} request ({} parameters).",
            action.unwrap_or("(no Action)"),
            params.len()
        );
        if near.is_empty() {
            msg.push_str(" No case sends this action; `conform list` shows the cases.");
        } else {
            msg.push_str(" Closest: ");
            let list: Vec<String> = near
                .iter()
                .map(|(_, e, why)| format!("{} ({})", e.test_name, why.join("; ")))
                .collect();
            msg.push_str(&list.join(" | "));
            msg.push_str(". A case that sends this request, with its snapshot, makes it match.");
        }
        self.note(&msg);
        let service = self.service_of(action, req.signed_for());
        error_reply(400, NO_MATCH_CODE, &msg, self.namespace(service))
    }

    /// A literal that differs, in words: what the case expects and, when that value is one
    /// the server stands for, the `--var` that would make it the client's.
    pub(super) fn literal_miss(&self, k: &str, want: &str, have: &str) -> String {
        let mut s = format!("{k} is `{}`, the case expects `{}`", clip(have), clip(want));
        if let Some((name, _)) = self
            .vars
            .iter()
            .filter(|(n, v)| !v.is_empty() && v.as_str() == want && n.as_str() != "run_id")
            .min_by_key(|(n, _)| n.as_str())
        {
            s.push_str(&format!(
                " (the server's {name}; start it with --var {name}={} to stand for yours)",
                clip(have)
            ));
        }
        s
    }

    /// Counts an unmatched request, keeps its message while there is room, and tells the
    /// observer.
    pub(super) fn note(&self, msg: &str) {
        {
            let mut st = self.lock();
            st.unmatched_count += 1;
            if st.unmatched.len() < UNMATCHED_KEPT {
                st.unmatched.push(msg.to_owned());
            }
        }
        if let Some(f) = &self.observer {
            f(msg);
        }
    }
}

/// Which parameter names differ between a case's request and the one that came.
fn names_differ(expected: &[(String, Value)], got: &[(String, String)]) -> Vec<String> {
    let mut out = Vec::new();
    for (k, _) in expected {
        if !got.iter().any(|(g, _)| g == k) {
            out.push(format!("{k} missing"));
        }
    }
    for (k, _) in got {
        if !expected.iter().any(|(e, _)| e == k) {
            out.push(format!("{k} not expected"));
        }
    }
    out
}

/// A value as a message shows it: long ones shortened.
pub(super) fn clip(v: &str) -> String {
    if v.chars().count() <= 80 {
        return v.to_owned();
    }
    let start: String = v.chars().take(60).collect();
    format!("{start}... ({} characters)", v.chars().count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_differ_are_listed_both_ways() {
        let expected = vec![
            ("Action".to_owned(), Value::Literal("X".into())),
            ("A".to_owned(), Value::Literal("1".into())),
        ];
        let got = vec![
            ("Action".to_owned(), "X".to_owned()),
            ("B".to_owned(), "2".to_owned()),
        ];
        assert_eq!(
            names_differ(&expected, &got),
            ["A missing", "B not expected"]
        );
    }

    #[test]
    fn long_values_are_clipped_with_their_length() {
        assert_eq!(clip("short"), "short");
        let long = "é".repeat(100);
        let c = clip(&long);
        assert!(c.starts_with(&"é".repeat(60)) && c.ends_with("... (100 characters)"));
    }
}
