//! The demo: two member accounts on the local emulator get the four misconfigurations the
//! shipped plugins fix; each finding goes through `hubfix run` (the real CLI binary); a
//! table shows compliance before and after. Started by `cargo xtask demo`.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use hubfix_tests::{
    EC2_DEFAULT_SG_RESTRICT, EC2_EBS_DEFAULT_ENCRYPTION, EC2_RESTRICT_ADMIN_PORTS,
    IAM_PASSWORD_POLICY, Member, PluginSpec, account_finding, base_config, group_finding,
    plugin_path,
};
use serde_json::Value;

const ACCOUNTS: [&str; 2] = ["111111111111", "222222222222"];

/// One seeded misconfiguration and its finding.
struct Case {
    member: Member,
    control: &'static str,
    resource: String,
    plugin: &'static PluginSpec,
    finding: Value,
}

#[tokio::main]
async fn main() -> Result<()> {
    let hubfix = PathBuf::from(
        std::env::var_os("HUBFIX_BIN").context("HUBFIX_BIN is not set; run `cargo xtask demo`")?,
    );
    let base = base_config().await;
    let work = std::env::temp_dir().join(format!("hubfix-demo-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;

    eprintln!(
        "seeding misconfigurations in accounts {}",
        ACCOUNTS.join(", ")
    );
    let mut cases = Vec::new();
    for account in ACCOUNTS {
        let member = Member::assume(&base, account).await?;
        member.seed_weak_password_policy().await?;
        let open = member
            .seed_open_admin_group(&format!("demo-open-admin-{}", std::process::id()))
            .await?;
        let default = member.seed_default_group_rules().await?;
        member.disable_ebs_default_encryption().await?;
        let account_resource = format!("AWS::::Account:{account}");
        cases.push(Case {
            member: member.clone(),
            control: "IAM.15",
            resource: account_resource.clone(),
            plugin: &IAM_PASSWORD_POLICY,
            finding: account_finding(account, "IAM.15"),
        });
        cases.push(Case {
            member: member.clone(),
            control: "EC2.53",
            resource: open.clone(),
            plugin: &EC2_RESTRICT_ADMIN_PORTS,
            finding: group_finding(account, "EC2.53", &open),
        });
        cases.push(Case {
            member: member.clone(),
            control: "EC2.2",
            resource: default.clone(),
            plugin: &EC2_DEFAULT_SG_RESTRICT,
            finding: group_finding(account, "EC2.2", &default),
        });
        cases.push(Case {
            member,
            control: "EC2.7",
            resource: account_resource,
            plugin: &EC2_EBS_DEFAULT_ENCRYPTION,
            finding: account_finding(account, "EC2.7"),
        });
    }

    let mut rows = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let before = compliant(case).await?;
        let file = work.join(format!("finding-{i}.json"));
        std::fs::write(&file, serde_json::to_vec_pretty(&case.finding)?)?;
        let started = Instant::now();
        let output = Command::new(&hubfix)
            .arg("run")
            .arg("--finding")
            .arg(&file)
            .arg("--plugin")
            .arg(plugin_path(case.plugin.name)?)
            .arg("--grant")
            .arg(case.plugin.grants.join(","))
            .args(["--output", "json"])
            .output()
            .with_context(|| format!("run {}", hubfix.display()))?;
        let wall_ms = started.elapsed().as_secs_f64() * 1e3;
        if output.stdout.is_empty() {
            bail!(
                "hubfix run failed for {} {}: {}",
                case.member.account,
                case.control,
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let outcome: Value = serde_json::from_slice(&output.stdout)?;
        let after = compliant(case).await?;
        rows.push((case, before, outcome, after, wall_ms));
    }

    println!();
    println!(
        "{:<13} {:<7} {:<22} {:<7} {:<11} {:<18} {:<6} {:>8} {:>8}",
        "account",
        "control",
        "resource",
        "before",
        "plugin",
        "outcome",
        "after",
        "host ms",
        "wall ms"
    );
    let mut fixed = 0;
    for (case, before, outcome, after, wall_ms) in &rows {
        let mutating = outcome["calls"]
            .as_array()
            .map(|c| c.iter().filter(|c| c["mutating"] == true).count())
            .unwrap_or(0);
        println!(
            "{:<13} {:<7} {:<22} {:<6} {:<27} {:<18} {:<6} {:>8.1} {:>8.1}",
            case.member.account,
            case.control,
            short(&case.resource),
            verdict(*before),
            case.plugin.name,
            format!(
                "{} ({mutating}w)",
                outcome["status"].as_str().unwrap_or("?")
            ),
            verdict(*after),
            outcome["duration_ms"].as_f64().unwrap_or(0.0),
            wall_ms,
        );
        if *after {
            fixed += 1;
        }
    }
    let before_ok = rows.iter().filter(|r| r.1).count();
    println!();
    println!(
        "compliance: {before_ok}/{n} before -> {fixed}/{n} after",
        n = rows.len()
    );
    let _ = std::fs::remove_dir_all(&work);
    if fixed != rows.len() {
        bail!("{} finding(s) not fixed", rows.len() - fixed);
    }
    Ok(())
}

fn verdict(ok: bool) -> &'static str {
    if ok { "PASS" } else { "FAIL" }
}

fn short(text: &str) -> String {
    if text.len() <= 22 {
        text.to_owned()
    } else {
        format!("…{}", &text[text.len() - 21..])
    }
}

/// Whether the case's resource passes its control, checked through the SDK.
async fn compliant(case: &Case) -> Result<bool> {
    let m = &case.member;
    Ok(match case.control {
        "IAM.15" => m.password_policy().await?.is_some_and(|p| {
            p.minimum_password_length.unwrap_or(0) >= 14
                && p.require_symbols
                && p.require_numbers
                && p.require_uppercase_characters
                && p.require_lowercase_characters
                && p.password_reuse_prevention == Some(24)
        }),
        "EC2.53" => !m.rules(&case.resource).await?.iter().any(|r| {
            let world = r.cidr_ipv4.as_deref() == Some("0.0.0.0/0")
                || r.cidr_ipv6.as_deref() == Some("::/0");
            let all = r.ip_protocol.as_deref() == Some("-1");
            let (from, to) = (r.from_port.unwrap_or(-1), r.to_port.unwrap_or(-1));
            let covers = |p: i32| from == -1 || (from <= p && p <= to);
            r.is_egress == Some(false) && world && (all || covers(22) || covers(3389))
        }),
        "EC2.2" => m.rules(&case.resource).await?.is_empty(),
        "EC2.7" => m.ebs_default_encryption().await?,
        other => bail!("no compliance check for {other}"),
    })
}
