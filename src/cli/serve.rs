//! `conform serve`: the replay server as a process, until a signal, then its summary.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use conform::replay::Replay;
use conform::runner::Interrupt;
use conform::suite::Suite;

use super::*;

pub(crate) fn serve(
    suite: Suite,
    port: u16,
    strict: bool,
    vars: &[String],
    region: &str,
    limits: conform::replay::Limits,
) -> anyhow::Result<ExitCode> {
    let mut values = conform::target::default_vars(region);
    for a in vars {
        let (k, v) = a
            .split_once('=')
            .with_context(|| format!("`{a}` is not a variable assignment: write NAME=VALUE"))?;
        values.insert(k.trim().to_owned(), v.to_owned());
    }
    let mut replay = Replay::from_suite(&suite, values);
    replay.on_unmatched(Box::new(|msg| eprintln!("unmatched: {msg}")));
    let replay = Arc::new(replay);
    // This runtime only waits for signals: requests are served on the server's own threads.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    // Caught before the server says it is up: a signal sent as soon as it is must not kill it
    // without its summary.
    let stop = Interrupt::new();
    on_signals(
        &runtime,
        stop.clone(),
        "stopping the server; the summary follows",
    );
    // One serving thread per core: under load every thread is busy, and none waits for another.
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let server = conform::replay::serve_threaded(Arc::clone(&replay), port, limits, threads)
        .with_context(|| format!("cannot listen on 127.0.0.1:{port}"))?;
    println!(
        "conform serve: {} recorded steps on {}",
        replay.len(),
        server.uri()
    );
    println!(
        "point an SDK at it, e.g. AWS_ENDPOINT_URL_STS={}; Ctrl-C or SIGTERM stops",
        server.uri()
    );
    runtime.block_on(stop.triggered());
    drop(server);
    let report = replay.report();
    println!(
        "\n{} requests matched no scenario; {} cases were never requested",
        report.unmatched_count,
        report.never_requested.len()
    );
    const LISTED: usize = 50;
    for n in report.never_requested.iter().take(LISTED) {
        println!("  never requested: {n}");
    }
    if report.never_requested.len() > LISTED {
        println!(
            "  ... and {} more never requested (the first {LISTED} are listed)",
            report.never_requested.len() - LISTED
        );
    }
    if strict && report.unmatched_count > 0 {
        println!(
            "--strict: exit 1, because {} requests matched no scenario (each was logged above as `unmatched:`)",
            report.unmatched_count
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
