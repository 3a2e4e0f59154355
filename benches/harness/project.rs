//! The bench's projects: N single-step cases in three shapes, every request distinct (as in a
//! real corpus), with snapshots recorded against the canned endpoint by the binary itself.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::child;

/// A generated project in a temporary directory (removed when dropped).
pub struct Project {
    _dir: tempfile::TempDir,
    pub root: PathBuf,
    pub cases: usize,
}

/// Shapes, one file each: the documented AssumeRole example (an answer with credentials), an
/// AssumeRole the model refuses (a validation error), and GetSessionToken (credentials again).
const PER_FILE: usize = 100;

const SHAPES: [(&str, &str); 3] = [
    ("AssumeRole", "example"),
    ("AssumeRole", "refused"),
    ("GetSessionToken", "tokens"),
];

fn steps(shape: usize, i: usize) -> String {
    match shape {
        0 => format!(
            "      - operation: AssumeRole\n        params:\n          ExternalId: 123ABC\n          Policy: '{{\"Version\":\"2012-10-17\",\"Statement\":[{{\"Sid\":\"Stmt1\",\"Effect\":\"Allow\",\"Action\":\"s3:ListAllMyBuckets\",\"Resource\":\"*\"}}]}}'\n          RoleArn: '{{{{role_arn}}}}'\n          RoleSessionName: bench-{i}\n          Tags:\n            - {{Key: Project, Value: Unicorn}}\n            - {{Key: Team, Value: Automation}}\n            - {{Key: Cost-Center, Value: '12345'}}\n          TransitiveTagKeys: [Project, Cost-Center]\n"
        ),
        1 => format!(
            "      - operation: AssumeRole\n        params: {{RoleArn: '{{{{role_arn}}}}', RoleSessionName: b{i}, DurationSeconds: 10}}\n"
        ),
        _ => format!(
            "      - operation: GetSessionToken\n        params: {{DurationSeconds: {}}}\n",
            900 + i
        ),
    }
}

/// Projects are named after the bench's process, so that the next run can tell the ones an
/// interrupted run left behind (its process gone) and remove them.
const PREFIX: &str = "conform-bench-";

/// Removes the projects of bench runs that ended without removing them (interrupted).
pub fn sweep_leftovers() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split('-').next())
        else {
            continue;
        };
        let alive = pid
            .parse::<u32>()
            .is_ok_and(|p| p == std::process::id() || Path::new(&format!("/proc/{p}")).exists());
        if !alive {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Writes the project's scenarios beside a copy of the repository's models.
pub fn generate(cases: usize) -> Project {
    let (dir, root) =
        crate::common::project_named(&format!("{PREFIX}{}-", std::process::id()), &[]);
    // Files of at most 100 cases, as a corpus keeps them (its largest holds about 80).
    for (shape, (op, name)) in SHAPES.iter().enumerate() {
        let ids: Vec<usize> = (0..cases).filter(|i| i % SHAPES.len() == shape).collect();
        for (k, chunk) in ids.chunks(PER_FILE).enumerate() {
            let mut yaml = String::from("cases:\n");
            for &i in chunk {
                write!(
                    yaml,
                    "  - id: bench_{i:05}\n    kind: limit\n    provenance: inferred\n    source: the bench's canned endpoint\n    description: benchmark case {i}\n    steps:\n{}",
                    steps(shape, i)
                )
                .unwrap();
            }
            let file = root.join(format!("scenarios/sts/{op}/bench_{name}_{k:03}.yaml"));
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(file, yaml).unwrap();
        }
    }
    Project {
        _dir: dir,
        root,
        cases,
    }
}

impl Project {
    /// Records every case's snapshot against `endpoint` with the binary (a run writes what is
    /// missing as `.snap.new`, accepted here), then checks that a second run passes them all.
    pub fn record(&self, endpoint: &str) {
        let ran = child::run(
            Command::new(conform())
                .arg("run")
                .arg("--root")
                .arg(&self.root)
                .args(["--endpoint", endpoint])
                .env_remove("CI"),
        );
        let mut accepted = 0;
        for file in walk(&self.root.join("snapshots")) {
            if file.extension().is_some_and(|e| e == "new") {
                std::fs::rename(&file, file.with_extension("")).unwrap();
                accepted += 1;
            }
        }
        if accepted != self.cases {
            child::fail(
                &format!("recording {} cases wrote {accepted} snapshots", self.cases),
                &ran,
            );
        }
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

pub fn repo() -> &'static Path {
    crate::common::repo()
}

/// The binary `cargo bench` built beside the bench, with the same profile.
pub fn conform() -> &'static str {
    env!("CARGO_BIN_EXE_conform")
}
