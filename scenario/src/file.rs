//! The scenario file format: parsing (strict: unknown keys are errors) and the checks that
//! need more than types (placeholders, which calls a check may make, what a call returns).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;
use toml::Spanned;

use crate::ops::Op;
use crate::template::{self, Var};

/// Most bytes a scenario file may have.
pub const MAX_FILE_LEN: usize = 256 << 10;

/// Most steps in `setup`, `before` or `after`.
pub const MAX_STEPS: usize = 64;

/// Why a scenario file was refused: the file, and where in it and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct ScenarioError {
    /// The file, as given.
    pub file: String,
    /// The problem: the field (and line) and what is wrong with it.
    pub message: String,
}

impl ScenarioError {
    pub(crate) fn new(file: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            file: file.into(),
            message: message.into(),
        }
    }
}

/// How a remediation is expected to end, in the scenario's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExpectedStatus {
    /// `remediated`.
    Remediated,
    /// `already-compliant`.
    AlreadyCompliant,
    /// `skipped`.
    Skipped,
    /// `failed`.
    Failed,
    /// `denied`.
    Denied,
}

impl ExpectedStatus {
    /// The host's status this stands for.
    pub fn status(self) -> hubfix_host::Status {
        use hubfix_host::Status;
        match self {
            ExpectedStatus::Remediated => Status::Remediated,
            ExpectedStatus::AlreadyCompliant => Status::AlreadyCompliant,
            ExpectedStatus::Skipped => Status::Skipped,
            ExpectedStatus::Failed => Status::Failed,
            ExpectedStatus::Denied => Status::Denied,
        }
    }

    /// `already-compliant`, as written in scenario files.
    pub fn as_str(self) -> &'static str {
        match self {
            ExpectedStatus::Remediated => "remediated",
            ExpectedStatus::AlreadyCompliant => "already-compliant",
            ExpectedStatus::Skipped => "skipped",
            ExpectedStatus::Failed => "failed",
            ExpectedStatus::Denied => "denied",
        }
    }

    /// The scenario's name for a host status.
    pub fn name_of(status: hubfix_host::Status) -> &'static str {
        use hubfix_host::Status;
        match status {
            Status::Remediated => "remediated",
            Status::AlreadyCompliant => "already-compliant",
            Status::Skipped => "skipped",
            Status::Failed => "failed",
            Status::Denied => "denied",
        }
    }
}

/// A mutating call the plugin is expected to make (in `fix`) or plan (in `plan`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedCall {
    /// The AWS operation, as the outcome records it (`RevokeSecurityGroupIngress`).
    pub operation: String,
    /// The resource it acts on, when the scenario says (may hold placeholders).
    pub resource: Option<String>,
    /// The host refuses its input before AWS (recorded as `invalid`, in plan and fix
    /// alike).
    pub invalid: bool,
}

/// What the plan, fix and run-again steps must show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// The status in plan mode.
    pub plan: ExpectedStatus,
    /// The status in apply mode.
    pub fix: ExpectedStatus,
    /// The mutating calls, in order: planned in plan mode, made in apply mode.
    pub mutating: Vec<ExpectedCall>,
    /// Every call of the fix, in order (operations), when the scenario says.
    pub calls: Option<Vec<String>>,
    /// Text both the plan's and the fix's message contain, when the scenario says.
    pub message: Option<String>,
    /// Whether the fix is run a second time, expecting `already-compliant` and no
    /// mutating call.
    pub run_again: bool,
}

/// An organization the scenario's accounts are members of (`[organization]`): each
/// account of the run is created by a fresh management account (`CreateAccount`), which has
/// all features and trusted access for the services listed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Organization {
    /// Service principals given trusted access (`cloudtrail.amazonaws.com`).
    #[serde(default)]
    pub trusted_services: Vec<String>,
}

/// A setup step: a call, and the id its result is templated by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupStep {
    /// `{{setup.<id>.<field>}}` names its result.
    pub id: Option<String>,
    /// Whether it runs in the organization's management account (`in = "management"`)
    /// instead of the member account.
    pub in_management: bool,
    /// The call.
    pub op: Op,
}

/// A check of the account: a reading call and the values its result must have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// The call (one that only reads).
    pub op: Op,
    /// Field → expected value (may hold placeholders). Lists are compared without regard
    /// to order.
    pub expect: BTreeMap<String, Value>,
}

/// One scenario, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// The file's stem (`weak-policy-raised`).
    pub name: String,
    /// The file.
    pub path: PathBuf,
    /// What it shows, in a sentence.
    pub description: String,
    /// The Security Hub control of the finding.
    pub control: String,
    /// Parameters over the policy's, as an override in the policy would set them.
    pub params: Vec<(String, String)>,
    /// The calls that create the misconfiguration, in order.
    pub setup: Vec<SetupStep>,
    /// The organization the accounts are members of, if any.
    pub organization: Option<Organization>,
    /// The finding's ASFF fields over the default finding (may hold placeholders).
    pub finding: Value,
    /// The account after setup, which plan mode must leave as it is.
    pub before: Vec<Check>,
    /// The account after the fix.
    pub after: Vec<Check>,
    /// What the plan, fix and run-again steps must show.
    pub outcome: Expected,
}

// ---------------------------------------------------------------------------------------
// The file as written.

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawScenario {
    description: String,
    control: String,
    #[serde(default)]
    params: BTreeMap<String, RawParam>,
    #[serde(default)]
    setup: Vec<Spanned<RawSetupStep>>,
    organization: Option<Organization>,
    finding: Spanned<toml::Table>,
    before: Vec<Spanned<RawCheck>>,
    after: Vec<Spanned<RawCheck>>,
    outcome: Spanned<RawOutcome>,
}

// No `deny_unknown_fields` here: every key other than `id` goes to the call, which refuses
// the ones it does not know (serde cannot combine the attribute with `flatten`).
#[derive(Deserialize)]
struct RawSetupStep {
    id: Option<String>,
    /// `"management"`: the call runs in the organization's management account.
    #[serde(rename = "in")]
    in_account: Option<String>,
    #[serde(flatten)]
    op: Op,
}

#[derive(Deserialize)]
struct RawCheck {
    expect: toml::Table,
    #[serde(flatten)]
    op: Op,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawOutcome {
    plan: ExpectedStatus,
    fix: ExpectedStatus,
    mutating: Vec<RawCall>,
    calls: Option<Vec<String>>,
    message: Option<String>,
    #[serde(default = "yes")]
    run_again: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(
    untagged,
    expecting = "an operation name or { operation = \"...\", resource = \"...\", invalid = true }"
)]
enum RawCall {
    Operation(String),
    Full(FullCall),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FullCall {
    operation: String,
    resource: Option<String>,
    #[serde(default)]
    invalid: bool,
}

#[derive(Deserialize)]
#[serde(untagged, expecting = "a string, an integer or a boolean")]
enum RawParam {
    String(String),
    Integer(i64),
    Bool(bool),
}

// ---------------------------------------------------------------------------------------
// Loading.

impl Scenario {
    /// Reads and validates one scenario file.
    pub fn load(path: &Path) -> Result<Self, ScenarioError> {
        let file = path.display().to_string();
        let meta = std::fs::metadata(path)
            .map_err(|e| ScenarioError::new(&file, format!("cannot read: {e}")))?;
        if meta.len() > MAX_FILE_LEN as u64 {
            return Err(ScenarioError::new(
                &file,
                format!(
                    "the file has {} bytes; a scenario may have at most {MAX_FILE_LEN}",
                    meta.len()
                ),
            ));
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| ScenarioError::new(&file, format!("cannot read: {e}")))?;
        Self::parse(path, &text)
    }

    /// Parses and validates a scenario from its text; `path` names it in errors and gives
    /// its name (the file stem).
    pub fn parse(path: &Path, text: &str) -> Result<Self, ScenarioError> {
        let file = path.display().to_string();
        let fail = |message: String| ScenarioError::new(&file, message);
        if text.len() > MAX_FILE_LEN {
            return Err(fail(format!(
                "the file has {} bytes; a scenario may have at most {MAX_FILE_LEN}",
                text.len()
            )));
        }
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let raw: RawScenario = toml::from_str(text).map_err(|e| fail(toml_error(&e)))?;
        let line = |span: std::ops::Range<usize>| line_of(text, span.start);
        let mut v = Validator {
            organization: raw.organization.is_some(),
            ..Validator::default()
        };

        check_text(&mut v, "description", &raw.description, 1_000);
        check_text(&mut v, "control", &raw.control, 64);
        if raw.control.chars().any(char::is_whitespace) {
            v.problem("control", format!("`{}` has whitespace in it", raw.control));
        }

        // Setup: ids unique, each placeholder naming an earlier step and a field it returns.
        for (i, step) in raw.setup.iter().enumerate() {
            let at = format!(
                "setup[{i}] ({}, line {})",
                step.get_ref().op.call(),
                line(step.span())
            );
            let step = step.get_ref();
            if let Some(id) = &step.id {
                if !is_id(id) {
                    v.problem(
                        &at,
                        format!("id `{id}`: use lowercase letters, digits and `-`, at most 64"),
                    );
                } else if v.setup.contains_key(id) {
                    v.problem(&at, format!("id `{id}` is used by an earlier step"));
                }
            }
            match step.in_account.as_deref() {
                None => {}
                Some("management") if raw.organization.is_some() => {}
                Some("management") => v.problem(
                    &at,
                    "`in = \"management\"` needs an `[organization]` table in the scenario",
                ),
                Some(other) => v.problem(
                    &at,
                    format!(
                        "in `{other}`: the only other account a step can run in is `management`"
                    ),
                ),
            }
            v.op(&at, &step.op);
            if let Some(id) = &step.id {
                v.setup.insert(id.clone(), step.op.outputs());
            }
        }
        v.count("setup", raw.setup.len());

        // Parameters: strings, as the policy passes them.
        let mut params = Vec::new();
        for (key, value) in raw.params {
            let value = match value {
                RawParam::String(s) => s,
                RawParam::Integer(n) => n.to_string(),
                RawParam::Bool(b) => b.to_string(),
            };
            v.strings(&format!("params.{key}"), &Value::String(value.clone()));
            if key.trim().is_empty() {
                v.problem("params", "a parameter has an empty name");
            }
            params.push((key, value));
        }

        // The finding: ASFF fields, checked as a finding once filled in.
        let finding_line = line(raw.finding.span());
        let finding = table_to_json(raw.finding.get_ref(), "finding").unwrap_or_else(|e| {
            v.problem("finding", e);
            Value::Null
        });
        if !finding
            .as_object()
            .is_some_and(|f| f.contains_key("Resources"))
        {
            v.problem(
                &format!("finding (line {finding_line})"),
                "it needs `Resources`, the resources the finding is about \
                 (e.g. `Resources = [{ Type = \"AwsAccount\", Id = \"AWS::::Account:{{account}}\" }]`)",
            );
        }
        v.strings("finding", &finding);

        let before = v.checks("before", &raw.before, &line);
        let after = v.checks("after", &raw.after, &line);

        let outcome_line = line(raw.outcome.span());
        let o = raw.outcome.into_inner();
        let at = format!("outcome (line {outcome_line})");
        if o.run_again
            && !matches!(
                o.fix,
                ExpectedStatus::Remediated | ExpectedStatus::AlreadyCompliant
            )
        {
            v.problem(
                &at,
                format!(
                    "a `{}` fix cannot be run again to `already-compliant`; set `run-again = false`",
                    o.fix.as_str()
                ),
            );
        }
        let mut mutating = Vec::new();
        for (i, call) in o.mutating.into_iter().enumerate() {
            let call = match call {
                RawCall::Operation(operation) => ExpectedCall {
                    operation,
                    resource: None,
                    invalid: false,
                },
                RawCall::Full(FullCall {
                    operation,
                    resource,
                    invalid,
                }) => ExpectedCall {
                    operation,
                    resource,
                    invalid,
                },
            };
            let field = format!("outcome.mutating[{i}]");
            check_operation(&mut v, &field, &call.operation);
            if let Some(resource) = &call.resource {
                v.strings(&field, &Value::String(resource.clone()));
            }
            mutating.push(call);
        }
        for (i, call) in o.calls.iter().flatten().enumerate() {
            check_operation(&mut v, &format!("outcome.calls[{i}]"), call);
        }
        if let Some(message) = &o.message {
            check_text(&mut v, "outcome.message", message, 1_000);
        }

        if let Some(problem) = v.problems.into_iter().next() {
            return Err(fail(problem));
        }
        Ok(Scenario {
            name,
            path: path.to_owned(),
            description: raw.description,
            control: raw.control,
            params,
            setup: raw
                .setup
                .into_iter()
                .map(|s| {
                    let s = s.into_inner();
                    SetupStep {
                        id: s.id,
                        in_management: s.in_account.is_some(),
                        op: s.op,
                    }
                })
                .collect(),
            organization: raw.organization,
            finding,
            before,
            after,
            outcome: Expected {
                plan: o.plan,
                fix: o.fix,
                mutating,
                calls: o.calls,
                message: o.message,
                run_again: o.run_again,
            },
        })
    }
}

/// Every scenario of a plugin: `<plugin_dir>/scenarios/*.toml`, sorted by file name. A
/// plugin without a `scenarios/` directory has none.
pub fn load_dir(plugin_dir: &Path) -> Result<Vec<Scenario>, ScenarioError> {
    let dir = plugin_dir.join("scenarios");
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let entries = std::fs::read_dir(&dir)
        .map_err(|e| ScenarioError::new(dir.display().to_string(), format!("cannot list: {e}")))?;
    let mut paths = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| {
                ScenarioError::new(dir.display().to_string(), format!("cannot list: {e}"))
            })?
            .path();
        if path.extension().is_some_and(|x| x == "toml") {
            paths.push(path);
        }
    }
    if paths.len() > crate::MAX_SCENARIOS {
        return Err(ScenarioError::new(
            dir.display().to_string(),
            format!(
                "{} scenario files; a plugin may have at most {}",
                paths.len(),
                crate::MAX_SCENARIOS
            ),
        ));
    }
    paths.sort();
    paths.iter().map(|p| Scenario::load(p)).collect()
}

// ---------------------------------------------------------------------------------------
// Checks beyond types.

#[derive(Default)]
struct Validator {
    problems: Vec<String>,
    /// Setup step id → the fields its call returns, for the steps seen so far.
    setup: BTreeMap<String, &'static [&'static str]>,
    /// Whether the scenario has an `[organization]` (and so `{{management}}`).
    organization: bool,
}

impl Validator {
    fn problem(&mut self, field: &str, message: impl Into<String>) {
        self.problems.push(format!("{field}: {}", message.into()));
    }

    fn count(&mut self, field: &str, n: usize) {
        if n > MAX_STEPS {
            self.problem(field, format!("{n} steps; at most {MAX_STEPS}"));
        }
    }

    /// A call's own problems and its placeholders.
    fn op(&mut self, at: &str, op: &Op) {
        for problem in op.problems() {
            self.problem(at, problem);
        }
        match serde_json::to_value(op) {
            Ok(value) => self.strings(at, &value),
            Err(e) => self.problem(at, format!("cannot read the call's fields: {e}")),
        }
    }

    /// Checks the placeholders in the strings of `value`: each `{{setup.ID.FIELD}}` must
    /// name an earlier step with an id and a field its call returns.
    fn strings(&mut self, at: &str, value: &Value) {
        let mut vars = Vec::new();
        template::vars_in(value, "", &mut vars);
        for (path, var) in vars {
            let at = if path.is_empty() {
                at.to_owned()
            } else {
                format!("{at}: {path}")
            };
            match var {
                Err(e) => self.problem(&at, e),
                Ok(Var::Setup { step, field }) => match self.setup.get(&step) {
                    None => {
                        let known: Vec<&str> = self.setup.keys().map(String::as_str).collect();
                        self.problem(
                            &at,
                            format!(
                                "`{{{{setup.{step}.{field}}}}}`: no earlier setup step has id `{step}` ({})",
                                if known.is_empty() {
                                    "no earlier step has an id".to_owned()
                                } else {
                                    format!("earlier ids: {}", known.join(", "))
                                }
                            ),
                        );
                    }
                    Some(outputs) if !outputs.contains(&field.as_str()) => {
                        let outputs = *outputs;
                        self.problem(
                            &at,
                            format!(
                                "`{{{{setup.{step}.{field}}}}}`: that step's call returns {}",
                                returns(outputs)
                            ),
                        );
                    }
                    Some(_) => {}
                },
                Ok(Var::Management) if !self.organization => self.problem(
                    &at,
                    "`{{management}}` needs an `[organization]` table in the scenario",
                ),
                Ok(Var::Account | Var::Management | Var::Region | Var::Partition) => {}
            }
        }
    }

    fn checks(
        &mut self,
        section: &str,
        raw: &[Spanned<RawCheck>],
        line: &dyn Fn(std::ops::Range<usize>) -> usize,
    ) -> Vec<Check> {
        if raw.is_empty() {
            self.problem(
                section,
                "give at least one check: a reading call and the values it must return",
            );
        }
        self.count(section, raw.len());
        let mut checks = Vec::new();
        for (i, check) in raw.iter().enumerate() {
            let at = format!(
                "{section}[{i}] ({}, line {})",
                check.get_ref().op.call(),
                line(check.span())
            );
            let check = check.get_ref();
            if !check.op.is_read() {
                self.problem(
                    &at,
                    format!(
                        "{} changes the account; `{section}` may only read (calls that read: {})",
                        check.op.call(),
                        crate::ops::CALLS
                            .iter()
                            .filter(|c| c.contains(".get-")
                                || c.contains(".describe-")
                                || c.contains(".default-"))
                            .copied()
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            }
            self.op(&at, &check.op);
            if check.expect.is_empty() {
                self.problem(&at, "`expect` is empty: name the fields to compare");
            }
            let outputs = check.op.outputs();
            let mut expect = BTreeMap::new();
            for (field, value) in &check.expect {
                if !outputs.contains(&field.as_str()) {
                    self.problem(
                        &at,
                        format!(
                            "expect.{field}: {} returns {}",
                            check.op.call(),
                            returns(outputs)
                        ),
                    );
                }
                match toml_to_json(value, &format!("expect.{field}")) {
                    Ok(value) => {
                        self.strings(&format!("{at}: expect.{field}"), &value);
                        expect.insert(field.clone(), value);
                    }
                    Err(e) => self.problem(&at, e),
                }
            }
            checks.push(Check {
                op: check.op.clone(),
                expect,
            });
        }
        checks
    }
}

fn returns(outputs: &[&str]) -> String {
    if outputs.is_empty() {
        "nothing".to_owned()
    } else {
        outputs
            .iter()
            .map(|o| format!("`{o}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn check_text(v: &mut Validator, field: &str, text: &str, max: usize) {
    if text.trim().is_empty() {
        v.problem(field, "is empty");
    } else if text.len() > max {
        v.problem(field, format!("is longer than {max} bytes"));
    }
}

fn check_operation(v: &mut Validator, field: &str, operation: &str) {
    let ok = !operation.is_empty()
        && operation.len() <= 128
        && operation.chars().all(|c| c.is_ascii_alphanumeric())
        && operation.starts_with(|c: char| c.is_ascii_uppercase());
    if !ok {
        v.problem(
            field,
            format!(
                "`{operation}` is not an AWS operation name as outcomes record it \
                 (e.g. `RevokeSecurityGroupIngress`)"
            ),
        );
    }
}

fn is_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// A TOML parse or type error, as one message that names the line.
fn toml_error(err: &toml::de::Error) -> String {
    // The error's own text has the line, the offending line and a caret; keep it, trimmed.
    err.to_string().trim_end().to_owned()
}

fn table_to_json(table: &toml::Table, path: &str) -> Result<Value, String> {
    let mut map = serde_json::Map::new();
    for (key, value) in table {
        map.insert(key.clone(), toml_to_json(value, &format!("{path}.{key}"))?);
    }
    Ok(Value::Object(map))
}

fn toml_to_json(value: &toml::Value, path: &str) -> Result<Value, String> {
    Ok(match value {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(n) => Value::from(*n),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(Value::Number)
            .ok_or_else(|| format!("{path}: {f} is not a number JSON can hold"))?,
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(_) => {
            return Err(format!(
                "{path}: TOML dates are not supported; write the date as a string"
            ));
        }
        toml::Value::Array(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| toml_to_json(item, &format!("{path}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        toml::Value::Table(table) => table_to_json(table, path)?,
    })
}
