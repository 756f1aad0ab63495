//! `wit/accessanalyzer.wit`: IAM Access Analyzer analyzers of the finding's account and
//! region. Creating the first analyzer needs Access Analyzer's service-linked role, which
//! `iam.create-service-linked-role` creates (so the audit trail shows it).

use super::{any, on_target, row};
use crate::{ACCESS_ANALYZER, HostFunction, Target};

pub(super) const FUNCTIONS: &[HostFunction] = &[
    row(
        "accessanalyzer.list-analyzers",
        "ListAnalyzers",
        &[any("access-analyzer:ListAnalyzers")],
        Target::Read,
    ),
    row(
        "accessanalyzer.create-analyzer",
        "CreateAnalyzer",
        &[on_target("access-analyzer:CreateAnalyzer")],
        Target::Create(ACCESS_ANALYZER),
    ),
];
