//! `loadgen`: runs a workload against a relay it starts itself (so it can read the relay's
//! CPU, memory and disk figures from /proc) and prints a table plus a JSON report.
//! Every loop is bounded in count and time; every connection goes to loopback.

mod client;
mod cluster;
mod incidents;
mod proc_cpu;
mod redis_cluster;
mod relay_process;
mod report;
mod workloads;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "loadgen", about = "Benchmarks for the scene relay (loopback only)")]
struct Cli {
    /// The relay binary to start (build it with `cargo build --release -p relay`).
    #[arg(long, global = true, default_value = "target/release/relay")]
    relay_bin: PathBuf,
    /// Where to write the JSON report (printed to stdout as well).
    #[arg(long, global = true)]
    json: Option<PathBuf>,
    #[command(subcommand)]
    workload: Workload,
}

#[derive(Debug, Subcommand)]
enum Workload {
    /// Steady editing with durable acknowledgements: durable latency and write amplification.
    Durability(workloads::durability::Args),
    /// Many clients join one large room at once, cold (from disk) and warm (from memory).
    JoinStorm(workloads::join_storm::Args),
    /// Relays sharing rooms through Redis: cross-relay fan-out latency, throughput on 1-3 relays.
    Cluster(cluster::Args),
    /// Rooms over a real Redis Cluster on 1, 2, 3 relays: delivery latency, Redis CPU per
    /// update, relay CPU per delivery (issue 19's capacity figures).
    ClusterScale(workloads::cluster_scale::Args),
    /// One writer, N observers: latency and server CPU per update per observer.
    FanOut(workloads::fanout::Args),
    /// Many writers in one room, each observing the others.
    ManyWriters(workloads::writers::Args),
    /// N clients moving cursors (awareness only): server CPU share of one core.
    Presence(workloads::presence::Args),
    /// Idle connections and rooms: server memory per connection and per room.
    Idle(workloads::idle::Args),
    /// Sustained, stress, spike or endurance load on a swarm of rooms.
    Shape(workloads::shapes::Args),
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.workload {
        Workload::Durability(args) => workloads::durability::run(&cli.relay_bin, args).await,
        Workload::JoinStorm(args) => workloads::join_storm::run(&cli.relay_bin, args).await,
        Workload::Cluster(args) => cluster::run(&cli.relay_bin, args).await,
        Workload::ClusterScale(args) => workloads::cluster_scale::run(&cli.relay_bin, args).await,
        Workload::FanOut(args) => workloads::fanout::run(&cli.relay_bin, args).await,
        Workload::ManyWriters(args) => workloads::writers::run(&cli.relay_bin, args).await,
        Workload::Presence(args) => workloads::presence::run(&cli.relay_bin, args).await,
        Workload::Idle(args) => workloads::idle::run(&cli.relay_bin, args).await,
        Workload::Shape(args) => workloads::shapes::run(&cli.relay_bin, args).await,
    };
    match result {
        Ok(report) => {
            report.print_table();
            let json = report.to_json();
            println!("{json}");
            if let Some(path) = cli.json {
                if let Err(e) = std::fs::write(&path, format!("{json}\n")) {
                    eprintln!("loadgen: cannot write {}: {e}", path.display());
                    return std::process::ExitCode::FAILURE;
                }
            }
            std::process::ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("loadgen: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
