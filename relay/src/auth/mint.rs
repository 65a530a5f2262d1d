//! Signing room tokens: `relay token` (with the shared key, or a private key the relay
//! never holds while serving) and the relay's share links (with the shared key).

use std::path::Path;

use jsonwebtoken::{Algorithm, EncodingKey, Header};

use super::claims::Claims;
use super::KeyError;

/// A key tokens are signed with, its algorithm and the `kid` put in their header.
pub struct Signer {
    alg: Algorithm,
    kid: Option<String>,
    key: EncodingKey,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signer({:?}, kid {:?})", self.alg, self.kid)
    }
}

impl Signer {
    /// HS256 with a shared secret.
    pub fn shared(secret: &[u8]) -> Result<Signer, KeyError> {
        let key = EncodingKey::from_secret(secret).map_err(|e| KeyError::Signing(e.to_string()))?;
        Ok(Signer { alg: Algorithm::HS256, kid: None, key })
    }

    /// A PEM private key (PKCS#8, or PKCS#1 for RSA) for `alg` (EdDSA, ES256, ES384, RS*, PS*).
    pub fn from_pem_file(path: &Path, alg: Algorithm, kid: Option<String>) -> Result<Signer, KeyError> {
        let pem = std::fs::read(path).map_err(|e| KeyError::Read { path: path.display().to_string(), error: e.to_string() })?;
        let invalid = |e: jsonwebtoken::errors::Error| KeyError::Invalid { path: path.display().to_string(), problem: format!("not a {alg:?} private key: {e}") };
        let key = match alg {
            Algorithm::EdDSA => EncodingKey::from_ed_pem(&pem),
            Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(&pem),
            Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512 | Algorithm::PS256 | Algorithm::PS384 | Algorithm::PS512 => {
                EncodingKey::from_rsa_pem(&pem)
            }
            _ => {
                return Err(KeyError::Invalid { path: path.display().to_string(), problem: format!("{alg:?} is not signed with a private key") })
            }
        }
        .map_err(invalid)?;
        Ok(Signer { alg, kid, key })
    }

    /// The same key, naming `kid` in the tokens it signs.
    pub fn with_kid(mut self, kid: Option<String>) -> Signer {
        self.kid = kid;
        self
    }

    pub fn mint(&self, claims: &Claims) -> Result<String, KeyError> {
        let mut header = Header::new(self.alg);
        header.kid = self.kid.clone();
        jsonwebtoken::encode(&header, claims, &self.key).map_err(|e| KeyError::Signing(e.to_string()))
    }
}
