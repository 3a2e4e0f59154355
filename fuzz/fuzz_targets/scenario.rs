//! The scenario loader: one file's text through the same parsing and model validation that
//! `conform check` runs, against the repository's models, and every error it reports
//! rendered as a user would see it.
//!
//! Input: the first line names the operation (the directory a scenario file sits in; an
//! unknown name means GetCallerIdentity), the rest is the file.
#![no_main]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::LazyLock;

use conform::model::{self, Model};
use libfuzzer_sys::fuzz_target;

static MODELS: LazyLock<BTreeMap<String, Model>> = LazyLock::new(|| {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models");
    conform::input::models(&dir).expect("the repository's models load")
});

static RULES: LazyLock<conform::redact::Rules> = LazyLock::new(|| {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/sts.redact.yaml");
    conform::input::rules(&path).expect("the repository's redaction rules load")
});

fuzz_target!(|data: &[u8]| {
    // Files are read as UTF-8 before they reach the loader.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (first, file) = text.split_once('\n').unwrap_or(("", text));
    let sts = &MODELS["sts"];
    let operation = match sts.operation(first.trim()) {
        Some(_) => first.trim(),
        None => "GetCallerIdentity",
    };
    let rel = format!("scenarios/sts/{operation}/fuzz.yaml");
    match conform::scenario::parse_file(&rel, file, &MODELS, &RULES, "sts", operation) {
        Ok(cases) => {
            for case in &cases {
                let _ = case.test_name();
            }
        }
        Err(errors) => {
            assert!(!errors.is_empty(), "a failed load names at least one error");
            for e in &errors {
                let _ = e.render();
            }
        }
    }
});
