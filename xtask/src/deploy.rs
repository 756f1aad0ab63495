//! `cargo xtask validate`: the deployment templates of `deploy/`, checked offline.
//!
//! - `cfn-lint` (pinned in `deploy/requirements.txt`, installed into the project
//!   virtualenv `<cache>/venv`) on every `deploy/*.yaml`; warnings and informational
//!   findings fail too.
//! - `asl-validator` (npm, pinned below, installed under `<cache>/npm`) on every
//!   `deploy/statemachine/*.asl.json`. It accepts the `${...}` DefinitionSubstitutions
//!   placeholders as they are: they only appear in `Parameters`, which it does not resolve.
//! - `deploy/check_templates.py`: the findings rule's inline EventPattern equals
//!   `deploy/eventbridge/findings-pattern.json`, placeholders and DefinitionSubstitutions
//!   match, retriers and catchers use only known fields.
//!
//! Installs happen only when a pin changed, as for the emulator's virtualenv. All three
//! checks run even when one fails; the task fails if any does.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::cmd;
use crate::paths::Paths;
use crate::venv;

/// The ASL validator, pinned exactly.
const ASL_VALIDATOR: &str = "asl-validator@4.0.0";
/// Where `<cache>/venv` remembers which requirements `validate` installed.
const VENV_STAMP_FILE: &str = ".hubfix-deploy-requirements.sha256";
/// Where `<cache>/npm` remembers which asl-validator it holds.
const NPM_STAMP_FILE: &str = ".hubfix-asl-validator";

pub fn validate(paths: &Paths) -> Result<()> {
    let deploy = paths.root.join("deploy");
    let templates = files_ending_with(&deploy, ".yaml")?;
    let state_machines = files_ending_with(&deploy.join("statemachine"), ".asl.json")?;
    if templates.is_empty() {
        bail!("no templates (*.yaml) in {}", deploy.display());
    }
    if state_machines.is_empty() {
        bail!(
            "no state machines (*.asl.json) in {}",
            deploy.join("statemachine").display()
        );
    }

    let python = ensure_cfn_lint(paths)?;
    let asl_validator = ensure_asl_validator(paths)?;
    let venv_bin = python
        .parent()
        .context("the virtualenv's python has no parent")?;

    let relative = |file: &PathBuf| -> PathBuf {
        file.strip_prefix(&paths.root)
            .map(Path::to_path_buf)
            .unwrap_or_else(|_| file.clone())
    };

    // The tools' reports go to stderr, like all progress: stdout stays for results.
    let cfn_lint = cmd::run_quietly_to_stderr(
        Command::new(venv_bin.join("cfn-lint"))
            .current_dir(&paths.root)
            .args(["--non-zero-exit-code", "informational"])
            .args(templates.iter().map(relative)),
    );
    let definitions: Vec<PathBuf> = state_machines.iter().map(relative).collect();
    let asl = cmd::run_quietly_to_stderr(
        Command::new(&asl_validator)
            .current_dir(&paths.root)
            .args(asl_validator_args(&definitions)),
    );
    let consistency = cmd::run_quietly_to_stderr(
        Command::new(&python)
            .current_dir(&paths.root)
            .args(["deploy/check_templates.py", "deploy"]),
    );
    cmd::all_ok(vec![cfn_lint, asl, consistency])
}

/// `--json-path FILE` for each state machine definition.
fn asl_validator_args(files: &[PathBuf]) -> Vec<std::ffi::OsString> {
    files
        .iter()
        .flat_map(|file| ["--json-path".into(), file.clone().into_os_string()])
        .collect()
}

/// The regular files of `dir` whose names end with `suffix`, sorted.
fn files_ending_with(dir: &Path, suffix: &str) -> Result<Vec<PathBuf>> {
    let entries = fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
        let path = entry.path();
        let matches = path
            .file_name()
            .and_then(|name| name.to_str())
            .is_some_and(|name| name.ends_with(suffix));
        if matches && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Makes sure `<cache>/venv` has the pinned cfn-lint, and returns the venv's python. The
/// emulator's requirements are installed in the same pip run: moto[server] depends on
/// cfn-lint too, so the two resolve together.
fn ensure_cfn_lint(paths: &Paths) -> Result<PathBuf> {
    venv::ensure(
        paths,
        &venv::Install {
            what: "cfn-lint",
            requirements: &["emulator/requirements.txt", "deploy/requirements.txt"],
            stamp: VENV_STAMP_FILE,
            witness: "cfn-lint",
        },
    )
}

/// Makes sure `<cache>/npm` has the pinned asl-validator, and returns its executable.
fn ensure_asl_validator(paths: &Paths) -> Result<PathBuf> {
    let prefix = paths.cache.join("npm");
    let bin = prefix
        .join("node_modules")
        .join(".bin")
        .join("asl-validator");
    let stamp = prefix.join(NPM_STAMP_FILE);
    let installed = fs::read_to_string(&stamp).unwrap_or_default();
    if installed.trim() != ASL_VALIDATOR || !bin.exists() {
        fs::create_dir_all(&prefix)
            .with_context(|| format!("cannot create {}", prefix.display()))?;
        eprintln!(
            "xtask: installing {ASL_VALIDATOR} into {}…",
            prefix.display()
        );
        cmd::run_quietly_to_stderr(
            Command::new("npm")
                .arg("install")
                .arg("--prefix")
                .arg(&prefix)
                .args([
                    "--save-exact",
                    "--no-audit",
                    "--no-fund",
                    "--loglevel=error",
                    ASL_VALIDATOR,
                ]),
        )
        .context("cannot install asl-validator (it needs Node.js 18 or later with npm)")?;
        fs::write(&stamp, format!("{ASL_VALIDATOR}\n"))
            .with_context(|| format!("cannot write {}", stamp.display()))?;
    }
    if !bin.exists() {
        bail!(
            "{} is missing after installing {ASL_VALIDATOR}",
            bin.display()
        );
    }
    Ok(bin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asl_validator_gets_one_json_path_per_file() {
        let args = asl_validator_args(&[
            PathBuf::from("deploy/statemachine/a.asl.json"),
            PathBuf::from("deploy/statemachine/b.asl.json"),
        ]);
        let args: Vec<String> = args
            .iter()
            .map(|arg| arg.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            args,
            [
                "--json-path",
                "deploy/statemachine/a.asl.json",
                "--json-path",
                "deploy/statemachine/b.asl.json"
            ]
        );
    }

    #[test]
    fn files_are_picked_by_suffix_and_sorted() {
        let dir = std::env::temp_dir().join(format!("xtask-deploy-{}", std::process::id()));
        fs::create_dir_all(dir.join("sub.yaml")).unwrap();
        for name in ["b.yaml", "a.yaml", "notes.md", "c.yaml.bak"] {
            fs::write(dir.join(name), "").unwrap();
        }
        let files = files_ending_with(&dir, ".yaml").unwrap();
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(files, [dir.join("a.yaml"), dir.join("b.yaml")]);
    }

    #[test]
    fn a_missing_directory_is_a_clear_error() {
        let err = files_ending_with(Path::new("/no/such/dir"), ".yaml").unwrap_err();
        assert_eq!(err.to_string(), "cannot read /no/such/dir");
    }

    #[test]
    fn the_repository_has_templates_and_state_machines() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let deploy = root.join("deploy");
        assert!(!files_ending_with(&deploy, ".yaml").unwrap().is_empty());
        let machines = files_ending_with(&deploy.join("statemachine"), ".asl.json").unwrap();
        assert!(
            machines
                .iter()
                .any(|file| file.ends_with("remediation.asl.json")),
            "{machines:?}"
        );
        assert!(deploy.join("check_templates.py").is_file());
        assert!(deploy.join("requirements.txt").is_file());
    }
}
