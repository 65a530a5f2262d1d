//! `relay`: parse the command line, start logging, serve until SIGTERM or Ctrl-C.

use clap::Parser;
use relay::cli::{Cli, Command};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let config = match cli.command {
        Some(Command::Serve(config)) => config,
        None => cli.serve,
    };
    relay::logging::init(config.log_format);
    match relay::server::run(config, relay::server::shutdown_signal()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "relay stopped");
            eprintln!("relay: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
