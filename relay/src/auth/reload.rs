//! Keys that rotate without a restart: the key file and the JWKS file are read again on
//! SIGHUP and whenever their content changes (checked every `--auth-keys-poll-secs`, 1 s by
//! default; 0 leaves SIGHUP alone). A reload that fails
//! (a file half-written, a JWKS with no usable key) keeps the keys in use and says why in
//! the log; the next change or SIGHUP tries again.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Mutex, RwLock};

use super::jwks;
use super::keys::KeySet;
use super::KeyError;

/// Where the keys come from.
#[derive(Debug, Clone, Default)]
pub struct KeyFiles {
    /// `--auth-key-file`: the shared HS256 key.
    pub shared: Option<PathBuf>,
    /// `--auth-jwks-file`: public keys by `kid`.
    pub jwks: Option<PathBuf>,
}

impl KeyFiles {
    pub fn is_empty(&self) -> bool {
        self.shared.is_none() && self.jwks.is_none()
    }

    /// The files' bytes, to notice a change (a missing file reads as empty).
    fn contents(&self) -> Vec<Vec<u8>> {
        [&self.shared, &self.jwks].into_iter().flatten().map(|path| std::fs::read(path).unwrap_or_default()).collect()
    }

    fn load(&self) -> Result<KeySet, KeyError> {
        let secret = self.shared.as_deref().map(KeySet::read_shared_secret).transpose()?;
        let published = self.jwks.as_deref().map(jwks::read).transpose()?.unwrap_or_default();
        KeySet::new(secret, published)
    }
}

/// The keys in use, swapped whole on a reload.
pub struct KeyStore {
    files: KeyFiles,
    current: RwLock<Arc<KeySet>>,
    /// What the files held when the keys in use were loaded.
    loaded_from: Mutex<Vec<Vec<u8>>>,
}

impl KeyStore {
    /// Loads the keys; a relay whose key files are unusable does not start.
    pub fn load(files: KeyFiles) -> Result<KeyStore, KeyError> {
        let contents = files.contents();
        let keys = files.load()?;
        Ok(KeyStore { files, current: RwLock::new(Arc::new(keys)), loaded_from: Mutex::new(contents) })
    }

    pub fn current(&self) -> Arc<KeySet> {
        self.current.read().clone()
    }

    /// Reads the files again and, if they load, uses them from now on.
    pub fn reload(&self) -> Result<(), KeyError> {
        let contents = self.files.contents();
        let keys = self.files.load()?;
        tracing::info!(jwks_keys = ?keys.published_ids(), shared_key = keys.signer().is_some(), "auth keys reloaded");
        *self.current.write() = Arc::new(keys);
        *self.loaded_from.lock() = contents;
        Ok(())
    }

    /// Reloads if a file's content changed since the last load (or failed attempt).
    pub fn reload_if_changed(&self) {
        let contents = self.files.contents();
        if *self.loaded_from.lock() == contents {
            return;
        }
        if let Err(error) = self.reload() {
            tracing::error!(%error, "auth key files changed but cannot be used; the previous keys stay in use");
            // Not again until the files change once more.
            *self.loaded_from.lock() = contents;
        }
    }
}

/// Reloads `store` on SIGHUP and, every `poll`, when its files changed, until `stopping`
/// resolves.
pub async fn watch(store: Arc<KeyStore>, poll: Option<Duration>, stopping: impl std::future::Future<Output = ()>) {
    let mut hangups = hangup_signals();
    let polling = poll.is_some();
    let mut poll = tokio::time::interval(poll.unwrap_or(Duration::from_secs(3600)));
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(stopping);
    loop {
        tokio::select! {
            biased;
            _ = &mut stopping => return,
            Some(()) = next_hangup(&mut hangups) => {
                if let Err(error) = store.reload() {
                    tracing::error!(%error, "SIGHUP: auth key files cannot be used; the previous keys stay in use");
                }
            }
            _ = poll.tick(), if polling => store.reload_if_changed(),
        }
    }
}

#[cfg(unix)]
type Hangups = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hangups = Option<()>;

#[cfg(unix)]
fn hangup_signals() -> Hangups {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok()
}

#[cfg(not(unix))]
fn hangup_signals() -> Hangups {
    None
}

#[cfg(unix)]
async fn next_hangup(signals: &mut Hangups) -> Option<()> {
    match signals {
        Some(signal) => signal.recv().await,
        None => std::future::pending().await,
    }
}

#[cfg(not(unix))]
async fn next_hangup(_: &mut Hangups) -> Option<()> {
    std::future::pending().await
}
