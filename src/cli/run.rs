//! `conform run`: the plan, the run, what each case shows, the reports and the gate's verdict.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use conform::baseline::Baseline;
use conform::deviation::NotJudgedSet;
use conform::emulator::{Emulator, EmulatorError};
use conform::plan::{Plan, PlanOptions};
use conform::report::{RunReport, Status};
use conform::runner::{CaseResult, Interrupt, Outcome, Runner, StopKind};
use conform::secrets::Secrets;
use conform::snapshot;
use conform::suite::Suite;

use super::*;
use crate::{allowed_on_aws, is_ci};

pub(crate) fn run_suite(suite: Suite, args: RunArgs) -> anyhow::Result<ExitCode> {
    let shard = args
        .shard
        .as_deref()
        .map(conform::report::parse_shard)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    // Against an endpoint, a case is mostly waiting: one worker thread sends every case and
    // judges what comes back, and no answer wakes a second thread to take over its task
    // (a fifth of a 10,000-case run's CPU went to those hand-offs). The built-in replay
    // server answers on the same runtime, so it keeps a worker per core.
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if args.endpoint.is_some() || args.start.is_some() {
        builder.worker_threads(1);
    }
    let runtime = builder
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let suite = Arc::new(suite);
    let interrupt = Interrupt::new();
    // Caught before an emulator starts: a Ctrl-C while it installs or comes up must stop it.
    on_signals(
        &runtime,
        interrupt.clone(),
        "no more cases start; those under way run their cleanup steps, then the summary and reports",
    );
    let mut args = args;
    // Stopped when dropped, at the end of this function, however the run ends.
    let _emulator = match args.start.take() {
        Some((launch, dir)) => {
            let name = args.target.clone().unwrap_or_default();
            match start_emulator(&name, &launch, &dir, &interrupt, &mut args) {
                Ok(e) => Some(e),
                Err(EmulatorError::Interrupted { .. }) => {
                    eprintln!("interrupted: {name} was not started, nothing was run");
                    return Ok(ExitCode::from(INTERRUPTED));
                }
                Err(e) => return Err(e.into()),
            }
        }
        None => None,
    };
    let opts = PlanOptions {
        endpoint: args.endpoint.clone(),
        region: args.region.clone(),
        name: args.target_name.clone(),
        // `conform serve` elsewhere, named as the replay target.
        replay_named: args.target.as_deref() == Some("replay"),
        filters: args.filters.clone(),
        exact: args.exact,
        shard,
        vars: args.vars.clone(),
        credentials: args.credentials.clone(),
        service_endpoints: args.service_endpoints.clone(),
        timeout: Duration::from_secs(args.timeout),
        retries: args.retries,
        max_answer_bytes: args.max_answer_bytes,
        not_judged: args.not_judged.clone(),
        allow_aws: allowed_on_aws(args.allow_aws),
        uses_baseline: args.baseline.is_some(),
    };
    let plan = runtime.block_on(Plan::new(&suite, opts, |k| std::env::var(k).ok()))?;
    // Read before any request: a mistake in the file must not cost a whole run.
    let baseline = match &args.baseline {
        Some(path) => Some((path.clone(), conform::input::baseline(path)?)),
        None => None,
    };
    let not_judged = NotJudgedSet::new(&plan.not_judged).map_err(anyhow::Error::msg)?;
    if plan.needs_real_target > 0 {
        eprintln!(
            "note: {} cases need what only a real target provides (`requires:`); a replay server is none, so they are skipped",
            plan.needs_real_target
        );
    }
    let (indices, report_name, target_name) = (
        plan.cases.clone(),
        plan.report_name.clone(),
        plan.label.clone(),
    );
    if indices.is_empty() {
        if let Some((k, n)) = shard {
            // A small suite can leave a shard empty: that is no error, and its report says so.
            println!("shard {k}/{n} holds no case");
            let mut report = RunReport::from_results([], &report_name, shard);
            report.target_version = args.target_version.clone();
            write_reports(&report, Outputs::of(&args))?;
            return Ok(ExitCode::SUCCESS);
        }
        eprintln!(
            "no case matches the filters {:?}; `conform list` shows the names",
            args.filters
        );
        return Ok(ExitCode::from(2));
    }
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let jobs = args.jobs.unwrap_or(cores * 4).max(1);
    let secrets = Secrets::new();
    let mut runner = Runner::new(Arc::clone(&suite), plan.target.clone(), secrets.clone())?
        .with_interrupt(interrupt.clone())
        .forgetting_passed();
    if args.verbose {
        runner = runner.showing_exchanges();
    }
    let runner = Arc::new(runner);

    let terminal =
        terminal::Terminal::new(indices.len(), !is_ci() && std::io::stderr().is_terminal());
    let started = Instant::now();
    let results = run_cases(
        &runtime,
        &runner,
        &interrupt,
        &indices,
        jobs,
        Duration::from_secs(args.grace),
        |e| terminal.on_event(e),
    );
    terminal.finish();
    let elapsed = started.elapsed();

    let write_new = !args.no_new && !is_ci();
    let here = std::env::current_dir().ok();
    let ran = results.iter().map(|r| {
        let case = &suite.cases[r.index];
        let snap_new = suite.snapshots.path_of(case).with_extension("snap.new");
        let project = suite
            .layout
            .scenarios
            .parent()
            .unwrap_or(&suite.layout.scenarios);
        let file = scenario_file(project, &case.file, here.as_deref());
        conform::report::Ran::new(case, &r.outcome, snap_new, file, r.elapsed)
    });
    let mut report = RunReport::from_results(ran, &report_name, shard);
    report.target_version = args.target_version.clone();
    report.not_judged = plan.not_judged.clone();
    baseline
        .as_ref()
        .map_or(&Baseline::default(), |(_, b)| b)
        .judge(&mut report, &not_judged);
    for (r, c) in results.iter().zip(&report.cases) {
        let written = match c.status() {
            Status::Missing | Status::Fail | Status::Incomplete if write_new => {
                write_new_snapshot(&suite, r, &secrets)
            }
            _ => String::new(),
        };
        terminal.case(&suite, r, c, &written);
    }
    write_reports(&report, Outputs::of(&args))?;
    if args.annotations.github(|k| std::env::var(k).ok()) {
        // What the gate excuses (a setup step the target refuses) is no news to point at.
        let stopped: Option<std::collections::BTreeSet<String>> =
            baseline.as_ref().map(|(_, b)| {
                b.gate(&report)
                    .stopped
                    .into_iter()
                    .map(|(name, ..)| name)
                    .collect()
            });
        let excused = |c: &conform::report::CaseReport| {
            stopped.as_ref().is_some_and(|s| !s.contains(&c.name))
        };
        for line in report.github_annotations(excused) {
            println!("{line}");
        }
    }
    terminal.summary(&report, &target_name, elapsed, jobs);
    let counts = report.counts();
    if interrupt.is_triggered() {
        // What finished is reported above and in the reports; a partial run judges nothing
        // else: no gate verdict, and the baseline stays as it is.
        let not_run = results
            .iter()
            .filter(
                |r| matches!(&r.outcome, Outcome::Error(e) if e.kind() == StopKind::Interrupted),
            )
            .count();
        println!(
            "interrupted: {not_run} cases not run or cut short; no gate verdict{}",
            if baseline.is_some() && args.update_baseline {
                ", and the baseline was not updated"
            } else {
                ""
            }
        );
        return Ok(ExitCode::from(INTERRUPTED));
    }
    let Some((path, baseline)) = baseline else {
        let ok = counts.failed + counts.incomplete + counts.missing + counts.errors == 0;
        return Ok(if ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    };
    if args.update_baseline {
        let updated = baseline.updated(&report);
        conform::input::save_baseline(&updated, &path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!(
            "wrote {}: {} deviations known in {} cases",
            path.display(),
            updated.len(),
            updated.cases.len()
        );
        let refused = report
            .cases
            .iter()
            .filter(|c| c.stop == Some(conform::outcome::StopKind::Setup))
            .count();
        let kept = report
            .cases
            .iter()
            .filter(|c| matches!(c.status(), Status::Error | Status::Missing))
            .count()
            - refused;
        if refused > 0 {
            println!(
                "{refused} cases whose setup the target refuses are listed with that refusal: the gate excuses only it"
            );
        }
        if kept > 0 {
            println!(
                "{kept} cases could not be judged (no answer, no snapshot): their entries stay as they were"
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let gate = baseline.gate(&report);
    // A wrapper that picks ports per run (xtask) names the command to repeat.
    terminal.gate(&gate, &path, || {
        std::env::var("CONFORM_UPDATE_BASELINE")
            .ok()
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| {
                let mut cmd: Vec<String> = std::env::args().collect();
                cmd.push("--update-baseline".into());
                cmd.join(" ")
            })
    });
    Ok(if gate.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Installs and starts the target's emulator from its recipe (`dir` is the targets file's
/// directory, which the recipe's relative paths are relative to) and points the run at it.
fn start_emulator(
    name: &str,
    launch: &conform::targets::Launch,
    dir: &std::path::Path,
    interrupt: &Interrupt,
    args: &mut RunArgs,
) -> Result<Emulator, EmulatorError> {
    eprintln!(
        "starting {name} from its recipe (install step, then a free loopback port; up to {} s to answer)",
        launch.ready_timeout
    );
    let e = Emulator::start_unless(name, launch, dir, &|| interrupt.is_triggered())?;
    // A second signal exits at once, without Drop: that path stops it too.
    stop_on_exit(e.stopper());
    let version = conform::emulator::version(launch, dir);
    eprintln!(
        "{} ready on {} (log: {})",
        version.as_deref().unwrap_or(name),
        e.url(),
        e.log().display()
    );
    args.endpoint = Some(e.url().to_owned());
    args.target_version = args.target_version.take().or(version);
    // The snapshots say what AWS does: an emulator's answers are no candidates.
    args.no_new = true;
    // An emulator keeps what a case wrongly lets it create (moto makes a role named "None"
    // when CreateRole has no name), and a later case may meet it. One case at a time, in name
    // order, meets the same state every run, so the gate's verdict does not depend on which
    // case finished first. `--jobs` overrides.
    args.jobs = args.jobs.or(Some(1));
    Ok(e)
}

/// Writes the case's answer as a `.snap.new` beside its snapshot, for review; says where
/// it went or why it was not written.
pub(crate) fn write_new_snapshot(suite: &Suite, r: &CaseResult, secrets: &Secrets) -> String {
    let case = &suite.cases[r.index];
    match snapshot::write_new(&suite.snapshots, case, &r.run.transcript, |t| {
        secrets.leaks_into(t)
    }) {
        Ok(p) => format!(
            "\n  wrote {} (review with `cargo insta review`)",
            p.display()
        ),
        Err(e) => format!("\n  {e}"),
    }
}

/// A scenario file (named from the project root, the scenarios directory's parent) as CI
/// pages want it: relative to where conform runs (a CI job runs in
/// the repository's root, and its reporters resolve paths from there), `/`-separated, without
/// `./`. A file outside the working directory keeps its absolute path.
pub(crate) fn scenario_file(
    project: &std::path::Path,
    file: &str,
    here: Option<&std::path::Path>,
) -> String {
    let whole = project.join(file);
    let shown = here
        .and_then(|h| whole.strip_prefix(h).ok())
        .unwrap_or(&whole);
    let clean: std::path::PathBuf = shown
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect();
    clean.to_string_lossy().replace('\\', "/")
}
