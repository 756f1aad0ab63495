//! The table: one row per AWS host function, grouped by the WIT interface (one file per
//! service) they belong to.
//!
//! To add a host function: declare it in `wit/<service>.wit`, add its row to
//! `<service>.rs` here, implement it in `host/src/aws/<service>.rs` (looking its row up
//! with [`crate::function`]), and run `cargo xtask codegen`. A new service also gets a
//! file here and a [`SERVICES`] row; codegen adds it to the WIT world, the host's module
//! list and its SDK dependencies.

use crate::{HostFunction, IamAction, On, ResourceType, Service, Target};

mod accessanalyzer;
mod account;
mod cloudtrail;
mod cloudwatch;
mod config;
mod ec2;
mod iam;
mod kms;
mod logs;
mod rds;
mod s3;
mod s3control;
mod sns;

/// The WIT interfaces of AWS host functions, in world import order.
pub const SERVICES: &[Service] = &[
    service("iam", "aws-sdk-iam", "1.133", iam::FUNCTIONS),
    service("ec2", "aws-sdk-ec2", "1.274", ec2::FUNCTIONS),
    service("s3control", "aws-sdk-s3control", "1", s3control::FUNCTIONS),
    service("s3", "aws-sdk-s3", "1.157", s3::FUNCTIONS),
    service(
        "cloudtrail",
        "aws-sdk-cloudtrail",
        "1.130",
        cloudtrail::FUNCTIONS,
    ),
    service("config", "aws-sdk-config", "1.131", config::FUNCTIONS),
    service("kms", "aws-sdk-kms", "1.129", kms::FUNCTIONS),
    service("logs", "aws-sdk-cloudwatchlogs", "1.162", logs::FUNCTIONS),
    service(
        "cloudwatch",
        "aws-sdk-cloudwatch",
        "1",
        cloudwatch::FUNCTIONS,
    ),
    service("sns", "aws-sdk-sns", "1.121", sns::FUNCTIONS),
    service("account", "aws-sdk-account", "1.126", account::FUNCTIONS),
    service("rds", "aws-sdk-rds", "1.159", rds::FUNCTIONS),
    service(
        "accessanalyzer",
        "aws-sdk-accessanalyzer",
        "1.128",
        accessanalyzer::FUNCTIONS,
    ),
];

/// Every AWS host function, service by service in [`SERVICES`] order, each in WIT order.
pub const FUNCTIONS: &[HostFunction] = &ALL;

const COUNT: usize = {
    let mut n = 0;
    let mut i = 0;
    while i < SERVICES.len() {
        n += SERVICES[i].functions.len();
        i += 1;
    }
    n
};

const ALL: [HostFunction; COUNT] = {
    let placeholder = row("", "", &[], Target::Read);
    let mut all = [placeholder; COUNT];
    let (mut n, mut i) = (0, 0);
    while i < SERVICES.len() {
        let mut j = 0;
        while j < SERVICES[i].functions.len() {
            all[n] = SERVICES[i].functions[j];
            n += 1;
            j += 1;
        }
        i += 1;
    }
    all
};

const fn service(
    name: &'static str,
    sdk_crate: &'static str,
    sdk_version: &'static str,
    functions: &'static [HostFunction],
) -> Service {
    Service {
        name,
        sdk_crate,
        sdk_version,
        functions,
    }
}

const fn row(
    name: &'static str,
    operation: &'static str,
    iam_actions: &'static [IamAction],
    target: Target,
) -> HostFunction {
    HostFunction {
        name,
        operation,
        iam_actions,
        target,
    }
}

/// An action that supports no resource-level permissions.
const fn any(name: &'static str) -> IamAction {
    IamAction { name, on: On::Any }
}

/// An action AWS can narrow to the function's target resources.
const fn on_target(name: &'static str) -> IamAction {
    IamAction {
        name,
        on: On::Target,
    }
}

/// An action on resources of another type than the function's target (`iam:PassRole`
/// of the role a service is given).
const fn on_type(name: &'static str, ty: ResourceType) -> IamAction {
    IamAction {
        name,
        on: On::Type(ty),
    }
}

/// An action on any resource of `ty` in the account and region.
const fn any_of(name: &'static str, ty: ResourceType) -> IamAction {
    IamAction {
        name,
        on: On::AnyOf(ty),
    }
}
