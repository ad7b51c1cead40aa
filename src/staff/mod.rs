//! Tools for the staff who keep the deadline repository: `import` (a table
//! of deadlines into deadline files), `new` (one deadline), `diff` (what a
//! change does for subscribers).

pub mod diff;
pub mod import;
pub mod new;
pub mod toml_text;
