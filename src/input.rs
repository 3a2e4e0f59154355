//! Reading the project's input files into the core's types (which take text), and writing a
//! baseline back: the file system side of models, redaction rules, facts and baselines.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::baseline::{Baseline, BaselineError};
use crate::diagnostic::{Diagnostic, ReadError, span_at};
use crate::facts::Facts;
use crate::model::{Model, ModelError};
use crate::redact::{Rules, RulesError};

/// Reads an input file as UTF-8; the first invalid byte is reported at its line and column
/// (`shown` is the path as the user should see it).
pub fn read_text(path: &Path, shown: &Path) -> Result<String, ReadError> {
    let bytes = std::fs::read(path).map_err(ReadError::Io)?;
    crate::diagnostic::text_of(bytes, shown)
}

pub fn model(path: &Path) -> Result<Model, ModelError> {
    let text = std::fs::read_to_string(path).map_err(|source| ModelError::Read {
        path: path.to_owned(),
        source,
    })?;
    Model::from_json(&text, path)
}

/// Every model under `dir`, keyed by service name (`sts`, `iam`).
pub fn models(dir: &Path) -> Result<BTreeMap<String, Model>, ModelError> {
    models_of(dir, None)
}

/// The models under `dir` of the services in `wanted` (every one when `None`). A model is
/// skipped unparsed only when its text names another service as its endpoint prefix:
/// parsing IAM's 200 KB model is most of what a one-case STS run would otherwise spend.
pub fn models_of(
    dir: &Path,
    wanted: Option<&std::collections::BTreeSet<String>>,
) -> Result<BTreeMap<String, Model>, ModelError> {
    let entries = std::fs::read_dir(dir).map_err(|source| ModelError::Read {
        path: dir.to_owned(),
        source,
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| is_model_file(p))
        .collect();
    paths.sort();
    let mut out = BTreeMap::new();
    for p in paths {
        let text = std::fs::read_to_string(&p).map_err(|source| ModelError::Read {
            path: p.clone(),
            source,
        })?;
        if let (Some(wanted), Some(service)) = (wanted, endpoint_prefix(&text))
            && !wanted.contains(service)
        {
            continue;
        }
        let m = Model::from_json(&text, &p)?;
        out.insert(m.service.clone(), m);
    }
    Ok(out)
}

/// A service model's file: JSON, but not botocore's documented examples kept beside it
/// (`<service>-<version>.examples.json`), which share the extension and describe no service.
fn is_model_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.ends_with(".json") && !name.ends_with(".examples.json")
}

pub fn rules(path: &Path) -> Result<Rules, RulesError> {
    let text = std::fs::read_to_string(path).map_err(|source| RulesError::Read {
        path: path.display().to_string(),
        source,
    })?;
    Ok(Rules::parse(&text, &path.display().to_string())?)
}

pub fn facts(path: &Path, service: &str) -> Result<Facts, Vec<Diagnostic>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![Diagnostic::new(
            path,
            Arc::from(""),
            span_at("", 1, 1, 0),
            format!("cannot read the facts file: {e}"),
        )]
    })?;
    Facts::parse(&text, path, service)
}

/// A missing file is an empty baseline: a new target starts with one.
pub fn baseline(path: &Path) -> Result<Baseline, BaselineError> {
    if !path.exists() {
        return Ok(Baseline::default());
    }
    let text = std::fs::read_to_string(path).map_err(|source| BaselineError::Read {
        path: path.display().to_string(),
        source,
    })?;
    Baseline::parse(&text, &path.display().to_string())
}

/// Writes a baseline whole or not at all, creating its directory: a new target's first
/// baseline has nowhere to go yet.
pub fn save_baseline(baseline: &Baseline, path: &Path) -> std::io::Result<()> {
    write_whole(path, baseline.to_toml().as_bytes())
}

/// Writes a file whole or not at all: a temporary file beside it (named after it and this
/// process) renamed into place, its directory created first. An interrupted write leaves
/// the old file, never half of the new one, and no temporary file on a failed rename.
pub fn write_whole(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir)?;
    }
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let tmp = dir
        .unwrap_or(Path::new("."))
        .join(format!(".{name}.tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// The service a model's text names (`"endpointPrefix": "sts"`), found without parsing it;
/// `None` when it is not written plainly, and then the model is parsed to know.
fn endpoint_prefix(text: &str) -> Option<&str> {
    let (_, after) = text.split_once("\"endpointPrefix\"")?;
    let value = after
        .trim_start()
        .strip_prefix(':')?
        .trim_start()
        .strip_prefix('"')?;
    let (service, _) = value.split_once('"')?;
    (!service.contains('\\')).then_some(service)
}

#[cfg(test)]
mod tests {
    use super::{endpoint_prefix, models};

    #[test]
    fn a_models_service_is_read_from_its_text_or_left_to_the_parser() {
        assert_eq!(
            endpoint_prefix("{\"metadata\": {\"endpointPrefix\": \"iam\"}}"),
            Some("iam")
        );
        assert_eq!(
            endpoint_prefix("{\"metadata\":{\"endpointPrefix\":\"sts\","),
            Some("sts")
        );
        // Escaped, or not there: parse the model to know.
        assert_eq!(endpoint_prefix("{\"endpointPrefix\": \"s\\u0074s\"}"), None);
        assert_eq!(endpoint_prefix("{\"metadata\": {}}"), None);
    }

    #[test]
    fn documented_examples_beside_a_model_are_not_read_as_one() {
        let dir = tempfile::tempdir().unwrap();
        let model = r#"{"version":"2.0","metadata":{"apiVersion":"2020-01-01","endpointPrefix":"demo","protocol":"query","serviceId":"Demo","signatureVersion":"v4","uid":"demo-2020-01-01","xmlNamespace":"https://demo.example/doc/2020-01-01/"},"operations":{},"shapes":{}}"#;
        std::fs::write(dir.path().join("demo-2020-01-01.json"), model).unwrap();
        std::fs::write(
            dir.path().join("demo-2020-01-01.examples.json"),
            r#"{"version":"1.0","examples":{}}"#,
        )
        .unwrap();
        let read = models(dir.path()).unwrap();
        assert_eq!(read.keys().collect::<Vec<_>>(), ["demo"]);
        // Any other JSON file there is still taken for a model and refused as one.
        std::fs::write(dir.path().join("notes.json"), "{}").unwrap();
        assert!(models(dir.path()).is_err());
    }
}
