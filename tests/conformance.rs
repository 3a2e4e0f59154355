//! The conformance suite as tests: one libtest trial per case, named
//! `<service>::<operation>::<case-id>`, so `cargo test --test conformance -- assume_role`
//! filters, `--list` lists, and cargo-nextest can run and partition it.
//!
//! The endpoint comes from `CONFORM_ENDPOINT` (and `CONFORM_VARS`, `NAME=VALUE` pairs
//! separated by spaces). Without it the built-in replay server answers, in process, and
//! cases that require what only a real target has are ignored.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use conform::plan::{Plan, PlanOptions};
use conform::runner::{Outcome, Runner};
use conform::secrets::Secrets;
use conform::suite::{Layout, Suite, SuiteError};
use libtest_mimic::{Arguments, Failed, Trial};

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let suite = match Suite::load(&Layout::at(root)) {
        Ok(s) => Arc::new(s),
        Err(SuiteError::Scenarios(diags)) => {
            for d in diags {
                eprintln!("{}", d.render());
            }
            return ExitCode::from(101);
        }
        Err(e) => {
            eprintln!("cannot load the suite: {e}");
            return ExitCode::from(101);
        }
    };
    // Our failure message carries the diff; insta's own rendering would repeat it.
    if std::env::var_os("INSTA_OUTPUT").is_none() {
        // SAFETY: no other thread exists yet.
        unsafe { std::env::set_var("INSTA_OUTPUT", "none") };
    }
    let runtime = Arc::new(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime"),
    );
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    // Listing starts nothing: a run without an endpoint starts the built-in replay server.
    let plan = if args.list {
        None
    } else {
        let opts = PlanOptions {
            endpoint: env("CONFORM_ENDPOINT"),
            region: env("CONFORM_REGION"),
            vars: env("CONFORM_VARS")
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            ..PlanOptions::default()
        };
        match runtime.block_on(Plan::new(&suite, opts, |k| std::env::var(k).ok())) {
            Ok(p) => Some(p),
            Err(e) => {
                eprintln!("conformance: {e}");
                return ExitCode::from(101);
            }
        }
    };
    let runner = match &plan {
        None => None,
        Some(p) => match Runner::new(Arc::clone(&suite), p.target.clone(), Secrets::new()) {
            Ok(r) => Some(Arc::new(r)),
            Err(e) => {
                eprintln!("conformance: {e}");
                return ExitCode::from(101);
            }
        },
    };
    let trials = (0..suite.cases.len())
        .map(|i| {
            let case = &suite.cases[i];
            let (runner, runtime, suite) =
                (runner.clone(), Arc::clone(&runtime), Arc::clone(&suite));
            // What the plan leaves out (a case needing a real target, on a replay) is shown
            // as ignored rather than hidden.
            let ignored = plan.as_ref().is_some_and(|p| !p.runs(i));
            Trial::test(case.test_name(), move || match runner {
                Some(r) => trial(&suite, &r, &runtime, i),
                None => Ok(()),
            })
            .with_ignored_flag(ignored)
        })
        .collect();
    let code = libtest_mimic::run(&args, trials).exit_code();
    // The replay server stops with the plan, after the last trial.
    drop(plan);
    code
}

fn trial(
    suite: &Suite,
    runner: &Runner,
    runtime: &tokio::runtime::Runtime,
    index: usize,
) -> Result<(), Failed> {
    let case = &suite.cases[index];
    let result = runtime.block_on(runner.check(index));
    for w in &result.run.warnings {
        eprintln!("warning: {}: {w}", case.test_name());
    }
    if let Outcome::Error(e) = &result.outcome {
        return Err(format!("{e}\nhelp: {}", e.help()).into());
    }
    if result.outcome.is_pass() {
        return Ok(());
    }
    // Let insta record the new answer (a .snap.new outside CI) with the case's provenance.
    let snapshot_dir = suite
        .layout
        .snapshots
        .join(&case.service)
        .join(&case.operation);
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(snapshot_dir);
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_description(suite.snapshots.description(case, &result.run.transcript));
    settings.set_input_file(
        suite
            .layout
            .scenarios
            .parent()
            .unwrap_or(Path::new("."))
            .join(&case.file),
    );
    let contents = result.run.transcript.clone();
    let name = case.id.clone();
    let _ = settings.bind(|| std::panic::catch_unwind(|| insta::assert_snapshot!(name, contents)));
    let hint = "review the new answer with `cargo insta review`";
    match &result.outcome {
        Outcome::Fail { diff, deviations }
        | Outcome::Incomplete {
            diff, deviations, ..
        } => {
            let list: Vec<String> = deviations.iter().map(|d| format!("  {d}")).collect();
            let stopped = match &result.outcome {
                Outcome::Incomplete { message, .. } => format!("{message}\n"),
                _ => String::new(),
            };
            Err(format!(
                "answer differs from the snapshot ({hint}):\n{stopped}{}\n{diff}",
                list.join("\n")
            )
            .into())
        }
        Outcome::Missing => Err(format!(
            "no snapshot yet for this case; {hint}\n{}",
            runner.secrets().scrub(&result.run.transcript)
        )
        .into()),
        Outcome::Pass | Outcome::Error(_) => Ok(()),
    }
}
