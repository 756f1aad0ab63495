//! Running scenarios: fresh member accounts, setup, plan, fix, run again, and the checks
//! between them, with the plugin in a real [`hubfix_host::Runtime`].

use std::collections::BTreeMap;
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_config::SdkConfig;
use hubfix_finding::{Finding, Format};
use hubfix_host::{
    CallResult, Grants, HostConfig, LoadError, Mode, Outcome, Plugin, PluginRef, Request, Runtime,
    SetupError, UnknownGrant, sha256_hex,
};
use hubfix_policy::{Action, Date, NoOrg, Policy};
use serde::Serialize;
use serde_json::{Value, json};

use crate::file::{Check, ExpectedCall, ExpectedStatus, Scenario};
use crate::ops::{Member, Op, Record};
use crate::template::{Context, partition_of};

/// The role assumed in every member account, by the host and by the scenario's own calls.
pub const ROLE_NAME: &str = "HubfixRemediationRole";

/// How many fresh member accounts each scenario runs in.
pub const ACCOUNTS: usize = 2;

/// The region scenarios run in when the environment names none.
pub const DEFAULT_REGION: &str = "us-east-1";

/// Why a runner could not be made for a component.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    /// The plugin host could not start.
    #[error("cannot start the plugin host: {0}")]
    Setup(#[from] SetupError),
    /// The component is not a plugin (or its `describe()` failed).
    #[error("the component is not a hubfix plugin: {0}")]
    Describe(LoadError),
    /// The policy has no entry for the plugin the component says it is.
    #[error(
        "the policy has no plugin `{name}` (the component's describe() name); its plugins: {}; \
         add a [plugins.{name}] entry with the plugin's grants",
        known.join(", ")
    )]
    NotInPolicy {
        /// The name the component gives.
        name: String,
        /// The policy's plugins.
        known: Vec<String>,
    },
    /// The policy's grants name an unknown host function.
    #[error("the policy's grants for `{name}`: {error}")]
    Grants {
        /// The plugin.
        name: String,
        /// The grant.
        error: UnknownGrant,
    },
    /// The host refused the component with the policy's grants.
    #[error("plugin `{name}` refused with the policy's grants: {error}")]
    Load {
        /// The plugin.
        name: String,
        /// Why.
        error: LoadError,
    },
}

/// A step of a scenario in one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// The setup calls, the finding and the policy's decision.
    Setup,
    /// The `before` checks.
    Before,
    /// The plugin in plan mode.
    Plan,
    /// The `before` checks again: plan mode changed nothing.
    Unchanged,
    /// The plugin in apply mode.
    Fix,
    /// The `after` checks.
    After,
    /// The plugin in apply mode again: already compliant, no mutating call.
    Again,
}

impl Phase {
    /// Its name in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Setup => "setup",
            Phase::Before => "before",
            Phase::Plan => "plan",
            Phase::Unchanged => "unchanged",
            Phase::Fix => "fix",
            Phase::After => "after",
            Phase::Again => "again",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How one step went in one account.
#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    /// The member account.
    pub account: String,
    /// The step.
    pub phase: Phase,
    /// Whether it passed.
    pub passed: bool,
    /// What it did, or what differed (expected vs got).
    pub detail: String,
    /// The plugin's outcome, for the plan, fix and again steps.
    pub outcome: Option<Outcome>,
}

/// How one scenario went.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioReport {
    /// The plugin's name.
    pub plugin: String,
    /// The scenario's name (its file stem).
    pub scenario: String,
    /// Its file.
    pub file: String,
    /// The member accounts it ran in.
    pub accounts: Vec<String>,
    /// Every step, in the order run.
    pub steps: Vec<StepReport>,
    /// A problem that kept it from running at all (its parameters, its control).
    pub error: Option<String>,
}

impl ScenarioReport {
    /// Whether every step passed in every account.
    pub fn passed(&self) -> bool {
        self.error.is_none()
            && !self.steps.is_empty()
            && self.steps.iter().all(|s| s.passed)
            && self.accounts.iter().all(|a| {
                self.steps
                    .iter()
                    .any(|s| &s.account == a && s.phase == Phase::After)
            })
    }

    /// The steps that failed.
    pub fn failures(&self) -> impl Iterator<Item = &StepReport> {
        self.steps.iter().filter(|s| !s.passed)
    }
}

/// Runs a plugin's scenarios: one [`Runtime`], the plugin loaded once with the policy's
/// grants, and for each scenario fresh member accounts.
pub struct Runner {
    runtime: Runtime,
    base: SdkConfig,
    region: String,
    policy: Policy,
    plugin: Plugin,
    entry: hubfix_policy::Plugin,
    accounts: usize,
}

impl Runner {
    /// Loads `component` the way the host does: its name from `describe()`, its grants from
    /// `policy`'s entry of that name, the digest of the bytes themselves. AWS is reached
    /// through the environment (`hubfix_host::load_aws_config`).
    pub async fn new(component: &[u8], policy: Policy) -> Result<Self, RunnerError> {
        Self::with_config(component, policy, hubfix_host::load_aws_config().await).await
    }

    /// [`Runner::new`] with the host's AWS configuration given.
    pub async fn with_config(
        component: &[u8],
        policy: Policy,
        base: SdkConfig,
    ) -> Result<Self, RunnerError> {
        let config = HostConfig {
            role_name: ROLE_NAME.to_owned(),
            ..HostConfig::default()
        };
        let runtime = Runtime::new(config, base.clone())?;
        let described = runtime
            .describe(component)
            .await
            .map_err(RunnerError::Describe)?;
        let name = described.info().name.clone();
        let entry = policy
            .plugin(&name)
            .cloned()
            .ok_or_else(|| RunnerError::NotInPolicy {
                name: name.clone(),
                known: policy.plugins().map(|p| p.name.clone()).collect(),
            })?;
        let grants = Grants::new(&entry.grants).map_err(|error| RunnerError::Grants {
            name: name.clone(),
            error,
        })?;
        let plugin = runtime
            .load(component, &sha256_hex(component), grants)
            .await
            .map_err(|error| RunnerError::Load {
                name: name.clone(),
                error,
            })?;
        let region = base
            .region()
            .map_or_else(|| DEFAULT_REGION.to_owned(), |r| r.to_string());
        Ok(Self {
            runtime,
            base,
            region,
            policy,
            plugin,
            entry,
            accounts: ACCOUNTS,
        })
    }

    /// The plugin: name and version from `describe()`, the digest of the component.
    pub fn plugin(&self) -> &PluginRef {
        self.plugin.info()
    }

    /// The grants the policy gives it.
    pub fn grants(&self) -> &[String] {
        &self.entry.grants
    }

    /// The region scenarios run in.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// Runs one scenario in fresh member accounts; `progress` hears of each step as it
    /// ends. Never fails as a Rust error: everything that can go wrong is in the report.
    pub async fn run(
        &self,
        scenario: &Scenario,
        progress: &mut dyn FnMut(&StepReport),
    ) -> ScenarioReport {
        let mut report = ScenarioReport {
            plugin: self.entry.name.clone(),
            scenario: scenario.name.clone(),
            file: scenario.path.display().to_string(),
            accounts: Vec::new(),
            steps: Vec::new(),
            error: None,
        };
        if let Err(e) = self.preflight(scenario) {
            report.error = Some(e);
            return report;
        }
        report.accounts = fresh_accounts(self.accounts);
        let mut step = |report: &mut ScenarioReport, s: StepReport| {
            progress(&s);
            let passed = s.passed;
            report.steps.push(s);
            passed
        };

        // In an organization, each fresh account becomes a management account that creates
        // the member the scenario runs in.
        let mut managements: BTreeMap<String, Member> = BTreeMap::new();
        if let Some(org) = &scenario.organization {
            let mut members = Vec::new();
            for management in report.accounts.clone() {
                match self.organization(&org.trusted_services, &management).await {
                    Ok((member, m)) => {
                        let detail = format!(
                            "member of a new organization of management account {management}"
                        );
                        step(&mut report, passed(&member, Phase::Setup, detail, None));
                        managements.insert(member.clone(), m);
                        members.push(member);
                    }
                    Err(e) => {
                        step(&mut report, failed(&management, Phase::Setup, e, None));
                    }
                }
            }
            report.accounts = members;
        }

        // Every account is set up before any is fixed, so each account's checks run after
        // the other accounts' fixes: a plugin acting outside its finding's account shows.
        // Every other account gets the finding as Security Hub v2 sends it (OCSF): each
        // plugin is shown to remediate both formats.
        let mut ready = Vec::new();
        for (i, account) in report.accounts.clone().into_iter().enumerate() {
            let format = if i % 2 == 1 {
                Format::Ocsf
            } else {
                Format::Asff
            };
            match self
                .setup(scenario, &account, managements.get(&account), format)
                .await
            {
                Ok((state, detail)) => {
                    step(&mut report, passed(&account, Phase::Setup, detail, None));
                    ready.push(state);
                }
                Err(e) => {
                    step(&mut report, failed(&account, Phase::Setup, e, None));
                }
            }
        }
        for state in &mut ready {
            for phase in [
                Phase::Before,
                Phase::Plan,
                Phase::Unchanged,
                Phase::Fix,
                Phase::After,
                Phase::Again,
            ] {
                if phase == Phase::Again && !scenario.outcome.run_again {
                    continue;
                }
                let s = self.phase(scenario, state, phase).await;
                if !step(&mut report, s) {
                    break;
                }
            }
        }
        report
    }

    /// What can be checked before any AWS call: the scenario's control and parameters
    /// against the policy's plugin.
    fn preflight(&self, scenario: &Scenario) -> Result<(), String> {
        if !self.entry.controls.iter().any(|c| c == &scenario.control) {
            return Err(format!(
                "control: `{}` is not one the policy's plugin `{}` remediates (its controls: {})",
                scenario.control,
                self.entry.name,
                self.entry.controls.join(", ")
            ));
        }
        for (key, _) in &scenario.params {
            if !self.entry.takes(key) {
                let takes = self.entry.param_names();
                return Err(format!(
                    "params.{key}: the policy's plugin `{}` takes no parameter `{key}` ({})",
                    self.entry.name,
                    if takes.is_empty() {
                        "it takes none".to_owned()
                    } else {
                        format!("it takes: {}", takes.join(", "))
                    }
                ));
            }
        }
        Ok(())
    }

    /// A new organization of the fresh account `management`, with trusted access for
    /// `services`, and its new member: the member's id and the management account.
    async fn organization(
        &self,
        services: &[String],
        management: &str,
    ) -> Result<(String, Member), String> {
        let m = Member::assume(&self.base, &self.region, management, ROLE_NAME).await?;
        let member = m
            .found_organization(services)
            .await
            .map_err(|e| format!("organization of {management}: {e}"))?;
        Ok((member, m))
    }

    /// Setup in one account (a member of `management`'s organization, when given): the
    /// calls, then the finding and the policy's decision.
    async fn setup(
        &self,
        scenario: &Scenario,
        account: &str,
        management: Option<&Member>,
        format: Format,
    ) -> Result<(State, String), String> {
        let member = Member::assume(&self.base, &self.region, account, ROLE_NAME).await?;
        let mut ctx = Context {
            account: account.to_owned(),
            management: management.map(|m| m.account.clone()),
            region: self.region.clone(),
            partition: partition_of(&self.region).to_owned(),
            setup: BTreeMap::new(),
        };
        for (i, step) in scenario.setup.iter().enumerate() {
            let at = format!("setup[{i}] {}", step.op.call());
            let op = render_op(&step.op, &ctx).map_err(|e| format!("{at}: {e}"))?;
            let runs_in = match management {
                Some(m) if step.in_management => m,
                _ => &member,
            };
            let record = op.run(runs_in).await.map_err(|e| format!("{at}: {e}"))?;
            if let Some(id) = &step.id {
                ctx.setup.insert(id.clone(), record);
            }
        }

        let fields = ctx
            .render_value(&scenario.finding, "finding")
            .map_err(|e| format!("finding: {e}"))?;
        let mut document = default_finding(scenario, &ctx);
        merge(&mut document, fields);
        if format == Format::Ocsf {
            document = crate::ocsf::from_asff(&document);
        }
        let finding = Finding::from_value(document.clone())
            .map_err(|e| format!("finding: not a valid finding: {e}"))?;
        let mut decision = self.policy.decide(&document, &NoOrg, today());
        // An opt-in control (`notify` naming this plugin) runs as the account's owners would
        // run it once they opt in: with an override turning it on for the account.
        let opted_in = decision.action == Action::Notify
            && decision.control.as_deref().is_some_and(|control| {
                self.policy
                    .control(control)
                    .is_some_and(|c| c.plugin.as_deref() == Some(self.entry.name.as_str()))
            });
        if opted_in
            && let Some(policy) = decision
                .control
                .as_deref()
                .and_then(|control| self.policy.opted_in(control, account))
        {
            decision = policy.decide(&document, &NoOrg, today());
        }
        if decision.action != Action::Remediate {
            return Err(format!(
                "the policy decides `{}` for the finding ({}): {}",
                decision.action, decision.rule, decision.reason
            ));
        }
        let decided = decision
            .plugin
            .as_ref()
            .map(|p| p.name.as_str())
            .unwrap_or("?");
        if decided != self.entry.name {
            return Err(format!(
                "the policy remediates the finding with plugin `{decided}`, not `{}` ({})",
                self.entry.name, decision.rule
            ));
        }
        let mut params = decision.params.clone();
        for (key, value) in &scenario.params {
            let value = ctx
                .render(value)
                .map_err(|e| format!("params.{key}: {e}"))?;
            params.insert(key.clone(), value);
        }
        let control = decision
            .control
            .clone()
            .unwrap_or_else(|| scenario.control.clone());
        let detail = format!(
            "{} call(s); the policy remediates {control}{}{} with {}{}",
            scenario.setup.len(),
            match format {
                Format::Asff => "",
                Format::Ocsf => " (a Security Hub v2 OCSF finding)",
            },
            if opted_in { " (opted in)" } else { "" },
            self.entry.name,
            if params.is_empty() {
                String::new()
            } else {
                format!(
                    " ({})",
                    params
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        );
        Ok((
            State {
                member,
                ctx,
                finding,
                control,
                params: params.into_iter().collect(),
                before: Vec::new(),
            },
            detail,
        ))
    }

    async fn phase(&self, scenario: &Scenario, state: &mut State, phase: Phase) -> StepReport {
        let account = state.member.account.clone();
        let account = account.as_str();
        let result = match phase {
            // Setup runs in `setup`, for every account before any other phase.
            Phase::Setup => Ok(String::new()),
            Phase::Before => match self.checks(&scenario.before, "before", state).await {
                Ok(records) => {
                    let n = records.len();
                    state.before = records;
                    Ok(format!("{n} check(s) passed"))
                }
                Err(e) => Err(e),
            },
            Phase::Unchanged => self.unchanged(scenario, state).await,
            Phase::After => self
                .checks(&scenario.after, "after", state)
                .await
                .map(|records| format!("{} check(s) passed", records.len())),
            Phase::Plan | Phase::Fix | Phase::Again => {
                let mode = if phase == Phase::Plan {
                    Mode::Plan
                } else {
                    Mode::Apply
                };
                let request = Request {
                    finding: state.finding.clone(),
                    control: state.control.clone(),
                    params: state.params.clone(),
                    mode,
                };
                let outcome = self.runtime.remediate(&self.plugin, &request).await;
                let judged = judge(scenario, state, phase, &outcome);
                return match judged {
                    Ok(detail) => passed(account, phase, detail, Some(outcome)),
                    Err(e) => failed(account, phase, e, Some(outcome)),
                };
            }
        };
        match result {
            Ok(detail) => passed(account, phase, detail, None),
            Err(e) => failed(account, phase, e, None),
        }
    }

    /// Runs `checks` and compares each result with its expectation.
    async fn checks(
        &self,
        checks: &[Check],
        section: &str,
        state: &State,
    ) -> Result<Vec<Record>, String> {
        let mut records = Vec::with_capacity(checks.len());
        for (i, check) in checks.iter().enumerate() {
            let at = format!("{section}[{i}] {}", check.op.call());
            let op = render_op(&check.op, &state.ctx).map_err(|e| format!("{at}: {e}"))?;
            let record = op
                .run(&state.member)
                .await
                .map_err(|e| format!("{at}: {e}"))?;
            let mut differences = Vec::new();
            for (field, expected) in &check.expect {
                let expected = state
                    .ctx
                    .render_value(expected, &format!("expect.{field}"))
                    .map_err(|e| format!("{at}: {e}"))?;
                if let Some(difference) = compare(&expected, record.get(field)) {
                    differences.push(format!("`{field}`: {difference}"));
                }
            }
            if !differences.is_empty() {
                return Err(format!(
                    "{at}: {} (it returned {})",
                    differences.join("; "),
                    Value::Object(record.into_iter().collect())
                ));
            }
            records.push(record);
        }
        Ok(records)
    }

    /// The `before` checks again, compared field by field with what they returned first.
    async fn unchanged(&self, scenario: &Scenario, state: &State) -> Result<String, String> {
        let first = &state.before;
        let again = self.checks(&scenario.before, "before", state).await?;
        for (i, (was, now)) in first.iter().zip(&again).enumerate() {
            let mut changed = Vec::new();
            let fields: std::collections::BTreeSet<&String> =
                was.keys().chain(now.keys()).collect();
            for field in fields {
                let (a, b) = (was.get(field), now.get(field));
                if a != b {
                    changed.push(format!("`{field}` was {}, now {}", shown(a), shown(b)));
                }
            }
            if !changed.is_empty() {
                return Err(format!(
                    "plan mode changed the account: before[{i}] {}: {}",
                    scenario.before[i].op.call(),
                    changed.join("; ")
                ));
            }
        }
        Ok(format!(
            "{} check(s) return what they did before the plan",
            again.len()
        ))
    }
}

/// One account's setup results, finding and request.
struct State {
    member: Member,
    ctx: Context,
    finding: Finding,
    control: String,
    params: Vec<(String, String)>,
    /// What the `before` checks returned, for [`Phase::Unchanged`].
    before: Vec<Record>,
}

fn passed(account: &str, phase: Phase, detail: String, outcome: Option<Outcome>) -> StepReport {
    StepReport {
        account: account.to_owned(),
        phase,
        passed: true,
        detail,
        outcome,
    }
}

fn failed(account: &str, phase: Phase, detail: String, outcome: Option<Outcome>) -> StepReport {
    StepReport {
        account: account.to_owned(),
        phase,
        passed: false,
        detail,
        outcome,
    }
}

/// Whether an outcome is what the scenario expects of `phase`.
fn judge(
    scenario: &Scenario,
    state: &State,
    phase: Phase,
    outcome: &Outcome,
) -> Result<String, String> {
    let expected = &scenario.outcome;
    let (status, calls): (ExpectedStatus, &[ExpectedCall]) = match phase {
        Phase::Plan => (expected.plan, &expected.mutating),
        Phase::Fix => (expected.fix, &expected.mutating),
        _ => (ExpectedStatus::AlreadyCompliant, &[]),
    };
    let said = if outcome.message.is_empty() {
        String::new()
    } else {
        format!(" (the plugin said: {})", outcome.message)
    };
    if outcome.status != status.status() {
        return Err(format!(
            "status: expected `{}`, got `{}`{said}",
            status.as_str(),
            ExpectedStatus::name_of(outcome.status)
        ));
    }
    let result = match (phase, status) {
        (_, ExpectedStatus::Denied) => CallResult::Denied,
        (Phase::Plan, _) => CallResult::Planned,
        _ => CallResult::Ok,
    };
    let got: Vec<String> = outcome
        .mutating_calls()
        .map(|c| format!("{}:{}", c.operation, call_result(c.result)))
        .collect();
    let want: Vec<String> = calls
        .iter()
        .map(|c| {
            let result = if c.invalid {
                CallResult::Invalid
            } else {
                result
            };
            format!("{}:{}", c.operation, call_result(result))
        })
        .collect();
    if got != want {
        return Err(format!(
            "mutating calls: expected [{}], got [{}]{said}",
            want.join(", "),
            got.join(", ")
        ));
    }
    for (i, (call, made)) in calls.iter().zip(outcome.mutating_calls()).enumerate() {
        if let Some(resource) = &call.resource {
            let resource = state
                .ctx
                .render(resource)
                .map_err(|e| format!("outcome.mutating[{i}].resource: {e}"))?;
            if made.resource.as_deref() != Some(resource.as_str()) {
                return Err(format!(
                    "mutating call {} acted on {}, expected {resource}",
                    made.operation,
                    made.resource.as_deref().unwrap_or("no resource")
                ));
            }
        }
    }
    if phase == Phase::Fix
        && let Some(expected_calls) = &expected.calls
    {
        let made: Vec<&str> = outcome.calls.iter().map(|c| c.operation.as_str()).collect();
        if made != *expected_calls {
            return Err(format!(
                "calls: expected [{}], got [{}]",
                expected_calls.join(", "),
                made.join(", ")
            ));
        }
    }
    if phase != Phase::Again
        && let Some(text) = &expected.message
    {
        let text = state
            .ctx
            .render(text)
            .map_err(|e| format!("outcome.message: {e}"))?;
        if !outcome.message.contains(text.as_str()) {
            return Err(format!(
                "message: expected it to contain `{text}`, got `{}`",
                outcome.message
            ));
        }
    }
    let verb = if phase == Phase::Plan {
        "planned"
    } else {
        "made"
    };
    Ok(format!(
        "{}; {}{said}",
        status.as_str(),
        if got.is_empty() {
            "no mutating call".to_owned()
        } else {
            format!(
                "{verb} {}",
                calls
                    .iter()
                    .map(|c| c.operation.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    ))
}

fn call_result(result: CallResult) -> &'static str {
    match result {
        CallResult::Ok => "ok",
        CallResult::Planned => "planned",
        CallResult::Denied => "denied",
        CallResult::Error => "error",
        CallResult::Throttled => "throttled",
        CallResult::Invalid => "invalid",
    }
}

/// `None` when `got` is `expected`; lists compare without regard to order.
fn compare(expected: &Value, got: Option<&Value>) -> Option<String> {
    let Some(got) = got else {
        return Some(format!(
            "expected {expected}, got nothing (the field is absent)"
        ));
    };
    match (expected, got) {
        (Value::Array(want), Value::Array(have)) => {
            let sorted = |items: &[Value]| {
                let mut items: Vec<String> = items.iter().map(Value::to_string).collect();
                items.sort();
                items
            };
            let (want, have) = (sorted(want), sorted(have));
            if want == have {
                return None;
            }
            let missing: Vec<&String> = want.iter().filter(|w| !have.contains(w)).collect();
            let extra: Vec<&String> = have.iter().filter(|h| !want.contains(h)).collect();
            let mut parts = vec![format!(
                "expected [{}], got [{}]",
                want.join(", "),
                have.join(", ")
            )];
            if !missing.is_empty() {
                parts.push(format!(
                    "missing {}",
                    missing
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if !extra.is_empty() {
                parts.push(format!(
                    "unexpected {}",
                    extra
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            Some(parts.join("; "))
        }
        _ if expected == got => None,
        _ => Some(format!("expected {expected}, got {got}")),
    }
}

fn shown(value: Option<&Value>) -> String {
    value.map_or_else(|| "absent".to_owned(), Value::to_string)
}

/// `op` with the placeholders of its string fields filled in.
fn render_op(op: &Op, ctx: &Context) -> Result<Op, String> {
    let value = serde_json::to_value(op).map_err(|e| e.to_string())?;
    let rendered = ctx.render_value(&value, "")?;
    serde_json::from_value(rendered).map_err(|e| e.to_string())
}

/// Distinct fresh 12-digit account ids (never moto's default account).
fn fresh_accounts(n: usize) -> Vec<String> {
    let mut accounts: Vec<String> = Vec::with_capacity(n);
    while accounts.len() < n {
        let id = format!("{:012}", fastrand::u64(100_000_000_000..1_000_000_000_000));
        if id != "123456789012" && !accounts.contains(&id) {
            accounts.push(id);
        }
    }
    accounts
}

fn now_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

fn today() -> Date {
    Date::from_unix_seconds(now_seconds())
}

/// The finding every scenario starts from: failed, active, new, about `scenario.control`
/// in the member account; the scenario's `[finding]` goes over it.
fn default_finding(scenario: &Scenario, ctx: &Context) -> Value {
    let (p, r, a, c) = (&ctx.partition, &ctx.region, &ctx.account, &scenario.control);
    let seconds = now_seconds();
    let day = Date::from_unix_seconds(seconds);
    let time = seconds.rem_euclid(86_400);
    let now = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        day.year(),
        day.month(),
        day.day(),
        time / 3600,
        time / 60 % 60,
        time % 60
    );
    json!({
        "SchemaVersion": "2018-10-08",
        "Id": format!(
            "arn:{p}:securityhub:{r}:{a}:security-control/{c}/finding/hubfix-scenario-{}-{}",
            scenario.name,
            fastrand::u64(..)
        ),
        "ProductArn": format!("arn:{p}:securityhub:{r}::product/aws/securityhub"),
        "GeneratorId": format!("security-control/{c}"),
        "AwsAccountId": a,
        "Region": r,
        "Types": ["Software and Configuration Checks/Industry and Regulatory Standards"],
        "CreatedAt": now,
        "UpdatedAt": now,
        "Severity": {"Label": "MEDIUM"},
        "Title": format!("{c} scenario {}", scenario.name),
        "Description": scenario.description,
        "Compliance": {"Status": "FAILED", "SecurityControlId": c},
        "Workflow": {"Status": "NEW"},
        "RecordState": "ACTIVE",
    })
}

/// `over` merged into `base`: objects key by key, anything else replaced.
fn merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(base), Value::Object(over)) => {
            for (key, value) in over {
                match base.get_mut(&key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (base, over) => *base = over,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_compare_without_order_and_say_what_differs() {
        assert_eq!(compare(&json!(["b", "a"]), Some(&json!(["a", "b"]))), None);
        let d = compare(&json!(["a", "b"]), Some(&json!(["b", "c"]))).unwrap();
        assert!(d.contains(r#"missing "a""#), "{d}");
        assert!(d.contains(r#"unexpected "c""#), "{d}");
        assert_eq!(compare(&json!(14), Some(&json!(14))), None);
        assert_eq!(
            compare(&json!(true), Some(&json!(false))).unwrap(),
            "expected true, got false"
        );
        assert!(compare(&json!(30), None).unwrap().contains("absent"));
    }

    #[test]
    fn findings_merge_over_the_default() {
        let mut base = json!({"Compliance": {"Status": "FAILED", "SecurityControlId": "EC2.2"}, "Resources": []});
        merge(
            &mut base,
            json!({"Compliance": {"Status": "PASSED"}, "Resources": [{"Type": "AwsAccount"}]}),
        );
        assert_eq!(
            base,
            json!({"Compliance": {"Status": "PASSED", "SecurityControlId": "EC2.2"},
                   "Resources": [{"Type": "AwsAccount"}]})
        );
    }

    #[test]
    fn fresh_accounts_are_distinct_twelve_digit_ids() {
        let accounts = fresh_accounts(5);
        assert_eq!(accounts.len(), 5);
        for a in &accounts {
            assert_eq!(a.len(), 12);
            assert!(a.chars().all(|c| c.is_ascii_digit()));
        }
        let mut unique = accounts.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 5);
    }
}
