//! `iam-access-analyzer`: an external access analyzer in the finding's Region (Security
//! Hub IAM.28; CIS AWS Foundations 3.0.0 1.20, 5.0.0 1.19).
//!
//! The finding names the account (`AwsAccount`) in one Region; IAM.28 is checked per
//! Region. The control passes when an external access analyzer (type `ACCOUNT`, or the
//! organization's `ORGANIZATION` one) is `ACTIVE` there: then nothing is done. Otherwise
//! the plugin makes sure Access Analyzer's service-linked role exists
//! (`iam:CreateServiceLinkedRole`, which returns an existing role as it is) and creates an
//! analyzer of the account named `analyzer-name` (default `hubfix-external-access`; it
//! must start with the host's create prefix). Analyzers only read resource policies and
//! report findings: nothing in the account changes behaviour.
//!
//! An external access analyzer that exists but is not active (`DISABLED`, `FAILED`) is
//! `skipped`: creating a second one would fail on the one-per-Region quota, and someone
//! should look at why it stopped. Unused-access analyzers do not count.

use hubfix_plugin_sdk::accessanalyzer::{self, Analyzer};
use hubfix_plugin_sdk::iam;
use hubfix_plugin_sdk::{Guest, Outcome, Params, PluginInfo, Request};

const NAME: &str = "iam-access-analyzer";
const CONTROLS: &[&str] = &["IAM.28"];
const LIST: &str = "accessanalyzer.list-analyzers";
const CREATE: &str = "accessanalyzer.create-analyzer";
const SERVICE_ROLE: &str = "iam.create-service-linked-role";
const ANALYZER_NAME: &str = "analyzer-name";
const DEFAULT_NAME: &str = "hubfix-external-access";
const SERVICE: &str = "access-analyzer.amazonaws.com";

struct AccessAnalyzer;

/// Whether an analyzer looks for external access (what IAM.28 asks for).
fn external(analyzer: &Analyzer) -> bool {
    matches!(analyzer.type_.as_str(), "ACCOUNT" | "ORGANIZATION")
}

impl Guest for AccessAnalyzer {
    fn describe() -> PluginInfo {
        hubfix_plugin_sdk::plugin_info(
            NAME,
            env!("CARGO_PKG_VERSION"),
            CONTROLS,
            &[LIST, SERVICE_ROLE, CREATE],
        )
    }

    fn remediate(request: Request) -> Outcome {
        let finding = &request.finding;
        if let Err(skipped) = finding.own_account("the account's Access Analyzer") {
            return skipped;
        }
        let params = match Params::new(&request.params, &[ANALYZER_NAME]) {
            Ok(params) => params,
            Err(e) => return e.to_outcome(),
        };
        let name = params.get(ANALYZER_NAME).unwrap_or(DEFAULT_NAME);
        let analyzers = match accessanalyzer::list_analyzers() {
            Ok(analyzers) => analyzers,
            Err(e) => return e.to_outcome(LIST),
        };
        let region = &finding.region;
        if let Some(active) = analyzers
            .iter()
            .find(|a| external(a) && a.status == "ACTIVE")
        {
            return Outcome::already_compliant(format!(
                "external access analyzer {} ({}) is active in {region}",
                active.name, active.type_
            ));
        }
        if let Some(stopped) = analyzers.iter().find(|a| external(a)) {
            return Outcome::skipped(format!(
                "external access analyzer {} in {region} is {}, not active; hubfix does not \
                 replace it (the Region allows one): find out why it stopped",
                stopped.name, stopped.status
            ));
        }
        if let Err(e) = iam::create_service_linked_role(SERVICE) {
            return e.to_outcome(SERVICE_ROLE);
        }
        match accessanalyzer::create_analyzer(name) {
            Ok(arn) => Outcome::remediated(format!(
                "{} external access analyzer {name} in {region} ({arn})",
                request.mode.verb("created", "would create")
            )),
            Err(e) => e.to_outcome(CREATE),
        }
    }
}

hubfix_plugin_sdk::export!(AccessAnalyzer);

#[cfg(test)]
mod tests {
    use super::*;

    fn analyzer(ty: &str) -> Analyzer {
        Analyzer {
            name: "a".into(),
            arn: "arn".into(),
            type_: ty.into(),
            status: "ACTIVE".into(),
        }
    }

    #[test]
    fn only_external_access_analyzers_count() {
        assert!(external(&analyzer("ACCOUNT")));
        assert!(external(&analyzer("ORGANIZATION")));
        assert!(!external(&analyzer("ACCOUNT_UNUSED_ACCESS")));
        assert!(!external(&analyzer("ORGANIZATION_INTERNAL_ACCESS")));
    }
}
