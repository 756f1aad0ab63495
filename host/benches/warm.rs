//! Warm per-finding host overhead: request in → outcome out, plugin already loaded, no AWS
//! call (the `misbehave` fixture's `noop`: its grants are set, but the role is assumed
//! only on a first AWS call, which it never makes).
//!
//! Needs the compiled fixture: `cargo xtask bench` builds it and sets `HUBFIX_PLUGIN_DIR`.

// Benchmark setup panics on a broken environment; that is its error report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use hubfix_finding::Finding;
use hubfix_host::{Grants, HostConfig, Mode, Request, Runtime, Status, sha256_hex};

fn fixture() -> Vec<u8> {
    let dir = std::env::var_os("HUBFIX_PLUGIN_DIR")
        .expect("HUBFIX_PLUGIN_DIR is not set: run `cargo xtask bench`");
    std::fs::read(PathBuf::from(dir).join("misbehave.wasm")).expect("misbehave.wasm")
}

fn request() -> Request {
    let finding = Finding::from_value(serde_json::json!({
        "Id": "arn:aws:securityhub:us-east-1:111111111111:security-control/EC2.7/finding/bench",
        "ProductArn": "arn:aws:securityhub:us-east-1::product/aws/securityhub",
        "GeneratorId": "security-control/EC2.7",
        "AwsAccountId": "111111111111",
        "Region": "us-east-1",
        "Title": "EBS default encryption should be enabled",
        "Compliance": {"Status": "FAILED", "SecurityControlId": "EC2.7"},
        "Resources": [{"Type": "AwsAccount", "Id": "AWS::::Account:111111111111"}],
    }))
    .unwrap();
    Request {
        finding,
        control: "EC2.7".into(),
        params: vec![("behavior".into(), "noop".into())],
        mode: Mode::Apply,
    }
}

fn warm(c: &mut Criterion) {
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let bytes = fixture();
    let request = request();
    let aws = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .build();
    let mut group = c.benchmark_group("warm_remediation");
    for (label, pool_size) in [("pooling", 16), ("on_demand", 0)] {
        let config = HostConfig {
            pool_size,
            ..HostConfig::default()
        };
        let runtime = Runtime::new(config, aws.clone()).unwrap();
        let grants = Grants::new([
            "ec2.revoke-security-group-ingress",
            "ec2.describe-security-group-rules",
            "ec2.get-ebs-encryption-by-default",
        ])
        .unwrap();
        let plugin = tokio
            .block_on(runtime.load(&bytes, &sha256_hex(&bytes), grants))
            .unwrap();
        let outcome = tokio.block_on(runtime.remediate(&plugin, &request));
        assert_eq!(outcome.status, Status::Skipped, "{}", outcome.message);
        group.bench_function(label, |b| {
            b.to_async(&tokio)
                .iter(|| runtime.remediate(&plugin, &request))
        });
    }
    group.finish();

    // The cold path's CPU parts, for comparison: load = compile + checks + describe.
    let runtime = Runtime::new(HostConfig::default(), aws).unwrap();
    let mut cold = c.benchmark_group("cold_parts");
    cold.sample_size(10);
    cold.bench_function("load_compile_from_bytes", |b| {
        b.to_async(&tokio).iter(|| async {
            let grants = Grants::new([
                "ec2.revoke-security-group-ingress",
                "ec2.describe-security-group-rules",
                "ec2.get-ebs-encryption-by-default",
            ])
            .unwrap();
            runtime
                .load(&bytes, &sha256_hex(&bytes), grants)
                .await
                .unwrap()
        })
    });
    cold.finish();
}

criterion_group!(benches, warm);
criterion_main!(benches);
