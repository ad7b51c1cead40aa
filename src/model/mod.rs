//! The model: what a validated deadline repository is, with no I/O and no
//! knowledge of files, HTTP, mail or the database.

pub mod catalog;
pub mod deadline;
pub mod registry;
pub mod requirements;
pub mod schedule;
