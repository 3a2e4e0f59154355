//! conform: a record/replay conformance harness for AWS XML APIs.
//!
//! The pipeline, one module per arrow: [`scenario`] files are checked against the
//! [`model`], their parameters go through the [`query`] serializer, [`sign`] and
//! [`transport`]; answers are put in canonical form by [`normalize`] (with [`xml`] and the
//! [`redact`] rules) and compared with [`snapshot`]s by the [`runner`]. The library prints
//! nothing: the `conform` binary and the test harness present what it returns.

pub mod baseline;
pub mod call;
pub mod check;
pub mod cleanup;
pub mod consistency;
pub mod coverage;
pub mod credentials;
pub mod deviation;
pub mod diagnostic;
pub mod emulator;
pub mod facts;
pub mod html;
pub mod http;
pub mod model;
pub mod normalize;
pub mod outcome;
pub mod plan;
pub mod query;
pub mod record;
pub mod record_mode;
pub mod redact;
pub mod replay;
pub mod report;
pub mod resources;
pub mod run_error;
pub mod runner;
pub mod scenario;
pub mod secrets;
pub mod sign;
pub mod snapshot;
pub mod stand_in;
pub mod suite;
pub mod target;
pub mod targets;
pub mod template;
pub mod text;
pub mod transcript;
pub mod transport;
pub mod xml;
