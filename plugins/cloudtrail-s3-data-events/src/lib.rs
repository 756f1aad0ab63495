//! `cloudtrail-s3-data-events`: logs S3 object-level data events for all buckets on a
//! multi-Region trail (Security Hub S3.22: write events, S3.23: read events; CIS AWS
//! Foundations 3.0.0 3.8 and 3.9). The finding's control selects the direction.
//!
//! The finding names the account (`AwsAccount`). The plugin lists the region's trails
//! (`cloudtrail.describe-trails`) and reads the event selectors of each multi-Region one;
//! a trail that already logs the events for every bucket (a basic `AWS::S3::Object` data
//! resource `arn:aws:s3` of a matching read/write type, or an advanced selector
//! `eventCategory = Data`, `resources.type = AWS::S3::Object`, with no other condition
//! than a matching `readOnly`) passes, organization trails included.
//!
//! Otherwise it picks a multi-Region trail it can change here (its home region, not
//! another account's organization trail; a logging one first, by `get-trail-status`) and
//! adds one advanced selector for the events. `PutEventSelectors` replaces all of a trail's
//! selectors, and a trail has either basic or advanced ones, so the trail's existing
//! selectors are sent back with it: advanced ones as they are, basic ones converted to
//! the equivalent advanced selectors (management events with their read/write type and
//! excluded sources; each data resource with its type, read/write type and ARNs, S3
//! object prefixes as `StartsWith`, others as `Equals`, `arn:PARTITION:SERVICE` meaning
//! all resources). Nothing the trail logged stops being logged.
//!
//! Without a multi-Region trail the finding is skipped: remediate CloudTrail.1 first. Data
//! events are billed per event; read events are usually high volume. No parameters.

use hubfix_plugin_sdk::cloudtrail::{
    self, AdvancedEventSelector, EventSelector, EventSelectors, FieldSelector, Trail,
};
use hubfix_plugin_sdk::trail::{changeable, equals_only, field_equals, finding_account};
use hubfix_plugin_sdk::{AwsError, Guest, Outcome, Params, PluginInfo, Request, log};

const NAME: &str = "cloudtrail-s3-data-events";
const CONTROLS: &[&str] = &["S3.22", "S3.23"];
const DESCRIBE: &str = "cloudtrail.describe-trails";
const STATUS: &str = "cloudtrail.get-trail-status";
const GET_SELECTORS: &str = "cloudtrail.get-event-selectors";
const PUT_SELECTORS: &str = "cloudtrail.put-event-selectors";
const S3_OBJECT: &str = "AWS::S3::Object";

/// Which S3 object events the control wants logged.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Direction {
    /// S3.22: write events (`readOnly = false`).
    Write,
    /// S3.23: read events (`readOnly = true`).
    Read,
}

impl Direction {
    fn of_control(control: &str) -> Option<Self> {
        match control {
            "S3.22" => Some(Direction::Write),
            "S3.23" => Some(Direction::Read),
            _ => None,
        }
    }

    fn word(self) -> &'static str {
        match self {
            Direction::Write => "write",
            Direction::Read => "read",
        }
    }

    /// The `readOnly` value of its events.
    fn read_only(self) -> &'static str {
        match self {
            Direction::Write => "false",
            Direction::Read => "true",
        }
    }

    /// Whether a basic selector's read/write type logs these events.
    fn logged_by(self, read_write_type: &str) -> bool {
        matches!(
            (self, read_write_type),
            (_, "All") | (Direction::Write, "WriteOnly") | (Direction::Read, "ReadOnly")
        )
    }

    /// The selector the plugin adds.
    fn selector(self) -> AdvancedEventSelector {
        AdvancedEventSelector {
            name: Some(format!(
                "hubfix: S3 object {} events, all buckets",
                self.word()
            )),
            field_selectors: vec![
                field_equals("eventCategory", &["Data"]),
                field_equals("resources.type", &[S3_OBJECT]),
                field_equals("readOnly", &[self.read_only()]),
            ],
        }
    }
}

struct S3DataEvents;

impl Guest for S3DataEvents {
    fn describe() -> PluginInfo {
        hubfix_plugin_sdk::plugin_info(
            NAME,
            env!("CARGO_PKG_VERSION"),
            CONTROLS,
            &[DESCRIBE, STATUS, GET_SELECTORS, PUT_SELECTORS],
        )
    }

    fn remediate(request: Request) -> Outcome {
        if let Err(e) = Params::new(&request.params, &[]) {
            return e.to_outcome();
        }
        let finding = &request.finding;
        let Some(direction) = Direction::of_control(&finding.control_id) else {
            return Outcome::failed(format!(
                "control {} is not one this plugin fixes (S3.22: write events, S3.23: read events)",
                finding.control_id
            ));
        };
        if let Err(skipped) = finding_account(finding) {
            return skipped;
        }
        let trails = match cloudtrail::describe_trails() {
            Ok(trails) => trails,
            Err(e) => return e.to_outcome(DESCRIBE),
        };
        let mut candidates = Vec::new();
        let mut elsewhere = Vec::new();
        for trail in trails.into_iter().filter(|t| t.is_multi_region_trail) {
            let selectors = match cloudtrail::get_event_selectors(&trail.trail_arn) {
                Ok(s) => s,
                Err(AwsError::NotFound(_)) => continue,
                Err(e) if trail.is_organization_trail => {
                    log::warn!(
                        "cannot read the selectors of organization trail {}: {e:?}",
                        trail.trail_arn
                    );
                    continue;
                }
                Err(e) => return e.to_outcome(GET_SELECTORS),
            };
            if logs_s3_objects(&selectors, direction, &finding.partition) {
                return Outcome::already_compliant(format!(
                    "multi-Region trail {} already logs S3 object {} events for all buckets",
                    trail.trail_arn,
                    direction.word()
                ));
            }
            match changeable(&trail, finding) {
                Ok(()) => candidates.push((trail, selectors)),
                Err(why) => elsewhere.push(why.message),
            }
        }
        let Some((trail, selectors)) = pick(candidates) else {
            return Outcome::skipped(if elsewhere.is_empty() {
                format!(
                    "no multi-Region trail in {}: remediate CloudTrail.1 first (it creates one), then {}",
                    finding.region, finding.control_id
                )
            } else {
                format!(
                    "no multi-Region trail can be changed from here: {}",
                    elsewhere.join("; ")
                )
            });
        };
        let merged = with_s3_objects(&selectors, direction, &finding.partition);
        match cloudtrail::put_event_selectors(&trail.name, &merged) {
            Ok(_) => Outcome::remediated(message(
                request.mode.verb("added", "would add"),
                &trail,
                &selectors,
                direction,
            )),
            Err(AwsError::NotFound(_)) => Outcome::skipped(format!(
                "trail {} not found (deleted meanwhile)",
                trail.trail_arn
            )),
            Err(e) => e.to_outcome(PUT_SELECTORS),
        }
    }
}

hubfix_plugin_sdk::export!(S3DataEvents);

/// The trail to change: a logging one first, then by name.
fn pick(mut candidates: Vec<(Trail, EventSelectors)>) -> Option<(Trail, EventSelectors)> {
    candidates.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    let logging = candidates
        .iter()
        .position(|(t, _)| cloudtrail::get_trail_status(&t.trail_arn).is_ok_and(|s| s.is_logging));
    match logging {
        Some(i) => Some(candidates.swap_remove(i)),
        None => candidates.into_iter().next(),
    }
}

fn message(verb: &str, trail: &Trail, before: &EventSelectors, direction: Direction) -> String {
    let kept = if !before.basic.is_empty() {
        format!(
            "its {} basic selector(s) converted to the equivalent advanced ones",
            before.basic.len()
        )
    } else {
        format!("its {} advanced selector(s) kept", before.advanced.len())
    };
    format!(
        "{verb} S3 object {} data events for all buckets to multi-Region trail {} ({kept}); data events are billed per event",
        direction.word(),
        trail.name
    )
}

/// Whether an ARN value means every resource of its service: `arn:aws:s3`, `arn:aws:s3:::`.
fn is_all_resources(value: &str) -> bool {
    value.trim_end_matches(':').split(':').count() <= 3
}

/// Whether `selectors` log S3 object events of `direction` for all buckets.
fn logs_s3_objects(selectors: &EventSelectors, direction: Direction, partition: &str) -> bool {
    let basic = selectors.basic.iter().any(|s| {
        direction.logged_by(&s.read_write_type)
            && s.data_resources.iter().any(|d| {
                d.type_ == S3_OBJECT
                    && d.values.iter().any(|v| {
                        is_all_resources(v) && v.starts_with(&format!("arn:{partition}:s3"))
                    })
            })
    });
    basic
        || selectors
            .advanced
            .iter()
            .any(|a| advanced_logs(a, direction))
}

fn advanced_logs(a: &AdvancedEventSelector, direction: Direction) -> bool {
    let mut data = false;
    let mut objects = false;
    for f in &a.field_selectors {
        match f.field.as_str() {
            "eventCategory" if equals_only(f, "Data") => data = true,
            "resources.type" if equals_only(f, S3_OBJECT) => objects = true,
            "readOnly" if equals_only(f, direction.read_only()) => {}
            // Any other condition (or readOnly of the other direction) narrows it.
            _ => return false,
        }
    }
    data && objects
}

/// The trail's selectors as advanced ones, plus the S3 object selector for `direction`.
fn with_s3_objects(
    selectors: &EventSelectors,
    direction: Direction,
    partition: &str,
) -> EventSelectors {
    let mut advanced = if selectors.basic.is_empty() {
        selectors.advanced.clone()
    } else {
        selectors
            .basic
            .iter()
            .flat_map(|s| to_advanced(s, partition))
            .collect()
    };
    advanced.push(direction.selector());
    EventSelectors {
        basic: Vec::new(),
        advanced,
    }
}

fn read_only_condition(read_write_type: &str) -> Option<FieldSelector> {
    match read_write_type {
        "ReadOnly" => Some(field_equals("readOnly", &["true"])),
        "WriteOnly" => Some(field_equals("readOnly", &["false"])),
        _ => None,
    }
}

/// The advanced selectors equivalent to basic selector `s`.
fn to_advanced(s: &EventSelector, partition: &str) -> Vec<AdvancedEventSelector> {
    let mut out = Vec::new();
    let rw = read_only_condition(&s.read_write_type);
    if s.include_management_events {
        let mut fields = vec![field_equals("eventCategory", &["Management"])];
        fields.extend(rw.clone());
        if !s.exclude_management_event_sources.is_empty() {
            let mut sources = field_equals("eventSource", &[]);
            sources.not_equals = s.exclude_management_event_sources.clone();
            fields.push(sources);
        }
        out.push(AdvancedEventSelector {
            name: Some(format!("Management events ({})", s.read_write_type)),
            field_selectors: fields,
        });
    }
    for d in &s.data_resources {
        let mut fields = vec![
            field_equals("eventCategory", &["Data"]),
            field_equals("resources.type", &[d.type_.as_str()]),
        ];
        fields.extend(rw.clone());
        let all = d.values.is_empty()
            || d.values
                .iter()
                .any(|v| is_all_resources(v) && v.starts_with(&format!("arn:{partition}:")));
        if !all {
            let mut arns = field_equals("resources.ARN", &[]);
            if d.type_ == S3_OBJECT {
                arns.starts_with = d.values.clone();
            } else {
                arns.equals = d.values.clone();
            }
            fields.push(arns);
        }
        out.push(AdvancedEventSelector {
            name: Some(format!("Data events: {} ({})", d.type_, s.read_write_type)),
            field_selectors: fields,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use hubfix_plugin_sdk::cloudtrail::DataResource;

    use super::*;

    fn basic(rw: &str, management: bool, data: &[(&str, &[&str])]) -> EventSelector {
        EventSelector {
            read_write_type: rw.into(),
            include_management_events: management,
            data_resources: data
                .iter()
                .map(|(t, values)| DataResource {
                    type_: (*t).into(),
                    values: values.iter().map(|v| (*v).into()).collect(),
                })
                .collect(),
            exclude_management_event_sources: vec![],
        }
    }

    fn selectors(
        basic: Vec<EventSelector>,
        advanced: Vec<AdvancedEventSelector>,
    ) -> EventSelectors {
        EventSelectors { basic, advanced }
    }

    #[test]
    fn the_control_picks_the_direction() {
        assert_eq!(Direction::of_control("S3.22"), Some(Direction::Write));
        assert_eq!(Direction::of_control("S3.23"), Some(Direction::Read));
        assert_eq!(Direction::of_control("S3.5"), None);
        let info = S3DataEvents::describe();
        assert_eq!(info.controls, ["S3.22", "S3.23"]);
    }

    #[test]
    fn what_counts_as_logging_all_buckets() {
        let all = [("AWS::S3::Object", &["arn:aws:s3"][..])];
        let w = Direction::Write;
        let r = Direction::Read;
        assert!(logs_s3_objects(
            &selectors(vec![basic("All", true, &all)], vec![]),
            w,
            "aws"
        ));
        assert!(logs_s3_objects(
            &selectors(vec![basic("WriteOnly", false, &all)], vec![]),
            w,
            "aws"
        ));
        assert!(!logs_s3_objects(
            &selectors(vec![basic("WriteOnly", false, &all)], vec![]),
            r,
            "aws"
        ));
        let triple = [("AWS::S3::Object", &["arn:aws:s3:::"][..])];
        assert!(logs_s3_objects(
            &selectors(vec![basic("ReadOnly", false, &triple)], vec![]),
            r,
            "aws"
        ));
        let one = [("AWS::S3::Object", &["arn:aws:s3:::bucket/"][..])];
        assert!(!logs_s3_objects(
            &selectors(vec![basic("All", true, &one)], vec![]),
            w,
            "aws"
        ));
        // Another partition's ARN is not this partition's buckets.
        assert!(!logs_s3_objects(
            &selectors(vec![basic("All", true, &all)], vec![]),
            w,
            "aws-cn"
        ));
        // The default selector logs no data events.
        assert!(!logs_s3_objects(
            &selectors(vec![basic("All", true, &[])], vec![]),
            w,
            "aws"
        ));

        assert!(logs_s3_objects(
            &selectors(vec![], vec![w.selector()]),
            w,
            "aws"
        ));
        assert!(!logs_s3_objects(
            &selectors(vec![], vec![w.selector()]),
            r,
            "aws"
        ));
        let mut both = w.selector();
        both.field_selectors.pop();
        assert!(logs_s3_objects(
            &selectors(vec![], vec![both.clone()]),
            r,
            "aws"
        ));
        let mut narrowed = both;
        let mut arn = field_equals("resources.ARN", &[]);
        arn.starts_with = vec!["arn:aws:s3:::bucket/".into()];
        narrowed.field_selectors.push(arn);
        assert!(!logs_s3_objects(
            &selectors(vec![], vec![narrowed]),
            w,
            "aws"
        ));
    }

    #[test]
    fn basic_selectors_become_equivalent_advanced_ones_and_ours_is_added() {
        let mut management = basic("All", true, &[]);
        management.exclude_management_event_sources = vec!["kms.amazonaws.com".into()];
        let data = basic(
            "ReadOnly",
            false,
            &[
                (
                    "AWS::S3::Object",
                    &["arn:aws:s3:::logs/", "arn:aws:s3:::app/data"],
                ),
                ("AWS::Lambda::Function", &["arn:aws:lambda"]),
                (
                    "AWS::DynamoDB::Table",
                    &["arn:aws:dynamodb:eu-west-1:111111111111:table/t"],
                ),
            ],
        );
        let merged = with_s3_objects(
            &selectors(vec![management, data], vec![]),
            Direction::Write,
            "aws",
        );
        assert!(merged.basic.is_empty());
        let a = &merged.advanced;
        assert_eq!(a.len(), 5);
        // Management events, all of them but the excluded source.
        assert_eq!(a[0].field_selectors.len(), 2);
        assert_eq!(a[0].field_selectors[0].equals, ["Management"]);
        assert_eq!(a[0].field_selectors[1].field, "eventSource");
        assert_eq!(a[0].field_selectors[1].not_equals, ["kms.amazonaws.com"]);
        // S3 prefixes, read-only.
        let s3 = &a[1].field_selectors;
        assert_eq!(s3[1].equals, ["AWS::S3::Object"]);
        assert_eq!(s3[2].field, "readOnly");
        assert_eq!(s3[2].equals, ["true"]);
        assert_eq!(
            s3[3].starts_with,
            ["arn:aws:s3:::logs/", "arn:aws:s3:::app/data"]
        );
        // All Lambda functions: no ARN condition. One table: Equals.
        assert_eq!(a[2].field_selectors.len(), 3);
        assert_eq!(
            a[3].field_selectors[3].equals,
            ["arn:aws:dynamodb:eu-west-1:111111111111:table/t"]
        );
        // Ours, last.
        assert_eq!(a[4], Direction::Write.selector());
        assert!(logs_s3_objects(&merged, Direction::Write, "aws"));

        // A selector that logs nothing converts to nothing; advanced ones are kept as they are.
        let nothing = with_s3_objects(
            &selectors(vec![basic("All", false, &[])], vec![]),
            Direction::Read,
            "aws",
        );
        assert_eq!(nothing.advanced, [Direction::Read.selector()]);
        let existing = AdvancedEventSelector {
            name: Some("mine".into()),
            field_selectors: vec![field_equals("eventCategory", &["Management"])],
        };
        let kept = with_s3_objects(
            &selectors(vec![], vec![existing.clone()]),
            Direction::Read,
            "aws",
        );
        assert_eq!(kept.advanced, [existing, Direction::Read.selector()]);
    }

    #[test]
    fn all_resource_values() {
        assert!(is_all_resources("arn:aws:s3"));
        assert!(is_all_resources("arn:aws:s3:::"));
        assert!(is_all_resources("arn:aws:lambda"));
        assert!(!is_all_resources("arn:aws:s3:::bucket/"));
        assert!(!is_all_resources(
            "arn:aws:lambda:us-east-1:111111111111:function:f"
        ));
    }
}
