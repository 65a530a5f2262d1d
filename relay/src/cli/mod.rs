//! The relay's command line. Every flag is also an environment variable, so the same binary
//! is configured the same way from a shell, a systemd unit or a container; and every flag
//! may also be a key of an optional TOML file (`--config`, read by `config_file.rs`). Flags
//! beat the environment, which beats the file, which beats the defaults. Secrets can come
//! from files (`--auth-key-file`, `--admin-token-file`, or the config file), so none needs
//! to be in a process's arguments or environment; `--print-config` shows the effective
//! configuration with them hidden.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Serialize;

pub use crate::auth::claims::{parse_lifetime, Lifetime};

mod settings;

/// Relay for the collaborative scene editor: forwards Yjs CRDT updates and presence between
/// the clients of a room, keeps room state for late joiners, and serves the browser client.
/// Speaks the stock y-websocket protocol at {base}/ws/{room}.
#[derive(Debug, Parser)]
#[command(name = "relay", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve rooms (the default when no subcommand is given).
    Serve(Box<ServeArgs>),
    /// Mint a room token signed with the auth key, and print it.
    Token(TokenArgs),
    /// Copy a live relay's rooms into one archive file, without stopping it.
    Backup(BackupArgs),
    /// Bring an archive made by `relay backup` back into an empty data directory.
    Restore(RestoreArgs),
}

/// `relay [serve] [--config FILE] [--print-config] [FLAGS]`
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// A TOML file whose keys are the flags' names (e.g. `data-dir = "/var/lib/relay"`,
    /// `allowed-origin = ["https://a.example"]`). Flags and environment variables override
    /// it.
    #[arg(long = "config", env = "RELAY_CONFIG", value_name = "FILE")]
    pub config_file: Option<PathBuf>,

    /// Print the effective configuration (defaults, file, environment and flags combined;
    /// secrets hidden) as a config file, and exit.
    #[arg(long)]
    pub print_config: bool,

    #[command(flatten)]
    pub config: Config,
}

/// `relay backup --data-dir D --out FILE`
#[derive(Debug, Clone, Args)]
pub struct BackupArgs {
    /// The live relay's data directory (its --data-dir).
    #[arg(long, env = "RELAY_DATA_DIR")]
    pub data_dir: PathBuf,
    /// The archive to write (a tar file; written beside it first, then renamed into place).
    #[arg(long)]
    pub out: PathBuf,
}

/// `relay restore --from FILE --data-dir D`
#[derive(Debug, Clone, Args)]
pub struct RestoreArgs {
    /// An archive made by `relay backup`.
    #[arg(long)]
    pub from: PathBuf,
    /// Where to restore it: a directory that is empty or does not exist yet.
    #[arg(long)]
    pub data_dir: PathBuf,
}

/// `relay token --room R --role viewer --ttl 1h` (see `docs/protocol.md`, Tokens).
#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// The room the token opens, or a prefix ending in '*' (e.g. 'team/*').
    #[arg(long)]
    pub room: String,
    /// What the holder may do: edit, or only watch (and show presence).
    #[arg(long, default_value = "editor", value_parser = crate::auth::claims::parse_role)]
    pub role: crate::auth::Role,
    /// How long the token is valid, e.g. 30m, 1h, 7d; 'never' leaves out `exp` (accepted
    /// only by relays started with --share-max-ttl never).
    #[arg(long, default_value = "1h", value_parser = parse_lifetime)]
    pub ttl: Lifetime,
    /// The person's id (`sub`), shown to the others in the room.
    #[arg(long)]
    pub sub: Option<String>,
    /// The key id (`kid`) put in the token's header, as the relay's JWKS file names the key.
    #[arg(long)]
    pub kid: Option<String>,
    /// Sign with the shared key the relay verifies with (HS256, at least 32 bytes)...
    #[arg(long, env = "RELAY_AUTH_KEY_FILE", required_unless_present = "private_key", conflicts_with = "private_key")]
    pub auth_key_file: Option<PathBuf>,
    /// ...or with a PEM private key whose public half is in the relay's --auth-jwks-file.
    #[arg(long, requires = "alg")]
    pub private_key: Option<PathBuf>,
    /// The private key's algorithm: EdDSA, ES256, ES384, RS256 (or RS384, RS512, PS256, …).
    #[arg(long)]
    pub alg: Option<String>,
}

/// How the relay serves. Serialized (by `--print-config`) under the flags' names.
#[derive(Debug, Clone, Args, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Config {
    /// Address to listen on. Use 0.0.0.0:PORT to accept connections from other machines
    /// (normally only a reverse proxy on the same host should reach the relay).
    #[arg(long, env = "RELAY_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Directory where room state is stored. Created if missing.
    #[arg(long, env = "RELAY_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// URL prefix everything is served under, e.g. /collab when a reverse proxy forwards
    /// https://example.com/collab/ to this relay. Empty serves at the root.
    #[arg(long, env = "RELAY_BASE_PATH", default_value = "", value_parser = parse_base_path)]
    pub base_path: String,

    /// Directory holding the built browser client (index.html, wasm, css), served at {base}/.
    /// Without it only the WebSocket and health endpoints are served.
    #[arg(long, env = "RELAY_STATIC_DIR")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub static_dir: Option<PathBuf>,

    /// Log line format: human-readable text, or one JSON object per line for log shippers.
    #[arg(long, env = "RELAY_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Seconds between WebSocket pings. A connection that sends nothing (not even a pong)
    /// for two intervals is considered dead and closed.
    #[arg(long, env = "RELAY_PING_INTERVAL_SECS", default_value_t = 25, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub ping_interval_secs: u64,

    /// Seconds a room stays in memory after its last client left, so a joiner still loads it
    /// from memory. After that it is written to the store and dropped from memory.
    #[arg(long, env = "RELAY_ROOM_IDLE_SECS", default_value_t = 300)]
    pub room_idle_secs: u64,

    /// Messages that may wait for one connection before it counts as fallen behind; such a
    /// connection is closed with code 4001 (resync) and catches up when it reconnects.
    #[arg(long, env = "RELAY_OUTBOUND_QUEUE", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(8..=1_000_000))]
    pub outbound_queue: u64,

    /// Largest WebSocket message accepted from a client, in bytes.
    #[arg(long, env = "RELAY_MAX_FRAME_BYTES", default_value_t = 16 * 1024 * 1024)]
    pub max_frame_bytes: usize,

    /// Read buffer of each WebSocket, in bytes: memory every connection holds while idle,
    /// and the most one read system call takes in (a larger frame takes several reads).
    /// Raise it if clients routinely upload multi-megabyte updates.
    #[arg(long, env = "RELAY_READ_BUFFER_BYTES", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(256..=16 * 1024 * 1024))]
    pub read_buffer_bytes: u64,

    /// Memory budget for large frames being written to clients at once (a join storm on a
    /// large room sends the whole room to every joiner). Frames over 1 MiB wait their turn
    /// once this many bytes are in flight.
    #[arg(long, env = "RELAY_SEND_BUDGET_BYTES", default_value_t = 128 * 1024 * 1024)]
    pub send_budget_bytes: u64,

    /// Where rooms are stored: an SQLite file under --data-dir (durable, the default), or
    /// process memory (lost on restart; for throwaway relays and tests).
    #[arg(long, env = "RELAY_STORE", value_enum, default_value_t = StoreKind::Sqlite)]
    pub store: StoreKind,

    /// Byte budget for rooms kept in memory. Beyond it, rooms nobody is in are dropped from
    /// memory least-recently-active first; they reload from the store on the next join.
    #[arg(long, env = "RELAY_CACHE_BYTES", default_value_t = 512 * 1024 * 1024)]
    pub cache_bytes: u64,

    /// Group commit: how long the store's writer waits for more updates before one commit
    /// (one fsync) covers them all. Larger batches write less; every update waits at most
    /// this long plus the fsync.
    #[arg(long, env = "RELAY_COMMIT_WINDOW_MS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(0..=1000))]
    pub commit_window_ms: u64,

    /// Size at which the update journal's active segment is sealed and a new one started;
    /// the sealed one is then cleaned (its live records copied forward, the file deleted).
    /// Smaller segments are cleaned more often: the soak shortens it, as it does the timers.
    #[arg(long, env = "RELAY_JOURNAL_SEGMENT_BYTES", default_value_t = crate::store::journal::DEFAULT_SEGMENT_BYTES, value_parser = clap::value_parser!(u64).range(4096..=1 << 30))]
    pub journal_segment_bytes: u64,

    /// Compaction: log bytes that justify folding a room's log into a snapshot (a log must
    /// also reach four times the snapshot's size; see relay/src/compaction.rs).
    #[arg(long, env = "RELAY_COMPACT_LOG_BYTES", default_value_t = 4 << 20)]
    pub compact_log_bytes: u64,

    /// Compaction: log entries after which a room's log is folded into a snapshot.
    #[arg(long, env = "RELAY_COMPACT_LOG_ENTRIES", default_value_t = 50_000)]
    pub compact_log_entries: u64,

    /// Compaction: age in seconds of the oldest log entry after which the log is folded.
    #[arg(long, env = "RELAY_COMPACT_LOG_AGE_SECS", default_value_t = 600)]
    pub compact_log_age_secs: u64,

    /// Bearer token required by the admin API (list, delete, export, import rooms). Without
    /// it the admin API is open, like the rest of an open relay. Prefer --admin-token-file
    /// (or the config file): a flag's value is visible to every user of the machine.
    #[arg(long, env = "RELAY_ADMIN_TOKEN", hide_env_values = true, conflicts_with = "admin_token_file")]
    #[serde(skip)]
    pub admin_token: Option<String>,

    /// File holding the admin API's bearer token (its first line; surrounding whitespace
    /// is ignored), read at start.
    #[arg(long, env = "RELAY_ADMIN_TOKEN_FILE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_token_file: Option<PathBuf>,

    /// File holding the shared key (at least 32 bytes) room tokens are signed with (HS256
    /// JWTs); the relay also signs share links with it. With it (or --auth-jwks-file, or
    /// --auth-webhook) every WebSocket needs a token (?token=… or the subprotocol
    /// 'token.…') or the webhook's yes; without any the relay is open to anyone who can
    /// reach it, and says so at start. Read again on SIGHUP and when it changes.
    #[arg(long, env = "RELAY_AUTH_KEY_FILE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_key_file: Option<PathBuf>,

    /// JWKS file (RFC 7517) of public keys room tokens may be signed with (EdDSA, ES256,
    /// RS256, …), picked by the token's `kid`: a backend signs with a private key the relay
    /// never sees. Read again on SIGHUP and when it changes, so keys rotate without a restart.
    #[arg(long, env = "RELAY_AUTH_JWKS_FILE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_jwks_file: Option<PathBuf>,

    /// How often the key files are compared with the keys in use, in seconds (a change is
    /// loaded at once); 0 reloads them on SIGHUP only.
    #[arg(long, env = "RELAY_AUTH_KEYS_POLL_SECS", default_value_t = 1)]
    pub auth_keys_poll_secs: u64,

    /// Clock skew allowed when checking a token's `exp`, `nbf` and `iat`, in seconds.
    #[arg(long, env = "RELAY_AUTH_LEEWAY_SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub auth_leeway_secs: u64,

    /// When set, room tokens must carry this audience (`aud`).
    #[arg(long, env = "RELAY_AUTH_AUDIENCE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_audience: Option<String>,

    /// When set, room tokens must carry this issuer (`iss`).
    #[arg(long, env = "RELAY_AUTH_ISSUER")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_issuer: Option<String>,

    /// Ask this service whether a request may join (plain http://): the relay POSTs
    /// {room, token, cookie, origin} and expects {role, name?} or 401/403. Tokens the keys
    /// accept do not ask. A hook that fails or is late refuses the request (close 4502).
    #[arg(long, env = "RELAY_AUTH_WEBHOOK")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_webhook: Option<String>,

    /// How long the relay waits for the auth webhook, in milliseconds.
    #[arg(long, env = "RELAY_AUTH_WEBHOOK_TIMEOUT_MS", default_value_t = 2000, value_parser = clap::value_parser!(u64).range(10..=60_000))]
    pub auth_webhook_timeout_ms: u64,

    /// How long the auth webhook's answers (grants and refusals, never failures) are kept, in
    /// seconds; 0 asks every time.
    #[arg(long, env = "RELAY_AUTH_WEBHOOK_CACHE_SECS", default_value_t = 60)]
    pub auth_webhook_cache_secs: u64,

    /// Longest lifetime of a share link the relay mints (POST {base}/api/rooms/{room}/share),
    /// e.g. 1d or 7d; 'never' also allows links that never expire (and tokens without `exp`).
    #[arg(long, env = "RELAY_SHARE_MAX_TTL", default_value = "7d", value_parser = parse_lifetime)]
    pub share_max_ttl: Lifetime,

    /// Origins allowed to open WebSockets from a browser (repeatable), e.g.
    /// https://scenes.example.com. Without any, every Origin is accepted. Requests without
    /// an Origin header (non-browser clients) are always accepted.
    #[arg(long = "allowed-origin", env = "RELAY_ALLOWED_ORIGINS", value_delimiter = ',')]
    #[serde(rename = "allowed-origin")]
    pub allowed_origins: Vec<String>,

    /// Take the client address from X-Forwarded-For (the rightmost entry). Set this only
    /// behind a reverse proxy that sets the header; otherwise clients could forge it.
    #[arg(long, env = "RELAY_TRUST_PROXY")]
    pub trust_proxy: bool,

    /// Largest a room's stored form may grow, in bytes; updates beyond it are refused.
    #[arg(long, env = "RELAY_MAX_ROOM_BYTES", default_value_t = 256 * 1024 * 1024)]
    pub max_room_bytes: u64,

    /// Most bytes one room's blobs (rendered images, exported .glb files) may take in the
    /// store. An upload beyond it is refused with 507 Insufficient Storage; re-uploading a
    /// blob the room already holds is always accepted.
    #[arg(long, env = "RELAY_MAX_ROOM_BLOB_BYTES", default_value_t = 256 * 1024 * 1024)]
    pub max_room_blob_bytes: u64,

    /// Connections one room accepts at once.
    #[arg(long, env = "RELAY_MAX_CONNS_PER_ROOM", default_value_t = 1000)]
    pub max_conns_per_room: usize,

    /// Connections one client address may hold at once.
    #[arg(long, env = "RELAY_MAX_CONNS_PER_IP", default_value_t = 64)]
    pub max_conns_per_ip: usize,

    /// Messages per second one connection may send on average (token bucket)...
    #[arg(long, env = "RELAY_MESSAGE_RATE", default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..))]
    pub message_rate: u32,

    /// ...and in a burst.
    #[arg(long, env = "RELAY_MESSAGE_BURST", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    pub message_burst: u32,

    /// Off (0) by default: a connection that answers pings stays however long it is silent.
    /// Opt-in: close connections that send no message (pongs do not count) for this many
    /// seconds, freeing the seats leftovers hold under --max-conns-per-room and
    /// --max-conns-per-ip. Only for relays whose every client sends presence (the editor and
    /// stock y-websocket clients renew theirs every 15 s): it cuts off silent listeners
    /// (pycrdt, bots, dashboards). Closed with 4008 and a reason saying how to stay.
    #[arg(long, env = "RELAY_IDLE_TIMEOUT_SECS", default_value_t = 0)]
    pub idle_timeout_secs: u64,

    /// Seconds a graceful shutdown waits for connections to close before it exits anyway.
    #[arg(long, env = "RELAY_SHUTDOWN_GRACE_SECS", default_value_t = 10)]
    pub shutdown_grace_secs: u64,

    /// Share rooms with other relays through Redis, e.g. redis://127.0.0.1:6379/0: every
    /// relay started with the same URL serves the same rooms (one Redis stream per room).
    /// Redis is then the source of truth for room content; the local store keeps restore
    /// points. Without it the relay is standalone. A Redis Cluster is given by seed nodes,
    /// redis+cluster://host:port,host:port (rooms are sharded by their `{room}` hash tag).
    /// A URL with a password (redis://:PASSWORD@host) is a secret: put it in the config file.
    #[arg(long, env = "RELAY_REDIS", hide_env_values = true)]
    #[serde(skip)]
    pub redis: Option<String>,

    /// Cluster mode: how far (in milliseconds of stream time) behind a snapshot a room's
    /// stream is trimmed. A relay whose reader lags by less loses nothing.
    #[arg(long, env = "RELAY_REDIS_TRIM_SLACK_MS", default_value_t = 60_000)]
    pub redis_trim_slack_ms: u64,

    /// Cluster mode: seconds a presence state that came from another relay stays without
    /// a renewal (stock clients renew every 15 s). Removes the users of a relay that died
    /// without saying goodbye. 0 keeps such states until their owner removes them.
    #[arg(long, env = "RELAY_REDIS_PRESENCE_TIMEOUT_SECS", default_value_t = 30)]
    pub redis_presence_timeout_secs: u64,

    /// Cluster mode: acknowledge an update as durable (`?acks=1`) only once this many
    /// replicas of the room's Redis have it (WAIT after the XADD). A Redis that cannot
    /// confirm that within the command timeout takes the room offline (4503) rather than
    /// acknowledge less. 0: the master's answer is the acknowledgement (a failover can lose
    /// what it had not replicated yet).
    #[arg(long, env = "RELAY_REDIS_WAIT_REPLICAS", default_value_t = 0)]
    pub redis_wait_replicas: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    Sqlite,
    Memory,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// Normalises a base path to "" or "/segment[/segment…]" without a trailing slash.
fn parse_base_path(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim().trim_end_matches('/');
    if trimmed.is_empty() {
        return Ok(String::new());
    }
    if !trimmed.starts_with('/') {
        return Err(format!("base path must start with '/': {raw:?}"));
    }
    if trimmed.contains(['?', '#', ' ', '{', '}']) || trimmed.contains("//") {
        return Err(format!("base path may hold only plain path segments: {raw:?}"));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn base_paths_are_normalised() {
        assert_eq!(parse_base_path("").unwrap(), "");
        assert_eq!(parse_base_path("/").unwrap(), "");
        assert_eq!(parse_base_path("/collab/").unwrap(), "/collab");
        assert_eq!(parse_base_path("/a/b").unwrap(), "/a/b");
        assert!(parse_base_path("collab").is_err());
        assert!(parse_base_path("/a//b").is_err());
    }

    #[test]
    fn cli_parses_with_and_without_subcommand() {
        let cli = Cli::try_parse_from(["relay", "--listen", "127.0.0.1:9000", "--base-path", "/x/"]).unwrap();
        assert_eq!(cli.serve.config.base_path, "/x");
        assert_eq!(cli.serve.config.listen.port(), 9000);
        let cli = Cli::try_parse_from(["relay", "serve", "--log-format", "json"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Serve(c)) if c.config.log_format == LogFormat::Json));
        let cli = Cli::try_parse_from(["relay", "--max-room-blob-bytes", "1048576"]).unwrap();
        assert_eq!(cli.serve.config.max_room_blob_bytes, 1 << 20);
        assert_eq!(Cli::try_parse_from(["relay"]).unwrap().serve.config.max_room_blob_bytes, 256 << 20, "256 MiB by default");
        assert_eq!(Cli::try_parse_from(["relay"]).unwrap().serve.config.idle_timeout_secs, 0, "no idle limit by default");
        let cli = Cli::try_parse_from(["relay", "backup", "--data-dir", "/d", "--out", "/b.tar"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Backup(b)) if b.out == std::path::Path::new("/b.tar")));
        assert!(Cli::try_parse_from(["relay", "--admin-token", "a", "--admin-token-file", "/f"]).is_err(), "one or the other");
    }

    #[test]
    fn share_links_last_a_week_at_most_unless_never() {
        let cli = Cli::try_parse_from(["relay", "--share-max-ttl", "never"]).unwrap();
        assert_eq!(cli.serve.config.access().link_max_ttl, None);
        assert_eq!(Cli::try_parse_from(["relay"]).unwrap().serve.config.access().link_max_ttl, Some(Duration::from_secs(7 * 86400)));
    }

    #[test]
    fn relay_token_takes_one_key() {
        assert!(Cli::try_parse_from(["relay", "token", "--room", "r", "--auth-key-file", "k"]).is_ok());
        assert!(Cli::try_parse_from(["relay", "token", "--room", "r", "--private-key", "p.pem", "--alg", "EdDSA"]).is_ok());
        assert!(Cli::try_parse_from(["relay", "token", "--room", "r", "--private-key", "p.pem"]).is_err(), "needs --alg");
        assert!(Cli::try_parse_from(["relay", "token", "--room", "r", "--auth-key-file", "k", "--private-key", "p", "--alg", "EdDSA"]).is_err());
    }
}
