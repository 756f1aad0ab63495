//! IAM Access Analyzer calls (`accessanalyzer.*`): the account's analyzers.

use aws_sdk_accessanalyzer::types::Type;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Member, Record, call_failed};

/// An Access Analyzer call, written `call = "accessanalyzer.operation"` with the
/// operation's fields next to it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "call", deny_unknown_fields)]
#[allow(
    clippy::enum_variant_names,
    reason = "the variants are the AWS operations, which share a noun"
)]
pub enum Op {
    /// `access-analyzer:CreateAnalyzer`. Returns `name` and `arn`.
    #[serde(rename = "accessanalyzer.create-analyzer", rename_all = "kebab-case")]
    CreateAnalyzer {
        /// The analyzer's name.
        name: String,
        /// Its type (default `ACCOUNT`): `ACCOUNT_UNUSED_ACCESS`, ...
        #[serde(default = "account", rename = "type")]
        kind: String,
    },
    /// `access-analyzer:ListAnalyzers` (all pages, every type). Returns `names`, `types`
    /// and `statuses` (one per analyzer, in the same order) and `count`.
    #[serde(rename = "accessanalyzer.list-analyzers")]
    ListAnalyzers {},
}

fn account() -> String {
    "ACCOUNT".to_owned()
}

/// Every Access Analyzer call name.
pub const CALLS: &[&str] = &[
    "accessanalyzer.create-analyzer",
    "accessanalyzer.list-analyzers",
];

impl Op {
    /// Its `call` name.
    pub fn call(&self) -> &'static str {
        match self {
            Op::CreateAnalyzer { .. } => "accessanalyzer.create-analyzer",
            Op::ListAnalyzers {} => "accessanalyzer.list-analyzers",
        }
    }

    /// The fields its [`Record`] can have.
    pub fn outputs(&self) -> &'static [&'static str] {
        match self {
            Op::CreateAnalyzer { .. } => &["name", "arn"],
            Op::ListAnalyzers {} => &["names", "types", "statuses", "count"],
        }
    }

    /// Whether it only reads (what checks may call).
    pub fn is_read(&self) -> bool {
        matches!(self, Op::ListAnalyzers {})
    }

    /// Problems the call's fields have that their types do not catch.
    pub fn problems(&self) -> Vec<String> {
        match self {
            Op::CreateAnalyzer { name, kind } => {
                let mut problems = Vec::new();
                if name.trim().is_empty() {
                    problems.push("`name` is empty".to_owned());
                }
                if !Type::values().contains(&kind.as_str()) {
                    problems.push(format!(
                        "`type` must be one of {}, not {kind:?}",
                        Type::values().join(", ")
                    ));
                }
                problems
            }
            Op::ListAnalyzers {} => Vec::new(),
        }
    }

    /// Makes the call in `m`'s account (untimed: [`super::Op::run`] times it).
    pub async fn run(&self, m: &Member) -> Result<Record, String> {
        let failed = |e: &dyn std::error::Error| call_failed(self.call(), e);
        match self {
            Op::CreateAnalyzer { name, kind } => {
                let out = m
                    .accessanalyzer
                    .create_analyzer()
                    .analyzer_name(name)
                    .r#type(Type::from(kind.as_str()))
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                Ok(Record::from([
                    ("name".to_owned(), json!(name)),
                    ("arn".to_owned(), json!(out.arn().unwrap_or_default())),
                ]))
            }
            Op::ListAnalyzers {} => {
                let (mut names, mut types, mut statuses) = (Vec::new(), Vec::new(), Vec::new());
                let mut pages = m.accessanalyzer.list_analyzers().into_paginator().send();
                while let Some(page) = pages.next().await {
                    let page = page.map_err(|e| failed(&e))?;
                    for a in page.analyzers() {
                        names.push(a.name().to_owned());
                        types.push(a.r#type().as_str().to_owned());
                        statuses.push(a.status().as_str().to_owned());
                    }
                }
                Ok(Record::from([
                    ("count".to_owned(), json!(names.len())),
                    ("names".to_owned(), json!(names)),
                    ("types".to_owned(), json!(types)),
                    ("statuses".to_owned(), json!(statuses)),
                ]))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_type_must_be_one_aws_knows() {
        let op: Op =
            serde_json::from_value(json!({"call": "accessanalyzer.create-analyzer", "name": "a"}))
                .unwrap();
        assert!(op.problems().is_empty());
        let op = Op::CreateAnalyzer {
            name: String::new(),
            kind: "EVERYTHING".into(),
        };
        let problems = op.problems();
        assert_eq!(problems.len(), 2);
        assert!(problems[1].contains("`type`"), "{problems:?}");
    }
}
