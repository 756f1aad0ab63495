//! Placeholders in scenario strings: `{{account}}`, `{{region}}`, `{{partition}}` and
//! `{{setup.<step-id>.<field>}}`.
//!
//! Every string of a setup step, the finding, a check and an expected call may hold them.
//! They are checked when the file is loaded (a name that is not one of these, a step id no
//! earlier setup step has, a field that step's call does not return) and filled in just
//! before the string is used. A filled-in value is never read for placeholders again.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::ops::Record;

/// Most bytes a string may have once its placeholders are filled in.
pub const MAX_RENDERED_LEN: usize = 16 << 10;

/// One placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Var {
    /// The member account's id.
    Account,
    /// The organization's management account (scenarios with `[organization]`).
    Management,
    /// The region the scenario runs in.
    Region,
    /// The region's partition (`aws`, `aws-cn`, `aws-us-gov`).
    Partition,
    /// A field of an earlier setup step's result.
    Setup { step: String, field: String },
}

/// A string cut into literal text and placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Part<'a> {
    Text(&'a str),
    Var(Var),
}

/// Splits `text` into literal text and placeholders; an unclosed `{{` or an unknown name is
/// an error that quotes it.
pub(crate) fn parse(text: &str) -> Result<Vec<Part<'_>>, String> {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        if start > 0 {
            parts.push(Part::Text(&rest[..start]));
        }
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err(format!("`{{{{` without a closing `}}}}` in `{text}`"));
        };
        parts.push(Part::Var(var(&after[..end])?));
        rest = &after[end + 2..];
    }
    if !rest.is_empty() {
        parts.push(Part::Text(rest));
    }
    Ok(parts)
}

fn var(name: &str) -> Result<Var, String> {
    match name {
        "account" => return Ok(Var::Account),
        "region" => return Ok(Var::Region),
        "management" => return Ok(Var::Management),
        "partition" => return Ok(Var::Partition),
        _ => {}
    }
    let mut segments = name.split('.');
    if let (Some("setup"), Some(step), Some(field), None) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) && !step.is_empty()
        && !field.is_empty()
    {
        return Ok(Var::Setup {
            step: step.to_owned(),
            field: field.to_owned(),
        });
    }
    Err(format!(
        "unknown placeholder `{{{{{name}}}}}`; placeholders are {{{{account}}}}, {{{{region}}}}, \
         {{{{partition}}}} and {{{{setup.<step-id>.<field>}}}}"
    ))
}

/// Every placeholder in the strings of `value`, with the JSON path of the string
/// (`rules[0].group`), for checking them when the file is loaded.
pub(crate) fn vars_in(value: &Value, path: &str, out: &mut Vec<(String, Result<Var, String>)>) {
    match value {
        Value::String(text) => match parse(text) {
            Ok(parts) => out.extend(parts.into_iter().filter_map(|p| match p {
                Part::Var(v) => Some((path.to_owned(), Ok(v))),
                Part::Text(_) => None,
            })),
            Err(e) => out.push((path.to_owned(), Err(e))),
        },
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                vars_in(item, &format!("{path}[{i}]"), out);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                vars_in(item, &path, out);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// What placeholders are filled in with, in one member account.
#[derive(Debug, Clone)]
pub struct Context {
    /// The member account's id.
    pub account: String,
    /// The management account of the member's organization, when the scenario has one.
    pub management: Option<String>,
    /// The region.
    pub region: String,
    /// The region's partition.
    pub partition: String,
    /// The results of the setup steps that have an id, so far.
    pub setup: BTreeMap<String, Record>,
}

impl Context {
    fn value(&self, var: &Var) -> Result<String, String> {
        match var {
            Var::Account => Ok(self.account.clone()),
            Var::Management => self.management.clone().ok_or_else(|| {
                "`{{management}}` needs an `[organization]` table in the scenario".to_owned()
            }),
            Var::Region => Ok(self.region.clone()),
            Var::Partition => Ok(self.partition.clone()),
            Var::Setup { step, field } => {
                let record = self
                    .setup
                    .get(step)
                    .ok_or_else(|| format!("setup step `{step}` has not run"))?;
                match record.get(field) {
                    Some(Value::String(s)) => Ok(s.clone()),
                    Some(v @ (Value::Bool(_) | Value::Number(_))) => Ok(v.to_string()),
                    Some(other) => Err(format!(
                        "`{{{{setup.{step}.{field}}}}}` is {other}, which cannot be put in a string"
                    )),
                    None => Err(format!(
                        "setup step `{step}` returned no `{field}` (it returned {})",
                        describe_fields(record)
                    )),
                }
            }
        }
    }

    /// `text` with its placeholders filled in.
    pub fn render(&self, text: &str) -> Result<String, String> {
        let mut out = String::new();
        for part in parse(text)? {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Var(v) => out.push_str(&self.value(&v)?),
            }
            if out.len() > MAX_RENDERED_LEN {
                return Err(format!(
                    "`{text}` is longer than {MAX_RENDERED_LEN} bytes once filled in"
                ));
            }
        }
        Ok(out)
    }

    /// `value` with the placeholders of all its strings filled in; an error names the path
    /// of the string.
    pub fn render_value(&self, value: &Value, path: &str) -> Result<Value, String> {
        Ok(match value {
            Value::String(text) => Value::String(self.render(text).map_err(|e| at(path, &e))?),
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| self.render_value(item, &format!("{path}[{i}]")))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(key, item)| {
                        let path = if path.is_empty() {
                            key.clone()
                        } else {
                            format!("{path}.{key}")
                        };
                        Ok((key.clone(), self.render_value(item, &path)?))
                    })
                    .collect::<Result<_, String>>()?,
            ),
            other => other.clone(),
        })
    }
}

fn at(path: &str, message: &str) -> String {
    if path.is_empty() {
        message.to_owned()
    } else {
        format!("{path}: {message}")
    }
}

/// `a, b and c`, or `nothing`.
pub(crate) fn describe_fields(record: &Record) -> String {
    let names: Vec<String> = record.keys().map(|k| format!("`{k}`")).collect();
    if names.is_empty() {
        "nothing".to_owned()
    } else {
        names.join(", ")
    }
}

/// The partition of a region.
pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn context() -> Context {
        let mut setup = BTreeMap::new();
        setup.insert(
            "group".to_owned(),
            Record::from([
                ("group-id".to_owned(), json!("sg-1")),
                ("count".to_owned(), json!(3)),
                ("rules".to_owned(), json!(["a"])),
            ]),
        );
        Context {
            account: "111111111111".into(),
            management: None,
            region: "eu-west-1".into(),
            partition: "aws".into(),
            setup,
        }
    }

    #[test]
    fn fills_in_every_kind_of_placeholder() {
        let c = context();
        assert_eq!(
            c.render("arn:{{partition}}:ec2:{{region}}:{{account}}:security-group/{{setup.group.group-id}}")
                .unwrap(),
            "arn:aws:ec2:eu-west-1:111111111111:security-group/sg-1"
        );
        assert_eq!(c.render("{{setup.group.count}} rules").unwrap(), "3 rules");
        assert_eq!(c.render("no placeholder").unwrap(), "no placeholder");
        assert_eq!(c.render("").unwrap(), "");
    }

    #[test]
    fn bad_placeholders_are_named() {
        let c = context();
        let err = c.render("{{acount}}").unwrap_err();
        assert!(err.contains("unknown placeholder `{{acount}}`"), "{err}");
        let err = c.render("x {{account").unwrap_err();
        assert!(err.contains("without a closing"), "{err}");
        let err = c.render("{{setup.group}}").unwrap_err();
        assert!(err.contains("unknown placeholder"), "{err}");
        let err = c.render("{{setup.vpc.vpc-id}}").unwrap_err();
        assert_eq!(err, "setup step `vpc` has not run");
        let err = c.render("{{setup.group.vpc-id}}").unwrap_err();
        assert!(err.contains("returned no `vpc-id`"), "{err}");
        let err = c.render("{{setup.group.rules}}").unwrap_err();
        assert!(err.contains("cannot be put in a string"), "{err}");
    }

    #[test]
    fn a_filled_in_value_is_not_read_again() {
        let mut c = context();
        c.account = "{{region}}".into();
        assert_eq!(c.render("{{account}}").unwrap(), "{{region}}");
    }

    #[test]
    fn values_are_rendered_with_paths_in_errors() {
        let c = context();
        let value = json!({"Resources": [{"Id": "{{setup.group.group-id}}", "Type": "X"}], "n": 1});
        assert_eq!(
            c.render_value(&value, "").unwrap(),
            json!({"Resources": [{"Id": "sg-1", "Type": "X"}], "n": 1})
        );
        let bad = json!({"Resources": [{"Id": "{{nope}}"}]});
        let err = c.render_value(&bad, "finding").unwrap_err();
        assert!(err.starts_with("finding.Resources[0].Id: "), "{err}");
    }

    #[test]
    fn vars_are_found_with_their_paths() {
        let mut out = Vec::new();
        vars_in(
            &json!({"rules": [{"group": "{{setup.g.group-id}}"}], "x": "{{bad"}),
            "",
            &mut out,
        );
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].0, "rules[0].group");
        assert_eq!(
            out[0].1,
            Ok(Var::Setup {
                step: "g".into(),
                field: "group-id".into()
            })
        );
        assert_eq!(out[1].0, "x");
        assert!(out[1].1.is_err());
    }

    #[test]
    fn partitions() {
        assert_eq!(partition_of("us-east-1"), "aws");
        assert_eq!(partition_of("cn-north-1"), "aws-cn");
        assert_eq!(partition_of("us-gov-west-1"), "aws-us-gov");
    }
}
