//! Reading a project's input files into memory: the only part of loading a suite that
//! touches the disk. [`Suite::from_sources`](super::Suite::from_sources) builds from what
//! this reads.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Layout, Selection, SuiteError};
use crate::diagnostic::{Diagnostic, ReadError, span_at};
use crate::input::read_text;
use crate::model::Model;
use crate::redact::RulesError;
use crate::snapshot::SnapshotStore;

/// A project's inputs, read: models parsed, every other file as text.
#[derive(Debug)]
pub struct Sources {
    pub layout: Layout,
    pub models: BTreeMap<String, Model>,
    /// By service: `models/<service>.redact.yaml`, for the services that have one.
    pub rules: BTreeMap<String, Input>,
    /// By service: `models/<service>.facts.yaml`, for the services that have one; for a
    /// selection of cases, without the parts a run does not read (templates, validation
    /// format, distinct codes).
    pub facts: BTreeMap<String, Input>,
    /// By service: `scenarios/<service>/variables.yaml`, for the services that have one.
    pub variables: BTreeMap<String, Input>,
    /// By service: `models/<service>.replay.yaml`, for the services that have one.
    pub stand_ins: BTreeMap<String, Input>,
    /// By service: `models/<service>.resources.yaml`, for the services that have one.
    pub resources: BTreeMap<String, Input>,
    /// Every YAML file below `scenarios/` but the variables files, sorted by path; for a
    /// selection of cases, only the files in operation directories that may hold one.
    pub scenarios: Vec<ScenarioFile>,
    /// The cases asked for: the snapshots and scenario files read are theirs.
    pub selection: Selection,
    pub snapshots: SnapshotStore,
}

/// One input file: the path errors show it by, and its text, or why it has none usable
/// (not UTF-8, or unreadable where that is reported as a diagnostic).
#[derive(Debug)]
pub struct Input {
    pub shown: PathBuf,
    pub text: Result<String, Box<Diagnostic>>,
}

/// A scenario file and where it sits.
#[derive(Debug)]
pub struct ScenarioFile {
    /// Relative to the project root, `/`-separated: how errors, cases and reports name it.
    pub rel: String,
    pub place: Place,
    pub text: Result<String, Box<Diagnostic>>,
}

/// Where below `scenarios/` a file sits: only `<service>/<operation>/` holds cases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// Directly in `scenarios/`.
    Root,
    /// Directly in `scenarios/<service>/`.
    Service(String),
    /// In `scenarios/<service>/<operation>/`.
    Operation { service: String, operation: String },
}

impl Sources {
    /// Every input file of the project.
    pub fn read(layout: &Layout) -> Result<Sources, SuiteError> {
        Sources::read_selected(layout, Selection::all())
    }

    /// The project's inputs as far as the selected cases need them: every model and service
    /// file, but only the scenario files that may hold a selected case and the snapshots of
    /// selected names.
    pub fn read_selected(layout: &Layout, selection: Selection) -> Result<Sources, SuiteError> {
        // The snapshots (12 MB for the corpus) are read on a thread of their own while the
        // scenarios and models are read and parsed here.
        std::thread::scope(|scope| {
            let snapshots = scope.spawn(|| Sources::snapshots_of(layout, &selection));
            let sources = Sources::read_besides_snapshots(layout, &selection);
            let snapshots = snapshots
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p));
            let mut sources = sources?;
            sources.snapshots = snapshots?;
            Ok(sources)
        })
    }

    /// The snapshots of the selected cases (all of them listed, only theirs read).
    pub(super) fn snapshots_of(
        layout: &Layout,
        selection: &Selection,
    ) -> Result<SnapshotStore, crate::snapshot::SnapshotError> {
        SnapshotStore::load_where(
            &layout.snapshots,
            |dir| selection.may_hold_snapshots_in(dir),
            |rel| selection.wants_snapshot(rel),
            !selection.snapshots_on_disk,
        )
    }

    /// Everything but the snapshots, which are left empty.
    pub(super) fn read_besides_snapshots(
        layout: &Layout,
        selection: &Selection,
    ) -> Result<Sources, SuiteError> {
        let scenarios = scenario_files(&layout.scenarios, selection)?;
        let wanted = (!selection.is_all() || selection.named_models_only).then(|| {
            let mut named = services_named(&scenarios);
            named.extend(key_issuers(&layout.models, &scenarios));
            named
        });
        let models = crate::input::models_of(&layout.models, wanted.as_ref())?;
        let mut rules = BTreeMap::new();
        let mut facts = BTreeMap::new();
        let mut variables = BTreeMap::new();
        let mut stand_ins = BTreeMap::new();
        let mut resources = BTreeMap::new();
        // Files are shown from the project root, as cases name their files.
        let project = layout.scenarios.parent().unwrap_or(&layout.scenarios);
        let beside_models = layout.models.parent().unwrap_or(&layout.models);
        for service in models.keys() {
            let path = layout.models.join(format!("{service}.redact.yaml"));
            if path.exists() {
                let shown = path.strip_prefix(beside_models).unwrap_or(&path).to_owned();
                let text = text_of(&path, &shown, |source| {
                    let path = path.display().to_string();
                    RulesError::Read { path, source }.into()
                })?;
                rules.insert(service.clone(), Input { shown, text });
            }
            let path = layout.models.join(format!("{service}.facts.yaml"));
            if path.exists() {
                let shown = path.strip_prefix(beside_models).unwrap_or(&path).to_owned();
                let text = match read_text(&path, &shown) {
                    Ok(t) => Ok(t),
                    Err(ReadError::NotUtf8(d)) => Err(d),
                    // Said like a mistake in the file, as the facts' other problems are.
                    Err(ReadError::Io(e)) => Err(Box::new(Diagnostic::new(
                        &shown,
                        Arc::from(""),
                        span_at("", 1, 1, 0),
                        format!("cannot read the facts file: {e}"),
                    ))),
                };
                // A run reads only the orders (and the recordings they cite): the templates
                // and the validation format were a fifth of a one-case run.
                let text = text.map(|t| {
                    if selection.is_all() {
                        return t;
                    }
                    let unread = ["validation", "templates", "distinct_codes"];
                    super::narrow::without_sections(&t, &unread).unwrap_or(t)
                });
                facts.insert(service.clone(), Input { shown, text });
            }
            let path = layout.scenarios.join(service).join("variables.yaml");
            if path.exists() {
                let shown = path.strip_prefix(project).unwrap_or(&path).to_owned();
                let text = text_of(&path, &shown, |source| SuiteError::Io {
                    path: path.clone(),
                    source,
                })?;
                variables.insert(service.clone(), Input { shown, text });
            }
            for (kind, files) in [("replay", &mut stand_ins), ("resources", &mut resources)] {
                let path = layout.models.join(format!("{service}.{kind}.yaml"));
                if path.exists() {
                    let shown = path.strip_prefix(beside_models).unwrap_or(&path).to_owned();
                    let text = text_of(&path, &shown, |source| SuiteError::Io {
                        path: path.clone(),
                        source,
                    })?;
                    files.insert(service.clone(), Input { shown, text });
                }
            }
        }
        Ok(Sources {
            layout: layout.clone(),
            scenarios,
            snapshots: SnapshotStore::default(),
            selection: selection.clone(),
            models,
            rules,
            facts,
            variables,
            stand_ins,
            resources,
        })
    }
}

/// The file's text, or the diagnostic saying where it stops being UTF-8; `io` makes the
/// error that stops loading when the file cannot be read at all.
fn text_of(
    path: &Path,
    shown: &Path,
    io: impl FnOnce(std::io::Error) -> SuiteError,
) -> Result<Result<String, Box<Diagnostic>>, SuiteError> {
    match read_text(path, shown) {
        Ok(text) => Ok(Ok(text)),
        Err(ReadError::NotUtf8(d)) => Ok(Err(d)),
        Err(ReadError::Io(e)) => Err(io(e)),
    }
}

/// Every YAML file below `root` but the variables files, in the order of their paths. With
/// filters, a file that cannot hold a selected case is left out, and so is one in the wrong
/// place (it holds no case at all).
/// The services the given scenario files may use: each file's own (`scenarios/<service>/...`)
/// and every one a step names (`service: iam`), read from the text so that a filtered run
/// parses no model it does not need. Anything after `service:` counts, even in a message:
/// naming one model too many costs a parse, one too few would fail the run.
fn services_named(files: &[ScenarioFile]) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    for f in files {
        if let Some(service) = f.rel.split('/').nth(1) {
            out.insert(service.to_owned());
        }
        if let Ok(text) = &f.text {
            for (_, after) in text
                .match_indices("service:")
                .map(|(i, m)| text.split_at(i + m.len()))
            {
                let name: String = after
                    .trim_start()
                    .trim_start_matches(['\'', '"'])
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                    .collect();
                out.insert(name);
            }
        }
    }
    out
}

/// The services whose replay files say which keys they hand out (`sessions:`), when a file
/// signs a step with explicit keys: only those services' data tells the replay server that
/// keys a setup step got (an SNS case signing with an IAM user's new key) are handed out.
fn key_issuers(models: &Path, files: &[ScenarioFile]) -> Vec<String> {
    let signs_with_keys = files
        .iter()
        .any(|f| f.text.as_ref().is_ok_and(|t| t.contains("access_key_id")));
    if !signs_with_keys {
        return Vec::new();
    }
    let Ok(dir) = std::fs::read_dir(models) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in dir.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(service) = name.strip_suffix(".replay.yaml") else {
            continue;
        };
        // A file that cannot be read here is read (and its error shown) with the rest.
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        if text.lines().any(|l| l.starts_with("sessions:")) {
            out.push(service.to_owned());
        }
    }
    out
}

fn scenario_files(root: &Path, selection: &Selection) -> Result<Vec<ScenarioFile>, SuiteError> {
    let mut out = Vec::new();
    if !root.exists() {
        return Ok(out);
    }
    let project = root.parent().unwrap_or(root);
    let rel = |p: &Path| {
        let r = p.strip_prefix(project).unwrap_or(p);
        r.display().to_string().replace('\\', "/")
    };
    // A file in the wrong place is reported as such; its text only shows where it starts.
    let misplaced = |p: &Path, place: Place| ScenarioFile {
        rel: rel(p),
        place,
        text: Ok(std::fs::read_to_string(p).unwrap_or_default()),
    };
    for service_dir in read_dir_sorted(root)? {
        if !service_dir.is_dir() {
            if is_yaml(&service_dir) && selection.is_all() {
                out.push(misplaced(&service_dir, Place::Root));
            }
            continue;
        }
        let service = file_name(&service_dir);
        // Exact filters name their directories: the others' files are not even read.
        if !selection.may_hold_in(&service, None) {
            continue;
        }
        for op_dir in read_dir_sorted(&service_dir)? {
            if op_dir.is_dir() {
                let operation = file_name(&op_dir);
                if !selection.may_hold_in(&service, Some(&operation)) {
                    continue;
                }
                let may_hold = |text: &str| selection.may_hold(&service, &operation, text);
                for file in read_dir_sorted(&op_dir)?.into_iter().filter(|p| is_yaml(p)) {
                    let shown = rel(&file);
                    let text = text_of(&file, Path::new(&shown), |source| SuiteError::Io {
                        path: file.clone(),
                        source,
                    })?;
                    // An unreadable text is kept: it may hold a selected case.
                    if text.as_deref().is_ok_and(|t| !may_hold(t)) {
                        continue;
                    }
                    let text = text.map(|t| {
                        super::narrow::narrowed(selection, &service, &operation, &t).unwrap_or(t)
                    });
                    let place = Place::Operation {
                        service: service.clone(),
                        operation: operation.clone(),
                    };
                    out.push(ScenarioFile {
                        rel: shown,
                        place,
                        text,
                    });
                }
            } else if is_yaml(&op_dir)
                && file_name(&op_dir) != "variables.yaml"
                && selection.is_all()
            {
                out.push(misplaced(&op_dir, Place::Service(service.clone())));
            }
        }
    }
    Ok(out)
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("")
        .to_owned()
}

fn read_dir_sorted(dir: &Path) -> Result<Vec<PathBuf>, SuiteError> {
    let rd = std::fs::read_dir(dir).map_err(|source| SuiteError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let mut v: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    v.sort();
    Ok(v)
}

fn is_yaml(p: &Path) -> bool {
    p.extension().is_some_and(|e| e == "yaml" || e == "yml")
}
