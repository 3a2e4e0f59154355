//! The `conform` command line: loads a project, runs or inspects it, and prints.

mod cli;

use cli::*;

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use conform::plan::Plan;
use conform::suite::{Layout, Selection, Suite, SuiteError};

fn main() -> ExitCode {
    quiet_on_closed_output();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", causes(&e));
            ExitCode::from(2)
        }
    }
}

/// Sets glibc's allocator for the run ahead. A run of named cases is mostly start-up:
/// building a regex with a Unicode class allocates and frees a table of about 320 KB, which
/// glibc served from fresh pages each time, a tenth of such a run's page faults; freed memory
/// is kept for the next allocation instead (blocks up to 4 MiB from the heap, up to 64 MiB
/// of its top kept). A larger run keeps glibc's first mmap threshold (128 KiB) rather than
/// letting each large block freed raise it: the scenario files' texts, read once, raised it
/// so far that later blocks of their size came from the heap and stayed, 2 MB of the
/// 10,000-case run's peak.
fn set_allocator(named_cases: bool) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets thresholds of the allocator, before any thread starts.
    unsafe {
        if named_cases {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
            libc::mallopt(libc::M_TRIM_THRESHOLD, 64 << 20);
        } else {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 128 << 10);
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = named_cases;
}

/// The error and its causes, each said once: the library's messages already quote their
/// cause (`cannot read X: <why>`), which anyhow's `{:#}` would print a second time.
pub(crate) fn causes(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !out.contains(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
    }
    out
}

/// Output piped into `head` must end the program quietly, as for other Unix tools, rather
/// than with a panic in println!. SIGPIPE itself stays ignored (Rust's default): restoring
/// it for the whole process also killed conform when a peer closed a socket it was writing
/// to, which must be an error of that one case. Only a failed print to the terminal's
/// streams ends the program, the way SIGPIPE would have.
fn quiet_on_closed_output() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to std") && message.contains("Broken pipe") {
            #[cfg(unix)]
            // SAFETY: setting a signal's disposition and raising it; nothing else runs here.
            unsafe {
                libc::signal(libc::SIGPIPE, libc::SIG_DFL);
                libc::raise(libc::SIGPIPE);
            }
            std::process::exit(141);
        }
        default(info);
    }));
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    if let Command::Export { dir } = &cli.command {
        return export(dir);
    }
    let mut layout = layout(&cli.layout);
    let mut targets = cli.layout.root.join("conform.toml");
    // Run, list and serve only read the project: where the root holds none, they use the
    // corpus built into this binary, and its targets file unless the root has one.
    let reads_only = matches!(
        cli.command,
        Command::Run(_) | Command::List { .. } | Command::Serve { .. }
    );
    let built_in = reads_only
        && cli.layout.scenarios.is_none()
        && cli.layout.snapshots.is_none()
        && cli.layout.models.is_none()
        && !layout.scenarios.exists();
    if built_in {
        let dir = unpacked(&cli.layout.root)?;
        layout = Layout::at(&dir);
        if !targets.exists() {
            targets = dir.join("conform.toml");
        }
    }
    // A check that passed on these very files passes again: say so without reading them.
    let memo = match &cli.command {
        Command::Check {
            fix_headers: false,
            no_cache: false,
        } => CheckMemo::of(&layout, &targets),
        _ => None,
    };
    if let Some(answer) = memo.as_ref().and_then(CheckMemo::recall) {
        print!("{answer}");
        eprintln!(
            "note: nothing conform check reads has changed since it last passed (--no-cache checks anew)"
        );
        return Ok(ExitCode::SUCCESS);
    }
    // A run with filters reads only what its cases need; every other command reads all.
    // The plan says whether the snapshots stay on disk, from the endpoint the targets file
    // may give, so its entry is read before the suite.
    let (command, selection) = match cli.command {
        Command::Run(mut args) => {
            let more = std::mem::take(&mut args.more_filters);
            args.filters.extend(more);
            let mut args = with_target(*args, &targets)?;
            // Candidates for review belong beside the user's snapshots, not in a cache.
            args.no_new |= built_in;
            // Nor does a baseline: rewritten in the cache, it would be lost with the cache and
            // judge no later run of another conform.
            let corpus = layout.scenarios.parent().unwrap_or(&layout.scenarios);
            if let Some(file) = args
                .baseline
                .as_ref()
                .filter(|_| built_in && args.update_baseline)
                && file.starts_with(corpus)
            {
                anyhow::bail!(
                    "--update-baseline would rewrite {}, inside the corpus built into conform: run `conform export DIR` and update the baseline there with --root DIR, or give --baseline FILE of your own",
                    file.display()
                );
            }
            let selection = Plan::selection(
                &args.filters,
                args.exact,
                args.endpoint.is_some() || args.start.is_some(),
            );
            set_allocator(args.exact);
            (Command::Run(Box::new(args)), selection)
        }
        // Names only: the snapshots (49 MB of the 10,000-case project) are listed, not read.
        list @ Command::List { .. } => (list, Selection::all().leaving_snapshots_on_disk()),
        other => (other, Selection::all()),
    };
    // Check and serve build every client-chosen shape first, so a shape too big to build is
    // a located error there rather than a shape that matches nothing.
    let builds_shapes = matches!(command, Command::Check { .. } | Command::Serve { .. });
    // `check --no-cache` reads every file anew; every other load keeps what each scenario
    // file yields.
    let anew = matches!(command, Command::Check { no_cache: true, .. });
    let loaded = if anew {
        Suite::load_selected(&layout, selection)
    } else {
        Suite::load_remembering(&layout, selection, &crate::cache_dir())
    };
    let loaded = loaded.and_then(|s| {
        if builds_shapes {
            s.build_shapes()?;
        }
        Ok(s)
    });
    if loaded.is_err()
        && let Some(memo) = &memo
    {
        memo.forget();
    }
    let suite = match loaded {
        Ok(s) => s,
        Err(SuiteError::Scenarios(diags)) => {
            for d in &diags {
                eprintln!("{}", d.render());
            }
            eprintln!(
                "error: {} problem(s) in the scenarios; nothing was run",
                diags.len()
            );
            return Ok(ExitCode::from(2));
        }
        Err(e) => return Err(e).context("cannot load the project"),
    };
    match command {
        Command::List { mut filters, more } => {
            filters.extend(more);
            for c in suite.select(&filters, false) {
                println!("{}  [{} / {}]", c.test_name(), c.kind, c.provenance);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Check {
            fix_headers,
            no_cache,
        } => {
            // `--no-cache` reads every file anew.
            let cache = (!no_cache).then(crate::cache_dir);
            let code = check(&suite, &cli.layout.root, fix_headers, memo, cache);
            // The process ends here: freeing the suite piece by piece (5 ms for the corpus)
            // would only delay it.
            std::mem::forget(suite);
            code
        }
        Command::Coverage { check } => coverage(&suite, check),
        Command::Generate { services, check } => generate(&suite, &services, check),
        Command::Serve {
            port,
            strict,
            vars,
            region,
            max_body_bytes,
            idle_timeout,
        } => {
            let mut limits = conform::replay::Limits::default();
            if let Some(n) = max_body_bytes {
                limits.max_body_bytes = n;
            }
            if let Some(s) = idle_timeout {
                limits.idle_timeout = Duration::from_secs(s);
            }
            serve(suite, port, strict, &vars, &region, limits)
        }
        Command::Run(args) => {
            // Checked here, not by clap: the baseline may come from the targets file.
            if args.update_baseline && args.baseline.is_none() {
                anyhow::bail!(
                    "--update-baseline needs a baseline: give --baseline FILE, or --target NAME of a target whose entry in the targets file names one"
                );
            }
            run_suite(suite, *args)
        }
        Command::Record(args) => record(suite, args, &cli.layout.root),
        Command::Merge {
            reports,
            json,
            junit,
            md,
            html,
            page,
        } => merge(
            &reports,
            Outputs {
                json,
                junit,
                md,
                html,
                page,
            },
        ),
        Command::Matrix {
            reports,
            baselines,
            md,
            html,
        } => matrix(&reports, &baselines, md, html),
        Command::Export { .. } => unreachable!("handled before the project is loaded"),
        Command::Cleanup {
            target,
            targets,
            allow_aws,
            region,
            profile,
            dry_run,
        } => {
            let mut spec = acting(Some(&target), None, targets.as_deref(), &cli.layout.root)?;
            spec.region = region;
            spec.profile = profile;
            cleanup(suite, &spec, allow_aws, dry_run)
        }
    }
}

pub(crate) fn allowed_on_aws(flag: bool) -> bool {
    flag || std::env::var("CONFORM_ALLOW_AWS").is_ok_and(|v| v == "1")
}

pub(crate) fn is_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}
