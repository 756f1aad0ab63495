//! The durable audit trail: one S3 object per remediation (apply or plan, whatever its
//! outcome), written by the host before it answers, so the record outlives the Service
//! account's logs. The Security account template's bucket keeps every version under
//! Object Lock.
//!
//! Keys: `PREFIX/<account>/<control>/<recorded-at>-<finding>.json`, where `<finding>` is
//! the first 16 hex digits of the sha256 of the finding's id: listing by account, by
//! account and control, and from a date needs no index.

use aws_sdk_s3::error::DisplayErrorContext;
use aws_smithy_types::date_time::Format;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::Error;
use crate::message::Identifier;
use crate::s3::S3Url;

/// One remediation, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// When the host recorded it (RFC 3339, UTC, milliseconds).
    pub recorded_at: String,
    /// The finding's key in Security Hub.
    pub finding: Identifier,
    /// The finding's account.
    pub account: String,
    /// The control.
    pub control: String,
    /// The host's audit record ([`hubfix_host::Outcome`]): plugin name, version and
    /// digest, mode, status, every call with its inputs and result, logs, duration.
    pub outcome: Value,
}

/// What `hubfix history` lists.
#[derive(Debug, Clone, Default)]
pub struct HistoryFilter {
    /// Only this account.
    pub account: Option<String>,
    /// Only this control (with or without an account).
    pub control: Option<String>,
    /// Only records from this date or time on (`2026-12-01` or RFC 3339).
    pub since: Option<String>,
    /// At most this many records, the newest.
    pub limit: usize,
}

/// The audit trail under an `s3://BUCKET/PREFIX` location.
#[derive(Debug, Clone)]
pub struct AuditTrail {
    s3: aws_sdk_s3::Client,
    at: S3Url,
}

impl AuditTrail {
    /// The trail at `at`.
    pub fn new(s3: aws_sdk_s3::Client, at: S3Url) -> Self {
        Self { s3, at }
    }

    /// Where `record` is stored.
    pub fn key(&self, record: &AuditRecord) -> String {
        let finding = hubfix_contract::sha256_hex(record.finding.id.as_bytes());
        format!(
            "{}{}/{}/{}-{}.json",
            self.at.prefix,
            record.account,
            record.control,
            record.recorded_at,
            &finding[..16]
        )
    }

    /// A record of `outcome` for `finding`, stamped now.
    pub fn record(
        finding: Identifier,
        account: &str,
        control: &str,
        outcome: Value,
    ) -> AuditRecord {
        AuditRecord {
            recorded_at: aws_smithy_types::DateTime::from(std::time::SystemTime::now())
                .fmt(Format::DateTime)
                .unwrap_or_default(),
            finding,
            account: account.to_owned(),
            control: control.to_owned(),
            outcome,
        }
    }

    /// Stores `record` (never overwriting one); returns its URL.
    pub async fn put(&self, record: &AuditRecord) -> Result<String, Error> {
        let key = self.key(record);
        let body = serde_json::to_vec_pretty(record).map_err(Error::internal)?;
        Box::pin(
            self.s3
                .put_object()
                .bucket(&self.at.bucket)
                .key(&key)
                .content_type("application/json")
                .if_none_match("*")
                .body(body.into())
                .send(),
        )
        .await
        .map_err(|e| {
            Error::internal(format!(
                "the audit record was not stored at s3://{}/{key}: {}",
                self.at.bucket,
                DisplayErrorContext(&e)
            ))
        })?;
        Ok(format!("s3://{}/{key}", self.at.bucket))
    }

    /// The records `filter` selects, newest first.
    pub async fn list(&self, filter: &HistoryFilter) -> Result<Vec<AuditRecord>, Error> {
        let mut prefix = self.at.prefix.clone();
        if let Some(account) = &filter.account {
            prefix.push_str(account);
            prefix.push('/');
            if let Some(control) = &filter.control {
                prefix.push_str(control);
                prefix.push('/');
            }
        }
        let mut keys = Vec::new();
        let mut pages = self
            .s3
            .list_objects_v2()
            .bucket(&self.at.bucket)
            .prefix(&prefix)
            .into_paginator()
            .send();
        // The SDK's futures are large in debug builds: boxed, so this one's frame stays
        // small wherever it is polled.
        while let Some(page) = Box::pin(pages.next()).await {
            let page = page.map_err(|e| {
                Error::internal(format!(
                    "ListObjectsV2 {prefix}: {}",
                    DisplayErrorContext(&e)
                ))
            })?;
            for object in page.contents() {
                let Some(key) = object.key() else { continue };
                // <account>/<control>/<recorded-at>-<finding>.json under the prefix.
                let parts: Vec<&str> = key[self.at.prefix.len()..].split('/').collect();
                let [_, control, file] = parts.as_slice() else {
                    continue;
                };
                if filter.control.as_deref().is_some_and(|c| c != *control) {
                    continue;
                }
                let recorded_at = file.rsplit_once('-').map_or(*file, |(at, _)| at);
                if filter
                    .since
                    .as_deref()
                    .is_some_and(|since| recorded_at < since)
                {
                    continue;
                }
                keys.push((recorded_at.to_owned(), key.to_owned()));
            }
        }
        keys.sort_by(|a, b| b.0.cmp(&a.0));
        keys.truncate(filter.limit.max(1));
        let mut records = Vec::with_capacity(keys.len());
        for (_, key) in keys {
            let object = Box::pin(
                self.s3
                    .get_object()
                    .bucket(&self.at.bucket)
                    .key(&key)
                    .send(),
            )
            .await
            .map_err(|e| {
                Error::internal(format!("GetObject {key}: {}", DisplayErrorContext(&e)))
            })?;
            let bytes = Box::pin(object.body.collect())
                .await
                .map_err(|e| Error::internal(format!("GetObject {key}: {e}")))?
                .into_bytes();
            records.push(
                serde_json::from_slice(&bytes)
                    .map_err(|e| Error::internal(format!("{key} is not an audit record: {e}")))?,
            );
        }
        Ok(records)
    }
}
