//! Tools for the staff who keep the deadline repository: `import` (a table
//! of deadlines into deadline files).

pub mod import;
pub mod new;
pub mod toml_text;
