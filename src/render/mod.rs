//! Rendering: pure functions from a catalog (and `now`) to bytes — feeds,
//! the page, JSON, the `list` table, the sign-up and preference pages — in
//! every language.

pub mod feed;
pub(crate) mod ical;
pub mod json;
pub mod links;
pub(crate) mod listing;
pub(crate) mod page;
pub(crate) mod requirements;
pub(crate) mod signup;
mod style;

pub use signup::PRIVACY;
