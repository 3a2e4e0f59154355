//! conform: a record/replay conformance harness for AWS XML APIs.
//!
//! This crate is the part that touches the world: it reads a project's files ([`input`],
//! [`suite`], [`snapshot`]), sends requests ([`transport`]) to a [`target`], runs cases
//! ([`runner`], started from a [`plan`]), serves recorded answers ([`replay`]), records and
//! cleans up. What turns text into text (models, scenarios, serializing, normalizing,
//! comparing, reports) is `conform-core`, re-exported here under its usual module names. The
//! library prints nothing: the `conform` binary (`src/main.rs`, `src/cli/`) and the test
//! harness present what it returns.

pub mod answers;
pub mod call;
pub mod check;
pub mod cleanup;
pub mod consistency;
pub mod corpus;
pub mod coverage;
pub mod credentials;
pub mod emulator;
pub mod fingerprint;
pub mod generate;
pub mod input;
pub mod memo;
pub mod plan;
pub mod record;
pub mod record_mode;
pub mod replay;
pub mod resources;
pub mod runner;
pub mod sign;
pub mod snapshot;
pub mod suite;
pub mod target;
pub mod targets;
pub mod transport;
pub mod validation;

// The core's modules, under the names the runner and its users have always used.
pub use conform_core::{
    baseline, deviation, diagnostic, facts, html, http, model, normalize, outcome, query, redact,
    report, run_error, scenario, secrets, stand_in, template, text, transcript, xml,
};
