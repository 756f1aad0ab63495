//! `hubfix check PATH.wasm [--grant ...]`: what a plugin imports and whether grants cover it.

use std::path::PathBuf;

use clap::Args;
use hubfix_host::{Grants, HostConfig, Runtime};
use serde::Serialize;

use crate::{Fatal, Output, read_file};

#[derive(Args)]
pub struct CheckArgs {
    /// The plugin component.
    plugin: PathBuf,
    /// Host functions granted, `service.function` (repeat or comma-separate).
    #[arg(long = "grant", value_name = "FUNC", num_args = 1.., value_delimiter = ',')]
    grants: Vec<String>,
    #[arg(long, value_enum, default_value_t)]
    output: Output,
}

#[derive(Serialize)]
struct Report {
    imports: Vec<String>,
    missing: Vec<String>,
    wasi: Vec<String>,
    forbidden: Vec<String>,
}

pub async fn check(args: CheckArgs) -> Result<u8, Fatal> {
    let grants = Grants::new(&args.grants).map_err(Fatal::input)?;
    let bytes = read_file(&args.plugin)?;
    let runtime =
        Runtime::new(HostConfig::default(), crate::offline_aws_config()).map_err(Fatal::input)?;
    let imports = runtime.inspect(&bytes).map_err(Fatal::input)?;
    let report = Report {
        missing: imports.missing(&grants),
        imports: imports.functions,
        wasi: imports.wasi,
        forbidden: imports.forbidden,
    };
    let ok = report.missing.is_empty() && report.forbidden.is_empty();
    match args.output {
        Output::Json => {
            let text = serde_json::to_string_pretty(&report).map_err(Fatal::input)?;
            out!("{text}");
        }
        Output::Table => {
            out!("{}", args.plugin.display());
            for f in &report.imports {
                let mark = if grants.contains(f) {
                    "granted"
                } else {
                    "MISSING"
                };
                out!("  {mark:<8} {f}");
            }
            for f in &report.forbidden {
                out!("  {:<8} {f}", "REFUSED");
            }
            if !report.wasi.is_empty() {
                out!("  wasi (empty context): {}", report.wasi.join(", "));
            }
            if ok {
                out!("ok: every imported function is granted");
            } else if !report.missing.is_empty() {
                out!("refused: grant {}", report.missing.join(", "));
            } else {
                out!(
                    "refused: the host never provides {}",
                    report.forbidden.join(", ")
                );
            }
        }
    }
    Ok(if ok { 0 } else { 1 })
}
