//! The binary's rooms: one per command or concern, each printing what the library returns.

mod args;
mod corpus;
mod project;
mod record;
mod reports;
mod run;
mod serve;
mod signals;
mod terminal;

pub(crate) use args::*;
pub(crate) use corpus::*;
pub(crate) use project::*;
pub(crate) use record::*;
pub(crate) use reports::*;
pub(crate) use run::*;
pub(crate) use serve::*;
pub(crate) use signals::*;
