//! secp256k1 keys, signatures and recovery with libsecp256k1 (sign ≈ 32 µs, recover ≈ 51 µs).

use alloy_primitives::{Address, B256, U256, hex, keccak256};
use secp256k1::{
    Message, PublicKey, SECP256K1, SecretKey,
    ecdsa::{RecoverableSignature, RecoveryId},
};
use std::fmt;

/// secp256k1n / 2: signatures with a larger `s` are malleable copies and refused (as on-chain).
const HALF_N: U256 = U256::from_be_slice(&[
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
]);

/// A 65-byte Ethereum signature `r ‖ s ‖ v` with `v` in {27, 28}, as the adjudicator takes it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sig(pub [u8; 65]);

impl fmt::Debug for Sig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sig({})", hex::encode_prefixed(self.0))
    }
}

impl Sig {
    /// The signature as bytes for a contract call.
    pub fn to_bytes(&self) -> alloy_primitives::Bytes {
        alloy_primitives::Bytes::copy_from_slice(&self.0)
    }

    /// From a byte slice of exactly 65 bytes.
    pub fn from_slice(b: &[u8]) -> Option<Self> {
        Some(Self(b.try_into().ok()?))
    }
}

/// A signing key and its address.
#[derive(Clone)]
pub struct Key {
    secret: SecretKey,
    address: Address,
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key").field("address", &self.address).finish_non_exhaustive()
    }
}

/// A key that is not a valid secp256k1 secret.
#[derive(Debug, thiserror::Error)]
#[error("invalid secp256k1 secret key")]
pub struct InvalidKey;

impl Key {
    /// From 32 secret bytes.
    pub fn from_bytes(secret: &B256) -> Result<Self, InvalidKey> {
        let secret = SecretKey::from_byte_array(secret.0).map_err(|_| InvalidKey)?;
        let public = PublicKey::from_secret_key(SECP256K1, &secret);
        Ok(Self { secret, address: address_of(&public) })
    }

    /// From a hex string (with or without 0x).
    pub fn from_hex(s: &str) -> Result<Self, InvalidKey> {
        let bytes: B256 = s.trim().parse().map_err(|_| InvalidKey)?;
        Self::from_bytes(&bytes)
    }

    /// A fresh random key.
    pub fn random() -> Self {
        loop {
            if let Ok(k) = Self::from_bytes(&B256::from(rand::random::<[u8; 32]>())) {
                return k;
            }
        }
    }

    /// The key in the file at `path` (hex), or a fresh one written there (mode 0600, its
    /// directory created) when there is no such file. A file that exists but cannot be read,
    /// does not hold a key, or is readable by others is an error: it is never replaced.
    pub fn load_or_create(path: &std::path::Path) -> eyre::Result<Self> {
        use eyre::WrapErr;
        match std::fs::read_to_string(path) {
            Ok(text) => {
                check_private(path)?;
                return Self::from_hex(&text)
                    .wrap_err_with(|| format!("{} does not hold a key", path.display()));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).wrap_err_with(|| format!("reading {}", path.display())),
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).wrap_err_with(|| format!("creating {}", dir.display()))?;
        }
        let key = Self::random();
        write_private(path, format!("{}\n", key.secret_bytes()).as_bytes())
            .wrap_err_with(|| format!("writing {}", path.display()))?;
        Ok(key)
    }

    /// The secret bytes (for saving the hub's key).
    pub fn secret_bytes(&self) -> B256 {
        B256::from(self.secret.secret_bytes())
    }

    /// The Ethereum address of the key.
    pub const fn address(&self) -> Address {
        self.address
    }

    /// Signs a 32-byte digest (RFC 6979, low s).
    pub fn sign(&self, digest: &B256) -> Sig {
        let sig = SECP256K1.sign_ecdsa_recoverable(Message::from_digest(digest.0), &self.secret);
        let (id, compact) = sig.serialize_compact();
        let mut out = [0u8; 65];
        out[..64].copy_from_slice(&compact);
        out[64] = 27 + i32::from(id) as u8;
        Sig(out)
    }
}

fn address_of(public: &PublicKey) -> Address {
    let uncompressed = public.serialize_uncompressed();
    Address::from_slice(&keccak256(&uncompressed[1..])[12..])
}

/// The address that signed `digest`, or `None` for an invalid or malleable signature.
pub fn recover(digest: &B256, sig: &Sig) -> Option<Address> {
    let s = U256::from_be_slice(&sig.0[32..64]);
    if s > HALF_N {
        return None;
    }
    let v = match sig.0[64] {
        27 | 0 => 0,
        28 | 1 => 1,
        _ => return None,
    };
    let id = RecoveryId::try_from(v).ok()?;
    let rsig = RecoverableSignature::from_compact(&sig.0[..64], id).ok()?;
    let public = SECP256K1.recover_ecdsa(Message::from_digest(digest.0), &rsig).ok()?;
    Some(address_of(&public))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_signer::SignerSync;
    use alloy_signer_local::PrivateKeySigner;

    #[test]
    fn signs_like_alloy_and_recovers() {
        let k = Key::random();
        let alloy = PrivateKeySigner::from_bytes(&k.secret_bytes()).unwrap();
        assert_eq!(alloy.address(), k.address());
        let d = keccak256(b"state");
        let ours = k.sign(&d);
        let theirs = alloy.sign_hash_sync(&d).unwrap().as_bytes();
        assert_eq!(ours.0, theirs, "same deterministic signature");
        assert_eq!(recover(&d, &ours), Some(k.address()));
        assert_ne!(recover(&keccak256(b"other"), &ours), Some(k.address()));
        let mut bad_v = ours;
        bad_v.0[64] = 29;
        assert_eq!(recover(&d, &bad_v), None);
        // The high-s twin of a valid signature is refused.
        let n = U256::from_str_radix(
            "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141",
            16,
        )
        .unwrap();
        let s = U256::from_be_slice(&ours.0[32..64]);
        let mut twin = ours;
        twin.0[32..64].copy_from_slice(&(n - s).to_be_bytes::<32>());
        twin.0[64] = if ours.0[64] == 27 { 28 } else { 27 };
        assert_eq!(recover(&d, &twin), None);
    }
}

/// Creates `path` with `bytes`, readable by its owner only (0600), failing if it exists.
pub fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Refuses a key file that others can read (as ssh refuses such identity files).
pub fn check_private(path: &std::path::Path) -> eyre::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            eyre::bail!(
                "key file {} is accessible by others (mode {mode:o}): run chmod 600 on it",
                path.display()
            );
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(test)]
mod file_tests {
    use super::*;

    #[test]
    fn a_new_key_file_is_private_and_reloads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/hub.key");
        let k = Key::load_or_create(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        assert_eq!(Key::load_or_create(&path).unwrap().address(), k.address());
    }

    #[test]
    fn an_unreadable_or_bad_key_file_is_an_error_and_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the file should be: reading fails with something else than
        // "not found", which must not lead to a new key.
        let path = dir.path().join("hub.key");
        std::fs::create_dir(&path).unwrap();
        assert!(Key::load_or_create(&path).is_err());
        assert!(path.is_dir(), "nothing was written in its place");
        // Garbage in a private file: an error, the file untouched.
        let bad = dir.path().join("bad.key");
        write_private(&bad, b"not a key\n").unwrap();
        assert!(Key::load_or_create(&bad).unwrap_err().to_string().contains("does not hold a key"));
        assert_eq!(std::fs::read(&bad).unwrap(), b"not a key\n");
        // A key others can read is refused.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let open = dir.path().join("open.key");
            std::fs::write(&open, format!("{}\n", Key::random().secret_bytes())).unwrap();
            std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(Key::load_or_create(&open).unwrap_err().to_string().contains("chmod 600"));
        }
    }
}
