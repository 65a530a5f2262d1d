//! One module per workload.

pub mod durability;
pub mod fanout;
pub mod idle;
pub mod join_storm;
pub mod presence;
pub mod shapes;
pub mod swarm;
pub mod target;
pub mod writers;
