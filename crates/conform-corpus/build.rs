//! Packs the project's corpus into `OUT_DIR/corpus.tar.gz`. The same files in the same order
//! with the same headers every time, so an unchanged corpus gives the same archive.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Directories carried whole.
const DIRS: [&str; 4] = ["scenarios", "snapshots", "models", "baselines"];
/// Single files: the targets file, and the install scripts its start recipes run (a test
/// checks that every script the recipes name is in the archive).
const FILES: [&str; 3] = [
    "conform.toml",
    "scripts/moto-venv.sh",
    "scripts/localstack-venv.sh",
];

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files: Vec<PathBuf> = FILES.iter().map(PathBuf::from).collect();
    for dir in DIRS {
        println!("cargo:rerun-if-changed={}", root.join(dir).display());
        walk(&root, Path::new(dir), &mut files);
    }
    for f in FILES {
        println!("cargo:rerun-if-changed={}", root.join(f).display());
    }
    files.sort();

    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let archive = File::create(out.join("corpus.tar.gz")).expect("cannot create the archive");
    let gz = flate2::write::GzEncoder::new(archive, flate2::Compression::best());
    let mut tar = tar::Builder::new(gz);
    for rel in &files {
        let path = root.join(rel);
        let bytes =
            std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(if executable(&path) { 0o755 } else { 0o644 });
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        header.set_entry_type(tar::EntryType::Regular);
        let name = rel.to_str().expect("corpus paths are UTF-8");
        tar.append_data(&mut header, name, bytes.as_slice())
            .unwrap_or_else(|e| panic!("cannot archive {name}: {e}"));
    }
    tar.into_inner()
        .and_then(|gz| gz.finish())
        .and_then(|mut f| f.flush())
        .expect("cannot finish the archive");
}

/// Every file under `dir`, skipping what is no part of the corpus: hidden files and the
/// candidates insta and conform leave for review.
fn walk(root: &Path, dir: &Path, files: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(root.join(dir))
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", root.join(dir).display()));
    for entry in entries {
        let entry = entry.expect("cannot list a corpus directory");
        let name = entry.file_name();
        let name = name.to_str().expect("corpus paths are UTF-8");
        if name.starts_with('.') || name.ends_with(".snap.new") || name.ends_with(".pending-snap") {
            continue;
        }
        let rel = dir.join(name);
        if entry
            .file_type()
            .expect("cannot stat a corpus file")
            .is_dir()
        {
            walk(root, &rel, files);
        } else {
            files.push(rel);
        }
    }
}

#[cfg(unix)]
fn executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn executable(_path: &Path) -> bool {
    false
}
