//! conform's core: everything that turns text into text, with no network, no files, no
//! processes and no async runtime (clippy refuses file and process calls here, see
//! `clippy.toml`). Scenario files are checked against the [`model`] into cases, their
//! parameters go through the [`query`] serializer; answers are put in canonical
//! form by [`normalize`] (with [`xml`] and the [`redact`] rules), written and read as a
//! [`transcript`], compared with snapshots by [`deviation`], judged against a [`baseline`]
//! and kept as a [`report`] (rendered as JSON, JUnit, Markdown and [`html`]). The `conform`
//! crate reads the files, sends the requests and runs the cases.

pub mod baseline;
pub mod deviation;
pub mod diagnostic;
pub mod facts;
pub mod html;
pub mod http;
pub mod model;
pub mod normalize;
pub mod outcome;
pub mod query;
pub mod redact;
pub mod report;
pub mod run_error;
pub mod scenario;
pub mod secrets;
pub mod stand_in;
pub mod template;
pub mod text;
pub mod transcript;
pub mod xml;
