//! `s3://BUCKET/PREFIX` locations, and the S3 client the pipeline's Lambdas share.

use std::fmt;
use std::str::FromStr;

/// A place in S3: a bucket and a key prefix (empty, or ending with `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Url {
    /// The bucket.
    pub bucket: String,
    /// The key prefix: empty, or ending with `/`.
    pub prefix: String,
}

/// Why a text is not an `s3://BUCKET[/PREFIX]` URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected s3://BUCKET[/PREFIX], got `{0}`")]
pub struct InvalidS3Url(pub String);

impl FromStr for S3Url {
    type Err = InvalidS3Url;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let rest = text
            .strip_prefix("s3://")
            .ok_or_else(|| InvalidS3Url(text.to_owned()))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(InvalidS3Url(text.to_owned()));
        }
        let mut prefix = prefix.to_owned();
        if !prefix.is_empty() && !prefix.ends_with('/') {
            prefix.push('/');
        }
        Ok(Self {
            bucket: bucket.to_owned(),
            prefix,
        })
    }
}

impl fmt::Display for S3Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)
    }
}

/// An S3 client from the environment's configuration, with path-style addressing when
/// `HUBFIX_S3_PATH_STYLE` is `1` or `true` (S3-compatible endpoints such as the local
/// emulator).
#[cfg(any(feature = "router", feature = "host"))]
pub fn client(aws: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    let path_style = std::env::var("HUBFIX_S3_PATH_STYLE")
        .is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"));
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(aws)
            .force_path_style(path_style)
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bucket_and_prefix() {
        let url: S3Url = "s3://b/policy".parse().unwrap();
        assert_eq!(url.bucket, "b");
        assert_eq!(url.prefix, "policy/");
        assert_eq!(url.to_string(), "s3://b/policy/");
        let bare: S3Url = "s3://b".parse().unwrap();
        assert_eq!(bare.prefix, "");
        assert!("s3:///x".parse::<S3Url>().is_err());
        assert!("https://b/x".parse::<S3Url>().is_err());
    }
}
