//! The emulator's own control endpoints (`/moto-api/…`, and the project's `/moto-ext/…`):
//! fault injection, request statistics, emitted events. Plain HTTP/1.1 on 127.0.0.1.

use std::io::{Read, Write};
use std::net::TcpStream;

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// The emulator's `host:port`, from `AWS_ENDPOINT_URL`.
fn authority() -> Result<String> {
    let url = std::env::var("AWS_ENDPOINT_URL").context("AWS_ENDPOINT_URL is not set")?;
    let rest = url
        .strip_prefix("http://")
        .with_context(|| format!("the emulator endpoint is not http://: {url}"))?;
    Ok(rest.trim_end_matches('/').to_owned())
}

/// One request to the emulator's control API; returns the JSON answer (`null` when empty).
pub fn control(method: &str, path: &str, body: Option<&Value>) -> Result<Value> {
    let authority = authority()?;
    let mut stream =
        TcpStream::connect(&authority).with_context(|| format!("connect to {authority}"))?;
    let body = body.map(Value::to_string).unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, payload) = response
        .split_once("\r\n\r\n")
        .context("no HTTP header end")?;
    let status = head.split_whitespace().nth(1).unwrap_or("");
    if !status.starts_with('2') {
        bail!("{method} {path}: HTTP {status}: {payload}");
    }
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        bail!("{method} {path}: chunked answers are not expected");
    }
    if payload.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(payload).with_context(|| format!("{method} {path}: not JSON: {payload}"))
}

/// Makes every `every`-th Security Hub `BatchUpdateFindings` fail with HTTP 429
/// `TooManyRequestsException`, until [`clear_faults`].
pub fn throttle_batch_update_findings(every: u32) -> Result<()> {
    control(
        "POST",
        "/moto-ext/faults",
        Some(&serde_json::json!({
            "service": "securityhub",
            "match": "PATCH /findings/batchupdate",
            "every": every,
            "status": 429,
            "code": "TooManyRequestsException",
            "message": "Rate exceeded",
        })),
    )?;
    Ok(())
}

/// Removes every injected fault.
pub fn clear_faults() -> Result<()> {
    control("DELETE", "/moto-ext/faults", None)?;
    Ok(())
}

/// Forgets the request statistics.
pub fn clear_requests() -> Result<()> {
    control("DELETE", "/moto-ext/requests", None)?;
    Ok(())
}

/// How many `BatchUpdateFindings` requests the emulator answered with `status`.
pub fn batch_update_calls(status: u16) -> Result<u64> {
    let stats = control("GET", "/moto-ext/requests", None)?;
    Ok(stats
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(key, _)| key.contains("/findings/batchupdate"))
        .filter_map(|(_, by_status)| by_status.get(status.to_string()))
        .filter_map(Value::as_u64)
        .sum())
}
