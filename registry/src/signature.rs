//! Signed plugins: an ECDSA P-256 / SHA-256 signature over a plugin's name, version and
//! digest, stored beside the component as `<component key>.sig`. A host that trusts
//! public keys runs only components signed by one of them, so write access to the
//! registry bucket alone cannot get code run.
//!
//! The signature covers [`signed_message`]: binding the name and version means a
//! signature of one plugin cannot vouch for another's index entry.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair,
    UnparsedPublicKey,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

/// The only algorithm: ECDSA over P-256 with SHA-256, DER-encoded signatures (what AWS KMS
/// calls `ECDSA_SHA_256` on an `ECC_NIST_P256` key).
pub const ALGORITHM: &str = "ECDSA_P256_SHA256";

/// Longest signature object the host reads, in bytes.
pub const MAX_SIGNATURE_FILE: usize = 4096;

/// What a plugin signature covers.
pub fn signed_message(name: &str, version: &str, sha256: &str) -> Vec<u8> {
    format!(
        "hubfix-plugin-signature/1\n{name}\n{version}\n{}\n",
        sha256.to_ascii_lowercase()
    )
    .into_bytes()
}

/// The signature object (`<component key>.sig`, JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureFile {
    /// Always [`ALGORITHM`].
    pub algorithm: String,
    /// The signing key's id ([`key_id`]).
    pub key_id: String,
    /// The DER signature, base64.
    pub signature: String,
}

/// Why a signature or key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// A key (PEM) could not be read.
    #[error("not a usable key: {0}")]
    Key(String),
    /// The signature object is malformed.
    #[error("malformed plugin signature: {0}")]
    Malformed(String),
    /// No trusted key has the signature's key id.
    #[error("plugin `{name}` {version} is signed by key {key_id}, which is not trusted")]
    UntrustedKey {
        /// The plugin.
        name: String,
        /// Its version.
        version: String,
        /// The key id the signature names (bounded).
        key_id: String,
    },
    /// The signature does not verify.
    #[error("plugin `{name}` {version}: the signature does not match its name, version and digest")]
    Invalid {
        /// The plugin.
        name: String,
        /// Its version.
        version: String,
    },
}

/// A key's id: the first 16 hex digits of the sha256 of its `SubjectPublicKeyInfo` DER.
pub fn key_id(spki_der: &[u8]) -> String {
    hubfix_contract::sha256_hex(spki_der)[..16].to_owned()
}

/// The DER bodies of the PEM blocks labelled `label` in `text`.
fn pem_blocks(text: &str, label: &str) -> Result<Vec<Vec<u8>>, SignatureError> {
    let (begin, end) = (
        format!("-----BEGIN {label}-----"),
        format!("-----END {label}-----"),
    );
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(&begin) {
        let after = &rest[start + begin.len()..];
        let stop = after
            .find(&end)
            .ok_or_else(|| SignatureError::Key(format!("`{begin}` without `{end}`")))?;
        let body: String = after[..stop].split_whitespace().collect();
        blocks.push(
            STANDARD
                .decode(body)
                .map_err(|e| SignatureError::Key(format!("{label}: {e}")))?,
        );
        rest = &after[stop + end.len()..];
    }
    Ok(blocks)
}

/// The public keys a host trusts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedKeys {
    /// (key id, SubjectPublicKeyInfo DER).
    keys: Vec<(String, Vec<u8>)>,
}

impl TrustedKeys {
    /// Every `PUBLIC KEY` PEM block in `text` (as `openssl ec -pubout` or
    /// `aws kms get-public-key` write them); each must be a P-256 key.
    pub fn from_pem(text: &str) -> Result<Self, SignatureError> {
        let mut keys = Vec::new();
        for der in pem_blocks(text, "PUBLIC KEY")? {
            // Parsing checks the point is on P-256.
            UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &der)
                .parse()
                .map_err(|e| SignatureError::Key(format!("not a P-256 public key: {e}")))?;
            keys.push((key_id(&der), der));
        }
        if keys.is_empty() {
            return Err(SignatureError::Key("no `PUBLIC KEY` PEM block".into()));
        }
        Ok(Self { keys })
    }

    /// The trusted keys' ids.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|(id, _)| id.as_str())
    }

    /// Checks `signature` (the bytes of a signature object) over plugin `name` `version`
    /// with digest `sha256`; returns the id of the key that signed it.
    pub fn verify(
        &self,
        name: &str,
        version: &str,
        sha256: &str,
        signature: &[u8],
    ) -> Result<String, SignatureError> {
        if signature.len() > MAX_SIGNATURE_FILE {
            return Err(SignatureError::Malformed(format!(
                "{} bytes, more than {MAX_SIGNATURE_FILE}",
                signature.len()
            )));
        }
        let file: SignatureFile = serde_json::from_slice(signature)
            .map_err(|e| SignatureError::Malformed(e.to_string()))?;
        if file.algorithm != ALGORITHM {
            return Err(SignatureError::Malformed(format!(
                "algorithm `{}`, not {ALGORITHM}",
                hubfix_contract::bounded_text(&file.algorithm, 32)
            )));
        }
        let Some((id, der)) = self.keys.iter().find(|(id, _)| *id == file.key_id) else {
            return Err(SignatureError::UntrustedKey {
                name: name.to_owned(),
                version: version.to_owned(),
                key_id: hubfix_contract::bounded_text(&file.key_id, 32),
            });
        };
        let bytes = STANDARD
            .decode(&file.signature)
            .map_err(|e| SignatureError::Malformed(format!("signature: {e}")))?;
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, der)
            .verify(&signed_message(name, version, sha256), &bytes)
            .map_err(|_| SignatureError::Invalid {
                name: name.to_owned(),
                version: version.to_owned(),
            })?;
        Ok(id.clone())
    }
}

/// The future of a [`PluginSigner::sign`].
pub type SignFuture<'a> = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<SignatureFile, SignatureError>> + Send + 'a>,
>;

/// What signs plugins at publish time: a local key ([`LocalSigner`]) or a key held
/// elsewhere (the CLI's AWS KMS signer).
pub trait PluginSigner: Send + Sync {
    /// The signing key's id ([`key_id`] of its public key).
    fn key_id(&self) -> &str;

    /// Signs plugin `name` `version` with digest `sha256` ([`signed_message`]).
    fn sign<'a>(&'a self, name: &'a str, version: &'a str, sha256: &'a str) -> SignFuture<'a>;
}

/// A signature file for a DER `signature` made by the key with SubjectPublicKeyInfo
/// `spki_der`.
pub fn signature_file(spki_der: &[u8], signature: &[u8]) -> SignatureFile {
    SignatureFile {
        algorithm: ALGORITHM.into(),
        key_id: key_id(spki_der),
        signature: STANDARD.encode(signature),
    }
}

/// A public key as a `PUBLIC KEY` PEM, from its SubjectPublicKeyInfo DER (what AWS KMS
/// `GetPublicKey` returns); refused unless it is a P-256 key.
pub fn public_key_pem(spki_der: &[u8]) -> Result<String, SignatureError> {
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, spki_der)
        .parse()
        .map_err(|e| SignatureError::Key(format!("not a P-256 public key: {e}")))?;
    Ok(pem("PUBLIC KEY", spki_der))
}

impl PluginSigner for LocalSigner {
    fn key_id(&self) -> &str {
        &self.key_id
    }

    fn sign<'a>(&'a self, name: &'a str, version: &'a str, sha256: &'a str) -> SignFuture<'a> {
        Box::pin(async move { LocalSigner::sign(self, name, version, sha256) })
    }
}

/// A local signing key (a PKCS#8 `PRIVATE KEY` PEM, P-256: `openssl genpkey -algorithm EC
/// -pkeyopt ec_paramgen_curve:P-256`).
pub struct LocalSigner {
    key: EcdsaKeyPair,
    key_id: String,
}

impl LocalSigner {
    /// Reads the key.
    pub fn from_pem(text: &str) -> Result<Self, SignatureError> {
        let der = pem_blocks(text, "PRIVATE KEY")?
            .into_iter()
            .next()
            .ok_or_else(|| SignatureError::Key("no PKCS#8 `PRIVATE KEY` PEM block".into()))?;
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &der)
            .map_err(|e| SignatureError::Key(format!("not a PKCS#8 P-256 private key: {e}")))?;
        let key_id = key_id(&spki_der(&key)?);
        Ok(Self { key, key_id })
    }

    /// A new random key, as PKCS#8 PEM (what `hubfix keygen` writes).
    pub fn generate_pem() -> Result<String, SignatureError> {
        let doc =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &SystemRandom::new())
                .map_err(|e| SignatureError::Key(e.to_string()))?;
        Ok(pem("PRIVATE KEY", doc.as_ref()))
    }

    /// Its public key, as a `PUBLIC KEY` PEM for hosts to trust.
    pub fn public_pem(&self) -> Result<String, SignatureError> {
        Ok(pem("PUBLIC KEY", &spki_der(&self.key)?))
    }

    /// Its key id.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Signs plugin `name` `version` with digest `sha256`.
    pub fn sign(
        &self,
        name: &str,
        version: &str,
        sha256: &str,
    ) -> Result<SignatureFile, SignatureError> {
        let signature = self
            .key
            .sign(&SystemRandom::new(), &signed_message(name, version, sha256))
            .map_err(|e| SignatureError::Key(e.to_string()))?;
        Ok(SignatureFile {
            algorithm: ALGORITHM.into(),
            key_id: self.key_id.clone(),
            signature: STANDARD.encode(signature.as_ref()),
        })
    }
}

fn spki_der(key: &EcdsaKeyPair) -> Result<Vec<u8>, SignatureError> {
    use aws_lc_rs::encoding::AsDer;
    key.public_key()
        .as_der()
        .map(|der| der.as_ref().to_vec())
        .map_err(|e| SignatureError::Key(e.to_string()))
}

fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "aa11";

    fn signer() -> LocalSigner {
        LocalSigner::from_pem(&LocalSigner::generate_pem().unwrap()).unwrap()
    }

    #[test]
    fn a_signature_verifies_only_for_its_name_version_and_digest_and_key() {
        let signer = signer();
        let trusted = TrustedKeys::from_pem(&signer.public_pem().unwrap()).unwrap();
        assert_eq!(trusted.ids().collect::<Vec<_>>(), [signer.key_id()]);
        let file = signer.sign("p", "0.1.0", DIGEST).unwrap();
        let bytes = serde_json::to_vec(&file).unwrap();
        assert_eq!(
            trusted.verify("p", "0.1.0", DIGEST, &bytes).unwrap(),
            signer.key_id()
        );
        // Another plugin, version or digest: refused.
        for (n, v, d) in [
            ("q", "0.1.0", DIGEST),
            ("p", "0.2.0", DIGEST),
            ("p", "0.1.0", "bb22"),
        ] {
            assert!(
                matches!(
                    trusted.verify(n, v, d, &bytes),
                    Err(SignatureError::Invalid { .. })
                ),
                "{n} {v} {d}"
            );
        }
        // Another key, even claiming the trusted key's id: refused.
        let other = signer_claiming(signer.key_id());
        let forged = serde_json::to_vec(&other).unwrap();
        assert!(matches!(
            trusted.verify("p", "0.1.0", DIGEST, &forged),
            Err(SignatureError::Invalid { .. })
        ));
        let unknown =
            serde_json::to_vec(&self::signer().sign("p", "0.1.0", DIGEST).unwrap()).unwrap();
        assert!(matches!(
            trusted.verify("p", "0.1.0", DIGEST, &unknown),
            Err(SignatureError::UntrustedKey { .. })
        ));
        // Garbage and oversized objects: refused, bounded.
        assert!(matches!(
            trusted.verify("p", "0.1.0", DIGEST, b"{not json"),
            Err(SignatureError::Malformed(_))
        ));
        assert!(matches!(
            trusted.verify("p", "0.1.0", DIGEST, &vec![b' '; MAX_SIGNATURE_FILE + 1]),
            Err(SignatureError::Malformed(_))
        ));
    }

    fn signer_claiming(key_id: &str) -> SignatureFile {
        let mut file = signer().sign("p", "0.1.0", DIGEST).unwrap();
        file.key_id = key_id.to_owned();
        file
    }

    #[test]
    fn keys_that_are_not_p256_pem_are_refused() {
        assert!(TrustedKeys::from_pem("").is_err());
        assert!(
            TrustedKeys::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----")
                .is_err()
        );
        assert!(
            LocalSigner::from_pem("-----BEGIN PRIVATE KEY-----\n!!\n-----END PRIVATE KEY-----")
                .is_err()
        );
        // Two keys in one text: both trusted.
        let (a, b) = (signer(), signer());
        let both = format!("{}{}", a.public_pem().unwrap(), b.public_pem().unwrap());
        assert_eq!(TrustedKeys::from_pem(&both).unwrap().ids().count(), 2);
    }
}
