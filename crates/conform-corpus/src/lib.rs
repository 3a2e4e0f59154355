//! The corpus conform was built with (scenarios, snapshots, models, baselines, the targets file
//! and the install scripts its recipes name), as one gzipped tar archive made by `build.rs`.
//!
//! Data only: the `conform` binary hands these bytes to the library's `corpus` module, which
//! unpacks them. A crate of its own, depended on by the binary alone, so that editing a
//! snapshot rebuilds this archive and relinks the binary without recompiling the library and
//! everything that depends on it.

/// The archive: a tar stream of the files under their paths relative to the project root,
/// sorted, with fixed times and owners, gzipped.
pub static ARCHIVE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/corpus.tar.gz"));
