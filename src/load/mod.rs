//! Loading and validation: staff's files (the deadline repository, the
//! registry, the config, the subscribers file) in; validated values or
//! `path:line:column` diagnostics out.

pub mod config;
pub mod country;
pub mod deadlines;
pub mod diagnostic;
pub mod registry;
pub mod subscribers;
pub mod suggest;
pub mod tables;
pub(crate) mod text;
pub mod values;
pub mod zone;
