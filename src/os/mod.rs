//! The operating system's edges used by several layers: systemd
//! credentials, files of personal data, the allocator.

pub mod allocator;
pub(crate) mod credentials;
pub(crate) mod private;
