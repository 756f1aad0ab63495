//! `hubfix:plugin/accessanalyzer`: IAM Access Analyzer analyzers in the finding's account
//! and region.
//!
//! The host creates only external access analyzers of the account (type `ACCOUNT`): an
//! organization's analyzer belongs to its management or delegated administrator account,
//! not to a member's remediation. Listing reads at most [`MAX_PAGES`] pages.
//!
//! In plan mode nothing is created: `create-analyzer` answers the ARN the analyzer would
//! have.

use aws_sdk_accessanalyzer::types::Type;
use hubfix_contract::{ACCESS_ANALYZER, HostFunction, function};

use crate::aws::{AwsClients, CallError, PluginCtx, map_sdk_error, read_pages};
use crate::bindings::accessanalyzer::{Analyzer, Host};
use crate::bindings::types::{AwsError, Mode};

const LIST: &HostFunction = function("accessanalyzer.list-analyzers");
const CREATE: &HostFunction = function("accessanalyzer.create-analyzer");

/// The most pages `list-analyzers` reads.
pub(crate) const MAX_PAGES: usize = 10;
/// Access Analyzer's limit on an analyzer name.
const MAX_NAME: usize = 255;

fn accessanalyzer(aws: &AwsClients) -> aws_sdk_accessanalyzer::Client {
    aws.client(aws_sdk_accessanalyzer::Client::new)
}

/// An analyzer name: 1 to 255 ASCII letters, digits, `_`, `.` and `-`, starting with a
/// letter (the API's `[A-Za-z][A-Za-z0-9_.-]*`).
fn analyzer_name(name: &str) -> Result<(), CallError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if !ok {
        return Err(AwsError::InvalidInput(format!(
            "{}: `name` must be 1 to {MAX_NAME} letters, digits, `_`, `.` and `-`, starting \
             with a letter, not {name:?}",
            CREATE.name
        ))
        .into());
    }
    Ok(())
}

impl Host for PluginCtx {
    async fn list_analyzers(&mut self) -> Result<Vec<Analyzer>, CallError> {
        self.enter(const { function("accessanalyzer.list-analyzers") })?;
        self.call(LIST, None, |aws| async move {
            let mut analyzers = Vec::new();
            let pages = accessanalyzer(&aws)
                .list_analyzers()
                .into_paginator()
                .send();
            read_pages(pages, MAX_PAGES, "analyzers", map_sdk_error, |page| {
                analyzers.extend(page.analyzers().iter().map(|a| Analyzer {
                    name: a.name().to_owned(),
                    arn: a.arn().to_owned(),
                    type_: a.r#type().as_str().to_owned(),
                    status: a.status().as_str().to_owned(),
                }))
            })
            .await?;
            Ok(analyzers)
        })
        .await
    }

    async fn create_analyzer(&mut self, name: String) -> Result<String, CallError> {
        self.enter(const { function("accessanalyzer.create-analyzer") })?;
        analyzer_name(&name)?;
        let resource = name.clone();
        let arn = self
            .call(CREATE, Some(&resource), |aws| async move {
                let out = accessanalyzer(&aws)
                    .create_analyzer()
                    .analyzer_name(name)
                    .r#type(Type::Account)
                    .send()
                    .await
                    .map_err(map_sdk_error)?;
                out.arn()
                    .map(str::to_owned)
                    .ok_or_else(|| AwsError::Service("CreateAnalyzer returned no arn".into()))
            })
            .await?;
        if arn.is_empty() && self.mode == Mode::Plan {
            // Nothing was created: the ARN the analyzer would have.
            return Ok(self.scope.arn_of(&ACCESS_ANALYZER, &resource));
        }
        Ok(arn)
    }
}

#[cfg(test)]
mod tests {
    use crate::aws::mock_tests::mock_ctx;

    use aws_sdk_accessanalyzer::operation::create_analyzer::{
        CreateAnalyzerError, CreateAnalyzerOutput,
    };
    use aws_sdk_accessanalyzer::operation::list_analyzers::ListAnalyzersOutput;
    use aws_sdk_accessanalyzer::types::error::ConflictException;
    use aws_sdk_accessanalyzer::types::{AnalyzerStatus, AnalyzerSummary};
    use aws_smithy_types::DateTime;
    use aws_smithy_types::error::ErrorMetadata;
    use hubfix_mocks::{Rule, RuleMode, mock, mock_client};
    use serde_json::json;

    use super::*;
    use crate::outcome::CallResult;

    const ARN: &str = "arn:aws:access-analyzer:eu-west-1:111111111111:analyzer/hubfix-external";

    fn ctx(rules: &[&Rule], mode: Mode) -> PluginCtx {
        mock_ctx(
            "eu-west-1",
            json!([{"Type": "AwsAccount", "Id": "AWS::::Account:111111111111"}]),
            mock_client!(aws_sdk_accessanalyzer, RuleMode::MatchAny, rules),
            &[
                "accessanalyzer.list-analyzers",
                "accessanalyzer.create-analyzer",
            ],
            mode,
            50,
        )
    }

    fn summary(name: &str, ty: Type) -> AnalyzerSummary {
        AnalyzerSummary::builder()
            .arn(format!(
                "arn:aws:access-analyzer:eu-west-1:111111111111:analyzer/{name}"
            ))
            .name(name)
            .r#type(ty)
            .created_at(DateTime::from_secs(0))
            .status(AnalyzerStatus::Active)
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn analyzers_are_listed_page_by_page_and_bounded() {
        let list = mock!(aws_sdk_accessanalyzer::Client::list_analyzers)
            .match_requests(|r| r.r#type().is_none())
            .sequence()
            .output(|| {
                ListAnalyzersOutput::builder()
                    .analyzers(summary("unused", Type::AccountUnusedAccess))
                    .next_token("2")
                    .build()
                    .unwrap()
            })
            .output(|| {
                ListAnalyzersOutput::builder()
                    .analyzers(summary("org", Type::Organization))
                    .build()
                    .unwrap()
            })
            .build();
        let mut ctx = ctx(&[&list], Mode::Apply);
        let got = ctx.list_analyzers().await.unwrap();
        assert_eq!(
            got.iter()
                .map(|a| (a.name.as_str(), a.type_.as_str(), a.status.as_str()))
                .collect::<Vec<_>>(),
            [
                ("unused", "ACCOUNT_UNUSED_ACCESS", "ACTIVE"),
                ("org", "ORGANIZATION", "ACTIVE")
            ]
        );
        assert_eq!(list.num_calls(), 2);

        let endless =
            mock!(aws_sdk_accessanalyzer::Client::list_analyzers).then_compute_output(|r| {
                let n: u32 = r.next_token().and_then(|t| t.parse().ok()).unwrap_or(0);
                ListAnalyzersOutput::builder()
                    .analyzers(summary("a", Type::Account))
                    .next_token((n + 1).to_string())
                    .build()
                    .unwrap()
            });
        let mut ctx = super::tests::ctx(&[&endless], Mode::Apply);
        let err = ctx.list_analyzers().await.unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::Service(ref m)) if m.contains("more than 10 pages")),
            "{err:?}"
        );
        assert_eq!(endless.num_calls(), MAX_PAGES + 1);
    }

    #[tokio::test]
    async fn only_prefixed_account_analyzers_are_created() {
        let create = mock!(aws_sdk_accessanalyzer::Client::create_analyzer)
            .match_requests(|r| {
                r.analyzer_name() == Some("hubfix-external") && r.r#type() == Some(&Type::Account)
            })
            .then_output(|| CreateAnalyzerOutput::builder().arn(ARN).build());
        let mut ctx = ctx(&[&create], Mode::Apply);
        assert_eq!(
            ctx.create_analyzer("hubfix-external".into()).await.unwrap(),
            ARN
        );
        let err = ctx.create_analyzer("external".into()).await.unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::AccessDenied(ref m)) if m.contains("hubfix-"))
        );
        let long = format!("hubfix-{}", "a".repeat(250));
        for bad in ["", "hubfix external", "hubfix-a/b", "1hubfix", &long] {
            let err = ctx.create_analyzer(bad.into()).await.unwrap_err();
            assert!(
                matches!(err, CallError::Aws(AwsError::InvalidInput(ref m)) if m.contains("`name`")),
                "{bad}: {err:?}"
            );
        }
        assert_eq!(create.num_calls(), 1);
    }

    #[tokio::test]
    async fn a_taken_name_is_an_error_and_a_plan_creates_nothing() {
        let conflict = mock!(aws_sdk_accessanalyzer::Client::create_analyzer).then_error(|| {
            CreateAnalyzerError::ConflictException(
                ConflictException::builder()
                    .message("Analyzer hubfix-external already exists")
                    .resource_id("hubfix-external")
                    .resource_type("Analyzer")
                    .meta(ErrorMetadata::builder().code("ConflictException").build())
                    .build()
                    .unwrap(),
            )
        });
        let mut apply = ctx(&[&conflict], Mode::Apply);
        let err = apply
            .create_analyzer("hubfix-external".into())
            .await
            .unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::Service(ref m)) if m.starts_with("CreateAnalyzer: ConflictException")),
            "{err:?}"
        );
        let mut plan = ctx(&[&conflict], Mode::Plan);
        assert_eq!(
            plan.create_analyzer("hubfix-external".into())
                .await
                .unwrap(),
            ARN
        );
        assert_eq!(conflict.num_calls(), 1);
        let results: Vec<_> = plan.into_trail().calls.iter().map(|c| c.result).collect();
        assert_eq!(results, [CallResult::Planned]);
    }
}
