//! systemd credentials (`LoadCredential=`): under the shipped unit, the SMTP
//! password and the unsubscribe secret are copied by systemd into a private
//! directory named by `CREDENTIALS_DIRECTORY`, readable by the service
//! alone. A credential found there takes precedence over the file the config
//! names (the unit loads it from that very file, which the service itself
//! cannot read under its sandbox).

use std::path::PathBuf;

/// The credential holding the SMTP password.
pub const SMTP_PASSWORD: &str = "smtp-password";
/// The credential holding the unsubscribe secret.
pub const UNSUBSCRIBE_SECRET: &str = "unsubscribe-secret";
/// The credential holding the DKIM signing key.
pub const DKIM_KEY: &str = "dkim-key";
/// The credential holding the address key.
pub const ADDRESS_KEY: &str = "address-key";
/// The credential holding PostgreSQL's password (`[state] url`).
pub const STATE_PASSWORD: &str = "state-password";

/// The path of credential `name`, when systemd passed one by that name.
pub fn path(name: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("CREDENTIALS_DIRECTORY")?;
    let path = PathBuf::from(dir).join(name);
    path.is_file().then_some(path)
}
