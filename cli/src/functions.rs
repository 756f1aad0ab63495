//! `hubfix functions [--output json]`: the host functions a policy can grant, from the
//! contract's one table: function, AWS operation, IAM actions, mutating, scope.

use clap::Args;
use hubfix_host::{HOST_FUNCTIONS, HostFunction, Target};
use serde::Serialize;

use crate::{Fatal, Output};

#[derive(Args)]
pub struct FunctionsArgs {
    #[arg(long, value_enum, default_value_t)]
    output: Output,
}

/// One row of the table, as `--output json` prints it.
#[derive(Serialize)]
struct Row {
    function: &'static str,
    operation: &'static str,
    iam_actions: Vec<&'static str>,
    /// IAM actions AWS cannot narrow to resources (the session policy allows them on `*`).
    unscoped_actions: Vec<&'static str>,
    mutating: bool,
    /// `read`, `resource`, `account` or `create`.
    scope: &'static str,
    /// The ASFF resource type of a `resource` or `create` scope.
    resource_type: Option<&'static str>,
}

fn row(f: &'static HostFunction) -> Row {
    Row {
        function: f.name,
        operation: f.operation,
        // An action held on two kinds of resource is one action to the reader.
        iam_actions: f.iam_actions.iter().fold(Vec::new(), |mut names, a| {
            if !names.contains(&a.name) {
                names.push(a.name);
            }
            names
        }),
        unscoped_actions: f.unscoped_actions().collect(),
        mutating: f.is_mutating(),
        scope: f.target.kind(),
        resource_type: match f.target {
            Target::Resource(t) | Target::Create(t) | Target::Configure(t) => Some(t.asff),
            Target::Read | Target::Account => None,
        },
    }
}

pub fn functions(args: FunctionsArgs) -> Result<u8, Fatal> {
    let rows: Vec<Row> = HOST_FUNCTIONS.iter().map(row).collect();
    match args.output {
        Output::Json => {
            let text = serde_json::to_string_pretty(&rows).map_err(Fatal::input)?;
            out!("{text}");
        }
        Output::Table => {
            out!(
                "{:<40} {:<30} {:<5} {:<28} IAM actions (* = cannot be narrowed to resources)",
                "FUNCTION",
                "OPERATION",
                "WRITE",
                "SCOPE"
            );
            for r in &rows {
                let scope = match r.resource_type {
                    Some(t) => format!("{} {t}", r.scope),
                    None => r.scope.to_owned(),
                };
                let actions: Vec<String> = r
                    .iam_actions
                    .iter()
                    .map(|a| {
                        let star = if r.unscoped_actions.contains(a) {
                            "*"
                        } else {
                            ""
                        };
                        format!("{a}{star}")
                    })
                    .collect();
                out!(
                    "{:<40} {:<30} {:<5} {:<28} {}",
                    r.function,
                    r.operation,
                    if r.mutating { "yes" } else { "no" },
                    scope,
                    actions.join(", ")
                );
            }
        }
    }
    Ok(0)
}
