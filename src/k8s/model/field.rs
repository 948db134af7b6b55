//! The building blocks of every object: a value with its position, Kubernetes' int-or-percent,
//! and a field gonogo could not read.

use super::IgnoreAnnotation;
use crate::yaml::Pos;

/// A value and the position of its key (of the value itself for list items).
#[derive(Debug, Clone, PartialEq)]
pub struct Field<T> {
    pub value: T,
    pub pos: Pos,
}

/// `maxSurge: 1` or `maxSurge: 25%`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntOrPercent {
    Int(i64),
    Percent(i64),
}

impl IntOrPercent {
    /// Kubernetes' `GetScaledValueFromIntOrPercent`: a percentage of `total`, rounded up or
    /// down (integer arithmetic, so 25% of 8 is exactly 2).
    pub fn scaled(self, total: i64, round_up: bool) -> i64 {
        match self {
            IntOrPercent::Int(value) => value,
            IntOrPercent::Percent(percent) => {
                let product = percent * total;
                if round_up {
                    (product + 99).div_euclid(100)
                } else {
                    product.div_euclid(100)
                }
            }
        }
    }
}

impl std::fmt::Display for IntOrPercent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IntOrPercent::Int(value) => write!(f, "{value}"),
            IntOrPercent::Percent(percent) => write!(f, "{percent}%"),
        }
    }
}

/// Which check a problem concerns, so each reports only the fields it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Concern {
    /// replicas, strategy, selectors, PDB, HPA, canary analysis; also metadata.
    Rollout,
    /// readiness, liveness and startup probes.
    Probes,
    /// terminationGracePeriodSeconds, preStop, command/args, load balancer draining.
    Termination,
    /// image, revisionHistoryLimit.
    Rollback,
}

/// A field gonogo could not read: it has the wrong type.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub file: String,
    pub pos: Pos,
    /// `Deployment/shop-api`
    pub object: String,
    pub message: String,
    pub concern: Concern,
    /// The object's `gonogo.dev/ignore` annotation, as far as it was read when the problem was
    /// found.
    pub ignore: IgnoreAnnotation,
}
