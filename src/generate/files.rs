//! Generated files against the disk: which differ from what generating yields now, which
//! are left over, and writing them (each atomically, so an interrupted run leaves no half
//! file).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::{FILE_NAME, GenerateError, Generated, Output, is_generated};
use crate::suite::Suite;

/// What bringing the disk up to date takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A file missing or holding other text.
    Write(Output),
    /// A generated file (a scenario file or a generated case's snapshot) that generating no
    /// longer yields, and its service.
    Remove(PathBuf, String),
}

impl Change {
    pub fn path(&self) -> &Path {
        match self {
            Change::Write(o) => &o.path,
            Change::Remove(p, _) => p,
        }
    }

    /// The service the file is generated for.
    pub fn service(&self) -> &str {
        match self {
            Change::Write(o) => &o.service,
            Change::Remove(_, s) => s,
        }
    }
}

/// Whether the file at `path` holds exactly `text` (false when it cannot be read).
pub(super) fn holds(path: &Path, text: &str) -> bool {
    std::fs::read(path).is_ok_and(|bytes| bytes == text.as_bytes())
}

/// The changes that would make the disk hold exactly what `generated` yields.
pub fn changes(suite: &Suite, generated: &Generated) -> Result<Vec<Change>, GenerateError> {
    let mut out = Vec::new();
    for o in &generated.outputs {
        match std::fs::read(&o.path) {
            Ok(bytes) if bytes == o.text.as_bytes() => {}
            Ok(_) => out.push(Change::Write(o.clone())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                out.push(Change::Write(o.clone()));
            }
            Err(source) => {
                return Err(GenerateError::Io {
                    path: o.path.clone(),
                    source,
                });
            }
        }
    }
    let yielded: BTreeSet<&Path> = generated.outputs.iter().map(|o| o.path.as_path()).collect();
    for service in &generated.services {
        let mut left: Vec<PathBuf> = generated_files(&suite.layout.scenarios.join(service))?;
        left.extend(
            suite
                .cases
                .iter()
                .filter(|c| c.service == *service && is_generated(c))
                .map(|c| suite.snapshots.path_of(c))
                .filter(|p| p.exists()),
        );
        out.extend(
            left.into_iter()
                .filter(|p| !yielded.contains(p.as_path()))
                .map(|p| Change::Remove(p, service.clone())),
        );
    }
    out.sort_by(|a, b| a.path().cmp(b.path()));
    out.dedup();
    Ok(out)
}

/// The generated scenario files in a service's operation directories.
fn generated_files(service_dir: &Path) -> Result<Vec<PathBuf>, GenerateError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| GenerateError::Io { path, source }
    };
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(service_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(io(service_dir)(e)),
    };
    for entry in entries {
        let entry = entry.map_err(io(service_dir))?;
        let file = entry.path().join(FILE_NAME);
        if entry.path().is_dir() && file.is_file() {
            out.push(file);
        }
    }
    Ok(out)
}

/// Applies the changes, each file written whole or not at all.
pub fn write(changes: &[Change]) -> Result<(), GenerateError> {
    for change in changes {
        let path = change.path();
        let io = |source| GenerateError::Io {
            path: path.to_owned(),
            source,
        };
        match change {
            Change::Remove(p, _) => std::fs::remove_file(p).map_err(io)?,
            Change::Write(o) => crate::input::write_whole(path, o.text.as_bytes()).map_err(io)?,
        }
    }
    Ok(())
}
