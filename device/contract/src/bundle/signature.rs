//! Bundle signatures: ed25519 over the exact bytes of `manifest.json`, stored in
//! `manifest.sig` as 128 hex digits. Keys travel as 64 hex digits (public keys in board
//! profiles, the 32-byte secret seed in a host key file). The device verifies; the host signs
//! with [`sign_manifest`] and checks its own work with [`verify_manifest`].

use ed25519_dalek::{Signature, Signer, Verifier};
pub use ed25519_dalek::{SigningKey, VerifyingKey};

/// A signature or key was refused.
#[derive(Debug, thiserror::Error)]
pub enum SignatureError {
    #[error("{what}: {problem}")]
    Malformed { what: String, problem: String },
    #[error(
        "manifest.sig does not verify against any of the {0} trusted key(s): the bundle was \
         changed after signing or signed with another key"
    )]
    Untrusted(usize),
    #[error("no trusted keys: give the board profile `trusted_keys` or pass --trusted-key HEX")]
    NoTrustedKeys,
}

fn hex_bytes<const N: usize>(text: &str, what: &str) -> Result<[u8; N], SignatureError> {
    let malformed = |problem: String| SignatureError::Malformed {
        what: what.to_string(),
        problem,
    };
    let bytes = hex::decode(text.trim()).map_err(|e| malformed(format!("not hex: {e}")))?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| malformed(format!("{} bytes, expected {N}", b.len())))
}

/// Parses a hex ed25519 public key; `what` names its source in errors.
pub fn parse_public_key(text: &str, what: &str) -> Result<VerifyingKey, SignatureError> {
    VerifyingKey::from_bytes(&hex_bytes::<32>(text, what)?).map_err(|e| SignatureError::Malformed {
        what: what.to_string(),
        problem: format!("not an ed25519 public key: {e}"),
    })
}

/// Parses a secret key file's text (the hex 32-byte seed).
pub fn parse_secret_key(text: &str, what: &str) -> Result<SigningKey, SignatureError> {
    Ok(SigningKey::from_bytes(&hex_bytes::<32>(text, what)?))
}

/// The text of a secret key file for `key`.
pub fn secret_key_text(key: &SigningKey) -> String {
    format!("{}\n", hex::encode(key.to_bytes()))
}

/// The hex public key of `key`, as board profiles list it.
pub fn public_key_hex(key: &VerifyingKey) -> String {
    hex::encode(key.to_bytes())
}

/// The contents of `manifest.sig` for these manifest bytes.
pub fn sign_manifest(manifest: &[u8], key: &SigningKey) -> String {
    format!("{}\n", hex::encode(key.sign(manifest).to_bytes()))
}

/// Checks `signature` (the text of `manifest.sig`) over `manifest` against every trusted key;
/// returns the index of the key that signed it.
pub fn verify_manifest(
    manifest: &[u8],
    signature: &str,
    trusted: &[VerifyingKey],
) -> Result<usize, SignatureError> {
    if trusted.is_empty() {
        return Err(SignatureError::NoTrustedKeys);
    }
    let signature = Signature::from_bytes(&hex_bytes::<64>(signature, "manifest.sig")?);
    trusted
        .iter()
        .position(|key| key.verify(manifest, &signature).is_ok())
        .ok_or(SignatureError::Untrusted(trusted.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_verifies_and_refuses_changes_and_other_keys() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let other = SigningKey::from_bytes(&[8; 32]);
        let manifest = b"{\"format\": 1}\n";
        let sig = sign_manifest(manifest, &key);
        let public = parse_public_key(&public_key_hex(&key.verifying_key()), "key").unwrap();
        assert_eq!(
            verify_manifest(manifest, &sig, &[other.verifying_key(), public]).unwrap(),
            1
        );
        assert!(matches!(
            verify_manifest(b"{\"format\": 2}\n", &sig, &[public]),
            Err(SignatureError::Untrusted(1))
        ));
        assert!(verify_manifest(manifest, &sig, &[other.verifying_key()]).is_err());
        assert!(matches!(
            verify_manifest(manifest, &sig, &[]),
            Err(SignatureError::NoTrustedKeys)
        ));
        assert!(verify_manifest(manifest, "zz", &[public]).is_err());
        let round = parse_secret_key(&secret_key_text(&key), "k").unwrap();
        assert_eq!(round.to_bytes(), key.to_bytes());
        assert!(
            parse_public_key("abcd", "trusted_keys[0]")
                .unwrap_err()
                .to_string()
                .contains("trusted_keys[0]")
        );
    }
}
