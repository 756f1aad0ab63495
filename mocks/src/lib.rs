//! Mock SDK clients for unit tests, without the SDK crates' `test-util` feature.
//!
//! `aws_smithy_mocks::mock_client!` builds its client with `with_test_defaults_v2()`,
//! which exists only with each SDK crate's `test-util` feature; enabling that feature in
//! dev-dependencies compiled every SDK crate a second time. [`mock_client!`] sets the
//! same defaults (static clock, test credentials, `us-east-1`, latest behaviour) through
//! the public builder instead. The rules themselves are aws-smithy-mocks' own.
//!
//! This crate is the one place test-only features are enabled (aws-smithy-mocks' smithy
//! `test-util`, tokio's `test-util` for paused clocks): a crate's tests that need any
//! of them take this crate as a dev-dependency, so every test build of the workspace has
//! the same feature set.

pub use aws_smithy_mocks::{
    MockResponse, MockResponseInterceptor, Rule, RuleBuilder, RuleMode, create_mock_http_client,
    mock,
};

/// What the mock clients' clock reads: the SDK's own test default (2009-02-13T23:31:30Z).
pub fn test_time_source() -> aws_smithy_async::time::SharedTimeSource {
    aws_smithy_async::time::SharedTimeSource::new(aws_smithy_async::time::StaticTimeSource::new(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_234_567_890),
    ))
}

/// `mock_client!(aws_sdk_x, [&rule, …])` or `mock_client!(aws_sdk_x, RuleMode::MatchAny,
/// rules)`: an `aws_sdk_x::Client` whose every call is answered by the first matching
/// rule and never reaches the network.
#[macro_export]
macro_rules! mock_client {
    ($sdk:ident, $rules:expr) => {
        $crate::mock_client!($sdk, $crate::RuleMode::Sequential, $rules)
    };
    ($sdk:ident, $rule_mode:expr, $rules:expr) => {{
        let mut interceptor = $crate::MockResponseInterceptor::new().rule_mode($rule_mode);
        for rule in $rules {
            interceptor = interceptor.with_rule(rule);
        }
        $sdk::client::Client::from_conf(
            $sdk::config::Config::builder()
                .behavior_version($sdk::config::BehaviorVersion::latest())
                .region($sdk::config::Region::new("us-east-1"))
                .credentials_provider($sdk::config::Credentials::new(
                    "ANOTREAL",
                    "notrealrnrELgWzOk3IfjzDKtFBhDby",
                    Some("notarealsessiontoken".to_owned()),
                    None,
                    "hubfix-mocks",
                ))
                .time_source($crate::test_time_source())
                .http_client($crate::create_mock_http_client())
                .interceptor(interceptor)
                .build(),
        )
    }};
}
