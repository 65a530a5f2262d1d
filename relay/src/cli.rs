//! The relay's command line. Every flag is also an environment variable, so the same binary
//! is configured the same way from a shell, a systemd unit or a container.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Relay for the collaborative scene editor: forwards Yjs CRDT updates and presence between
/// the clients of a room, keeps room state for late joiners, and serves the browser client.
/// Speaks the stock y-websocket protocol at {base}/ws/{room}.
#[derive(Debug, Parser)]
#[command(name = "relay", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: Config,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve rooms (the default when no subcommand is given).
    Serve(Box<Config>),
    /// Mint a room token signed with the auth key, and print it.
    Token(TokenArgs),
}

/// `relay token --room R --role viewer --ttl 1h`
#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// The room the token opens, or a prefix ending in '*' (e.g. 'team/*').
    #[arg(long)]
    pub room: String,
    /// What the holder may do: edit, or only watch (and show presence).
    #[arg(long, value_enum, default_value_t = crate::auth::Role::Editor)]
    pub role: crate::auth::Role,
    /// How long the token is valid, e.g. 30m, 1h, 7d.
    #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
    pub ttl: Duration,
    /// File holding the signing key (at least 32 bytes); the relay must use the same one.
    #[arg(long, env = "RELAY_AUTH_KEY_FILE")]
    pub auth_key_file: PathBuf,
}

/// How the relay serves.
#[derive(Debug, Clone, Args)]
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
    /// it the admin API is open, like the rest of an open relay.
    #[arg(long, env = "RELAY_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,

    /// File holding the key room tokens are signed with (at least 32 bytes). With it every
    /// WebSocket needs a token (?token=… or the subprotocol 'token.…'); without it the relay
    /// is open to anyone who can reach it, and says so at start.
    #[arg(long, env = "RELAY_AUTH_KEY_FILE")]
    pub auth_key_file: Option<PathBuf>,

    /// Origins allowed to open WebSockets from a browser (repeatable), e.g.
    /// https://scenes.example.com. Without any, every Origin is accepted. Requests without
    /// an Origin header (non-browser clients) are always accepted.
    #[arg(long = "allowed-origin", env = "RELAY_ALLOWED_ORIGINS", value_delimiter = ',')]
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

    /// Seconds a connection may stay open without sending a message (pongs do not count;
    /// stock clients renew their presence every 15 s). 0 disables.
    #[arg(long, env = "RELAY_IDLE_TIMEOUT_SECS", default_value_t = 600)]
    pub idle_timeout_secs: u64,

    /// Seconds a graceful shutdown waits for connections to close before it exits anyway.
    #[arg(long, env = "RELAY_SHUTDOWN_GRACE_SECS", default_value_t = 10)]
    pub shutdown_grace_secs: u64,

    /// Share rooms with other relays through Redis, e.g. redis://127.0.0.1:6379/0: every
    /// relay started with the same URL serves the same rooms (one Redis stream per room).
    /// Redis is then the source of truth for room content; the local store keeps restore
    /// points. Without it the relay is standalone.
    #[arg(long, env = "RELAY_REDIS", hide_env_values = true)]
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
}

impl Config {
    pub fn compaction(&self) -> crate::compaction::CompactionPolicy {
        crate::compaction::CompactionPolicy {
            min_log_bytes: self.compact_log_bytes,
            max_log_entries: self.compact_log_entries,
            max_log_age: Duration::from_secs(self.compact_log_age_secs),
        }
    }

    pub fn cache_limits(&self) -> crate::rooms::CacheLimits {
        crate::rooms::CacheLimits { idle: self.room_idle(), budget_bytes: self.cache_bytes, max_room_bytes: self.max_room_bytes }
    }

    pub fn cluster_settings(&self) -> crate::cluster::ClusterSettings {
        crate::cluster::ClusterSettings {
            trim_slack: Duration::from_millis(self.redis_trim_slack_ms),
            remote_presence_timeout: (self.redis_presence_timeout_secs > 0)
                .then(|| Duration::from_secs(self.redis_presence_timeout_secs)),
            ..crate::cluster::ClusterSettings::default()
        }
    }

    pub fn commit_window(&self) -> Duration {
        Duration::from_millis(self.commit_window_ms)
    }

    pub fn ping_interval(&self) -> Duration {
        Duration::from_secs(self.ping_interval_secs)
    }

    pub fn room_idle(&self) -> Duration {
        Duration::from_secs(self.room_idle_secs)
    }

    /// A configuration for tests: loopback on a free port, data in `data_dir`, rooms in
    /// memory unless the test picks SQLite.
    pub fn for_tests(data_dir: PathBuf) -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir,
            base_path: String::new(),
            static_dir: None,
            log_format: LogFormat::Text,
            ping_interval_secs: 25,
            room_idle_secs: 300,
            outbound_queue: 1024,
            max_frame_bytes: 16 * 1024 * 1024,
            read_buffer_bytes: 1024,
            send_budget_bytes: 128 * 1024 * 1024,
            store: StoreKind::Memory,
            cache_bytes: 512 * 1024 * 1024,
            commit_window_ms: 10,
            compact_log_bytes: 4 << 20,
            compact_log_entries: 50_000,
            compact_log_age_secs: 600,
            admin_token: None,
            auth_key_file: None,
            allowed_origins: Vec::new(),
            trust_proxy: false,
            max_room_bytes: 256 * 1024 * 1024,
            max_room_blob_bytes: 256 * 1024 * 1024,
            max_conns_per_room: 1000,
            max_conns_per_ip: 1000,
            message_rate: 100_000,
            message_burst: 100_000,
            idle_timeout_secs: 600,
            shutdown_grace_secs: 5,
            redis: None,
            redis_trim_slack_ms: 60_000,
            redis_presence_timeout_secs: 30,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StoreKind {
    Sqlite,
    Memory,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
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
        assert_eq!(cli.serve.base_path, "/x");
        assert_eq!(cli.serve.listen.port(), 9000);
        let cli = Cli::try_parse_from(["relay", "serve", "--log-format", "json"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Serve(c)) if c.log_format == LogFormat::Json));
        let cli = Cli::try_parse_from(["relay", "--max-room-blob-bytes", "1048576"]).unwrap();
        assert_eq!(cli.serve.max_room_blob_bytes, 1 << 20);
        assert_eq!(Cli::try_parse_from(["relay"]).unwrap().serve.max_room_blob_bytes, 256 << 20, "256 MiB by default");
    }
}
