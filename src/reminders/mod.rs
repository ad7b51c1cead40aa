//! E-mail reminders. `plan` decides, as a pure function of the catalog, the
//! subscribers, the ledger and `now`, what each subscriber is to be sent.
//! Delivery and the ledger's storage build on it.

pub mod plan;
