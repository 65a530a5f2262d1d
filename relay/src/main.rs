//! `relay`: parse the command line (and the config file it names), start logging, serve
//! until SIGTERM or Ctrl-C; or mint a token, back up or restore a data directory.

use relay::cli::{Command, ServeArgs};
use relay::config_file::ConfigError;
use std::process::ExitCode;

/// mimalloc instead of the system allocator: join storms allocate a large frame buffer per
/// connection, and the system allocator returns each to the kernel and faults fresh zeroed
/// pages in for the next (measured in BENCHMARKS.md, join storm).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = match relay::config_file::parse(std::env::args_os().collect()) {
        Ok(cli) => cli,
        Err(ConfigError::Cli(error)) => error.exit(),
        Err(error) => {
            eprintln!("relay: {error}");
            return ExitCode::from(2);
        }
    };
    let serve = match cli.command {
        Some(Command::Serve(serve)) => *serve,
        Some(Command::Token(args)) => return mint_token(&args),
        Some(Command::Backup(args)) => return report("backup", relay::backup::create(&args.data_dir, &args.out)),
        Some(Command::Restore(args)) => return report("restore", relay::backup::restore(&args.from, &args.data_dir)),
        None => cli.serve,
    };
    serve_until_stopped(serve).await
}

async fn serve_until_stopped(serve: ServeArgs) -> ExitCode {
    let ServeArgs { config, print_config, .. } = serve;
    if print_config {
        return match relay::config_file::print(&config) {
            Ok(text) => {
                print!("{text}");
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("relay: {error}");
                ExitCode::FAILURE
            }
        };
    }
    relay::logging::init(config.log_format);
    match relay::server::run(config, relay::server::shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "relay stopped");
            eprintln!("relay: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Prints what a backup or restore did (one JSON object) or why it failed.
fn report(what: &str, outcome: Result<relay::backup::Summary, relay::backup::BackupError>) -> ExitCode {
    match outcome {
        Ok(summary) => {
            println!("{}", serde_json::to_string(&summary).unwrap_or_else(|_| format!("{summary:?}")));
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("relay {what}: {error}");
            ExitCode::FAILURE
        }
    }
}

/// `relay token`: the token the arguments describe, signed with the key they name, on stdout.
fn mint_token(args: &relay::cli::TokenArgs) -> ExitCode {
    match token(args) {
        Ok(token) => {
            println!("{token}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("relay token: {error}");
            ExitCode::FAILURE
        }
    }
}

fn token(args: &relay::cli::TokenArgs) -> Result<String, relay::auth::KeyError> {
    use relay::auth::{keys::KeySet, Algorithm, Claims, KeyError, Signer};
    let signer = match (&args.auth_key_file, &args.private_key) {
        (_, Some(pem)) => {
            let name = args.alg.as_deref().unwrap_or("");
            let alg = name.parse::<Algorithm>().map_err(|_| KeyError::Signing(format!("unknown algorithm {name:?}")))?;
            Signer::from_pem_file(pem, alg, args.kid.clone())?
        }
        (Some(file), None) => Signer::shared(&KeySet::read_shared_secret(file)?)?.with_kid(args.kid.clone()),
        (None, None) => return Err(KeyError::Signing("give --auth-key-file or --private-key".into())),
    };
    let now = relay::auth::unix_now();
    let exp = match args.ttl {
        relay::cli::Lifetime::For(ttl) => Some(now.saturating_add(ttl.as_secs())),
        relay::cli::Lifetime::Never => None,
    };
    signer.mint(&Claims { room: args.room.clone(), role: args.role, exp, nbf: None, iat: Some(now), sub: args.sub.clone() })
}
