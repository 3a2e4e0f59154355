//! `conform check`: everything that can be wrong with a project without sending a request.
//! Each kind of problem is listed as data (the binary prints it); a check passes when every
//! list is empty. Pending reviews (`.snap.new`) and rewritten headers are said, not failed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::answers::Answers;
use crate::baseline::BaselineError;
use crate::consistency::{self, Finding};
use crate::memo::TextMemos;
use crate::snapshot::WriteError;
use crate::suite::Suite;
use crate::targets::{Targets, TargetsError};

/// Why a check could not finish: a file it had to read or write.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Targets(#[from] TargetsError),
    #[error(transparent)]
    Baseline(#[from] BaselineError),
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error(transparent)]
    Generate(#[from] crate::generate::GenerateError),
}

/// A generated file that no longer holds what `conform generate` writes now.
#[derive(Debug)]
pub struct StaleGenerated {
    pub path: PathBuf,
    pub service: String,
    /// True: the file should not be there any more.
    pub left_over: bool,
}

/// A baseline entry naming no case (renamed or deleted): it would excuse nothing, forever.
#[derive(Debug)]
pub struct StaleEntry {
    pub baseline: PathBuf,
    pub case: String,
}

/// A case without a snapshot.
#[derive(Debug)]
pub struct Missing {
    pub snapshot: PathBuf,
    pub case: String,
    pub file: String,
    pub line: u32,
}

/// A snapshot header that no longer says what its case says, or one just rewritten.
#[derive(Debug)]
pub enum Header {
    Stale {
        snapshot: PathBuf,
        case_id: String,
        file: String,
        line: u32,
    },
    Rewritten(PathBuf),
}

/// A member with a constraint that no case exercises.
#[derive(Debug)]
pub struct Uncovered {
    pub service: String,
    pub operation: String,
    pub member: String,
}

/// What `conform check` found, in the order it is told.
#[derive(Debug, Default)]
pub struct CheckReport {
    pub stale_entries: Vec<StaleEntry>,
    pub missing: Vec<Missing>,
    pub orphans: Vec<PathBuf>,
    pub pending: Vec<PathBuf>,
    pub uncovered: Vec<Uncovered>,
    pub headers: Vec<Header>,
    pub findings: Vec<Finding>,
    pub stale_generated: Vec<StaleGenerated>,
}

impl CheckReport {
    pub fn stale_headers(&self) -> usize {
        self.headers
            .iter()
            .filter(|h| matches!(h, Header::Stale { .. }))
            .count()
    }

    /// Nothing to fix: no missing or orphaned snapshot, no stale header or baseline entry, no
    /// constrained member without a case, no contradiction.
    pub fn passed(&self) -> bool {
        self.missing.is_empty()
            && self.orphans.is_empty()
            && self.stale_headers() == 0
            && self.uncovered.is_empty()
            && self.stale_entries.is_empty()
            && self.findings.is_empty()
            && self.stale_generated.is_empty()
    }
}

/// Checks a loaded project. `targets_file` (when it exists) names the baselines to check for
/// entries of no case; `fix_headers` rewrites stale snapshot headers instead of listing them.
/// With a `cache` directory, what files yield is kept there ([`TextMemos`]): the case names
/// each baseline lists, by the baseline's text (parsing the corpus's 3 MB of TOML again was
/// a seventh of a check), and each operation's generated files, by what they are made from.
pub fn check(
    suite: &Suite,
    targets_file: &Path,
    fix_headers: bool,
    cache: Option<&Path>,
) -> Result<CheckReport, CheckError> {
    // The parts read the suite only: on two cores they run side by side (the baselines
    // and the snapshots' files beside the generated files, the coverage beside the facts).
    // The answers are parsed once, for both of the latter.
    let (stale, snapshots, coverage, findings, generated) = std::thread::scope(|scope| {
        let stale = scope.spawn(|| {
            let stale = stale_entries(suite, targets_file, cache);
            (stale, snapshot_files(suite, fix_headers))
        });
        let generated = scope.spawn(|| stale_generated(suite, cache));
        let answers = Answers::of_suite(suite);
        let (coverage, findings) = std::thread::scope(|inner| {
            let coverage = inner.spawn(|| crate::coverage::of_suite(suite, &answers));
            (joined(coverage), consistency::check(suite, &answers))
        });
        let (stale, snapshots) = joined(stale);
        (stale, snapshots, coverage, findings, joined(generated))
    });
    let mut report = snapshots?;
    report.stale_entries = stale?;
    report.stale_generated = generated?;
    report.findings = findings;
    for (_, cov) in coverage {
        for (operation, member) in cov.uncovered_members() {
            report.uncovered.push(Uncovered {
                service: cov.service.clone(),
                operation,
                member,
            });
        }
    }
    Ok(report)
}

/// What is wrong with the snapshot files: missing, orphaned, pending and stale headers
/// (rewritten instead with `fix_headers`).
fn snapshot_files(suite: &Suite, fix_headers: bool) -> Result<CheckReport, CheckError> {
    let missing = suite
        .snapshots
        .missing(&suite.cases)
        .into_iter()
        .map(|c| Missing {
            snapshot: suite.snapshots.path_of(c),
            case: c.test_name(),
            file: c.file.clone(),
            line: c.line,
        })
        .collect();
    let orphans = suite
        .snapshots
        .orphans(&suite.cases)
        .into_iter()
        .map(|o| suite.layout.snapshots.join(o))
        .collect();
    let mut headers = Vec::new();
    for (case, header) in suite.snapshots.stale_headers(&suite.cases) {
        headers.push(if fix_headers {
            Header::Rewritten(suite.snapshots.rewrite_header(case, &header)?)
        } else {
            Header::Stale {
                snapshot: suite.snapshots.path_of(case),
                case_id: case.id.clone(),
                file: case.file.clone(),
                line: case.line,
            }
        });
    }
    Ok(CheckReport {
        missing,
        orphans,
        pending: suite.snapshots.pending().to_vec(),
        headers,
        ..CheckReport::default()
    })
}

/// The generated files of each service that has any, against what generating writes now.
fn stale_generated(suite: &Suite, cache: Option<&Path>) -> Result<Vec<StaleGenerated>, CheckError> {
    use crate::generate::{Change, changes, generate_remembering, is_generated};
    let services: BTreeSet<String> = suite
        .cases
        .iter()
        .filter(|c| is_generated(c))
        .map(|c| c.service.clone())
        .collect();
    if services.is_empty() {
        return Ok(Vec::new());
    }
    let services: Vec<String> = services.into_iter().collect();
    let memos = cache.and_then(|c| {
        let program = crate::memo::program()?;
        // The snapshots' place too: the files kept are named by their paths.
        let inputs = [
            suite.layout.scenarios.clone(),
            suite.layout.models.clone(),
            suite.layout.snapshots.clone(),
        ];
        Some(TextMemos::of(c, "generated", &inputs, program))
    });
    let generated = generate_remembering(suite, &services, memos.as_ref())?;
    if let Some(m) = &memos {
        m.prune();
    }
    let mut out = Vec::new();
    for change in changes(suite, &generated)? {
        out.push(StaleGenerated {
            path: change.path().to_owned(),
            service: change.service().to_owned(),
            left_over: matches!(change, Change::Remove(..)),
        });
    }
    Ok(out)
}

/// Every file and directory `check` reads for a project laid out as `layout`: its
/// scenarios, snapshots and models, the targets file and the baselines it names. A passing
/// check stays true while the fingerprint of these stays the same ([`crate::memo`]). `None`
/// when the targets file cannot be read: the check itself says why.
pub fn inputs(layout: &crate::suite::Layout, targets_file: &Path) -> Option<Vec<PathBuf>> {
    let mut out = vec![
        layout.scenarios.clone(),
        layout.snapshots.clone(),
        layout.models.clone(),
        targets_file.to_owned(),
    ];
    if targets_file.exists() {
        out.extend(Targets::load(targets_file).ok()?.baselines());
    }
    Some(out)
}

/// A scoped thread's result; its panic goes on in the caller, as if it had run there.
fn joined<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

fn stale_entries(
    suite: &Suite,
    targets_file: &Path,
    cache: Option<&Path>,
) -> Result<Vec<StaleEntry>, CheckError> {
    if !targets_file.exists() {
        return Ok(Vec::new());
    }
    let memos = cache.and_then(|c| {
        let program = crate::memo::program()?;
        Some(TextMemos::of(
            c,
            "baseline-cases",
            &[targets_file.to_owned()],
            program,
        ))
    });
    let names: BTreeSet<String> = suite.cases.iter().map(|c| c.test_name()).collect();
    let mut stale = Vec::new();
    for file in Targets::load(targets_file)?.baselines() {
        if !file.exists() {
            continue;
        }
        let listed = baseline_cases(&file, memos.as_ref())?;
        for case in listed.into_iter().filter(|n| !names.contains(n)) {
            stale.push(StaleEntry {
                baseline: file.clone(),
                case,
            });
        }
    }
    if let Some(m) = &memos {
        m.prune();
    }
    Ok(stale)
}

/// The names of the cases a baseline lists, in its order; a baseline that does not parse is
/// the error it gives.
fn baseline_cases(file: &Path, memos: Option<&TextMemos>) -> Result<Vec<String>, CheckError> {
    let shown = file.display().to_string();
    let text = std::fs::read_to_string(file).map_err(|source| BaselineError::Read {
        path: shown.clone(),
        source,
    })?;
    if let Some(names) = memos.and_then(|m| m.recall::<Vec<String>>(&shown, &text)) {
        return Ok(names);
    }
    let names: Vec<String> = crate::baseline::Baseline::parse(&text, &shown)?
        .cases
        .into_iter()
        .map(|c| c.name)
        .collect();
    if let Some(m) = memos {
        m.keep(&shown, &text, &names);
    }
    Ok(names)
}
