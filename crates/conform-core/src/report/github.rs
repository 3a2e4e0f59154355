//! GitHub Actions workflow commands for a run: an `::error` annotation at the scenario file
//! and line of each case that got worse (new deviations) or could not be judged, so the
//! run's page and a pull request's diff point at the case to look at.

use std::fmt::Write as _;

use super::{CaseReport, Judged, RunReport, Status};
use crate::text::thousands;

/// GitHub shows at most ten error annotations of one step; more would be dropped unseen, so
/// the rest are counted in a notice that says where they are.
pub const SHOWN_ANNOTATIONS: usize = 10;
/// The deviations one annotation lists; the summary and the reports list every one.
const DEVIATIONS_PER_ANNOTATION: usize = 5;

impl RunReport {
    /// One `::error file=,line=,title=::` line per case with new deviations, per case
    /// without a snapshot, and per case that stopped, unless `excused` says its baseline
    /// excuses the stop (a setup step the target refuses). Known and not-judged deviations
    /// are no news and get none. Each text is escaped as GitHub's workflow commands require.
    pub fn github_annotations(&self, excused: impl Fn(&CaseReport) -> bool) -> Vec<String> {
        let news: Vec<(&CaseReport, String)> = self
            .cases
            .iter()
            .filter_map(|c| news_of(c, &excused).map(|text| (c, text)))
            .collect();
        let mut lines: Vec<String> = news
            .iter()
            .take(SHOWN_ANNOTATIONS)
            .map(|(c, text)| {
                let mut props = Vec::new();
                if let Some(f) = &c.file {
                    props.push(format!("file={}", escape_property(f)));
                    if let Some(l) = c.line {
                        props.push(format!("line={l}"));
                    }
                }
                props.push(format!("title={}", escape_property(&c.name)));
                format!("::error {}::{}", props.join(","), escape_data(text))
            })
            .collect();
        if let Some(more) = news.len().checked_sub(SHOWN_ANNOTATIONS)
            && more > 0
        {
            lines.push(format!(
                "::notice title=conform::{}",
                escape_data(&format!(
                    "{} more cases with new deviations or errors are not annotated (GitHub shows {SHOWN_ANNOTATIONS} error annotations per step); the job summary and the JUnit report list every one",
                    thousands(more)
                ))
            ));
        }
        lines
    }
}

/// What is new about a case, or nothing when there is nothing to point at.
fn news_of(c: &CaseReport, excused: &impl Fn(&CaseReport) -> bool) -> Option<String> {
    match c.status() {
        Status::Pass | Status::Baselined => None,
        Status::Error if excused(c) => None,
        Status::Error => Some(c.message.clone().unwrap_or_else(|| "stopped".into())),
        Status::Missing => Some(
            "no snapshot: the answer was not compared with anything; record one or review the .snap.new"
                .into(),
        ),
        Status::Fail | Status::Incomplete => {
            let new = c.judged(Judged::New).count();
            let mut text = String::new();
            if let Some(m) = &c.message {
                let _ = writeln!(text, "{m}");
            }
            let _ = writeln!(text, "{new} new deviation(s):");
            for d in c.judged(Judged::New).take(DEVIATIONS_PER_ANNOTATION) {
                let _ = writeln!(text, "{}", d.deviation);
            }
            if new > DEVIATIONS_PER_ANNOTATION {
                let _ = writeln!(
                    text,
                    "... {} more in the job summary and the reports",
                    thousands(new - DEVIATIONS_PER_ANNOTATION)
                );
            }
            Some(text.trim_end().to_owned())
        }
    }
}

/// A command's message: `%`, CR and LF would end or garble it.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A command's property value: as a message, and `:` and `,` would end the value.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deviation::Kind;
    use crate::report::fixtures::{case, mixed};
    use crate::report::{CaseOutcome, Judged};

    #[test]
    fn new_deviations_and_errors_are_annotated_at_their_file_and_line_known_ones_are_not() {
        let lines = mixed().github_annotations(|_| false);
        assert_eq!(
            lines,
            [
                "::error file=scenarios/sts/AssumeRole/b.yaml,line=12,title=sts%3A%3AAssumeRole%3A%3Ab::1 new deviation(s):%0Astep 1 value-text at R/A: expected `a`, got `b|c`",
                "::error file=scenarios/sts/AssumeRole/c.yaml,line=12,title=sts%3A%3AAssumeRole%3A%3Ac::cannot connect",
            ]
        );
        // A baseline that excuses the error's stop leaves only the new deviation.
        let lines = mixed().github_annotations(|c| c.name.ends_with("::c"));
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].contains("title=sts%3A%3AAssumeRole%3A%3Ab"),
            "{lines:?}"
        );
    }

    #[test]
    fn a_case_with_new_and_known_deviations_lists_only_the_new_ones() {
        let mut c = case(
            "sts::AssumeRole::m",
            CaseOutcome::Fail,
            &[Kind::Status, Kind::ValueText],
        );
        c.deviations[0].deviation.path = "R/New".into();
        c.deviations[1].deviation.path = "R/Known".into();
        c.deviations[1].judged = Judged::Known;
        let mut r = mixed();
        r.cases = vec![c];
        let lines = r.github_annotations(|_| false);
        assert_eq!(lines.len(), 1);
        assert!(lines[0].contains("1 new deviation(s)"), "{lines:?}");
        assert!(
            lines[0].contains("R/New") && !lines[0].contains("R/Known"),
            "{lines:?}"
        );
    }

    #[test]
    fn every_special_character_is_escaped_where_it_would_end_the_command() {
        assert_eq!(escape_data("50% a\r\nb: c, d"), "50%25 a%0D%0Ab: c, d");
        assert_eq!(escape_property("a:b,c%\nd"), "a%3Ab%2Cc%25%0Ad");
        let mut r = mixed();
        r.cases.retain(|c| c.outcome == CaseOutcome::Error);
        r.cases[0].file = Some("scenarios/odd,name:x.yaml".into());
        r.cases[0].message = Some("line one\nline two, 100%".into());
        let lines = r.github_annotations(|_| false);
        assert_eq!(
            lines,
            [
                "::error file=scenarios/odd%2Cname%3Ax.yaml,line=12,title=sts%3A%3AAssumeRole%3A%3Ac::line one%0Aline two, 100%25"
            ]
        );
        // One command per line, whatever the texts held.
        assert!(lines.iter().all(|l| !l.contains('\n') && !l.contains('\r')));
    }

    #[test]
    fn beyond_what_github_shows_the_rest_are_counted_in_a_notice() {
        let mut r = mixed();
        r.cases = (0..13)
            .map(|i| case(&format!("sts::AssumeRole::e{i}"), CaseOutcome::Error, &[]))
            .collect();
        let lines = r.github_annotations(|_| false);
        assert_eq!(lines.len(), SHOWN_ANNOTATIONS + 1);
        assert!(
            lines[SHOWN_ANNOTATIONS].starts_with("::notice title=conform::3 more cases"),
            "{lines:?}"
        );
    }
}
