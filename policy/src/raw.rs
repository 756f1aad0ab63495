//! The policy file format as written: what TOML deserializes into (with spans, for error
//! lines) and what the JSON Schema describes. [`crate::load`] turns it into a validated
//! [`Policy`](crate::Policy).
//!
//! The doc comments of these types are the descriptions in the generated JSON Schema, so they
//! are written for the people who edit policy files.

use std::collections::BTreeMap;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use serde_json::{Map, Value, json};
use toml::Spanned;

use crate::catalog::{
    CIS_ID_PATTERN, CONTROLS, CisVersion, DECLARED_CONTROL_ID_PATTERN, RESOURCE_TYPE_PATTERN,
};
use crate::model::{Action, WorkflowStatus};

/// A hubfix policy file. The policy is every `*.toml` file of the policy directory taken
/// together: each section may be split across files, but every entry (setting block, plugin,
/// control, account, exception, override) may appear only once. Unknown keys are errors.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "hubfix policy file")]
pub(crate) struct PolicyFile {
    /// Settings for the whole policy. At most one file may hold this table.
    #[schemars(with = "Option<Settings>")]
    pub(crate) settings: Option<Spanned<Settings>>,

    /// Remediation plugins, by name (`ec2-restrict-admin-ports`): the version to run, its
    /// pinned digest, the host functions it is granted and its parameters.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, PluginEntry>")]
    pub(crate) plugins: BTreeMap<Spanned<String>, PluginEntry>,

    /// What to do with each Security Hub control's failed findings, keyed by the Security Hub
    /// control id (`controls."EC2.53"`). One entry covers the control's findings from every
    /// standard and format (CIS v1.2.0 rule 4.1, CIS v1.4.0 2.1.5.1, consolidated, OCSF). A
    /// control the built-in catalog lacks needs a `declare` table in its entry.
    #[serde(default)]
    #[schemars(schema_with = "controls_schema")]
    pub(crate) controls: BTreeMap<Spanned<String>, ControlEntry>,

    /// Static organization map: account id → OU path (`"111111111111" = "Root/Workloads/Prod"`).
    /// Used for `ous` matching when the caller has no live AWS Organizations data for an
    /// account.
    #[serde(default)]
    #[schemars(schema_with = "accounts_schema")]
    pub(crate) accounts: BTreeMap<Spanned<String>, Spanned<String>>,

    /// Exceptions: findings that match are not remediated but suppressed (or notified, or
    /// ignored), with a reason, optionally until a date. Exceptions win over overrides.
    #[serde(default)]
    pub(crate) exceptions: Vec<ExceptionEntry>,

    /// Per-account or per-OU overrides of a control's action, plugin and parameters (one team
    /// opts into a remediation, another only gets notified). Several matching overrides apply
    /// from the least specific (shortest OU path) to the most specific (an account id).
    #[serde(default)]
    pub(crate) overrides: Vec<OverrideEntry>,
}

/// Settings for the whole policy.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct Settings {
    /// Which Security Hub workflow statuses are acted on. Default `["NEW"]`; findings with any
    /// other status are ignored. The pipeline is started only for NEW findings (its own
    /// notify and failure updates set NOTIFIED, so a rule matching NOTIFIED would start it
    /// again on its own updates): adding `"NOTIFIED"` here acts on findings a person was
    /// already told about when they are decided anyway, i.e. with
    /// `hubfix backfill --include-notified` (and `hubfix policy explain`).
    #[schemars(with = "Option<Vec<WorkflowStatus>>")]
    pub(crate) workflow_statuses: Option<Vec<Spanned<WorkflowStatus>>>,
    /// What happens to findings of controls that no policy entry covers (not in the
    /// built-in catalog and not declared, or without a `[controls]` entry): `notify`
    /// (default: the finding is set NOTIFIED with the reason and a person is told, so
    /// nothing is left NEW silently) or `ignore` (left as it is, e.g. when the rule also
    /// sees standards nobody acts on).
    pub(crate) unknown_controls: Option<UnknownControls>,
}

/// `settings.unknown-controls`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum UnknownControls {
    /// Set NOTIFIED with the reason.
    Notify,
    /// Leave the finding alone.
    Ignore,
}

/// A remediation plugin: a WebAssembly component published to the plugin bucket.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct PluginEntry {
    /// The plugin's semantic version, e.g. `0.1.0`.
    #[schemars(with = "String")]
    pub(crate) version: Spanned<String>,

    /// The component's sha256 digest (64 lowercase hex digits). Written by `hubfix publish`;
    /// the host refuses to run a plugin whose bytes do not match it.
    #[schemars(schema_with = "sha256_schema")]
    pub(crate) sha256: Option<Spanned<String>>,

    /// The Security Hub controls the plugin remediates.
    #[schemars(schema_with = "control_list_schema")]
    pub(crate) controls: Vec<Spanned<String>>,

    /// The host functions the plugin may call, written `service.function`
    /// (`ec2.revoke-security-group-ingress`). Deny by default: an empty list grants nothing, and
    /// a component that imports a function not listed here is refused before it runs.
    #[schemars(schema_with = "grants_schema")]
    pub(crate) grants: Vec<Spanned<String>>,

    /// The parameters the plugin takes that have a default, with the default value: they are
    /// always passed, unless a control or override sets another value.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, ParamValue>")]
    pub(crate) params: BTreeMap<Spanned<String>, ParamValue>,

    /// The parameters the plugin takes without a default: passed only when a control or
    /// override sets them (the plugin then applies its own behaviour when they are absent).
    /// Controls and overrides may set only the keys of `params` and `optional-params`.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub(crate) optional_params: Vec<Spanned<String>>,
}

/// The treatment of one Security Hub control.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct ControlEntry {
    /// What to do with the control's failed findings.
    #[schemars(with = "Action")]
    pub(crate) action: Spanned<Action>,

    /// Why: shown in `hubfix policy explain` and in the note on the finding. Required.
    #[schemars(with = "String")]
    pub(crate) reason: Spanned<String>,

    /// The plugin that remediates the control. Required when `action = "remediate"`; may also
    /// be set for other actions, so that an override can turn remediation on.
    #[schemars(with = "Option<String>")]
    pub(crate) plugin: Option<Spanned<String>>,

    /// Parameters for the plugin, over the plugin's defaults.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, ParamValue>")]
    pub(crate) params: BTreeMap<Spanned<String>, ParamValue>,

    /// Declares a control the built-in catalog lacks (a newer or custom Security Hub control),
    /// so that its findings are routed without rebuilding hubfix. Required for such a control,
    /// not wanted for one the catalog has (an error where it disagrees with the catalog, a
    /// warning where it repeats it).
    #[schemars(with = "Option<DeclareEntry>")]
    pub(crate) declare: Option<Spanned<DeclareEntry>>,
}

/// What the policy says about a control the built-in catalog lacks: how its findings name
/// it. Its id (the key of `controls`) must match `^[A-Za-z][A-Za-z0-9]{0,31}\.[0-9]{1,4}$`
/// (a Security Hub control id such as `S3.99`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct DeclareEntry {
    /// The control's Security Hub title, for people (`hubfix policy explain`, docs).
    #[schemars(with = "Option<String>", length(min = 1))]
    pub(crate) title: Option<Spanned<String>>,

    /// The ASFF resource types its findings name (`AwsS3Bucket`, `AwsAccount`; not AWS Config
    /// types such as `AWS::S3::Bucket`). At least one. They settle which control a CIS id
    /// means where a CIS requirement is split into several controls.
    #[schemars(schema_with = "resource_types_schema")]
    pub(crate) resource_types: Vec<Spanned<String>>,

    /// Its id in each CIS AWS Foundations Benchmark version that has it: CIS version → CIS id
    /// (`{ "3.0.0" = "2.1.9" }`). Per-standard CIS findings that carry no Security Hub control
    /// id are mapped to the control through these. The version must be one hubfix knows, and
    /// the id must not be one the catalog or another declared control already has in that
    /// version.
    #[serde(default)]
    #[schemars(schema_with = "cis_schema")]
    pub(crate) cis: BTreeMap<Spanned<String>, Spanned<String>>,
}

/// A resource tag condition.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct TagEntry {
    /// The tag key.
    #[schemars(with = "String")]
    pub(crate) key: Spanned<String>,
    /// The tag value; any value when absent.
    pub(crate) value: Option<String>,
}

/// An exception: findings it matches are not remediated. All given conditions must hold
/// (`accounts`, `ous`, `tags`, `resources`); within one condition any listed value may match.
/// At least one condition is required.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct ExceptionEntry {
    /// A unique name, shown as the rule that decided.
    #[schemars(with = "String")]
    pub(crate) id: Spanned<String>,

    /// Why the exception exists (ticket, approver). Required.
    #[schemars(with = "String")]
    pub(crate) reason: Spanned<String>,

    /// The controls it covers; every control when absent.
    #[schemars(schema_with = "optional_control_list_schema")]
    pub(crate) controls: Option<Vec<Spanned<String>>>,

    /// Account ids (12 digits) the finding must be about.
    #[serde(default)]
    #[schemars(schema_with = "account_list_schema")]
    pub(crate) accounts: Vec<Spanned<String>>,

    /// OU paths (`Root/Workloads/Sandbox`); an account matches when its OU is the path or
    /// below it.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub(crate) ous: Vec<Spanned<String>>,

    /// Tags one of the finding's resources must carry.
    #[serde(default)]
    pub(crate) tags: Vec<TagEntry>,

    /// Resource id patterns (`*` any run of characters, `?` one character), matched against
    /// each resource's full id (ARN) and its short id (`sg-0abc`).
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub(crate) resources: Vec<Spanned<String>>,

    /// The last day (UTC) the exception applies, a TOML date: `expires = 2026-06-30`. Expired
    /// exceptions no longer apply and `hubfix policy check` warns about them.
    #[schemars(schema_with = "date_schema")]
    pub(crate) expires: Option<Spanned<toml::value::Date>>,

    /// What to do instead of the control's action: `suppress` (default), `notify` or `ignore`.
    #[schemars(with = "Option<Action>")]
    pub(crate) action: Option<Spanned<Action>>,
}

/// An override of a control's action, plugin or parameters for some accounts or OUs. At least
/// one of `accounts` and `ous` is required; an account matches when it is listed or its OU is
/// one of `ous` or below it.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct OverrideEntry {
    /// A unique name, shown as the rule that decided.
    #[schemars(with = "String")]
    pub(crate) id: Spanned<String>,

    /// Why the override exists. Required.
    #[schemars(with = "String")]
    pub(crate) reason: Spanned<String>,

    /// The controls it changes; every control when absent (not allowed with
    /// `action = "remediate"`, `plugin` or `params`).
    #[schemars(schema_with = "optional_control_list_schema")]
    pub(crate) controls: Option<Vec<Spanned<String>>>,

    /// Account ids (12 digits).
    #[serde(default)]
    #[schemars(schema_with = "account_list_schema")]
    pub(crate) accounts: Vec<Spanned<String>>,

    /// OU paths (`Root/Workloads/TeamA`), matching the OU and everything below it.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub(crate) ous: Vec<Spanned<String>>,

    /// The action instead of the control's.
    #[schemars(with = "Option<Action>")]
    pub(crate) action: Option<Spanned<Action>>,

    /// The plugin instead of the control's. Parameters then start from this plugin's defaults.
    #[schemars(with = "Option<String>")]
    pub(crate) plugin: Option<Spanned<String>>,

    /// Parameters over the control's.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, ParamValue>")]
    pub(crate) params: BTreeMap<Spanned<String>, ParamValue>,
}

/// A plugin parameter: a string, integer or boolean, handed to the plugin as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParamValue(pub(crate) String);

impl<'de> Deserialize<'de> for ParamValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ParamVisitor;

        impl Visitor<'_> for ParamVisitor {
            type Value = ParamValue;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, integer or boolean")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<ParamValue, E> {
                Ok(ParamValue(v.to_owned()))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ParamValue, E> {
                Ok(ParamValue(v.to_string()))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ParamValue, E> {
                Ok(ParamValue(v.to_string()))
            }

            fn visit_bool<E: de::Error>(self, v: bool) -> Result<ParamValue, E> {
                Ok(ParamValue(v.to_string()))
            }
        }

        deserializer.deserialize_any(ParamVisitor)
    }
}

impl JsonSchema for ParamValue {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ParamValue".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        schema(json!({
            "description": "A plugin parameter: a string, integer or boolean, handed to the plugin as text.",
            "type": ["string", "integer", "boolean"],
        }))
    }
}

fn schema(value: Value) -> Schema {
    match value {
        Value::Object(map) => Schema::from(map),
        _ => Schema::from(Map::new()),
    }
}

fn control_ids() -> Value {
    Value::Array(CONTROLS.iter().map(|c| Value::from(c.id)).collect())
}

/// A control id: one of the catalog's, or one a policy may declare.
fn control_id_schema() -> Value {
    json!({
        "anyOf": [
            {"enum": control_ids()},
            {"type": "string", "pattern": DECLARED_CONTROL_ID_PATTERN},
        ],
    })
}

/// The catalog's controls take an entry as it is; any other id must match the pattern of
/// declared controls and its entry must have `declare`.
fn controls_schema(generator: &mut SchemaGenerator) -> Schema {
    let entry = generator.subschema_for::<ControlEntry>();
    let known: Map<String, Value> = CONTROLS
        .iter()
        .map(|c| (c.id.to_owned(), entry.clone().to_value()))
        .collect();
    schema(json!({
        "type": "object",
        "propertyNames": control_id_schema(),
        "properties": known,
        "additionalProperties": {
            "allOf": [entry, {"required": ["declare"]}],
        },
    }))
}

fn control_list_schema(_: &mut SchemaGenerator) -> Schema {
    schema(json!({
        "type": "array",
        "items": control_id_schema(),
        "uniqueItems": true,
    }))
}

fn resource_types_schema(_: &mut SchemaGenerator) -> Schema {
    schema(json!({
        "type": "array",
        "items": {"type": "string", "pattern": RESOURCE_TYPE_PATTERN},
        "minItems": 1,
        "uniqueItems": true,
    }))
}

fn cis_schema(_: &mut SchemaGenerator) -> Schema {
    let versions: Vec<&str> = CisVersion::ALL.iter().map(|v| v.as_str()).collect();
    schema(json!({
        "type": "object",
        "propertyNames": {"enum": versions},
        "additionalProperties": {"type": "string", "pattern": CIS_ID_PATTERN},
    }))
}

fn optional_control_list_schema(_: &mut SchemaGenerator) -> Schema {
    control_list_schema(&mut SchemaGenerator::default())
}

fn grants_schema(_: &mut SchemaGenerator) -> Schema {
    schema(json!({
        "type": "array",
        "items": {"enum": crate::host_functions()},
        "uniqueItems": true,
    }))
}

fn account_list_schema(_: &mut SchemaGenerator) -> Schema {
    schema(json!({
        "type": "array",
        "items": {"type": "string", "pattern": "^[0-9]{12}$"},
    }))
}

fn accounts_schema(_: &mut SchemaGenerator) -> Schema {
    schema(json!({
        "type": "object",
        "propertyNames": {"pattern": "^[0-9]{12}$"},
        "additionalProperties": {"type": "string"},
    }))
}

fn sha256_schema(_: &mut SchemaGenerator) -> Schema {
    schema(json!({"type": "string", "pattern": "^[0-9a-f]{64}$"}))
}

fn date_schema(_: &mut SchemaGenerator) -> Schema {
    schema(json!({"type": "string", "format": "date"}))
}
