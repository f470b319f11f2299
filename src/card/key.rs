//! The issuer's ES256 key: made on first use and kept in the data folder, readable by
//! its owner only (`card-issuer-key.pem`, PKCS #8). Its public half is what verifiers
//! fetch from `{issuer}/.well-known/jwks.json`.

use super::jws::PublicKey;
use anyhow::{Context, Result, bail};
use p256::ecdsa::SigningKey;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The key file's name in the data folder.
pub const KEY_FILE: &str = "card-issuer-key.pem";

/// The issuer's signing key and its public half.
pub struct IssuerKey {
    pub signing: SigningKey,
    pub public: PublicKey,
    pub path: PathBuf,
}

impl IssuerKey {
    /// The key kept in `dir`, made there (owner-only) when there is none yet.
    pub fn load_or_make(dir: &Path) -> Result<IssuerKey> {
        let path = dir.join(KEY_FILE);
        if !path.exists() {
            make(&path)?;
        }
        let meta = std::fs::symlink_metadata(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if !meta.file_type().is_file() {
            bail!("{} is not a plain file; move it away", path.display());
        }
        if meta.permissions().mode() & 0o077 != 0 {
            bail!(
                "{} can be read by others: anyone who reads it can sign cards as this clinic; make a new key (delete the file) and publish its key set again",
                path.display()
            );
        }
        let pem = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let signing = SigningKey::from_pkcs8_pem(&pem)
            .map_err(|_| anyhow::anyhow!("{} is not a P-256 private key", path.display()))?;
        Ok(IssuerKey {
            public: PublicKey::of(&signing),
            signing,
            path,
        })
    }

    /// The public key set to publish at `{issuer}/.well-known/jwks.json`.
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({ "keys": [self.public.jwk()] })
    }
}

/// A new key at `path`; a key another process made there at the same moment is kept.
fn make(path: &Path) -> Result<()> {
    let signing = SigningKey::random(&mut rand_core::OsRng);
    let pem = signing
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|_| anyhow::anyhow!("cannot write the new key as PKCS #8"))?;
    let mut file = match crate::store::create_new_private(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot make {}", path.display())),
    };
    file.write_all(pem.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_made_once_owner_only_and_read_back() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target/tmp")
            .join(format!("vaxentry-card-key-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let first = IssuerKey::load_or_make(&dir).unwrap();
        let again = IssuerKey::load_or_make(&dir).unwrap();
        assert_eq!(first.public, again.public);
        let mode = std::fs::metadata(dir.join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let jwks = first.jwks();
        assert_eq!(jwks["keys"][0]["kid"], first.public.thumbprint());
        assert_eq!(jwks["keys"][0]["alg"], "ES256");
        assert!(jwks["keys"][0].get("d").is_none(), "no private part");
        // Readable by others: refused, with what to do.
        std::fs::set_permissions(dir.join(KEY_FILE), std::fs::Permissions::from_mode(0o644))
            .unwrap();
        let refused = IssuerKey::load_or_make(&dir).err().unwrap().to_string();
        assert!(refused.contains("read by others"), "{refused}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
