//! `conform check` and `conform coverage`: the library finds, this prints.

use std::process::ExitCode;

use conform::suite::Suite;

pub(crate) fn check(
    suite: &Suite,
    root: &std::path::Path,
    fix_headers: bool,
) -> anyhow::Result<ExitCode> {
    use conform::check::Header;
    let found = conform::check::check(suite, &root.join("conform.toml"), fix_headers)?;
    for s in &found.stale_entries {
        println!(
            "stale baseline entry: {} lists {}, which is no case (remove the entry, or rename it with its case)",
            s.baseline.display(),
            s.case
        );
    }
    for m in &found.missing {
        println!(
            "missing snapshot: {} (for {}, {}:{})",
            m.snapshot.display(),
            m.case,
            m.file,
            m.line
        );
    }
    for o in &found.orphans {
        println!(
            "orphan snapshot: {} (no case has this id; delete it or restore its case)",
            o.display()
        );
    }
    for p in &found.pending {
        println!("pending review: {} (cargo insta review)", p.display());
    }
    for u in &found.uncovered {
        println!(
            "no case for a constrained member: {}::{} {} (add a limit case; `conform coverage` lists its bounds)",
            u.service, u.operation, u.member
        );
    }
    for h in &found.headers {
        match h {
            Header::Rewritten(path) => println!("rewrote the header of {}", path.display()),
            Header::Stale {
                snapshot,
                case_id,
                file,
                line,
            } => println!(
                "stale header: {} does not say what {case_id} at {file}:{line} says (conform check --fix-headers)",
                snapshot.display()
            ),
        }
    }
    for f in &found.findings {
        println!(
            "{}:{}: {}: {}\n  help: {}",
            f.file, f.line, f.case, f.message, f.help
        );
    }
    println!(
        "{} cases in {} models, {} snapshots: {} missing, {} orphaned, {} stale headers, {} constrained members without a case, {} stale baseline entries, {} contradictions",
        suite.cases.len(),
        suite.models.len(),
        suite.snapshots.len(),
        found.missing.len(),
        found.orphans.len(),
        found.stale_headers(),
        found.uncovered.len(),
        found.stale_entries.len(),
        found.findings.len()
    );
    Ok(if found.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
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
