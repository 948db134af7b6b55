//! gonogo: go or no-go before a deploy. The binary (`main.rs`) is a thin layer over this library:
//! arguments → config → context → run → render → exit code.

pub mod checks;
pub mod cli;
pub mod code;
pub mod commands;
pub mod config;
pub mod context;
pub mod date;
pub mod git;
pub mod init;
pub mod k8s;
pub mod live;
pub mod percent;
pub mod plugins;
pub mod report;
pub mod runner;
pub mod secrets;
pub mod shutdown;
pub mod sql;
pub mod waivers;
pub mod yaml;
