//! The model: what a validated deadline repository is, with no I/O and no
//! knowledge of files, HTTP, mail or the database; and (`mask`) what text
//! about a person may show.

pub mod alarm;
pub mod catalog;
pub mod deadline;
pub mod mask;
pub mod registry;
pub mod requirements;
pub mod schedule;
