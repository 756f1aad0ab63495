//! CloudTrail helpers shared by the trail plugins (feature `trail`): the trail a finding
//! names, whether this account may change a trail from the finding's region, and what a
//! trail's event selectors log.

use crate::cloudtrail::{AdvancedEventSelector, EventSelectors, FieldSelector, Trail};
use crate::{Finding, Outcome};

/// The ASFF type of a trail.
pub const TRAIL: &str = "AwsCloudTrailTrail";
/// The ASFF type of an account.
pub const ACCOUNT: &str = "AwsAccount";

/// The parts of a trail ARN, `arn:PARTITION:cloudtrail:REGION:ACCOUNT:trail/NAME`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrailArn<'a> {
    /// `aws`, `aws-cn`, `aws-us-gov`.
    pub partition: &'a str,
    /// The trail's home region.
    pub region: &'a str,
    /// The account that owns the trail.
    pub account: &'a str,
    /// The trail's name.
    pub name: &'a str,
}

/// A trail name as CloudTrail accepts it: 3–128 letters, digits, `.`, `_` and `-`,
/// starting and ending with a letter or digit, no two of `._-` adjacent.
pub fn valid_trail_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    let punct = |b: &u8| matches!(b, b'.' | b'_' | b'-');
    (3..=128).contains(&bytes.len())
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.iter().all(|b| b.is_ascii_alphanumeric() || punct(b))
        && !bytes.windows(2).any(|w| punct(&w[0]) && punct(&w[1]))
}

/// Parses a trail ARN; `None` when `arn` is not one.
pub fn parse_trail_arn(arn: &str) -> Option<TrailArn<'_>> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("cloudtrail"), Some(region), Some(account)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let name = parts.next()?.strip_prefix("trail/")?;
    let token = |s: &str| {
        !s.is_empty()
            && s.len() <= 32
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    let ok = token(partition)
        && token(region)
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && valid_trail_name(name);
    ok.then_some(TrailArn {
        partition,
        region,
        account,
        name,
    })
}

/// The ARN of the trail the finding names (`AwsCloudTrailTrail`), checked: a trail ARN of
/// the finding's account. Otherwise the `skipped` outcome that says why.
pub fn finding_trail(finding: &Finding) -> Result<&str, Outcome> {
    let Some(resource) = finding.resource(TRAIL) else {
        let named: Vec<&str> = finding.resources.iter().map(|r| r.type_.as_str()).collect();
        return Err(Outcome::skipped(format!(
            "the finding names no {TRAIL} resource (it names {}); nothing to change",
            if named.is_empty() {
                "none".to_owned()
            } else {
                named.join(", ")
            }
        )));
    };
    let id = resource.id.trim();
    let Some(arn) = parse_trail_arn(id) else {
        return Err(Outcome::skipped(format!(
            "the finding's {TRAIL} id `{}` is not a trail ARN (arn:PARTITION:cloudtrail:REGION:ACCOUNT:trail/NAME)",
            id.chars().take(200).collect::<String>()
        )));
    };
    if arn.account != finding.account_id {
        return Err(Outcome::skipped(format!(
            "trail {id} belongs to account {}, not to the finding's account {}",
            arn.account, finding.account_id
        )));
    }
    Ok(id)
}

/// Checks that the finding names its own account (`AwsAccount`, `AWS::::Account:ID` or the
/// bare id): account-level controls (CloudTrail.1, S3.22, S3.23) act on the account's
/// trails. Otherwise the `skipped` outcome that says why.
pub fn finding_account(finding: &Finding) -> Result<(), Outcome> {
    finding.own_account("the account's trails")
}

/// Whether the finding's account may change `trail` from the finding's region: not an
/// organization trail of another account, and the trail's home region. Otherwise the
/// `skipped` outcome that says where it can be changed.
pub fn changeable(trail: &Trail, finding: &Finding) -> Result<(), Outcome> {
    let owner = parse_trail_arn(&trail.trail_arn).map(|a| a.account);
    if trail.is_organization_trail && owner != Some(finding.account_id.as_str()) {
        return Err(Outcome::skipped(format!(
            "trail {} is an organization trail of account {}: only that management account can change it",
            trail.trail_arn,
            owner.unwrap_or("(unknown)")
        )));
    }
    if !trail.home_region.is_empty() && trail.home_region != finding.region {
        return Err(Outcome::skipped(format!(
            "trail {} is changed from its home region {}, not from {}",
            trail.trail_arn, trail.home_region, finding.region
        )));
    }
    Ok(())
}

/// Whether `selectors` log every management event, read and write: a basic selector with
/// management events, `ReadWriteType` `All` and no excluded event source, or an advanced
/// selector whose only condition is `eventCategory` = `Management`.
pub fn logs_all_management_events(selectors: &EventSelectors) -> bool {
    selectors.basic.iter().any(|s| {
        s.include_management_events
            && s.read_write_type == "All"
            && s.exclude_management_event_sources.is_empty()
    }) || selectors.advanced.iter().any(is_all_management)
}

fn is_all_management(a: &AdvancedEventSelector) -> bool {
    matches!(a.field_selectors.as_slice(), [f] if f.field == "eventCategory" && equals_only(f, "Management"))
}

/// Whether `f` has exactly one condition: equals `value`.
pub fn equals_only(f: &FieldSelector, value: &str) -> bool {
    f.equals.len() == 1
        && f.equals[0] == value
        && f.starts_with.is_empty()
        && f.ends_with.is_empty()
        && f.not_equals.is_empty()
        && f.not_starts_with.is_empty()
        && f.not_ends_with.is_empty()
}

/// A field condition `field` = `values`.
pub fn field_equals(field: &str, values: &[&str]) -> FieldSelector {
    FieldSelector {
        field: field.to_owned(),
        equals: values.iter().map(|v| (*v).to_owned()).collect(),
        starts_with: Vec::new(),
        ends_with: Vec::new(),
        not_equals: Vec::new(),
        not_starts_with: Vec::new(),
        not_ends_with: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloudtrail::EventSelector;
    use crate::types::Resource;

    const ARN: &str = "arn:aws:cloudtrail:eu-west-1:111111111111:trail/main";

    fn finding(resources: &[(&str, &str)]) -> Finding {
        Finding {
            id: "f".into(),
            control_id: "CloudTrail.4".into(),
            generator_id: "g".into(),
            account_id: "111111111111".into(),
            region: "eu-west-1".into(),
            partition: "aws".into(),
            title: "t".into(),
            resources: resources
                .iter()
                .map(|(t, id)| Resource {
                    type_: (*t).into(),
                    id: (*id).into(),
                    partition: "aws".into(),
                    region: "eu-west-1".into(),
                    details: None,
                })
                .collect(),
            raw: "{}".into(),
        }
    }

    fn trail(arn: &str) -> Trail {
        Trail {
            name: parse_trail_arn(arn).map(|a| a.name).unwrap_or("x").into(),
            trail_arn: arn.into(),
            home_region: parse_trail_arn(arn).map(|a| a.region).unwrap_or("").into(),
            s3_bucket_name: Some("logs".into()),
            s3_key_prefix: None,
            is_multi_region_trail: true,
            is_organization_trail: false,
            include_global_service_events: true,
            log_file_validation_enabled: false,
            kms_key_id: None,
            cloud_watch_logs_log_group_arn: None,
            cloud_watch_logs_role_arn: None,
            has_custom_event_selectors: false,
        }
    }

    #[test]
    fn trail_arns_are_parsed_and_checked() {
        let arn = parse_trail_arn(ARN).unwrap();
        assert_eq!(
            (arn.partition, arn.region, arn.account, arn.name),
            ("aws", "eu-west-1", "111111111111", "main")
        );
        for bad in [
            "arn:aws:cloudtrail:eu-west-1:1111:trail/main",
            "arn:aws:s3:eu-west-1:111111111111:trail/main",
            "arn:aws:cloudtrail:eu-west-1:111111111111:main",
            "arn:aws:cloudtrail:eu-west-1:111111111111:trail/a b",
            "arn:aws:cloudtrail:eu-west-1:111111111111:trail/ab",
            "arn:aws:cloudtrail:EU:111111111111:trail/main",
            "main",
        ] {
            assert_eq!(parse_trail_arn(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_finding_must_name_a_trail_of_its_account() {
        assert_eq!(finding_trail(&finding(&[(TRAIL, ARN)])), Ok(ARN));
        let other = finding_trail(&finding(&[("AwsS3Bucket", "arn:aws:s3:::b")])).unwrap_err();
        assert!(
            other.message.contains("names no AwsCloudTrailTrail"),
            "{}",
            other.message
        );
        assert!(other.message.contains("AwsS3Bucket"));
        let bad = finding_trail(&finding(&[(TRAIL, "trail\u{0}/x")])).unwrap_err();
        assert!(bad.message.contains("not a trail ARN"), "{}", bad.message);
        let foreign = finding_trail(&finding(&[(
            TRAIL,
            "arn:aws:cloudtrail:eu-west-1:222222222222:trail/main",
        )]))
        .unwrap_err();
        assert!(
            foreign.message.contains("222222222222"),
            "{}",
            foreign.message
        );
    }

    #[test]
    fn account_findings_must_name_their_own_account() {
        assert!(finding_account(&finding(&[(ACCOUNT, "AWS::::Account:111111111111")])).is_ok());
        assert!(finding_account(&finding(&[(ACCOUNT, "111111111111")])).is_ok());
        let other = finding_account(&finding(&[(ACCOUNT, "AWS::::Account:222222222222")]));
        assert!(other.unwrap_err().message.contains("222222222222"));
        let none = finding_account(&finding(&[(TRAIL, ARN)])).unwrap_err();
        assert!(
            none.message.contains("names no AwsAccount"),
            "{}",
            none.message
        );
    }

    #[test]
    fn organization_trails_and_other_home_regions_are_not_changed_here() {
        let f = finding(&[(TRAIL, ARN)]);
        assert!(changeable(&trail(ARN), &f).is_ok());
        let mut org = trail("arn:aws:cloudtrail:eu-west-1:999999999999:trail/org");
        org.is_organization_trail = true;
        assert!(
            changeable(&org, &f)
                .unwrap_err()
                .message
                .contains("999999999999")
        );
        let mut own_org = trail(ARN);
        own_org.is_organization_trail = true;
        assert!(changeable(&own_org, &f).is_ok());
        let away = trail("arn:aws:cloudtrail:us-east-1:111111111111:trail/main");
        assert!(
            changeable(&away, &f)
                .unwrap_err()
                .message
                .contains("home region us-east-1")
        );
    }

    #[test]
    fn all_management_events() {
        let basic = |rw: &str, management: bool, exclude: &[&str]| EventSelectors {
            basic: vec![EventSelector {
                read_write_type: rw.into(),
                include_management_events: management,
                data_resources: vec![],
                exclude_management_event_sources: exclude.iter().map(|s| (*s).into()).collect(),
            }],
            advanced: vec![],
        };
        assert!(logs_all_management_events(&basic("All", true, &[])));
        assert!(!logs_all_management_events(&basic("WriteOnly", true, &[])));
        assert!(!logs_all_management_events(&basic("All", false, &[])));
        assert!(!logs_all_management_events(&basic(
            "All",
            true,
            &["kms.amazonaws.com"]
        )));
        let advanced = |fields: Vec<FieldSelector>| EventSelectors {
            basic: vec![],
            advanced: vec![AdvancedEventSelector {
                name: None,
                field_selectors: fields,
            }],
        };
        assert!(logs_all_management_events(&advanced(vec![field_equals(
            "eventCategory",
            &["Management"]
        )])));
        assert!(!logs_all_management_events(&advanced(vec![
            field_equals("eventCategory", &["Management"]),
            field_equals("readOnly", &["true"]),
        ])));
        assert!(!logs_all_management_events(&advanced(vec![field_equals(
            "eventCategory",
            &["Data"]
        )])));
        assert!(!logs_all_management_events(&EventSelectors {
            basic: vec![],
            advanced: vec![]
        }));
    }
}
