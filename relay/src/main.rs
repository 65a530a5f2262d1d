//! `relay`: parse the command line, start logging, serve until SIGTERM or Ctrl-C.

use clap::Parser;
use relay::cli::{Cli, Command};

/// mimalloc instead of the system allocator: join storms allocate a large frame buffer per
/// connection, and the system allocator returns each to the kernel and faults fresh zeroed
/// pages in for the next (measured in BENCHMARKS.md, join storm).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let config = match cli.command {
        Some(Command::Serve(config)) => *config,
        Some(Command::Token(args)) => return mint_token(&args),
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

fn mint_token(args: &relay::cli::TokenArgs) -> std::process::ExitCode {
    let key = match relay::auth::TokenKey::from_file(&args.auth_key_file) {
        Ok(key) => key,
        Err(error) => {
            eprintln!("relay token: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let claims = relay::auth::Claims {
        room: args.room.clone(),
        role: args.role,
        exp: relay::auth::unix_now().saturating_add(args.ttl.as_secs()),
    };
    println!("{}", key.mint(&claims));
    std::process::ExitCode::SUCCESS
}
