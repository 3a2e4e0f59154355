//! `conform check` and `conform coverage`: the library finds, this prints.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

use conform::fingerprint::Fingerprint;
use conform::memo::Memo;
use conform::suite::{Layout, Suite};

/// The memo of a passing `conform check` of this project, with the fingerprint of its inputs
/// taken before anything is read.
pub(crate) struct CheckMemo {
    memo: Memo,
    inputs: Vec<PathBuf>,
    salt: String,
    print: Fingerprint,
    started: SystemTime,
}

impl CheckMemo {
    /// `None` when the inputs cannot be listed or walked: the check runs and says why.
    pub(crate) fn of(layout: &Layout, targets_file: &Path) -> Option<CheckMemo> {
        let started = SystemTime::now();
        let inputs = conform::check::inputs(layout, targets_file)?;
        let salt = conform::memo::program()?;
        let print = Fingerprint::of(&inputs, &salt).ok()?;
        Some(CheckMemo {
            memo: Memo::of(&crate::cache_dir(), "check", &inputs),
            inputs,
            salt,
            print,
            started,
        })
    }

    /// What the last check printed, when it passed and no input has changed since.
    pub(crate) fn recall(&self) -> Option<String> {
        self.memo.recall(&self.print)
    }

    /// A project that does not load has no passing check to give again.
    pub(crate) fn forget(&self) {
        self.memo.forget();
    }

    /// Keeps a passing check's output when its inputs stayed the same while it ran and were
    /// settled before; forgets any older one otherwise.
    fn settle(&self, passed: bool, output: &str) {
        let unchanged =
            || Fingerprint::of(&self.inputs, &self.salt).ok().as_ref() == Some(&self.print);
        if passed && self.print.settled(self.started) && unchanged() {
            // A memo that cannot be written only costs the next check its time.
            let _ = self.memo.keep(&self.print, output);
        } else {
            self.memo.forget();
        }
    }
}

pub(crate) fn check(
    suite: &Suite,
    root: &std::path::Path,
    fix_headers: bool,
    memo: Option<CheckMemo>,
    cache: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let found = conform::check::check(
        suite,
        &root.join("conform.toml"),
        fix_headers,
        cache.as_deref(),
    )?;
    let output = check_output(suite, &found);
    print!("{output}");
    if let Some(memo) = memo {
        memo.settle(found.passed(), &output);
    }
    Ok(if found.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn check_output(suite: &Suite, found: &conform::check::CheckReport) -> String {
    use conform::check::Header;
    let mut out = String::new();
    // Writing to a String cannot fail.
    for s in &found.stale_entries {
        let _ = writeln!(
            out,
            "stale baseline entry: {} lists {}, which is no case (remove the entry, or rename it with its case)",
            s.baseline.display(),
            s.case
        );
    }
    for m in &found.missing {
        let _ = writeln!(
            out,
            "missing snapshot: {} (for {}, {}:{})",
            m.snapshot.display(),
            m.case,
            m.file,
            m.line
        );
    }
    for o in &found.orphans {
        let _ = writeln!(
            out,
            "orphan snapshot: {} (no case has this id; delete it or restore its case)",
            o.display()
        );
    }
    for p in &found.pending {
        let _ = writeln!(out, "pending review: {} (cargo insta review)", p.display());
    }
    for u in &found.uncovered {
        let _ = writeln!(
            out,
            "no case for a constrained member: {}::{} {} (add a limit case; `conform coverage` lists its bounds)",
            u.service, u.operation, u.member
        );
    }
    for h in &found.headers {
        match h {
            Header::Rewritten(path) => {
                let _ = writeln!(out, "rewrote the header of {}", path.display());
            }
            Header::Stale {
                snapshot,
                case_id,
                file,
                line,
            } => {
                let _ = writeln!(
                    out,
                    "stale header: {} does not say what {case_id} at {file}:{line} says (conform check --fix-headers)",
                    snapshot.display()
                );
            }
        }
    }
    for g in &found.stale_generated {
        let what = if g.left_over {
            "is generated but no longer yielded"
        } else {
            "does not hold what is generated now"
        };
        let _ = writeln!(
            out,
            "stale generated file: {} {what} (run `conform generate {}`)",
            g.path.display(),
            g.service
        );
    }
    for f in &found.findings {
        let _ = writeln!(
            out,
            "{}:{}: {}: {}\n  help: {}",
            f.file, f.line, f.case, f.message, f.help
        );
    }
    let _ = writeln!(
        out,
        "{} cases in {} models, {} snapshots: {} missing, {} orphaned, {} stale headers, {} constrained members without a case, {} stale baseline entries, {} contradictions, {} stale generated files",
        suite.cases.len(),
        suite.models.len(),
        suite.snapshots.len(),
        found.missing.len(),
        found.orphans.len(),
        found.stale_headers(),
        found.uncovered.len(),
        found.stale_entries.len(),
        found.findings.len(),
        found.stale_generated.len()
    );
    out
}

pub(crate) fn generate(
    suite: &Suite,
    services: &[String],
    check_only: bool,
) -> anyhow::Result<ExitCode> {
    use conform::generate::{Change, changes, generate, write};
    let generated = generate(suite, services)?;
    let changes = changes(suite, &generated)?;
    for s in &generated.skipped {
        println!(
            "not generated: {}::{} {}, {}: {}",
            s.service, s.operation, s.member, s.check, s.why
        );
    }
    for c in &changes {
        let verb = match (c, check_only) {
            (Change::Write(_), true) => "differs",
            (Change::Remove(..), true) => "is left over",
            (Change::Write(_), false) => "wrote",
            (Change::Remove(..), false) => "removed",
        };
        if check_only {
            println!("{} {verb}", c.path().display());
        } else {
            println!("{verb} {}", c.path().display());
        }
    }
    if !check_only {
        write(&changes)?;
    }
    let files = generated
        .outputs
        .iter()
        .filter(|o| o.path.extension().is_some_and(|e| e == "yaml"))
        .count();
    println!(
        "{} generated cases in {files} files for {}: {} files {}, {} refused sides left without a case",
        generated.cases,
        generated.services.join(", "),
        changes.len(),
        if check_only { "stale" } else { "changed" },
        generated.skipped.len()
    );
    Ok(if check_only && !changes.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

pub(crate) fn coverage(suite: &Suite, check_only: bool) -> anyhow::Result<ExitCode> {
    use conform::coverage::FileState;
    let files = conform::coverage::refresh(suite, check_only)
        .map_err(|(path, e)| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    for f in &files {
        match f.state {
            FileState::UpToDate => println!("{} is up to date", f.path.display()),
            FileState::Stale => println!(
                "{} is out of date: run `conform coverage` and commit it",
                f.path.display()
            ),
            FileState::Written => println!("wrote {}", f.path.display()),
        }
        if f.gaps > 0 {
            println!(
                "{} constrained members of {} have no case yet",
                f.gaps, f.service
            );
        }
    }
    Ok(if files.iter().any(|f| f.state == FileState::Stale) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
