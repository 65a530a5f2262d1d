//! One module per workload.

pub mod cluster_members;
pub mod cluster_scale;
pub mod durability;
pub mod endurance;
pub mod fanout;
pub mod idle;
pub mod join_storm;
pub mod presence;
pub mod shapes;
pub mod swarm;
pub mod target;
pub mod writers;
