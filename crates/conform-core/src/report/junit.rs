//! The JUnit rendering of a report, for CI pages.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{Judged, RunReport, SHOWN_DEVIATIONS, Status, rule_scope};
use crate::deviation::Level;
use crate::text::{thousands, visible};

impl RunReport {
    /// JUnit XML: one test suite per service, one test case per scenario. New deviations
    /// fail it (listed in the body, then the diff); a case whose deviations are all known is
    /// skipped with the baseline's reason, so a CI page counts only what got worse.
    pub fn to_junit(&self) -> String {
        use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
        let mut report = Report::new(format!("conform against {}", self.target));
        let mut suites: BTreeMap<&str, TestSuite> = BTreeMap::new();
        for c in &self.cases {
            let listing = |how: Judged| {
                let mut s = String::new();
                for d in c.judged(how).take(SHOWN_DEVIATIONS) {
                    let _ = writeln!(s, "{}", d.deviation);
                }
                let more = c.judged(how).count().saturating_sub(SHOWN_DEVIATIONS);
                if more > 0 {
                    let _ = writeln!(
                        s,
                        "... {} more not shown; the JSON report lists every one",
                        thousands(more)
                    );
                }
                s
            };
            let with_diff = |mut s: String| {
                if let Some(d) = &c.diff {
                    let _ = write!(s, "\n{d}");
                }
                s
            };
            let status = match c.status() {
                Status::Pass => TestCaseStatus::success(),
                Status::Baselined => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(format!(
                        "known deviations: {}",
                        c.known.as_deref().unwrap_or_default()
                    ));
                    s.set_description(with_diff(listing(Judged::Known)));
                    s
                }
                Status::Error => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
                    s.set_message(c.message.clone().unwrap_or_default());
                    s
                }
                Status::Missing => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    s.set_message("no snapshot");
                    s
                }
                Status::Fail | Status::Incomplete => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    let new = c.judged(Judged::New).count();
                    let first = c
                        .judged(Judged::New)
                        .next()
                        .map(|d| d.deviation.to_string())
                        .unwrap_or_default();
                    let mut message = format!("{new} new deviation(s); the first: {first}");
                    if let Some(m) = &c.message {
                        message = format!("{m}; {message}");
                    }
                    s.set_message(message);
                    s.set_description(with_diff(listing(Judged::New)));
                    s
                }
            };
            let mut case = TestCase::new(c.name.clone(), status);
            case.set_classname(format!("{}::{}", c.service, c.operation));
            if let Some(t) = c.time.filter(|t| t.is_finite() && *t >= 0.0) {
                case.set_time(std::time::Duration::from_secs_f64(t));
            }
            // Not in the Ant schema, but what GitLab's and GitHub's test reporters (and
            // pytest, which they follow) read to link a case to its file.
            if let Some(f) = &c.file {
                case.extra.insert("file".into(), f.as_str().into());
            }
            if let Some(l) = c.line {
                case.extra.insert("line".into(), l.to_string().into());
            }
            let unjudged = listing(Judged::NotJudged);
            if !unjudged.is_empty() {
                case.set_system_out(format!("not judged:\n{unjudged}"));
            }
            suites
                .entry(c.service.as_str())
                .or_insert_with(|| TestSuite::new(c.service.clone()))
                .add_test_case(case);
        }
        // Each service's suite carries its agreement per level, for the service and for each
        // of its operations, and what the target is not judged on.
        for (service, suite) in &mut suites {
            let prefixes = std::iter::once((format!("{service}::"), "agreement".to_owned())).chain(
                self.operations()
                    .into_iter()
                    .filter(|op| op.starts_with(&format!("{service}::")))
                    .map(|op| {
                        let name = op
                            .trim_end_matches(':')
                            .rsplit("::")
                            .next()
                            .unwrap_or("")
                            .to_owned();
                        (op, format!("agreement.{name}"))
                    }),
            );
            for (prefix, key) in prefixes {
                let a = self.agreement(&prefix);
                for (i, l) in Level::ALL.iter().enumerate() {
                    suite.add_property((
                        format!("{key}.{l}"),
                        format!("{} of {}", a.at[i], a.cases),
                    ));
                }
            }
            for (rule, count) in self.not_judged_counts() {
                suite.add_property((
                    format!("not-judged: {}", rule_scope(rule)),
                    format!("{count} deviations: {}", rule.reason),
                ));
            }
        }
        report.add_test_suites(suites.into_values());
        // XML 1.0 has no way to carry most control characters, even as references.
        visible(&report.to_string().unwrap_or_default()).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use crate::report::fixtures::mixed;

    #[test]
    fn each_case_carries_its_time_file_and_line_as_a_junit_reader_parses_them() {
        let x = mixed().to_junit();
        let parsed = quick_junit::Report::deserialize_from_str(&x).expect("JUnit that parses");
        let cases: Vec<_> = parsed
            .test_suites
            .iter()
            .flat_map(|s| &s.test_cases)
            .collect();
        assert_eq!(cases.len(), 4, "{x}");
        for c in cases {
            let name = c.name.as_str();
            assert_eq!(
                c.time,
                Some(std::time::Duration::from_millis(250)),
                "{name}: {x}"
            );
            let file = c.extra.get("file").map(|f| f.as_str());
            let expected = format!("scenarios/{}.yaml", name.replace("::", "/"));
            assert_eq!(file, Some(expected.as_str()), "{x}");
            assert_eq!(c.extra.get("line").map(|l| l.as_str()), Some("12"), "{x}");
        }
    }

    #[test]
    fn junit_fails_new_deviations_skips_known_ones_and_carries_agreement() {
        let x = mixed().to_junit();
        assert!(x.contains("<testsuite name=\"sts\" tests=\"4\""), "{x}");
        assert!(
            x.contains("failures=\"1\"")
                && x.contains("errors=\"1\"")
                && x.contains("skipped=\"1\""),
            "{x}"
        );
        assert!(
            x.contains("1 new deviation(s); the first: step 1 value-text at R/A"),
            "{x}"
        );
        assert!(x.contains("known deviations: limit not enforced"), "{x}");
        assert!(x.contains("-a\n+b"), "{x}");
        // Agreement per level, for the service and per operation.
        assert!(
            x.contains("<property name=\"agreement.status\" value=\"2 of 4\"/>")
                && x.contains("<property name=\"agreement.AssumeRole.values\" value=\"1 of 4\"/>"),
            "{x}"
        );
    }
}
