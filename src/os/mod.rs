//! The operating system's edges used by several layers: systemd
//! credentials and files of personal data.

pub(crate) mod credentials;
pub(crate) mod private;
