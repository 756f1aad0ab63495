//! The hubfix policy: which Security Hub finding gets which treatment, decided from files.
//!
//! Pure: the caller reads the policy files and the finding and supplies today's date; this
//! crate parses, validates and decides. It does no I/O and knows neither wasmtime nor the AWS
//! SDK.
//!
//! - [`Policy::from_files`] parses and validates every `*.toml` file of a policy directory
//!   (strict: unknown keys, unknown controls, plugins and host functions, and duplicate
//!   entries are errors naming the file, the line and the entry). [`Policy::warnings`] lists
//!   expired exceptions.
//! - [`decide`] (or [`Policy::decide`] for one finding) maps each finding of a document (an
//!   ASFF finding of any CIS version, a consolidated finding, a Security Hub v2 OCSF finding,
//!   or an EventBridge event holding any of them) to a [`Decision`]: `remediate` (with the
//!   plugin, its parameters and grants), `suppress`, `notify` or `ignore`, the reason and the
//!   [`Rule`] that produced it.
//! - The [`catalog`] maps the CIS ids of v1.2.0, v1.4.0 and v3.0.0 to Security Hub control ids;
//!   [`SHIPPED_POLICY`] is the policy in the repository's `policies/` directory.
//! - [`controls_markdown`] and [`policy_schema`] generate `docs/controls.md` and
//!   `policy/schema/policy.schema.json`. Both are committed and a test fails when they drift;
//!   regenerate them with `HUBFIX_BLESS=1 cargo test -p hubfix-policy`.
//!
//! ```
//! use hubfix_policy::{Action, Date, NoOrg, Policy};
//!
//! let policy = Policy::from_toml("policy.toml", r#"
//!     [plugins.ec2-restrict-admin-ports]
//!     version = "0.1.0"
//!     controls = ["EC2.13", "EC2.53"]
//!     grants = ["ec2.describe-security-group-rules", "ec2.revoke-security-group-ingress"]
//!     params = { ports = "22,3389" }
//!
//!     [controls."EC2.13"]
//!     action = "remediate"
//!     plugin = "ec2-restrict-admin-ports"
//!     reason = "SSH open to the internet"
//!
//!     [[exceptions]]
//!     id = "bastion"
//!     resources = ["sg-0bastion*"]
//!     reason = "the bastion's SSH ingress is approved (SEC-123)"
//!     expires = 2030-12-31
//! "#)?;
//!
//! // A CIS v1.2.0 finding from before consolidated control findings: rule 4.1 is EC2.13.
//! let finding = serde_json::json!({
//!     "SchemaVersion": "2018-10-08",
//!     "Id": "arn:aws:securityhub:eu-west-1:111111111111:subscription/cis-aws-foundations-benchmark/v/1.2.0/4.1/finding/0f",
//!     "GeneratorId": "arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0/rule/4.1",
//!     "AwsAccountId": "111111111111",
//!     "Region": "eu-west-1",
//!     "Compliance": {"Status": "FAILED"},
//!     "RecordState": "ACTIVE",
//!     "Workflow": {"Status": "NEW"},
//!     "Resources": [{"Type": "AwsEc2SecurityGroup",
//!                    "Id": "arn:aws:ec2:eu-west-1:111111111111:security-group/sg-0123"}]
//! });
//! let today = Date::parse("2026-01-15").ok_or("bad date")?;
//! let decisions = hubfix_policy::decide(&finding, &policy, &NoOrg, today)?;
//! let d = &decisions[0];
//! assert_eq!(d.action, Action::Remediate);
//! assert_eq!(d.control.as_deref(), Some("EC2.13"));
//! assert_eq!(d.plugin.as_ref().map(|p| p.name.as_str()), Some("ec2-restrict-admin-ports"));
//! assert_eq!(d.params["ports"], "22,3389");
//! assert_eq!(d.rule.to_string(), r#"controls."EC2.13" (policy.toml:8)"#);
//!
//! // The same finding about the bastion's group is suppressed by the exception.
//! let mut bastion = finding.clone();
//! bastion["Resources"][0]["Id"] = "arn:aws:ec2:eu-west-1:111111111111:security-group/sg-0bastion1".into();
//! let d = policy.decide(&bastion, &NoOrg, today);
//! assert_eq!(d.action, Action::Suppress);
//! assert_eq!(d.rule.name, "exceptions[0] (bastion)");
//!
//! // The decision serializes to the JSON `hubfix policy explain --output json` prints.
//! let json = serde_json::to_value(&d)?;
//! assert_eq!(json["action"], "suppress");
//! assert_eq!(json["plugin"], serde_json::Value::Null);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

pub mod catalog;
mod date;
mod decide;
mod docs;
mod error;
mod explain;
mod glob;
mod identity;
mod load;
mod model;
mod raw;
mod view;

pub use catalog::{CisVersion, Control};
pub use date::{Date, InvalidDate};
pub use decide::{Decision, NoOrg, OrgContext, PluginRef, Rule, RuleKind, decide};
pub use docs::{ActionCounts, controls_markdown, policy_schema};
pub use error::{Location, PolicyError, PolicyErrors, PolicyWarning};
pub use explain::explain_json;
pub use identity::{ControlSource, FindingFormat};
pub use model::{
    Action, ControlPolicy, Exception, Override, Plugin, Policy, Settings, TagMatch, WorkflowStatus,
};
pub use view::{InputError, findings_in};

/// Every host function the plugin host provides today, written `service.function` as in the
/// WIT package `hubfix:plugin`. A policy may grant only these; the host can check its linker
/// against this list. This is the one place the list is kept.
pub const HOST_FUNCTIONS: &[&str] = &[
    "iam.get-account-password-policy",
    "iam.update-account-password-policy",
    "ec2.describe-security-groups",
    "ec2.describe-security-group-rules",
    "ec2.revoke-security-group-ingress",
    "ec2.revoke-security-group-egress",
    "ec2.get-ebs-encryption-by-default",
    "ec2.enable-ebs-encryption-by-default",
];

/// The policy shipped in the repository's `policies/` directory, as `(path, text)` pairs ready
/// for [`Policy::from_files`]: the default when no policy directory is given.
pub const SHIPPED_POLICY: &[(&str, &str)] = &[
    (
        "policies/settings.toml",
        include_str!("../../policies/settings.toml"),
    ),
    (
        "policies/plugins.toml",
        include_str!("../../policies/plugins.toml"),
    ),
    (
        "policies/cis-aws-foundations.toml",
        include_str!("../../policies/cis-aws-foundations.toml"),
    ),
];

impl Policy {
    /// The shipped policy ([`SHIPPED_POLICY`]), validated.
    pub fn shipped() -> Result<Self, PolicyErrors> {
        Self::from_files(SHIPPED_POLICY)
    }
}
