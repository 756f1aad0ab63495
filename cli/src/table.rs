//! Plain-text rendering of outcomes.

use hubfix_host::{CallResult, Outcome};

pub fn print_outcomes(outcomes: &[Outcome]) {
    for o in outcomes {
        out!(
            "{status:<17} {control:<8} {account} {region}  {plugin}@{version} ({digest})  {ms:.1} ms",
            status = o.status.as_str(),
            control = o.control,
            account = o.account_id,
            region = o.region,
            plugin = o.plugin.name,
            version = o.plugin.version,
            digest = o.plugin.short_digest(),
            ms = o.duration_ms,
        );
        out!("  {}", o.message);
        for c in &o.calls {
            let result = match c.result {
                CallResult::Ok => "ok",
                CallResult::Planned => "planned",
                CallResult::Denied => "DENIED",
                CallResult::Error => "error",
                CallResult::Throttled => "throttled",
                CallResult::Invalid => "invalid",
            };
            out!(
                "  {kind} {service}:{operation:<30} {resource:<24} {result}{error}",
                kind = if c.mutating { "W" } else { "R" },
                service = c.service,
                operation = c.operation,
                resource = c.resource.as_deref().unwrap_or("-"),
                error = c
                    .error
                    .as_deref()
                    .map(|e| format!(" ({e})"))
                    .unwrap_or_default(),
            );
        }
    }
}
