//! One module per workload.

pub mod durability;
pub mod join_storm;
