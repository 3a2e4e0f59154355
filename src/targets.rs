//! The targets file (`conform.toml`): each named target's endpoint, region, variables and
//! baseline, so `conform run --target moto` needs no flags to remember.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum TargetsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: no target named `{name}`; the file names: {known}")]
    Unknown {
        path: PathBuf,
        name: String,
        known: String,
    },
    #[error(
        "{path}: target `{name}` is AWS and names a baseline; a run against AWS never uses one (remove `baseline`)"
    )]
    AwsBaseline { path: PathBuf, name: String },
}

/// One target as the file describes it. No endpoint means the built-in replay server.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TargetSpec {
    pub endpoint: Option<String>,
    pub region: Option<String>,
    /// Relative to the file's directory.
    pub baseline: Option<PathBuf>,
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    targets: BTreeMap<String, TargetSpec>,
}

#[derive(Debug)]
pub struct Targets {
    path: PathBuf,
    targets: BTreeMap<String, TargetSpec>,
}

impl Targets {
    pub fn load(path: &Path) -> Result<Self, TargetsError> {
        let text = std::fs::read_to_string(path).map_err(|source| TargetsError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Self, TargetsError> {
        // toml's message carries the line, the column and the offending snippet.
        let file: File = toml::from_str(text).map_err(|e| TargetsError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        let dir = path.parent().unwrap_or(Path::new(""));
        let mut targets = file.targets;
        for (name, spec) in &mut targets {
            if spec.baseline.is_some()
                && spec
                    .endpoint
                    .as_deref()
                    .is_some_and(|e| e.contains("amazonaws.com"))
            {
                return Err(TargetsError::AwsBaseline {
                    path: path.to_owned(),
                    name: name.clone(),
                });
            }
            if let Some(b) = &spec.baseline {
                spec.baseline = Some(dir.join(b));
            }
        }
        Ok(Self {
            path: path.to_owned(),
            targets,
        })
    }

    pub fn get(&self, name: &str) -> Result<&TargetSpec, TargetsError> {
        self.targets.get(name).ok_or_else(|| TargetsError::Unknown {
            path: self.path.clone(),
            name: name.to_owned(),
            known: self.targets.keys().cloned().collect::<Vec<_>>().join(", "),
        })
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.targets.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
[targets.replay]

[targets.moto]
endpoint = "http://127.0.0.1:5000"
baseline = "baselines/moto.toml"
vars = { caller_arn = "arn:aws:sts::123456789012:user/moto" }
"#;

    #[test]
    fn resolves_baselines_next_to_the_file() {
        let t = Targets::parse(Path::new("/repo/conform.toml"), FILE).unwrap();
        let moto = t.get("moto").unwrap();
        assert_eq!(
            moto.baseline.as_deref(),
            Some(Path::new("/repo/baselines/moto.toml"))
        );
        assert_eq!(
            moto.vars["caller_arn"],
            "arn:aws:sts::123456789012:user/moto"
        );
        assert_eq!(t.get("replay").unwrap().endpoint, None);
        assert_eq!(t.names().collect::<Vec<_>>(), ["moto", "replay"]);
    }

    #[test]
    fn an_unknown_target_lists_the_known_ones() {
        let t = Targets::parse(Path::new("conform.toml"), FILE).unwrap();
        let e = t.get("localstak").unwrap_err().to_string();
        assert!(e.contains("no target named `localstak`"), "{e}");
        assert!(e.contains("moto, replay"), "{e}");
    }

    #[test]
    fn a_typo_names_line_and_column() {
        let e = Targets::parse(
            Path::new("conform.toml"),
            "[targets.moto]\nendpont = \"http://x\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("conform.toml: "), "{e}");
        assert!(e.contains("line 2, column 1"), "{e}");
        assert!(e.contains("endpont"), "{e}");
    }

    #[test]
    fn aws_targets_refuse_a_baseline() {
        let e = Targets::parse(
            Path::new("conform.toml"),
            "[targets.aws]\nendpoint = \"https://sts.amazonaws.com\"\nbaseline = \"b.toml\"\n",
        )
        .unwrap_err();
        assert!(matches!(e, TargetsError::AwsBaseline { .. }), "{e}");
    }
}
