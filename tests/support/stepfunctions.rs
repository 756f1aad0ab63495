//! The real state machine (`deploy/statemachine/remediation.asl.json`) run by the emulator's
//! Step Functions interpreter, with the Lambda results wired through: the emulator's Lambda
//! cannot run our code, so each task's result is computed first by the very handler the
//! Lambda would run (router, host behind the proxy) and queued as that function's answer
//! (`/moto-api/static/lambda-simple/response`); a handler's error becomes a Lambda function
//! error with its `errorType`, which the state machine's `Retry` and `Catch` match.

use anyhow::{Context, Result, bail};
use aws_config::SdkConfig;
use serde_json::{Value, json};

use crate::emulator::control;
use crate::lambda::create_function;
use crate::pipeline::{Functions, Stack};
use crate::scenario::deploy_dir;
use crate::unique_suffix;

/// The remediation state machine, created in the emulator from the template's ASL.
pub struct StateMachine {
    sfn: aws_sdk_sfn::Client,
    arn: String,
    account: String,
    region: String,
}

/// One execution: how it ended and the states it went through, in order.
#[derive(Debug)]
pub struct Execution {
    /// `SUCCEEDED`, `FAILED`, …
    pub status: String,
    /// The names of the states entered, in order (`Route`, `Decide`, `Remediate`, …).
    pub states: Vec<String>,
    /// The errors tasks failed with, in order (`Hubfix.Throttled`, …).
    pub task_errors: Vec<String>,
}

/// What a Lambda task answers: a result, or a function error.
#[derive(Clone)]
pub enum Answer {
    /// The function's result.
    Ok(Value),
    /// A function error: `errorType` and `errorMessage`.
    Error(String, String),
}

impl Answer {
    fn queued(&self) -> String {
        match self {
            Answer::Ok(value) => value.to_string(),
            Answer::Error(kind, message) => json!({
                "__function_error__": "Unhandled",
                "errorType": kind,
                "errorMessage": message,
            })
            .to_string(),
        }
    }
}

impl StateMachine {
    /// Creates the router and proxy functions and the state machine, with the template's
    /// substitutions pointing at `stack`.
    pub async fn create(base: &SdkConfig, stack: &Stack) -> Result<Self> {
        control(
            "POST",
            "/moto-api/config",
            Some(&json!({"stepfunctions": {"execute_state_machine": true},
                         "lambda": {"use_docker": false}})),
        )?;
        let suffix = unique_suffix();
        let iam = aws_sdk_iam::Client::new(base);
        let role = iam
            .create_role()
            .role_name(format!("hubfix-state-machine-{suffix}"))
            .assume_role_policy_document(
                json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                    "Principal": {"Service": ["states.amazonaws.com", "lambda.amazonaws.com"]},
                    "Action": "sts:AssumeRole"}]})
                .to_string(),
            )
            .send()
            .await?
            .role
            .context("no role")?
            .arn;
        let mut arns = Vec::new();
        for name in ["router", "proxy"] {
            arns.push(create_function(base, &format!("hubfix-{name}-{suffix}")).await?);
        }
        let mut asl =
            std::fs::read_to_string(deploy_dir().join("statemachine/remediation.asl.json"))?;
        for (key, value) in [
            ("RouterFunctionArn", arns[0].as_str()),
            ("ProxyFunctionArn", arns[1].as_str()),
            (
                "HostFunctionArn",
                "arn:aws:lambda:us-east-1:222222222222:function:hubfix-host",
            ),
            ("HostQualifier", "live"),
            ("UpdatesQueueUrl", stack.queue_url.as_str()),
            ("ManualTopicArn", stack.topic_arn.as_str()),
        ] {
            asl = asl.replace(&format!("${{{key}}}"), value);
        }
        if asl.contains("${") {
            bail!("the ASL has substitutions this harness does not know");
        }
        let sfn = aws_sdk_sfn::Client::new(base);
        let arn = sfn
            .create_state_machine()
            .name(format!("hubfix-remediation-{suffix}"))
            .definition(asl)
            .role_arn(&role)
            .send()
            .await
            .context("create the state machine")?
            .state_machine_arn;
        let account = arn.split(':').nth(4).unwrap_or("123456789012").to_owned();
        let region = arn.split(':').nth(3).unwrap_or("us-east-1").to_owned();
        Ok(Self {
            sfn,
            arn,
            account,
            region,
        })
    }

    /// Runs one finding's event: the router's and the proxy's answers are computed by the
    /// handlers, queued, and the execution started; `extra` answers (e.g. a throttling
    /// error before the proxy's) are queued before the proxy's.
    pub async fn run(
        &self,
        functions: &Functions,
        event: &Value,
        proxy_errors_first: &[Answer],
    ) -> Result<Execution> {
        let findings = event["detail"]["findings"]
            .as_array()
            .context("no detail.findings")?;
        if findings.len() != 1 {
            bail!("one finding per execution: the queued answers are consumed in order");
        }
        let mut answers = Vec::new();
        let route = Box::pin(functions.router.handle(router_input(event, &findings[0]))).await;
        match &route {
            Ok(route) => {
                answers.push(Answer::Ok(serde_json::to_value(route)?));
                if let Some(request) = &route.remediation {
                    answers.extend(proxy_errors_first.iter().cloned());
                    let response = functions.remediator.run(request).await;
                    answers.push(match response {
                        Ok(r) => Answer::Ok(serde_json::to_value(r)?),
                        Err(e) => Answer::Error(e.name.as_str().into(), e.message),
                    });
                }
            }
            Err(e) => answers.push(Answer::Error(e.name.as_str().into(), e.message.clone())),
        }
        control(
            "POST",
            "/moto-api/static/lambda-simple/response",
            Some(&json!({
                "account_id": self.account,
                "region": self.region,
                "results": answers.iter().map(Answer::queued).collect::<Vec<_>>(),
            })),
        )?;
        let execution = self
            .sfn
            .start_execution()
            .state_machine_arn(&self.arn)
            .name(format!("e-{}", unique_suffix()))
            .input(event.to_string())
            .send()
            .await?
            .execution_arn;
        let status = loop {
            let out = self
                .sfn
                .describe_execution()
                .execution_arn(&execution)
                .send()
                .await?;
            if out.status != aws_sdk_sfn::types::ExecutionStatus::Running {
                break out.status.as_str().to_owned();
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        };
        let history = self
            .sfn
            .get_execution_history()
            .execution_arn(&execution)
            .max_results(1000)
            .send()
            .await?;
        let mut states = Vec::new();
        let mut task_errors = Vec::new();
        for event in history.events() {
            if let Some(entered) = event.state_entered_event_details() {
                states.push(entered.name().to_owned());
            }
            if let Some(failed) = event.task_failed_event_details()
                && let Some(error) = failed.error()
            {
                task_errors.push(error.to_owned());
            }
        }
        Ok(Execution {
            status,
            states,
            task_errors,
        })
    }
}

/// What the state machine's Map and Route task pass the router for one finding of `event`
/// (the ASL's `ItemSelector` and the Route payload).
pub fn router_input(event: &Value, finding: &Value) -> Value {
    json!({
        "finding": finding,
        "detail-type": event["detail-type"],
        "resources": event["resources"],
    })
}
