//! Rendering: pure functions from a catalog (and `now`) to bytes — feeds,
//! the page, JSON, the `list` table — in every language.

pub mod feed;
pub mod ical;
pub mod json;
pub mod links;
pub mod listing;
pub mod page;
