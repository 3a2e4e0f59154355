//! Record mode's bookkeeping: what a recorded snapshot says about where it comes from,
//! turning a case's provenance to `recorded`, and the scan that keeps secrets and
//! long-term keys off the disk.

use std::path::{Path, PathBuf};

use regex::Regex;

use crate::scenario::Case;
use crate::secrets::Secrets;
use crate::snapshot::{self, SnapshotStore, WriteError};

/// Where and when a recording was made.
#[derive(Debug, Clone)]
pub struct Recording {
    /// `aws`, or the endpoint of a local target.
    pub target: String,
    pub region: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    /// The account recorded in: it must not reach a file either.
    pub account: String,
    /// Whether the answers came from AWS itself (`target::is_aws`): only those are the
    /// truth that `provenance: recorded` claims.
    pub against_aws: bool,
}

impl Recording {
    /// The header line of a recorded snapshot. An emulator's answers keep the case's own
    /// provenance and say where they came from, so nobody mistakes them for AWS's.
    pub fn description(&self, case: &Case) -> String {
        let at = format!("{} ({})", self.target, self.region);
        let from = if self.against_aws {
            format!("provenance: recorded against {at}")
        } else {
            format!(
                "provenance: {}, answers recorded against {at}, not AWS,",
                case.provenance
            )
        };
        format!(
            "{} {}, {from} on {} by conform {}, scenario: {}:{}",
            case.kind,
            case.id,
            self.date,
            env!("CARGO_PKG_VERSION"),
            case.file,
            case.line
        )
    }

    /// Why the scenario files must stay as they are, or None when recorded cases may be
    /// marked `provenance: recorded` there: only answers from AWS, and only when the
    /// snapshots went to the project's own `snapshots/` (a recording written elsewhere is
    /// not this project's corpus).
    pub fn keeps_scenarios(&self, project: &Path, snapshots: &Path) -> Option<String> {
        if !self.against_aws {
            return Some(format!(
                "{} is not AWS, so its answers are not what `provenance: recorded` means",
                self.target
            ));
        }
        let own = project.join("snapshots");
        let same = match (own.canonicalize(), snapshots.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => own == snapshots,
        };
        (!same).then(|| {
            format!(
                "the snapshots went to {}, outside this project's snapshots/",
                snapshots.display()
            )
        })
    }
}

/// Whether a snapshot's header says it holds answers recorded from the target `record
/// --missing` records against now, so that case is left alone. For AWS that is any
/// recording from AWS (`provenance: recorded against aws (REGION)`); for another endpoint,
/// a recording from the same target, named as this run names it (a targets-file name stays
/// the same from run to run, a URL only as long as its port does): another emulator's
/// answers, or documented ones, are what is missing from it.
pub fn recorded_by(header: &str, target: &str, against_aws: bool) -> bool {
    if against_aws {
        header.contains("provenance: recorded against ")
    } else {
        header.contains(&format!("answers recorded against {target} ("))
    }
}

/// Why a text may not be written: a secret of the run, or something shaped like an access key.
pub fn leak_in(text: &str, secrets: &Secrets) -> Option<String> {
    if secrets.leaks_into(text) {
        return Some("a secret of this run".into());
    }
    static KEY: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    let re = KEY.get_or_init(|| Regex::new(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b").expect("a valid regex"));
    // AWS's documented example keys (…EXAMPLE) are not anyone's.
    re.find_iter(text)
        .find(|m| !m.as_str().contains("EXAMPLE"))
        .map(|m| format!("an access key id ({}…)", &m.as_str()[..4]))
}

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error("refused to keep {path}: it held {what}; the file was deleted")]
    Leak { path: PathBuf, what: String },
    #[error("cannot update {path}: {source}")]
    Scenario {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Writes a case's recorded snapshot over the stored one, then reads it back and scans it:
/// a file that holds a secret or a key is deleted and the recording refused.
pub fn write(
    store: &SnapshotStore,
    case: &Case,
    transcript: &str,
    rec: &Recording,
    secrets: &Secrets,
) -> Result<PathBuf, RecordError> {
    let path = store.path_of(case);
    let leak = |t: &str| {
        leak_in(t, secrets).or_else(|| {
            (!rec.account.is_empty() && t.contains(&rec.account))
                .then(|| "the account id".to_owned())
        })
    };
    let mut description = rec.description(case);
    // AWS's own answer records its order; any other endpoint's does not.
    if let Some(note) = store
        .order_note(case, transcript)
        .filter(|_| !rec.against_aws)
    {
        description.push_str(note);
    }
    let written =
        snapshot::write_file(&path, case, &description, transcript, |t| leak(t).is_some())?;
    let back = std::fs::read_to_string(&written).unwrap_or_default();
    if let Some(what) = leak(&back) {
        let _ = std::fs::remove_file(&written);
        return Err(RecordError::Leak {
            path: written,
            what,
        });
    }
    Ok(written)
}

/// The scenario text with the case's `provenance:` (the first after its id line) set to
/// `recorded`; None when the text has no such line.
pub fn flip_provenance(text: &str, case: &Case) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut done = false;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let n = i as u32 + 1;
        let trimmed = line.trim_start();
        if !done && n > case.line && trimmed.starts_with("provenance:") {
            let indent = &line[..line.len() - trimmed.len()];
            let eol = if line.ends_with('\n') { "\n" } else { "" };
            out.push_str(&format!("{indent}provenance: recorded{eol}"));
            done = true;
        } else {
            out.push_str(line);
        }
    }
    done.then_some(out)
}

/// Flips the case's provenance in its scenario file (under `root`), atomically.
pub fn mark_recorded(root: &Path, case: &Case) -> Result<(), RecordError> {
    let path = root.join(&case.file);
    let err = |source| RecordError::Scenario {
        path: path.clone(),
        source,
    };
    let text = std::fs::read_to_string(&path).map_err(err)?;
    let Some(new) = flip_provenance(&text, case) else {
        return Ok(());
    };
    crate::input::write_whole(&path, new.as_bytes()).map_err(err)
}

/// What record mode did with one case's run.
#[derive(Debug)]
pub enum Kept {
    /// Its snapshot was written (and its scenario marked recorded, unless `Saved` says why not).
    Written,
    /// It did not run to its end: its snapshot stays as it was.
    NotRecorded(crate::run_error::RunError),
    /// The written snapshot held a secret or a key and was deleted.
    Refused(RecordError),
}

/// What a recording kept, case by case, in the order the cases ran.
#[derive(Debug)]
pub struct Saved {
    pub cases: Vec<(String, Kept)>,
    /// Why the scenario files were left as they are (answers not AWS's, or written elsewhere
    /// than the project's snapshots); None when the recorded cases were marked `recorded`.
    pub scenarios_kept: Option<String>,
}

impl Saved {
    pub fn count(&self, f: impl Fn(&Kept) -> bool) -> usize {
        self.cases.iter().filter(|(_, k)| f(k)).count()
    }
}

/// Writes the snapshot of every case that ran to its end, refusing any that holds a secret,
/// and marks the written cases `recorded` in their scenario files when the answers are AWS's
/// and went to the project's own snapshots.
pub fn save(
    suite: &crate::suite::Suite,
    results: &[crate::runner::CaseResult],
    rec: &Recording,
    secrets: &Secrets,
) -> Result<Saved, RecordError> {
    let root = suite
        .layout
        .scenarios
        .parent()
        .unwrap_or(Path::new("."))
        .to_owned();
    let scenarios_kept = rec.keeps_scenarios(&root, &suite.layout.snapshots);
    let mut cases = Vec::new();
    for r in results {
        let case = &suite.cases[r.index];
        let kept = if let Some(e) = &r.run.stop {
            Kept::NotRecorded((**e).clone())
        } else {
            match write(&suite.snapshots, case, &r.run.transcript, rec, secrets) {
                Ok(_) => {
                    if scenarios_kept.is_none() {
                        mark_recorded(&root, case)?;
                    }
                    Kept::Written
                }
                Err(e) => Kept::Refused(e),
            }
        };
        cases.push((r.test_name.clone(), kept));
    }
    Ok(Saved {
        cases,
        scenarios_kept,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_shapes_and_run_secrets_are_leaks_example_keys_are_not() {
        let s = Secrets::new();
        s.add("a-run-secret-value");
        assert!(leak_in("x AKIAIOSFODNN7EXAMPLE y", &s).is_none());
        assert!(leak_in("[access-key-id:ASIA:1]", &s).is_none());
        assert_eq!(
            leak_in("key ASIAZZZZZZZZZZZZZZZZ here", &s).as_deref(),
            Some("an access key id (ASIA…)")
        );
        assert_eq!(
            leak_in("x a-run-secret-value", &s).as_deref(),
            Some("a secret of this run")
        );
    }

    /// A step-less STS AssumeRole limit case of `f.yaml`.
    fn limit_case(id: &str, provenance: crate::scenario::Provenance, line: u32, col: u32) -> Case {
        Case {
            id: id.into(),
            service: "sts".into(),
            operation: "AssumeRole".into(),
            kind: crate::scenario::Kind::Limit,
            provenance,
            description: "d".into(),
            source: None,
            requires: Vec::new(),
            pin: Vec::new(),
            steps: Vec::new(),
            file: "f.yaml".into(),
            line,
            col,
        }
    }

    #[test]
    fn recorded_means_from_aws_for_aws_and_from_the_same_target_otherwise() {
        let case = limit_case("a", crate::scenario::Provenance::Documented, 3, 5);
        let rec = |target: &str, against_aws| Recording {
            target: target.into(),
            region: "eu-west-1".into(),
            date: "2026-12-01".into(),
            account: "123456789012".into(),
            against_aws,
        };
        let by_aws = rec("aws", true).description(&case);
        let by_moto = rec("moto", false).description(&case);
        let documented = crate::snapshot::description(&case);
        assert!(recorded_by(&by_aws, "aws", true));
        assert!(!recorded_by(&by_moto, "aws", true));
        assert!(!recorded_by(&documented, "aws", true));
        assert!(recorded_by(&by_moto, "moto", false));
        assert!(!recorded_by(&by_moto, "mot", false));
        assert!(!recorded_by(&by_moto, "localstack", false));
        assert!(!recorded_by(&by_aws, "moto", false));
        assert!(!recorded_by(&documented, "moto", false));
    }

    #[test]
    fn only_the_cases_own_provenance_line_flips() {
        let text = "cases:\n  - id: a\n    kind: limit\n    provenance: documented\n  - id: b\n    provenance: inferred\n";
        let suite_case =
            |line: u32| limit_case("b", crate::scenario::Provenance::Inferred, line, 9);
        let out = flip_provenance(text, &suite_case(5)).unwrap();
        assert_eq!(
            out,
            "cases:\n  - id: a\n    kind: limit\n    provenance: documented\n  - id: b\n    provenance: recorded\n"
        );
        assert!(flip_provenance("cases: []\n", &suite_case(1)).is_none());
    }

    #[test]
    fn only_aws_answers_into_the_projects_own_snapshots_mark_scenarios() {
        let dir = std::env::temp_dir().join(format!("conform-record-{}", std::process::id()));
        let project = dir.join("project");
        let elsewhere = dir.join("out");
        std::fs::create_dir_all(project.join("snapshots")).unwrap();
        std::fs::create_dir_all(&elsewhere).unwrap();
        let rec = |target: &str, against_aws| Recording {
            target: target.into(),
            region: "us-east-1".into(),
            date: "2026-11-30".into(),
            account: "123456789012".into(),
            against_aws,
        };
        let aws = rec("aws", true);
        assert_eq!(
            aws.keeps_scenarios(&project, &project.join("snapshots")),
            None
        );
        // The same directory spelled another way is still the project's own.
        let dotted = project.join("snapshots/../snapshots");
        assert_eq!(aws.keeps_scenarios(&project, &dotted), None);
        let why = aws.keeps_scenarios(&project, &elsewhere).unwrap();
        assert!(why.contains("outside this project"), "{why}");
        let moto = rec("http://127.0.0.1:5000", false);
        let why = moto
            .keeps_scenarios(&project, &project.join("snapshots"))
            .unwrap();
        assert!(why.contains("is not AWS"), "{why}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
