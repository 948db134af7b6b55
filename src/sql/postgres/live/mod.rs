//! A live PostgreSQL for the checks that need one: connections ([`connect`]: URLs, TLS as libpq
//! reads `sslmode`, timeouts, the proof that two URLs are not the same database, errors without
//! passwords) and the rules for running a migration's statements on a scratch database in a
//! transaction that is always rolled back ([`safety`]). Used by `migrations` (statistics, the
//! trace of real locks) and `rollback` (the drill of ups and downs); what each one measures stays
//! in its check.

pub mod catalog;
pub mod connect;
pub mod safety;
