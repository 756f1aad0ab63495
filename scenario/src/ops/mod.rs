//! The AWS calls a scenario can make to set an account up and to check it: a small typed set,
//! each one (or a few) aws-sdk-rust calls in a member account, returning a [`Record`] of
//! named fields that later steps can template and checks can compare.
//!
//! Each AWS service has its module here, named like the prefix of its calls
//! (`ec2.create-security-group` is in `ec2.rs`), with its own `Op` enum of calls
//! (`#[serde(tag = "call", deny_unknown_fields)]`, one `rename = "<service>.<operation>"`
//! per variant), its `CALLS`, and the methods `call`, `outputs`, `is_read`, `problems` and
//! `run` (untimed). This module has what they share ([`Member`], [`Record`], `call_failed`)
//! and the [`Op`] over them all, which reads `call` and hands the rest to the service's enum.
//!
//! - **A call** in an existing service: a variant of that module's `Op`, its name in that
//!   module's `CALLS`, and an arm in each of its methods. Nothing here
//!   changes; the tests check that `CALLS` and the variants agree.
//! - **A service**: a module shaped like `kms.rs`, its `mod` line below and its line in the
//!   `services!` list; a client it needs is a field of [`Member`], built in
//!   [`Member::assume`].

mod accessanalyzer;
mod account;
mod cloudtrail;
mod cloudwatch;
mod config;
mod ec2;
mod iam;
mod kms;
mod logs;
mod rds;
mod s3;
mod s3control;
mod sns;

use std::collections::BTreeMap;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_ec2::error::DisplayErrorContext;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

pub use ec2::Rule;

/// What a call returned: field name → value.
pub type Record = BTreeMap<String, Value>;

/// Longest one call (with the SDK's own retries) may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// The top-level [`Op`] (one variant per service, delegating to the service's `Op`) and
/// the list of services, from one line per service: `Variant(module)`, the module's name
/// being the prefix of its calls.
macro_rules! services {
    ($($(#[$attr:meta])* $variant:ident($service:ident),)+) => {
        /// One setup or check call, written `call = "service.operation"` with the
        /// operation's fields next to it. Fields are kebab-case; unknown fields are errors.
        #[derive(Debug, Clone, PartialEq, Eq, Serialize)]
        #[serde(untagged)]
        pub enum Op {
            $($(#[$attr])* $variant($service::Op),)+
        }

        /// Each service's prefix and calls.
        const SERVICES: &[(&str, &[&str])] = &[$((stringify!($service), $service::CALLS),)+];

        impl Op {
            /// Its `call` name, e.g. `ec2.create-security-group`.
            pub fn call(&self) -> &'static str {
                match self {
                    $(Op::$variant(op) => op.call(),)+
                }
            }

            /// The fields its [`Record`] can have.
            pub fn outputs(&self) -> &'static [&'static str] {
                match self {
                    $(Op::$variant(op) => op.outputs(),)+
                }
            }

            /// Whether it only reads (what checks may call).
            pub fn is_read(&self) -> bool {
                match self {
                    $(Op::$variant(op) => op.is_read(),)+
                }
            }

            /// Problems the call's fields have that their types do not catch.
            pub(crate) fn problems(&self) -> Vec<String> {
                match self {
                    $(Op::$variant(op) => op.problems(),)+
                }
            }

            async fn run_untimed(&self, m: &Member) -> Result<Record, String> {
                match self {
                    $(Op::$variant(op) => op.run(m).await,)+
                }
            }

            /// `value` read as a call of `service`; `None` when there is no such service.
            fn of_service(service: &str, value: Value) -> Option<Result<Self, serde_json::Error>> {
                match service {
                    $(stringify!($service) => {
                        Some($service::Op::deserialize(value).map(Op::$variant))
                    })+
                    _ => None,
                }
            }
        }
    };
}

services! {
    /// `iam.*`.
    Iam(iam),
    /// `ec2.*`.
    Ec2(ec2),
    /// `s3control.*`.
    S3control(s3control),
    /// `s3.*`.
    S3(s3),
    /// `cloudtrail.*`.
    Cloudtrail(cloudtrail),
    /// `config.*`.
    Config(config),
    /// `kms.*`.
    Kms(kms),
    /// `logs.*`.
    Logs(logs),
    /// `cloudwatch.*`.
    Cloudwatch(cloudwatch),
    /// `sns.*`.
    Sns(sns),
    /// `account.*`.
    Account(account),
    /// `rds.*`.
    Rds(rds),
    /// `accessanalyzer.*`.
    Accessanalyzer(accessanalyzer),
}

/// Every call name, for messages: each service's `CALLS`, in the order of `services!`.
pub const CALLS: &[&str] = &ALL_CALLS;

const ALL_CALLS: [&str; count_calls(SERVICES)] = concat_calls(SERVICES);

const fn count_calls(services: &[(&str, &[&str])]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < services.len() {
        n += services[i].1.len();
        i += 1;
    }
    n
}

const fn concat_calls<const N: usize>(services: &[(&str, &[&'static str])]) -> [&'static str; N] {
    let mut all = [""; N];
    let (mut i, mut n) = (0, 0);
    while i < services.len() {
        let calls = services[i].1;
        let mut j = 0;
        while j < calls.len() {
            all[n] = calls[j];
            n += 1;
            j += 1;
        }
        i += 1;
    }
    all
}

impl Op {
    /// Makes the call in `member`'s account.
    pub async fn run(&self, member: &Member) -> Result<Record, String> {
        match tokio::time::timeout(CALL_TIMEOUT, self.run_untimed(member)).await {
            Ok(result) => result,
            Err(_) => Err(format!(
                "{} did not answer within {CALL_TIMEOUT:?}",
                self.call()
            )),
        }
    }
}

/// Reads `call`, then the rest as a call of the service its prefix names (buffered as JSON,
/// so it works inside `#[serde(flatten)]` and from any format).
impl<'de> Deserialize<'de> for Op {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        let call = match value.get("call") {
            Some(Value::String(call)) => call.clone(),
            Some(other) => {
                return Err(D::Error::custom(format!(
                    "`call` must be a string such as \"ec2.default-vpc\", not {other}"
                )));
            }
            None if value.is_object() => return Err(D::Error::missing_field("call")),
            None => {
                return Err(D::Error::custom(
                    "a call is a table: `call = \"service.operation\"` and the operation's fields",
                ));
            }
        };
        let service = call
            .split_once('.')
            .map_or(call.as_str(), |(service, _)| service);
        if !CALLS.contains(&call.as_str()) {
            return Err(match SERVICES.iter().find(|(s, _)| *s == service) {
                Some((_, [])) => D::Error::custom(format!(
                    "unknown call `{call}`: `{service}` has no calls yet; the calls: {}",
                    listed(CALLS)
                )),
                Some(_) => D::Error::unknown_variant(&call, CALLS),
                None => D::Error::custom(format!(
                    "unknown call `{call}`: no service `{service}` (calls are \
                     `service.operation`; the services: {}); the calls: {}",
                    listed(&SERVICES.iter().map(|(s, _)| *s).collect::<Vec<_>>()),
                    listed(CALLS)
                )),
            });
        }
        match Op::of_service(service, value) {
            Some(op) => op.map_err(D::Error::custom),
            None => Err(D::Error::custom(format!("no service `{service}`"))),
        }
    }
}

/// `` `a`, `b`, `c` ``.
fn listed(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An SDK error with every cause, as one line.
fn error_text(error: &dyn std::error::Error) -> String {
    DisplayErrorContext(error).to_string()
}

/// What a failed call says: `<call>: <the error with every cause>`.
fn call_failed(call: &str, error: &dyn std::error::Error) -> String {
    format!("{call}: {}", error_text(error))
}

/// SDK clients acting inside one member account, through STS AssumeRole of the role hubfix
/// assumes there.
#[derive(Clone, Debug)]
pub struct Member {
    /// The account id.
    pub account: String,
    /// EC2.
    pub ec2: aws_sdk_ec2::Client,
    /// IAM.
    pub iam: aws_sdk_iam::Client,
    /// S3 Control (the account-level Block Public Access).
    pub s3control: aws_sdk_s3control::Client,
    /// S3, with path-style addressing (what emulators serve).
    pub s3: aws_sdk_s3::Client,
    /// CloudTrail.
    pub cloudtrail: aws_sdk_cloudtrail::Client,
    /// AWS Config.
    pub config: aws_sdk_config::Client,
    /// KMS.
    pub kms: aws_sdk_kms::Client,
    /// CloudWatch Logs.
    pub logs: aws_sdk_cloudwatchlogs::Client,
    /// CloudWatch (metric alarms).
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    /// SNS.
    pub sns: aws_sdk_sns::Client,
    /// AWS Account Management (alternate contacts).
    pub account_api: aws_sdk_account::Client,
    /// RDS.
    pub rds: aws_sdk_rds::Client,
    /// IAM Access Analyzer.
    pub accessanalyzer: aws_sdk_accessanalyzer::Client,
    /// AWS Organizations (scenarios in an organization).
    pub organizations: aws_sdk_organizations::Client,
}

impl Member {
    /// Assumes `role` in `account` with the credentials of `base` and builds the clients,
    /// in `region`.
    pub async fn assume(
        base: &SdkConfig,
        region: &str,
        account: &str,
        role: &str,
    ) -> Result<Self, String> {
        let arn = format!(
            "arn:{}:iam::{account}:role/{role}",
            crate::template::partition_of(region)
        );
        let sts = aws_sdk_sts::Client::new(base);
        let assumed = tokio::time::timeout(
            CALL_TIMEOUT,
            sts.assume_role()
                .role_arn(&arn)
                .role_session_name("hubfix-scenario")
                .send(),
        )
        .await
        .map_err(|_| format!("assume {arn}: no answer within {CALL_TIMEOUT:?}"))?
        .map_err(|e| format!("assume {arn}: {}", error_text(&e)))?;
        let c = assumed
            .credentials
            .ok_or_else(|| format!("assume {arn}: STS returned no credentials"))?;
        let credentials = Credentials::new(
            c.access_key_id,
            c.secret_access_key,
            Some(c.session_token),
            None,
            "hubfix-scenario",
        );
        let config = base
            .to_builder()
            .region(aws_config::Region::new(region.to_owned()))
            .credentials_provider(SharedCredentialsProvider::new(credentials))
            .build();
        let s3 = aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build();
        Ok(Self {
            account: account.to_owned(),
            ec2: aws_sdk_ec2::Client::new(&config),
            iam: aws_sdk_iam::Client::new(&config),
            s3control: aws_sdk_s3control::Client::new(&config),
            s3: aws_sdk_s3::Client::from_conf(s3),
            cloudtrail: aws_sdk_cloudtrail::Client::new(&config),
            config: aws_sdk_config::Client::new(&config),
            kms: aws_sdk_kms::Client::new(&config),
            logs: aws_sdk_cloudwatchlogs::Client::new(&config),
            cloudwatch: aws_sdk_cloudwatch::Client::new(&config),
            sns: aws_sdk_sns::Client::new(&config),
            account_api: aws_sdk_account::Client::new(&config),
            rds: aws_sdk_rds::Client::new(&config),
            accessanalyzer: aws_sdk_accessanalyzer::Client::new(&config),
            organizations: aws_sdk_organizations::Client::new(&config),
        })
    }

    /// Makes this (fresh) account the management account of a new organization with all
    /// features and trusted access for `services`, and creates a member account in it
    /// (`CreateAccount`, waiting for it as AWS asks): the member's id.
    pub async fn found_organization(&self, services: &[String]) -> Result<String, String> {
        use aws_sdk_organizations::types::{CreateAccountState, OrganizationFeatureSet};
        let org = &self.organizations;
        timed(
            "organizations.create-organization",
            org.create_organization()
                .feature_set(OrganizationFeatureSet::All)
                .send(),
        )
        .await?;
        for service in services {
            timed(
                "organizations.enable-aws-service-access",
                org.enable_aws_service_access()
                    .service_principal(service)
                    .send(),
            )
            .await?;
        }
        let created = timed(
            "organizations.create-account",
            org.create_account()
                .email(format!("member-of-{}@example.com", self.account))
                .account_name(format!("member of {}", self.account))
                .send(),
        )
        .await?;
        let mut status = created.create_account_status;
        for _ in 0..CREATE_ACCOUNT_POLLS {
            let Some(s) = &status else { break };
            match (s.state(), s.account_id()) {
                (Some(CreateAccountState::Succeeded), Some(id)) => return Ok(id.to_owned()),
                (Some(CreateAccountState::Failed), _) => {
                    return Err(format!(
                        "organizations.create-account: failed ({})",
                        s.failure_reason().map_or("no reason given", |r| r.as_str())
                    ));
                }
                _ => {}
            }
            let Some(request) = s.id() else { break };
            tokio::time::sleep(Duration::from_secs(1)).await;
            status = timed(
                "organizations.describe-create-account-status",
                org.describe_create_account_status()
                    .create_account_request_id(request)
                    .send(),
            )
            .await?
            .create_account_status;
        }
        Err("organizations.create-account: the account was not created in time".to_owned())
    }
}

/// How often a pending `CreateAccount` is looked at again, a second apart.
const CREATE_ACCOUNT_POLLS: usize = 60;

/// One call with [`CALL_TIMEOUT`], its error as text naming the call.
async fn timed<T, E: std::error::Error + 'static>(
    call: &str,
    request: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, String> {
    tokio::time::timeout(CALL_TIMEOUT, request)
        .await
        .map_err(|_| format!("{call}: no answer within {CALL_TIMEOUT:?}"))?
        .map_err(|e| call_failed(call, &e))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_call_is_listed_once_with_its_name() {
        for (service, calls) in SERVICES {
            for call in *calls {
                let operation = call.strip_prefix(service).and_then(|c| c.strip_prefix('.'));
                assert!(
                    operation.is_some_and(|o| !o.is_empty() && !o.contains('.')),
                    "{call} is in the CALLS of `{service}`"
                );
            }
        }
        for call in CALLS {
            // Either the call needs no field, or it fails only for the fields it requires.
            match serde_json::from_value::<Op>(json!({ "call": call })) {
                Ok(op) => {
                    assert_eq!(op.call(), *call);
                    let back = serde_json::to_value(&op).unwrap();
                    assert_eq!(back["call"], *call);
                    assert_eq!(serde_json::from_value::<Op>(back).unwrap(), op);
                }
                Err(e) => {
                    let e = e.to_string();
                    assert!(e.starts_with("missing field `"), "{call}: {e}");
                }
            }
        }
        let mut sorted = CALLS.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), CALLS.len());
        assert_eq!(
            CALLS.len(),
            SERVICES.iter().map(|(_, calls)| calls.len()).sum::<usize>()
        );
    }

    #[test]
    fn each_service_lists_exactly_its_variants() {
        for (service, calls) in SERVICES {
            let unknown = json!({ "call": format!("{service}.no-such-call") });
            let Some(Err(e)) = Op::of_service(service, unknown) else {
                panic!("{service}: no such service, or it took an unknown call");
            };
            // serde names the unknown variant, then every variant, each in backticks.
            let e = e.to_string();
            let mut variants: Vec<&str> = e.split('`').skip(1).step_by(2).skip(1).collect();
            let mut listed = calls.to_vec();
            variants.sort_unstable();
            listed.sort_unstable();
            assert_eq!(
                variants, listed,
                "{service}: its variants and its CALLS differ"
            );
        }
    }

    #[test]
    fn unknown_calls_say_what_there_is() {
        let err = |value: Value| serde_json::from_value::<Op>(value).unwrap_err().to_string();

        let e = err(json!({"call": "ec3.describe-vpcs"}));
        assert!(
            e.starts_with("unknown call `ec3.describe-vpcs`: no service `ec3`"),
            "{e}"
        );
        assert!(
            e.contains("`ec2`") && e.contains("`ec2.default-vpc`"),
            "{e}"
        );
        let e = err(json!({"call": "describe-vpcs"}));
        assert!(e.contains("no service `describe-vpcs`"), "{e}");
        assert!(e.contains("`service.operation`"), "{e}");

        let e = err(json!({"call": "ec2.launch-instances"}));
        assert!(
            e.starts_with(
                "unknown variant `ec2.launch-instances`, expected one of \
                 `iam.update-account-password-policy`"
            ),
            "{e}"
        );
        for (service, _) in SERVICES.iter().filter(|(_, calls)| calls.is_empty()) {
            let e = err(json!({ "call": format!("{service}.anything") }));
            assert!(e.contains(&format!("`{service}` has no calls yet")), "{e}");
        }

        assert_eq!(err(json!({"group-id": "sg-1"})), "missing field `call`");
        let e = err(json!({"call": 7}));
        assert!(e.contains("`call` must be a string"), "{e}");
        let e = err(json!("ec2.default-vpc"));
        assert!(e.contains("a call is a table"), "{e}");
        let e = err(json!({"call": "ec2.default-vpc", "vpc": "vpc-1"}));
        assert!(e.starts_with("unknown field `vpc`"), "{e}");
        let e = err(json!({"call": "ec2.describe-security-group-rules"}));
        assert_eq!(e, "missing field `group-id`");
    }

    #[test]
    fn calls_read_flattened_from_toml() {
        #[derive(Debug, Deserialize)]
        struct Step {
            id: Option<String>,
            #[serde(flatten)]
            op: Op,
        }
        let step: Step = toml::from_str(
            "id = \"g\"\ncall = \"ec2.create-security-group\"\ngroup-name = \"x\"\n",
        )
        .unwrap();
        assert_eq!(step.id.as_deref(), Some("g"));
        assert_eq!(step.op.call(), "ec2.create-security-group");
        assert!(!step.op.is_read());
        let policy: Step = toml::from_str(
            "call = \"iam.update-account-password-policy\"\nminimum-password-length = 14\n",
        )
        .unwrap();
        let value = serde_json::to_value(&policy.op).unwrap();
        assert_eq!(value["call"], "iam.update-account-password-policy");
        assert_eq!(value["minimum-password-length"], 14);
        let e = toml::from_str::<Step>("call = \"ec2.default-vpc\"\nvpc-id = 1\n").unwrap_err();
        assert!(e.to_string().contains("unknown field `vpc-id`"), "{e}");
    }
}
