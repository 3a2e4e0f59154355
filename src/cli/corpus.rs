//! The corpus this binary carries: `conform export DIR`, and the project a run, `list` or
//! `serve` uses when the root holds no scenarios (unpacked once into the cache directory).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use conform::corpus::Corpus;

pub(crate) fn built_in() -> Corpus {
    Corpus::new(conform_corpus::ARCHIVE)
}

/// `conform export DIR`.
pub(crate) fn export(dir: &Path) -> anyhow::Result<ExitCode> {
    let n = built_in().export(dir)?;
    println!(
        "wrote {n} files of the corpus built into conform {} to {}; run it with `conform --root {} run`",
        env!("CARGO_PKG_VERSION"),
        dir.display(),
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Where the built-in corpus is unpacked and memos are kept: CONFORM_CACHE_DIR, else the user's cache directory
/// (XDG_CACHE_HOME, else ~/.cache) under `conform`. An emulator's recipe installs it beside
/// the corpus (`target/moto-venv`), so the install is done once per corpus, not per run.
pub(crate) fn cache_dir() -> PathBuf {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var("CONFORM_CACHE_DIR")
        .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("conform")))
        .or_else(|| var("HOME").map(|d| d.join(".cache").join("conform")))
        .unwrap_or_else(|| std::env::temp_dir().join("conform-cache"))
}

/// The built-in corpus, unpacked (once) into the cache directory; says so on stderr, since
/// the user's root holds none.
pub(crate) fn unpacked(root: &Path) -> anyhow::Result<PathBuf> {
    let dir = built_in().unpacked_in(&cache_dir())?;
    eprintln!(
        "note: {} holds no scenarios/: using the corpus built into conform {} (unpacked in {}; `conform export DIR` writes a copy to change)",
        root.display(),
        env!("CARGO_PKG_VERSION"),
        dir.display()
    );
    Ok(dir)
}
