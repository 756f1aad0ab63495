//! `ec2-ebs-default-encryption`: turns on EBS encryption by default in the finding's
//! region (Security Hub EC2.7, CIS AWS Foundations 2.2.1).
//!
//! Reads `ec2.get-ebs-encryption-by-default`; when it is off, one
//! `ec2.enable-ebs-encryption-by-default` turns it on. Takes no parameters.

use hubfix_plugin_sdk::{Guest, Mode, Outcome, Params, PluginInfo, Request, ec2, plugin_info};

const NAME: &str = "ec2-ebs-default-encryption";
const CONTROLS: &[&str] = &["EC2.7"];
const GET: &str = "ec2.get-ebs-encryption-by-default";
const ENABLE: &str = "ec2.enable-ebs-encryption-by-default";

struct EbsDefaultEncryption;

impl Guest for EbsDefaultEncryption {
    fn describe() -> PluginInfo {
        plugin_info(NAME, env!("CARGO_PKG_VERSION"), CONTROLS, &[GET, ENABLE])
    }

    fn remediate(request: Request) -> Outcome {
        if let Err(e) = Params::new(&request.params, &[]) {
            return e.to_outcome();
        }
        let region = &request.finding.region;
        match ec2::get_ebs_encryption_by_default() {
            Err(e) => e.to_outcome(GET),
            Ok(true) => compliant(region),
            Ok(false) => match ec2::enable_ebs_encryption_by_default() {
                Err(e) => e.to_outcome(ENABLE),
                Ok(()) => enabled(request.mode, region),
            },
        }
    }
}

hubfix_plugin_sdk::export!(EbsDefaultEncryption);

fn compliant(region: &str) -> Outcome {
    Outcome::already_compliant(format!(
        "EBS encryption by default is already on in {region}"
    ))
}

fn enabled(mode: Mode, region: &str) -> Outcome {
    Outcome::remediated(format!(
        "{} EBS encryption by default in {region}; new volumes and snapshot copies are encrypted",
        mode.verb("turned on", "would turn on"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hubfix_plugin_sdk::Status;

    #[test]
    fn describes_itself() {
        let info = EbsDefaultEncryption::describe();
        assert_eq!(info.name, "ec2-ebs-default-encryption");
        assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
        assert_eq!(info.controls, ["EC2.7"]);
        assert_eq!(
            info.functions,
            [
                "ec2.get-ebs-encryption-by-default",
                "ec2.enable-ebs-encryption-by-default"
            ]
        );
    }

    #[test]
    fn messages_follow_the_mode() {
        let done = enabled(Mode::Apply, "eu-west-1");
        assert_eq!(done.status, Status::Remediated);
        assert!(
            done.message
                .starts_with("turned on EBS encryption by default in eu-west-1")
        );
        let plan = enabled(Mode::Plan, "eu-west-1");
        assert!(
            plan.message.starts_with("would turn on"),
            "{}",
            plan.message
        );
        assert_eq!(compliant("eu-west-1").status, Status::AlreadyCompliant);
    }
}
