//! The plugin registry in S3.
//!
//! Layout under one bucket and a configurable prefix:
//!
//! - `{prefix}plugins/{name}/{version}.wasm` — each published version, stored once and
//!   never overwritten (the object carries its sha256 as `x-amz-meta-sha256`);
//! - `{prefix}index.json` — the [`Index`]: for each plugin the active version, its digest
//!   and key, and the versions active before it.
//!
//! Publishing uploads the component first and writes the index second, so the index never
//! points at bytes that are not there. Switching versions and rolling back are one write
//! of the index, conditional on the ETag read (`If-Match`; `If-None-Match: *` for the
//! first), re-read and re-applied when another writer came first, so concurrent publishes
//! never lose one. Readers fetch the index with a conditional GET (ETag) and the bytes by
//! key, hashing while they read.
//!
//! ```no_run
//! # async fn demo(s3: aws_sdk_s3::Client, bytes: Vec<u8>) -> Result<(), hubfix_registry::RegistryError> {
//! use hubfix_registry::{Publish, Registry};
//! let registry = Registry::new(s3, "hubfix-plugins", "prod/");
//! let report = registry
//!     .publish(&Publish { name: "ec2-ebs-default-encryption", version: "0.1.0",
//!                         bytes: &bytes, controls: vec!["EC2.7".into()], imports: vec![], signature: None },
//!              false)
//!     .await?;
//! println!("{report:?}");
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod index;
#[cfg(test)]
mod mock_tests;
pub mod signature;

use std::time::SystemTime;

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::operation::head_object::HeadObjectError;
use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_types::date_time::Format;
use sha2::{Digest, Sha256};

pub use index::{Entry, FORMAT, Index, IndexError, Pinned};

/// How often an index update is tried when other writers keep changing the index.
const INDEX_ATTEMPTS: u32 = 16;

/// Why a registry operation failed.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// Publishing different bytes under a name and version that already exist.
    #[error(
        "{name} {version} is already published with sha256 {existing}; published versions are immutable (new bytes have sha256 {new}): bump the version"
    )]
    Immutable {
        /// Plugin name.
        name: String,
        /// Plugin version.
        version: String,
        /// Digest of the stored bytes.
        existing: String,
        /// Digest of the bytes offered.
        new: String,
    },
    /// The stored bytes do not hash to the pinned digest.
    #[error(
        "plugin integrity check failed for s3 key {key}: expected sha256 {expected}, got {actual}"
    )]
    Integrity {
        /// The object's key.
        key: String,
        /// The pinned digest.
        expected: String,
        /// The digest of the bytes read.
        actual: String,
    },
    /// The index names no such plugin, or has no earlier version.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// An object the index points at is missing.
    #[error("s3 object {key} is missing")]
    MissingObject {
        /// The key.
        key: String,
    },
    /// The index object is not valid.
    #[error("the registry index {key} is invalid: {message}")]
    CorruptIndex {
        /// The key.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// Other writers changed the index every time this one tried to update it.
    #[error(
        "the registry index {key} changed under every one of {attempts} attempts to update it; try again"
    )]
    Contended {
        /// The index object's key.
        key: String,
        /// How often it was tried.
        attempts: u32,
    },
    /// S3 could not be reached, throttled, or failed; worth retrying later.
    #[error("s3 unavailable ({operation} {key}): {message}")]
    Unavailable {
        /// The S3 operation.
        operation: &'static str,
        /// The key.
        key: String,
        /// What the SDK said.
        message: String,
    },
}

impl RegistryError {
    /// Whether trying again later may succeed (S3 unreachable or throttled).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            RegistryError::Unavailable { .. } | RegistryError::Contended { .. }
        )
    }
}

/// One plugin version to publish.
#[derive(Debug, Clone)]
pub struct Publish<'a> {
    /// Plugin name (from its `describe()`).
    pub name: &'a str,
    /// Plugin version (from its `describe()`).
    pub version: &'a str,
    /// The component bytes.
    pub bytes: &'a [u8],
    /// Controls it handles.
    pub controls: Vec<String>,
    /// Host functions it imports.
    pub imports: Vec<String>,
    /// Its signature ([`signature`]), stored beside the component when given.
    pub signature: Option<signature::SignatureFile>,
}

/// What a publish did (or, in a dry run, would do).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PublishReport {
    /// Plugin name.
    pub name: String,
    /// Plugin version.
    pub version: String,
    /// sha256 of the bytes.
    pub sha256: String,
    /// The component's key.
    pub key: String,
    /// Whether the component object was (or would be) uploaded; false when the same bytes
    /// were already there.
    pub uploaded: bool,
    /// The version active before, if any.
    pub previous: Option<String>,
    /// Whether the index was (or would be) changed.
    pub index_changed: bool,
    /// True for a dry run: nothing was written.
    pub dry_run: bool,
    /// The id of the key that signed it, when it was signed.
    pub signed_by: Option<String>,
}

/// The result of a conditional index read.
#[derive(Debug)]
pub enum IndexRead {
    /// The index has not changed since the ETag given.
    NotModified,
    /// The index (empty when the object does not exist yet) and its ETag.
    Current {
        /// The index.
        index: Index,
        /// Its ETag, for the next conditional read; `None` when it does not exist.
        etag: Option<String>,
    },
}

/// A registry: one bucket and a key prefix.
#[derive(Debug, Clone)]
pub struct Registry {
    s3: aws_sdk_s3::Client,
    bucket: String,
    prefix: String,
}

pub use hubfix_contract::sha256_hex;

fn now() -> String {
    aws_smithy_types::DateTime::from(SystemTime::now())
        .fmt(Format::DateTime)
        .unwrap_or_default()
}

impl Registry {
    /// A registry in `bucket` under `prefix` (e.g. `""` or `"prod/"`; a missing trailing
    /// slash is added).
    pub fn new(
        s3: aws_sdk_s3::Client,
        bucket: impl Into<String>,
        prefix: impl Into<String>,
    ) -> Self {
        let mut prefix = prefix.into();
        if !prefix.is_empty() && !prefix.ends_with('/') {
            prefix.push('/');
        }
        Self {
            s3,
            bucket: bucket.into(),
            prefix,
        }
    }

    /// The bucket.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The index object's key.
    pub fn index_key(&self) -> String {
        format!("{}index.json", self.prefix)
    }

    /// The key of one plugin version.
    pub fn plugin_key(&self, name: &str, version: &str) -> String {
        format!("{}plugins/{name}/{version}.wasm", self.prefix)
    }

    /// The key of a component's signature object: beside the component.
    pub fn signature_key(component_key: &str) -> String {
        format!("{component_key}.sig")
    }

    /// The signature object of a pinned component (at most
    /// [`signature::MAX_SIGNATURE_FILE`] + 1 bytes are read, so an oversized one shows),
    /// or `None` when there is none.
    pub async fn fetch_signature(&self, pinned: &Pinned) -> Result<Option<Vec<u8>>, RegistryError> {
        let key = Self::signature_key(&pinned.key);
        let out = match self
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(&key)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if no_such_key(&e) => return Ok(None),
            Err(e) => return Err(unavailable("GetObject", &key, e)),
        };
        let mut bytes = Vec::new();
        let mut body = out.body;
        while let Some(chunk) = body.try_next().await.map_err(|e| read_failed(&key, e))? {
            bytes.extend_from_slice(&chunk);
            if bytes.len() > signature::MAX_SIGNATURE_FILE {
                bytes.truncate(signature::MAX_SIGNATURE_FILE + 1);
                break;
            }
        }
        Ok(Some(bytes))
    }

    /// Reads the index; with `etag`, only if it changed since (a conditional GET).
    pub async fn read_index(&self, etag: Option<&str>) -> Result<IndexRead, RegistryError> {
        let key = self.index_key();
        let result = self
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(&key)
            .set_if_none_match(etag.map(str::to_owned))
            .send()
            .await;
        let out = match result {
            Ok(out) => out,
            Err(e) if status_of(&e) == Some(304) => return Ok(IndexRead::NotModified),
            Err(e) if no_such_key(&e) => {
                return Ok(IndexRead::Current {
                    index: Index::default(),
                    etag: None,
                });
            }
            Err(e) => return Err(unavailable("GetObject", &key, e)),
        };
        let etag = out.e_tag.clone();
        let body = out
            .body
            .collect()
            .await
            .map_err(|e| read_failed(&key, e))?
            .into_bytes();
        let index: Index =
            serde_json::from_slice(&body).map_err(|e| RegistryError::CorruptIndex {
                key: key.clone(),
                message: e.to_string(),
            })?;
        if index.format != FORMAT {
            return Err(RegistryError::CorruptIndex {
                key,
                message: format!("format {} is not {FORMAT}", index.format),
            });
        }
        Ok(IndexRead::Current { index, etag })
    }

    /// Reads the current index (unconditionally).
    pub async fn index(&self) -> Result<(Index, Option<String>), RegistryError> {
        match self.read_index(None).await? {
            IndexRead::Current { index, etag } => Ok((index, etag)),
            // Unreachable without an ETag, but harmless: treat as empty.
            IndexRead::NotModified => Ok((Index::default(), None)),
        }
    }

    /// Reads the index, applies `change`, and writes the result back only if nobody wrote
    /// the index in between: `If-Match` on the ETag it read (`If-None-Match: *` when there
    /// was no index yet). When another writer won, it reads again and re-applies `change`,
    /// so two concurrent publishes never lose one. `change` says whether it changed the
    /// index (nothing is written otherwise) and what to return.
    async fn update_index<T>(
        &self,
        mut change: impl FnMut(&mut Index) -> Result<(bool, T), RegistryError>,
    ) -> Result<T, RegistryError> {
        let key = self.index_key();
        for _ in 0..INDEX_ATTEMPTS {
            let (mut index, etag) = self.index().await?;
            let (changed, result) = change(&mut index)?;
            if !changed {
                return Ok(result);
            }
            let body =
                serde_json::to_vec_pretty(&index).map_err(|e| RegistryError::CorruptIndex {
                    key: key.clone(),
                    message: e.to_string(),
                })?;
            let put = self
                .s3
                .put_object()
                .bucket(&self.bucket)
                .key(&key)
                .content_type("application/json")
                .body(ByteStream::from(body));
            let put = match &etag {
                Some(etag) => put.if_match(etag),
                None => put.if_none_match("*"),
            };
            match put.send().await {
                Ok(_) => return Ok(result),
                // 412: the index changed since it was read; 409: a concurrent conditional
                // write is in progress. Either way: read again.
                Err(e) if matches!(status_of(&e), Some(409 | 412)) => {
                    tracing::info!(
                        key,
                        "the registry index changed while updating it; retrying"
                    );
                }
                Err(e) => return Err(unavailable("PutObject", &key, e)),
            }
        }
        Err(RegistryError::Contended {
            key,
            attempts: INDEX_ATTEMPTS,
        })
    }

    /// Fetches a plugin's bytes by key, hashing while reading; refuses them unless they
    /// hash to `expected_sha256`.
    pub async fn fetch(&self, pinned: &Pinned) -> Result<Vec<u8>, RegistryError> {
        let key = &pinned.key;
        let out = self
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| {
                if no_such_key(&e) {
                    RegistryError::MissingObject { key: key.clone() }
                } else {
                    unavailable("GetObject", key, e)
                }
            })?;
        let mut hasher = Sha256::new();
        let mut bytes = Vec::with_capacity(out.content_length.unwrap_or(0).max(0) as usize);
        let mut body = out.body;
        while let Some(chunk) = body.try_next().await.map_err(|e| read_failed(key, e))? {
            hasher.update(&chunk);
            bytes.extend_from_slice(&chunk);
        }
        let actual = hex::encode(hasher.finalize());
        if !actual.eq_ignore_ascii_case(&pinned.sha256) {
            return Err(RegistryError::Integrity {
                key: key.clone(),
                expected: pinned.sha256.clone(),
                actual,
            });
        }
        Ok(bytes)
    }

    /// The sha256 recorded on a stored plugin object, or `None` when there is no object.
    async fn stored_digest(&self, key: &str) -> Result<Option<String>, RegistryError> {
        match self
            .s3
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => Ok(Some(
                out.metadata
                    .and_then(|m| m.get("sha256").cloned())
                    .unwrap_or_default(),
            )),
            Err(e)
                if e.as_service_error()
                    .is_some_and(HeadObjectError::is_not_found)
                    || is_missing(&e) =>
            {
                Ok(None)
            }
            Err(e) => Err(unavailable("HeadObject", key, e)),
        }
    }

    /// Publishes a plugin version and makes it active: uploads the component (unless the
    /// same bytes are already stored under that name and version; different bytes are
    /// refused), then writes the index. With `dry_run`, reads only and reports what
    /// would change.
    pub async fn publish(
        &self,
        p: &Publish<'_>,
        dry_run: bool,
    ) -> Result<PublishReport, RegistryError> {
        let sha256 = sha256_hex(p.bytes);
        let key = self.plugin_key(p.name, p.version);
        let uploaded = match self.stored_digest(&key).await? {
            Some(existing) if existing == sha256 => false,
            Some(existing) => {
                return Err(RegistryError::Immutable {
                    name: p.name.to_owned(),
                    version: p.version.to_owned(),
                    existing,
                    new: sha256,
                });
            }
            None => true,
        };
        let pinned = Pinned {
            version: p.version.to_owned(),
            sha256: sha256.clone(),
            key: key.clone(),
        };
        let activate = |index: &mut Index| {
            let previous = index.plugins.get(p.name).map(|e| e.active.version.clone());
            let changed = index.activate(
                p.name,
                pinned.clone(),
                p.controls.clone(),
                p.imports.clone(),
                now(),
            );
            Ok((changed, (previous, changed)))
        };
        let (previous, index_changed) = if dry_run {
            activate(&mut self.index().await?.0)?.1
        } else {
            if uploaded {
                self.s3
                    .put_object()
                    .bucket(&self.bucket)
                    .key(&key)
                    .content_type("application/wasm")
                    .metadata("sha256", &sha256)
                    // Never overwrite: a concurrent publish of the same version loses.
                    .if_none_match("*")
                    .body(ByteStream::from(p.bytes.to_vec()))
                    .send()
                    .await
                    .map_err(|e| unavailable("PutObject", &key, e))?;
            }
            // The signature before the index: a host that checks signatures never sees
            // the new version without one.
            if let Some(signature) = &p.signature {
                let sig_key = Self::signature_key(&key);
                // Plain strings: serializing cannot fail.
                let body = serde_json::to_vec(signature).unwrap_or_default();
                self.s3
                    .put_object()
                    .bucket(&self.bucket)
                    .key(&sig_key)
                    .content_type("application/json")
                    .body(ByteStream::from(body))
                    .send()
                    .await
                    .map_err(|e| unavailable("PutObject", &sig_key, e))?;
            }
            self.update_index(activate).await?
        };
        Ok(PublishReport {
            name: p.name.to_owned(),
            version: p.version.to_owned(),
            sha256,
            key,
            uploaded,
            previous,
            index_changed,
            dry_run,
            signed_by: p.signature.as_ref().map(|s| s.key_id.clone()),
        })
    }

    /// Makes the previously active version of `name` active again.
    pub async fn rollback(&self, name: &str) -> Result<Pinned, RegistryError> {
        self.update_index(|index| Ok((true, index.rollback(name, now())?)))
            .await
    }
}

type S3Error<E> = SdkError<E, HttpResponse>;

/// A body that broke off while being read.
fn read_failed(key: &str, e: impl std::fmt::Display) -> RegistryError {
    RegistryError::Unavailable {
        operation: "GetObject",
        key: key.to_owned(),
        message: e.to_string(),
    }
}

fn status_of<E>(e: &S3Error<E>) -> Option<u16> {
    e.raw_response().map(|r| r.status().as_u16())
}

fn is_missing<E: ProvideErrorMetadata>(e: &S3Error<E>) -> bool {
    matches!(e.code(), Some("NoSuchKey" | "NotFound" | "NoSuchBucket")) || status_of(e) == Some(404)
}

fn no_such_key(e: &S3Error<GetObjectError>) -> bool {
    e.as_service_error()
        .is_some_and(GetObjectError::is_no_such_key)
        || is_missing(e)
}

fn unavailable<E>(operation: &'static str, key: &str, e: S3Error<E>) -> RegistryError
where
    E: std::error::Error + Send + Sync + 'static,
{
    RegistryError::Unavailable {
        operation,
        key: key.to_owned(),
        message: aws_smithy_types::error::display::DisplayErrorContext(&e).to_string(),
    }
}
