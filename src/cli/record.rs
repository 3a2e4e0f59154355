//! `conform record` and `conform cleanup`: the acting target, the recording and what it kept.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use conform::record::Kept;
use conform::runner::{Interrupt, Runner};
use conform::secrets::Secrets;
use conform::suite::Suite;
use conform::target::Target;

use super::*;
use crate::{allowed_on_aws, is_ci};

/// The target of `record` and `cleanup`; None (after saying why) when AWS is not confirmed.
pub(crate) fn acting_target(
    spec: &conform::target::Acting,
    allow: bool,
    dry_run: bool,
    what: &str,
) -> anyhow::Result<Option<Target>> {
    let env = |k: &str| std::env::var(k).ok();
    match Target::acting(spec, allowed_on_aws(allow), dry_run, what, env) {
        Ok(t) => Ok(Some(t)),
        Err(e @ conform::target::ActingError::NotConfirmed(_)) => {
            eprintln!(
                "error: {e}{}",
                if is_ci() {
                    " (CI is set: recording never runs in CI unless asked)"
                } else {
                    ""
                }
            );
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) fn cleanup(
    suite: Suite,
    spec: &conform::target::Acting,
    allow: bool,
    dry_run: bool,
) -> anyhow::Result<ExitCode> {
    let Some(target) = acting_target(
        spec,
        allow,
        dry_run,
        "cleanup deletes what recordings left in the account (the resources files name each kind)",
    )?
    else {
        return Ok(ExitCode::from(2));
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let runner = Runner::new(Arc::new(suite), target.clone(), Secrets::new())?;
    let done = match runtime.block_on(conform::cleanup::run(&runner, dry_run)) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: cannot list what to clean up: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let verb = if dry_run { "would delete" } else { "deleted" };
    for d in &done.deleted {
        println!("{verb} {d}");
    }
    for f in &done.failed {
        println!("FAILED {f}");
    }
    println!(
        "{} {verb}, {} failed, against {}",
        done.deleted.len(),
        done.failed.len(),
        target.name
    );
    Ok(if done.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

pub(crate) fn record(
    suite: Suite,
    args: RecordArgs,
    root: &std::path::Path,
) -> anyhow::Result<ExitCode> {
    let mut spec = acting(
        args.target.as_deref(),
        args.endpoint.as_deref(),
        args.targets.as_deref(),
        root,
    )?;
    spec.region = args.region.clone();
    spec.profile = args.profile.clone();
    spec.vars.extend(args.vars.iter().cloned());
    let Some(mut target) = acting_target(
        &spec,
        args.allow_aws,
        args.dry_run,
        "recording against AWS creates resources in the account (IAM roles, SNS topics, ...) and calls each service with its credentials",
    )?
    else {
        return Ok(ExitCode::from(2));
    };
    // Which answers mean "ask again later", from every service's data.
    let mut retry = conform::resources::Retry::default();
    for r in suite.resources.values() {
        retry.throttled.extend(r.retry.throttled.iter().cloned());
        retry
            .propagating
            .extend(r.retry.propagating.iter().cloned());
    }
    if let Some(limit) = args.max_answer_bytes {
        target.max_answer_bytes = limit;
    }
    let suite = Arc::new(suite);
    let mut selected = suite.select_indices(&args.filters, false);
    if selected.is_empty() {
        eprintln!("no case matches the filters {:?}", args.filters);
        return Ok(ExitCode::from(2));
    }
    if args.missing {
        let against_aws = conform::target::is_aws(&target.endpoint);
        let before = selected.len();
        selected.retain(|&i| {
            !suite
                .snapshots
                .header(&suite.cases[i])
                .is_some_and(|h| conform::record::recorded_by(h, &target.name, against_aws))
        });
        println!(
            "--missing: {} of {before} cases have a snapshot recorded against {} and are left as they are",
            before - selected.len(),
            target.name
        );
        if selected.is_empty() {
            println!("nothing is missing: every selected case is recorded");
            return Ok(ExitCode::SUCCESS);
        }
    }
    if args.dry_run {
        println!(
            "dry run: would record {} cases against {} ({}); nothing is sent",
            selected.len(),
            target.name,
            target.region
        );
        for &i in &selected {
            let case = &suite.cases[i];
            println!("{}", case.test_name());
            for step in &case.steps {
                let what = match &step.request {
                    conform::scenario::Request::Call { operation, .. } => {
                        format!("{}:{operation}", step.service)
                    }
                    conform::scenario::Request::Raw(r) => format!("raw {} {}", r.method, r.path),
                };
                let role = match step.role {
                    conform::scenario::Role::Setup => "create (setup) ",
                    conform::scenario::Role::Cleanup => "delete (cleanup) ",
                    conform::scenario::Role::Check => "call ",
                };
                println!(
                    "  {role}{what} at {}",
                    target.url_for(&step.service, "/", None)
                );
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    // Signals from the start: cases under way go to their cleanup steps, no more start.
    let interrupt = Interrupt::new();
    on_signals(
        &runtime,
        interrupt.clone(),
        "the cases under way run their cleanup steps; no more start",
    );
    let secrets = Secrets::new();
    let probe = Runner::new(Arc::clone(&suite), target.clone(), secrets.clone())?;
    let me = match runtime.block_on(conform::call::caller_identity(&probe)) {
        Ok(me) => me,
        Err(e) => {
            eprintln!("error: cannot tell who the credentials are (GetCallerIdentity): {e}");
            return Ok(ExitCode::from(2));
        }
    };
    println!(
        "recording as {} in account {} against {} ({})",
        me.arn, me.account, target.name, target.region
    );
    // The account and caller the answers will name are these: redaction turns them into
    // placeholders, so no account id reaches a file.
    target.vars.extend(me.vars());
    let runner = Arc::new(
        Runner::new(Arc::clone(&suite), target.clone(), secrets.clone())?
            .with_interrupt(interrupt.clone())
            .with_rate(args.rate)
            .with_policy(Arc::new(conform::record_mode::RecordMode {
                attempts: args.retries + 1,
                base: Duration::from_millis(args.retry_base_ms),
                max: Duration::from_secs(10),
                retry,
            })),
    );
    let terminal = terminal::Terminal::new(selected.len(), false);
    let results = run_cases(
        &runtime,
        &runner,
        &interrupt,
        &selected,
        args.jobs.max(1),
        Duration::from_secs(args.grace),
        |e| terminal.on_event(e),
    );
    let rec = conform::record::Recording {
        target: target.name.clone(),
        region: target.region.clone(),
        date: time::OffsetDateTime::now_utc().date().to_string(),
        account: me.account.clone(),
        against_aws: conform::target::is_aws(&target.endpoint),
    };
    let saved = conform::record::save(&suite, &results, &rec, &secrets)?;
    for (r, (name, kept)) in results.iter().zip(&saved.cases) {
        for w in &r.run.warnings {
            println!("WARN {name}: {w}");
        }
        match kept {
            Kept::Written => {}
            Kept::NotRecorded(e) => println!("NOT RECORDED {name}: {e}"),
            Kept::Refused(e) => println!("REFUSED {name}: {e}"),
        }
    }
    let written = saved.count(|k| matches!(k, Kept::Written));
    let refused = saved.count(|k| matches!(k, Kept::Refused(_)));
    let not_run = saved.count(|k| matches!(k, Kept::NotRecorded(_)));
    println!(
        "\nrecorded {written} snapshots, {not_run} cases not recorded, {refused} refused for a secret"
    );
    match &saved.scenarios_kept {
        Some(why) => println!("scenario files left as they are: {why}"),
        None if written > 0 => {
            println!("{written} cases marked `provenance: recorded` in their scenario files")
        }
        None => {}
    }
    Ok(if interrupt.is_triggered() {
        ExitCode::from(INTERRUPTED)
    } else if refused > 0 || not_run > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
