//! `wit/sns.wit`: SNS topics and their subscriptions. Topics are named by ARN (created
//! ones also by name).

use super::{any, on_target, row};
use crate::{HostFunction, SNS_TOPIC, Target};

pub(super) const FUNCTIONS: &[HostFunction] = &[
    row(
        "sns.create-topic",
        "CreateTopic",
        &[on_target("sns:CreateTopic")],
        Target::Create(SNS_TOPIC),
    ),
    row(
        "sns.subscribe",
        "Subscribe",
        &[on_target("sns:Subscribe")],
        Target::Resource(SNS_TOPIC),
    ),
    row(
        "sns.list-subscriptions-by-topic",
        "ListSubscriptionsByTopic",
        &[any("sns:ListSubscriptionsByTopic")],
        Target::Read,
    ),
];
