//! The integration tests, as one test binary. Each module below is one area's tests; they share
//! `common` (run the built binary, make throwaway projects), `live` (the drill services) and
//! `dns_lab` (the in-process authoritative DNS servers).
//!
//! One binary rather than one per file: each test binary links all of gonogo and its dependencies
//! (~60 MB each), and twenty-five of them filled a CI machine's disk. Run one area with
//! `cargo test --test suite formats::`, one test with `cargo test --test suite json_report`.

mod common;
mod dns_lab;
mod live;

mod calibrate;
mod cli;
mod compat_avro;
mod compat_cli;
mod compat_corpus;
mod compat_data_layers;
mod compat_database;
mod compat_proto;
mod compat_rules;
mod config_errors;
mod config_schema;
mod dns;
mod first_five_minutes;
mod formats;
mod fuzz;
mod grace_drill;
mod grace_servers;
mod init_sets;
mod k8s_blue_green;
mod k8s_cli;
mod k8s_config_changes;
mod k8s_corpus;
mod k8s_corpus_readiness;
mod k8s_grace_rules;
mod k8s_readiness_rules;
mod k8s_rollback_rules;
mod k8s_rollout_rules;
mod limits;
mod migration_facts;
mod migration_sets;
mod migrations_cli;
mod migrations_corpus;
mod migrations_live;
mod migrations_mysql;
mod migrations_pg_locks;
mod migrations_rules;
mod pg_judge;
mod plugins;
mod process_faults;
mod readiness_live;
mod readiness_servers;
mod registry;
mod rollback_database;
mod rule_fixtures;
mod secrets;
mod trace_isolation;
