//! What each part of the relay takes from the configuration (the compaction policy, the
//! cache limits, the Redis settings, who may join, the timers) and the configuration tests
//! start from. Apart from the flags' declarations (`cli/mod.rs`) so that file stays the
//! one list of flags an operator reads.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::{Config, Lifetime, LogFormat, StoreKind};

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
            wait_replicas: self.redis_wait_replicas,
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

    /// Who may in: the token keys, the webhook, the share links' longest lifetime.
    pub fn access(&self) -> crate::auth::AccessSettings {
        use crate::auth::{keys::Rules, reload::KeyFiles, AccessSettings, HookUse};
        AccessSettings {
            files: KeyFiles { shared: self.auth_key_file.clone(), jwks: self.auth_jwks_file.clone() },
            rules: Rules {
                leeway_secs: self.auth_leeway_secs,
                audience: self.auth_audience.clone(),
                issuer: self.auth_issuer.clone(),
                allow_no_exp: false,
            },
            webhook: self.auth_webhook.clone().map(|url| HookUse {
                url,
                timeout: Duration::from_millis(self.auth_webhook_timeout_ms),
                cache_for: Duration::from_secs(self.auth_webhook_cache_secs),
            }),
            link_max_ttl: match self.share_max_ttl {
                Lifetime::For(ttl) => Some(ttl),
                Lifetime::Never => None,
            },
        }
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
            journal_segment_bytes: crate::store::journal::DEFAULT_SEGMENT_BYTES,
            compact_log_bytes: 4 << 20,
            compact_log_entries: 50_000,
            compact_log_age_secs: 600,
            admin_token: None,
            admin_token_file: None,
            auth_key_file: None,
            auth_jwks_file: None,
            auth_keys_poll_secs: 1,
            auth_leeway_secs: 60,
            auth_audience: None,
            auth_issuer: None,
            auth_webhook: None,
            auth_webhook_timeout_ms: 2000,
            auth_webhook_cache_secs: 60,
            share_max_ttl: Lifetime::For(Duration::from_secs(7 * 24 * 3600)),
            allowed_origins: Vec::new(),
            trust_proxy: false,
            max_room_bytes: 256 * 1024 * 1024,
            max_room_blob_bytes: 256 * 1024 * 1024,
            max_conns_per_room: 1000,
            max_conns_per_ip: 1000,
            message_rate: 100_000,
            message_burst: 100_000,
            idle_timeout_secs: 0,
            shutdown_grace_secs: 5,
            redis: None,
            redis_trim_slack_ms: 60_000,
            redis_presence_timeout_secs: 30,
            redis_wait_replicas: 0,
        }
    }
}
