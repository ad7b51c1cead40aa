//! Every key the config accepts, by section: the parser checks tables
//! against these, and `KEYS` lets tests compare them with the book's
//! configuration reference.

/// The top level's sections.
pub const SECTIONS: &[&str] = &[
    "calendar",
    "data",
    "state",
    "server",
    "reminders",
    "subscriptions",
    "mail",
    "alerts",
    "watch",
];

/// `[data]`.
pub const DATA: &[&str] = &["deadlines", "max_bytes", "git"];

/// `[state]`.
pub const STATE: &[&str] = &["path", "key_file", "url", "password_file", "lease_seconds"];

/// `[server]`.
pub const SERVER: &[&str] = &[
    "listen",
    "header_timeout_seconds",
    "write_timeout_seconds",
    "max_connections",
    "max_connections_per_client",
    "cache_mib",
    "health_details",
    "metrics",
];

/// `[alerts]`.
pub const ALERTS: &[&str] = &["staff"];

/// `[calendar]`.
pub const CALENDAR: &[&str] = &[
    "name",
    "domain",
    "timezone",
    "base_url",
    "keep_past_days",
    "horizon_days",
    "refresh",
    "alarm",
];

/// `[data.git]`.
pub const DATA_GIT: &[&str] = &["remote", "branch", "interval"];

/// `[reminders]`.
pub const REMINDERS: &[&str] = &[
    "subscribers",
    "remind_days",
    "schedule",
    "timezone",
    "secret_file",
];

/// `[subscriptions]`.
pub const SUBSCRIPTIONS: &[&str] = &[
    "open",
    "approval",
    "confirm_hours",
    "per_client_per_hour",
    "trusted_proxies",
    "contact",
];

/// `[mail]`.
pub const MAIL: &[&str] = &[
    "from",
    "subject_prefix",
    "transport",
    "maildir",
    "host",
    "port",
    "tls",
    "username",
    "password_env",
    "password_file",
    "timeout_seconds",
    "max_attempts",
    "retry_seconds",
    "dkim",
];

/// `[mail.dkim]`.
pub const MAIL_DKIM: &[&str] = &["domain", "selector", "key_file"];

/// `[watch]`.
pub const WATCH: &[&str] = &[
    "enabled",
    "interval",
    "timeout",
    "max_body_kib",
    "host_delay",
    "hosts_at_once",
    "failures",
    "contact",
    "proxy",
    "allow_private",
];

/// Each section (`""` for the top level; `"data.git"` for `[data.git]`)
/// with the keys it accepts. A key that is itself a section (`git`,
/// `dkim`) is listed in both places.
pub const KEYS: &[(&str, &[&str])] = &[
    ("", SECTIONS),
    ("data", DATA),
    ("state", STATE),
    ("server", SERVER),
    ("alerts", ALERTS),
    ("calendar", CALENDAR),
    ("data.git", DATA_GIT),
    ("reminders", REMINDERS),
    ("subscriptions", SUBSCRIPTIONS),
    ("mail", MAIL),
    ("mail.dkim", MAIL_DKIM),
    ("watch", WATCH),
];
