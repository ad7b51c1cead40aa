//! The process's exit codes: a leaf module, so that every layer can say
//! which one its failure means without depending on the command line.

/// How a `mechcal` command ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Success.
    Ok = 0,
    /// The data is invalid (`check` found errors), a reminder could not be
    /// sent, or the daemon stopped on a runtime failure.
    Invalid = 1,
    /// Usage or config error: bad arguments, an unreadable config, a
    /// missing directory.
    Usage = 2,
}

impl Exit {
    pub fn code(self) -> i32 {
        self as i32
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        std::process::ExitCode::from(e as u8)
    }
}
