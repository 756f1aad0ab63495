//! SNS calls (`sns.*`): topics and subscriptions.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Member, Record, call_failed};

/// An SNS call, written `call = "sns.operation"` with the operation's fields next to it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "call", deny_unknown_fields)]
pub enum Op {
    /// `sns:CreateTopic`. Returns `name` and `arn`.
    #[serde(rename = "sns.create-topic", rename_all = "kebab-case")]
    CreateTopic {
        /// The topic's name.
        name: String,
    },
    /// `sns:Subscribe`. Returns `arn` (the subscription's, or `pending confirmation`).
    #[serde(rename = "sns.subscribe", rename_all = "kebab-case")]
    Subscribe {
        /// The topic's ARN.
        topic_arn: String,
        /// `email`, `https`, `sqs`, ...
        protocol: String,
        /// The address, URL or ARN.
        endpoint: String,
    },
    /// `sns:ListSubscriptionsByTopic` (all pages). Returns `endpoints`, `protocols` (one
    /// per subscription, in the same order) and `count`.
    #[serde(rename = "sns.list-subscriptions-by-topic", rename_all = "kebab-case")]
    ListSubscriptionsByTopic {
        /// The topic's ARN.
        topic_arn: String,
    },
}

/// Every SNS call name.
pub const CALLS: &[&str] = &[
    "sns.create-topic",
    "sns.subscribe",
    "sns.list-subscriptions-by-topic",
];

impl Op {
    /// Its `call` name.
    pub fn call(&self) -> &'static str {
        match self {
            Op::CreateTopic { .. } => "sns.create-topic",
            Op::Subscribe { .. } => "sns.subscribe",
            Op::ListSubscriptionsByTopic { .. } => "sns.list-subscriptions-by-topic",
        }
    }

    /// The fields its [`Record`] can have.
    pub fn outputs(&self) -> &'static [&'static str] {
        match self {
            Op::CreateTopic { .. } => &["name", "arn"],
            Op::Subscribe { .. } => &["arn"],
            Op::ListSubscriptionsByTopic { .. } => &["endpoints", "protocols", "count"],
        }
    }

    /// Whether it only reads (what checks may call).
    pub fn is_read(&self) -> bool {
        matches!(self, Op::ListSubscriptionsByTopic { .. })
    }

    /// Problems the call's fields have that their types do not catch.
    pub fn problems(&self) -> Vec<String> {
        let fields: Vec<(&str, &String)> = match self {
            Op::CreateTopic { name } => vec![("name", name)],
            Op::Subscribe {
                topic_arn,
                protocol,
                endpoint,
            } => vec![
                ("topic-arn", topic_arn),
                ("protocol", protocol),
                ("endpoint", endpoint),
            ],
            Op::ListSubscriptionsByTopic { topic_arn } => vec![("topic-arn", topic_arn)],
        };
        fields
            .into_iter()
            .filter(|(_, value)| value.trim().is_empty())
            .map(|(field, _)| format!("`{field}` is empty"))
            .collect()
    }

    /// Makes the call in `m`'s account (untimed: [`super::Op::run`] times it).
    pub async fn run(&self, m: &Member) -> Result<Record, String> {
        let failed = |e: &dyn std::error::Error| call_failed(self.call(), e);
        match self {
            Op::CreateTopic { name } => {
                let out = m
                    .sns
                    .create_topic()
                    .name(name)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                Ok(Record::from([
                    ("name".to_owned(), json!(name)),
                    ("arn".to_owned(), json!(out.topic_arn().unwrap_or_default())),
                ]))
            }
            Op::Subscribe {
                topic_arn,
                protocol,
                endpoint,
            } => {
                let out = m
                    .sns
                    .subscribe()
                    .topic_arn(topic_arn)
                    .protocol(protocol)
                    .endpoint(endpoint)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                Ok(Record::from([(
                    "arn".to_owned(),
                    json!(out.subscription_arn().unwrap_or_default()),
                )]))
            }
            Op::ListSubscriptionsByTopic { topic_arn } => {
                let mut endpoints = Vec::new();
                let mut protocols = Vec::new();
                let mut pages = m
                    .sns
                    .list_subscriptions_by_topic()
                    .topic_arn(topic_arn)
                    .into_paginator()
                    .send();
                while let Some(page) = pages.next().await {
                    let page = page.map_err(|e| failed(&e))?;
                    for s in page.subscriptions() {
                        endpoints.push(s.endpoint().unwrap_or_default().to_owned());
                        protocols.push(s.protocol().unwrap_or_default().to_owned());
                    }
                }
                Ok(Record::from([
                    ("count".to_owned(), json!(endpoints.len())),
                    ("endpoints".to_owned(), json!(endpoints)),
                    ("protocols".to_owned(), json!(protocols)),
                ]))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_name_the_field() {
        assert!(Op::CreateTopic { name: " ".into() }.problems()[0].contains("`name`"));
        let op = Op::Subscribe {
            topic_arn: "arn:aws:sns:us-east-1:111111111111:t".into(),
            protocol: "email".into(),
            endpoint: String::new(),
        };
        assert_eq!(op.problems(), ["`endpoint` is empty"]);
    }
}
