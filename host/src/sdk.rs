//! The host's AWS SDK configuration: from the environment, as every AWS tool reads it,
//! with an HTTP client that resolves `localhost` names as RFC 6761 asks.
//!
//! RFC 6761 (§6.3) reserves `localhost.` and every name below it for the loopback
//! interface, and resolvers such as systemd-resolved (and browsers) answer them without
//! asking DNS. glibc's resolver does not, so without this the S3 Control client, which
//! puts the account id in front of the endpoint's host name
//! (`https://111111111111.s3-control.us-east-1.amazonaws.com`), could not reach an
//! endpoint such as `AWS_ENDPOINT_URL_S3_CONTROL=http://localhost:5000`
//! (`111111111111.localhost`). Every other name goes to the system resolver unchanged.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::dns::{DnsFuture, ResolveDns, ResolveDnsError};

/// The AWS configuration from the environment (`AWS_REGION`, credentials,
/// `AWS_ENDPOINT_URL` and the per-service `AWS_ENDPOINT_URL_<SERVICE>`, …), with the
/// [`LoopbackNames`] resolver in its HTTPS client. Every hubfix binary builds its SDK
/// clients from this.
pub async fn load_aws_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http_client())
        .load()
        .await
}

/// The default HTTPS client (rustls with aws-lc) with the [`LoopbackNames`] resolver.
pub fn http_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .build_with_resolver(LoopbackNames)
}

/// Resolves `localhost` and `*.localhost` to the loopback addresses (RFC 6761) and every
/// other name through the system resolver.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoopbackNames;

impl LoopbackNames {
    /// The loopback addresses when `name` is a `localhost` name, else `None`.
    pub fn loopback(name: &str) -> Option<Vec<IpAddr>> {
        let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
        (name == "localhost" || name.ends_with(".localhost")).then(|| {
            vec![
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(Ipv6Addr::LOCALHOST),
            ]
        })
    }
}

impl ResolveDns for LoopbackNames {
    fn resolve_dns<'a>(&'a self, name: &'a str) -> DnsFuture<'a> {
        if let Some(addresses) = Self::loopback(name) {
            return DnsFuture::ready(Ok(addresses));
        }
        let name = name.to_owned();
        DnsFuture::new(async move {
            let addresses = tokio::net::lookup_host((name.as_str(), 0))
                .await
                .map_err(ResolveDnsError::new)?;
            Ok(addresses.map(|a| a.ip()).collect())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn localhost_names_are_loopback_and_others_are_not() {
        assert!(LoopbackNames::loopback("localhost").is_some());
        assert!(LoopbackNames::loopback("111111111111.localhost").is_some());
        assert!(LoopbackNames::loopback("a.b.LOCALHOST.").is_some());
        assert_eq!(LoopbackNames::loopback("localhost.example.com"), None);
        assert_eq!(LoopbackNames::loopback("notlocalhost"), None);
        assert_eq!(LoopbackNames::loopback("s3.amazonaws.com"), None);
    }

    #[tokio::test]
    async fn other_names_go_to_the_system_resolver() {
        let ips = LoopbackNames.resolve_dns("127.0.0.1").await.unwrap();
        assert_eq!(ips, vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]);
        let ips = LoopbackNames.resolve_dns("x.localhost").await.unwrap();
        assert!(ips.contains(&IpAddr::V4(Ipv4Addr::LOCALHOST)));
    }
}
