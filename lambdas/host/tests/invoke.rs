//! The host Lambda binary as Lambda runs it: the process speaks the Lambda Runtime API
//! (the emulator's extension serves it), and the proxy reaches it with a real
//! cross-account `Invoke` through an assumed role in the Service account. Results come
//! back as payloads; the host's errors as function errors the proxy maps to the closed set.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use hubfix_pipeline::proxy::Proxy;
use hubfix_pipeline::{ErrorName, Workflow};
use hubfix_tests::lambda::HostLambda;
use hubfix_tests::pipeline::{Stack, policy_files};
use hubfix_tests::scenario::fresh;
use hubfix_tests::{
    EC2_EBS_DEFAULT_ENCRYPTION, Member, account_finding, base_config, emulator_available,
};
use serde_json::{Value, json};

fn request(host: &HostLambda, finding: &Value, plugin: &str) -> Value {
    json!({
        "host": {"function": host.function_arn},
        "request": {
            "finding": finding,
            "control": "EC2.7",
            "plugin": {"name": plugin, "version": "0.1.0"},
            "grants": EC2_EBS_DEFAULT_ENCRYPTION.grants,
            "params": {},
        }
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn the_proxy_invokes_the_host_lambda_binary_across_accounts() {
    // The body's future is large in debug builds: on the heap, not the test thread's stack.
    Box::pin(async move {
        if !emulator_available("the_proxy_invokes_the_host_lambda_binary_across_accounts") {
            return;
        }
        let base = base_config().await;
        let stack = Stack::deploy(
            &base,
            &policy_files(&[]).unwrap(),
            &[&EC2_EBS_DEFAULT_ENCRYPTION],
        )
        .await
        .unwrap();

        let host = HostLambda::start(
            &base,
            &stack,
            Path::new(env!("CARGO_BIN_EXE_hubfix-host-lambda")),
        )
        .await
        .unwrap();

        // The proxy in the Security account, through a role in the Service account.
        let proxy = Proxy::new(&base, Some(&HostLambda::proxy_role_arn())).await;
        let account = "242424242424";
        let member = Member::assume(&base, account).await.unwrap();
        member.disable_ebs_default_encryption().await.unwrap();
        let finding = fresh(account_finding(account, "EC2.7"));

        let response = proxy
            .handle(request(&host, &finding, EC2_EBS_DEFAULT_ENCRYPTION.name))
            .await
            .unwrap();
        assert_eq!(
            response.outcome["status"], "remediated",
            "{}",
            response.outcome
        );
        assert_eq!(response.update.workflow, Workflow::Resolved);
        assert_eq!(response.update.finding.id, finding["Id"].as_str().unwrap());
        assert!(member.ebs_default_encryption().await.unwrap());

        // The same container again: already compliant, nothing changed.
        let again = proxy
            .handle(request(&host, &finding, EC2_EBS_DEFAULT_ENCRYPTION.name))
            .await
            .unwrap();
        assert_eq!(again.outcome["status"], "already_compliant");

        // The host's errors come back as function errors with their names.
        let unknown = proxy
            .handle(request(&host, &finding, "no-such-plugin"))
            .await
            .unwrap_err();
        assert_eq!(
            unknown.name,
            ErrorName::PluginUnknown,
            "{}",
            unknown.message
        );
        let mut bad = request(&host, &finding, EC2_EBS_DEFAULT_ENCRYPTION.name);
        bad["request"]["grants"] = json!(["ec2.launch-missiles"]);
        let refused = proxy.handle(bad).await.unwrap_err();
        assert_eq!(
            refused.name,
            ErrorName::InvalidRequest,
            "{}",
            refused.message
        );
    })
    .await
}
