//! The operating system's edges used by several layers: systemd
//! credentials and files of personal data.

pub mod credentials;
pub mod private;
