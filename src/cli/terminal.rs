//! The binary's terminal reporter (not part of the library): it hears the runner's events
//! while cases run (a progress bar on a terminal, retry notes), then prints what needs a
//! person's attention case by case, the summary and the gate's verdict.

use std::time::Duration;

use conform::baseline::Gate;
use conform::deviation::Level;
use conform::report::{self, CaseReport, Judged, RunReport, Status};
use conform::runner::{CaseResult, Event, Exchange, Outcome, StopKind};
use conform::suite::Suite;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The most lines of one kind shown; the reports list them all.
const SHOWN: usize = 50;

/// How much of a body `run --verbose` shows: a whole STS answer (a few KB) fits, a page of
/// a long IAM list does not need to.
const BODY_SHOWN: usize = 4096;

/// A request and its answer as `run --verbose` prints them, in curl's manner: `>` for what
/// was sent, `<` for what came back, then each body (made visible and cut).
fn exchange(e: &Exchange) -> String {
    use std::fmt::Write as _;
    let body = |text: &str| -> String {
        let shown = report::cut(
            text,
            usize::MAX,
            BODY_SHOWN,
            "--verbose shows the first 4 KB of a body",
        );
        let mut b = report::visible(&shown).into_owned();
        if !b.is_empty() && !b.ends_with('\n') {
            b.push('\n');
        }
        b
    };
    let r = &e.request;
    let mut out = format!("* {} step {}\n", e.case, e.call);
    let _ = writeln!(out, "> {} {}", r.method, report::visible(&r.url));
    for (k, v) in &r.headers {
        let _ = writeln!(out, "> {k}: {}", report::visible(v));
    }
    out.push_str(">\n");
    out.push_str(&body(&String::from_utf8_lossy(&r.body)));
    match &e.answer {
        Ok(a) => {
            let _ = writeln!(out, "< HTTP {} {}", a.status, a.reason);
            for (k, v) in &a.headers {
                let _ = writeln!(out, "< {k}: {}", report::visible(v));
            }
            out.push_str("<\n");
            out.push_str(&body(&a.body));
        }
        Err(why) => {
            let _ = writeln!(out, "< no answer: {}", report::visible(why));
        }
    }
    out
}

pub struct Terminal {
    bar: ProgressBar,
}

impl Terminal {
    /// `live`: draw a progress bar (a terminal outside CI); otherwise only notes are shown.
    pub fn new(cases: usize, live: bool) -> Terminal {
        let bar = ProgressBar::new(cases as u64);
        if !live {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} cases {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Terminal { bar }
    }

    pub fn on_event(&self, event: &Event<'_>) {
        match event {
            Event::CaseFinished { result, .. } => {
                self.bar.inc(1);
                if !result.outcome.is_pass() {
                    self.bar
                        .set_message(format!("({} not passing so far)", result.test_name));
                }
            }
            Event::Retrying {
                call, why, delay, ..
            } => self.bar.suspend(|| {
                eprintln!("retry: {call}: {why}, retrying in {} ms", delay.as_millis())
            }),
            Event::Exchange(e) => self.bar.suspend(|| eprint!("{}", exchange(e))),
            Event::CaseStarted { .. } | Event::StepAnswered { .. } => {}
        }
    }

    /// The run is over: the bar goes, the results follow.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    /// What a case's result shows: nothing for a pass or a case whose deviations are all
    /// known or not judged (the reports have them); the new deviations and the diff for one
    /// that fails; what stopped one that could not be judged, where, and what to do.
    /// `written` says where its `.snap.new` went, if one was written.
    pub fn case(&self, suite: &Suite, r: &CaseResult, c: &CaseReport, written: &str) {
        let case = &suite.cases[r.index];
        for w in &r.run.warnings {
            println!("WARN {}: {}", r.test_name, report::visible(&w.to_string()));
        }
        match c.status() {
            Status::Pass | Status::Baselined => {}
            Status::Missing => println!(
                "MISSING {}: no snapshot at {}{written}",
                r.test_name,
                suite.snapshots.path_of(case).display(),
            ),
            Status::Error => {
                println!(
                    "{} {}",
                    c.stop.unwrap_or(StopKind::NoAnswer).headline(),
                    r.test_name
                );
                println!("  {}", c.message.as_deref().unwrap_or_default());
                if let Outcome::Error(e) = &r.outcome {
                    println!("  help: {}", e.help());
                }
            }
            status => {
                let head = if status == Status::Incomplete {
                    "INCOMPLETE"
                } else {
                    "FAIL"
                };
                println!(
                    "{head} {}  ({}:{}){written}",
                    r.test_name, case.file, case.line,
                );
                if let Some(m) = &c.message {
                    println!("  {m}");
                }
                for d in c.judged(Judged::New).take(SHOWN) {
                    println!("  new: {}", d.deviation);
                }
                let more = c.judged(Judged::New).count().saturating_sub(SHOWN);
                if more > 0 {
                    println!(
                        "  ... {} more new deviations (every one is in the reports)",
                        report::thousands(more)
                    );
                }
                let (known, unjudged) = (
                    c.judged(Judged::Known).count(),
                    c.judged(Judged::NotJudged).count(),
                );
                if known + unjudged > 0 {
                    println!("  (and {known} known, {unjudged} not judged)");
                }
                if let Some(diff) = &c.diff {
                    println!("{diff}");
                }
            }
        }
    }

    /// The counts, the deviations and the agreement per level.
    pub fn summary(&self, report: &RunReport, target: &str, elapsed: Duration, jobs: usize) {
        let counts = report.counts();
        println!(
            "\n{} cases against {target}: {} ({:.2} s, {jobs} jobs)",
            counts.cases,
            report::outcome_counts(&counts),
            elapsed.as_secs_f64(),
        );
        println!("{}", report::deviations_line(&counts));
        println!("{}", agreement_line(report));
    }

    /// The gate's verdict: what it found beyond the known deviations, then one line, and
    /// what to do when it failed. `again` is the command that updates the baseline.
    pub fn gate(&self, gate: &Gate, path: &std::path::Path, again: impl FnOnce() -> String) {
        let file = path.display();
        if gate.whole_cases {
            println!(
                "\n{file} lists whole cases (the format before deviations were named one by one): convert it with the update command below; it keeps the reasons"
            );
        }
        let mut lines: Vec<String> = Vec::new();
        for (case, d) in &gate.new {
            lines.push(format!("NEW {case}: {d}"));
        }
        for (case, k) in gate.fixed.iter().filter(|_| !gate.whole_cases) {
            lines.push(format!(
                "NO LONGER OCCURS {case}: {k}: remove it from {file} (the list only shrinks)"
            ));
        }
        for (case, kind, message) in &gate.stopped {
            lines.push(format!("{} {case}: {message}", kind.headline()));
        }
        for case in &gate.missing {
            lines.push(format!("NO SNAPSHOT {case}: nothing to judge it by"));
        }
        if !lines.is_empty() {
            println!();
        }
        for l in lines.iter().take(SHOWN) {
            println!("{l}");
        }
        if lines.len() > SHOWN {
            println!(
                "... and {} more (every one is in the reports: --report-json, --report-md, --report-html)",
                lines.len() - SHOWN
            );
        }
        println!(
            "\ngate against {file}: {} known deviations, {} new, {} no longer occurring, {} not judged, {} cases without a verdict: {}",
            gate.known,
            gate.new.len(),
            gate.fixed.len(),
            gate.not_judged,
            gate.stopped.len() + gate.missing.len(),
            if gate.passed() { "passed" } else { "FAILED" }
        );
        if gate.passed() {
            return;
        }
        if gate
            .stopped
            .iter()
            .any(|(_, k, _)| *k == StopKind::NoAnswer)
        {
            println!(
                "a baseline excuses deviations, not a target that did not answer: start the target (or fix --endpoint) and run again"
            );
        }
        if gate.new.is_empty() && gate.fixed.is_empty() && !gate.whole_cases {
            return;
        }
        println!(
            "if these changes are intended, update the baseline with:\n  {}",
            again()
        );
    }
}

/// `Agreement: status 100% · code 100% · ... · values 98%`.
fn agreement_line(report: &RunReport) -> String {
    let a = report.agreement("");
    let parts: Vec<String> = Level::ALL
        .iter()
        .enumerate()
        .map(|(i, l)| format!("{l} {}%", report::percent(a.at[i], a.cases)))
        .collect();
    format!(
        "Agreement (cases that agree up to each level): {}",
        parts.join(" · ")
    )
}
