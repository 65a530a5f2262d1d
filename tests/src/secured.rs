//! A relay that checks room tokens, for the tests of who gets in: its shared key written to
//! a file it reads (`--auth-key-file`), and a signer with the same key to mint tokens with.

use relay::auth::{unix_now, Claims, Role, Signer};

use crate::TestRelay;

pub struct SecuredRelay {
    pub relay: TestRelay,
    pub signer: Signer,
    /// Holds the key file (`key_file`) for as long as the relay runs.
    dir: tempfile::TempDir,
}

impl SecuredRelay {
    /// An in-process relay signing and checking with `key` (at least 32 bytes), with
    /// `tune` applied to its configuration.
    pub async fn start(key: &[u8], tune: impl FnOnce(&mut relay::cli::Config)) -> SecuredRelay {
        let dir = tempfile::tempdir().expect("a temp dir");
        let key_file = dir.path().join("auth.key");
        std::fs::write(&key_file, key).expect("writing the key file");
        let relay = TestRelay::start_with(|c| {
            c.auth_key_file = Some(key_file);
            tune(c);
        })
        .await;
        SecuredRelay { relay, signer: Signer::shared(key).expect("a key of 32 bytes or more"), dir }
    }

    /// The key file the relay reads (rewrite it to rotate the key).
    pub fn key_file(&self) -> std::path::PathBuf {
        self.dir.path().join("auth.key")
    }

    /// A token for `room` (or a prefix ending in `*`) and `role`, valid for an hour.
    pub fn token(&self, room: &str, role: Role) -> String {
        self.signer.mint(&Claims::new(room, role, unix_now() + 3600)).expect("minting a token")
    }
}
