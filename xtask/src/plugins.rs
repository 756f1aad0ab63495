//! `cargo xtask plugins`: build the plugin components and collect them, with their
//! digests, in `<root target dir>/plugins`.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use crate::cmd;
use crate::paths::Paths;

/// The target every plugin is built for (also listed in rust-toolchain.toml).
const WASM_TARGET: &str = "wasm32-wasip2";

/// Builds the plugins and returns the directory holding the `.wasm` components.
pub fn build(paths: &Paths) -> Result<PathBuf> {
    let manifest = paths.require_plugin_manifest()?;
    ensure_wasm_target(paths)?;

    eprintln!("xtask: building plugins…");
    cmd::run(
        cmd::cargo(paths)
            .args(["build", "--release", "--target", WASM_TARGET])
            .arg("--manifest-path")
            .arg(&manifest),
    )?;

    let release_dir = paths.plugin_target.join(WASM_TARGET).join("release");
    let out_dir = paths.plugin_out_dir();
    let copied = collect(&release_dir, &out_dir)?;
    if copied.is_empty() {
        eprintln!(
            "xtask: warning: the plugin build left no .wasm file in {}",
            release_dir.display()
        );
    }
    for plugin in &copied {
        println!(
            "{:<32} {:>10}  sha256:{}",
            plugin.name,
            format_size(plugin.size),
            plugin.sha256
        );
    }
    eprintln!("xtask: {} plugin(s) in {}", copied.len(), out_dir.display());
    Ok(out_dir)
}

/// Adds the wasm target with rustup unless it is installed already. Without rustup
/// (a distribution's Rust), the build itself says whether the target is there.
fn ensure_wasm_target(paths: &Paths) -> Result<()> {
    let mut list = Command::new("rustup");
    list.current_dir(&paths.root)
        .args(["target", "list", "--installed"]);
    let installed = match cmd::output(&mut list) {
        Ok(installed) => installed,
        Err(err) if is_not_found(&err) => {
            eprintln!("xtask: rustup not found; assuming the {WASM_TARGET} target is installed");
            return Ok(());
        }
        Err(err) => return Err(err),
    };
    if installed.lines().any(|line| line.trim() == WASM_TARGET) {
        return Ok(());
    }
    eprintln!("xtask: installing the {WASM_TARGET} target…");
    cmd::run(
        Command::new("rustup")
            .current_dir(&paths.root)
            .args(["target", "add", WASM_TARGET]),
    )
}

fn is_not_found(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == ErrorKind::NotFound)
    })
}

/// One component copied to the output directory.
#[derive(Debug, PartialEq, Eq)]
pub struct Plugin {
    pub name: String,
    pub size: u64,
    pub sha256: String,
}

/// Copies every `*.wasm` at the top level of `from` into `to`, and removes `.wasm`
/// files in `to` that no longer come out of the build, so `to` holds exactly the
/// current components. Returns them sorted by name.
fn collect(from: &Path, to: &Path) -> Result<Vec<Plugin>> {
    let mut sources = Vec::new();
    if from.is_dir() {
        for entry in
            fs::read_dir(from).with_context(|| format!("cannot list {}", from.display()))?
        {
            let path = entry
                .with_context(|| format!("cannot list {}", from.display()))?
                .path();
            if path.is_file() && is_wasm(&path) {
                sources.push(path);
            }
        }
    }
    sources.sort();

    fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    for entry in fs::read_dir(to).with_context(|| format!("cannot list {}", to.display()))? {
        let path = entry
            .with_context(|| format!("cannot list {}", to.display()))?
            .path();
        let still_built = sources
            .iter()
            .any(|source| source.file_name() == path.file_name());
        if path.is_file() && is_wasm(&path) && !still_built {
            fs::remove_file(&path)
                .with_context(|| format!("cannot remove stale {}", path.display()))?;
        }
    }

    let mut plugins = Vec::new();
    for source in sources {
        let bytes =
            fs::read(&source).with_context(|| format!("cannot read {}", source.display()))?;
        let name = source
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let dest = to.join(&name);
        fs::write(&dest, &bytes).with_context(|| format!("cannot write {}", dest.display()))?;
        plugins.push(Plugin {
            name,
            size: bytes.len() as u64,
            sha256: sha256_hex(&bytes),
        });
    }
    Ok(plugins)
}

fn is_wasm(path: &Path) -> bool {
    path.extension().is_some_and(|ext| ext == "wasm")
}

/// Lowercase hex sha256, the form the policy files pin.
pub use hubfix_contract::sha256_hex;

fn format_size(bytes: u64) -> String {
    if bytes < 1024 {
        format!("{bytes} B")
    } else if bytes < 1024 * 1024 {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    } else {
        format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn sha256_matches_the_standard_vector() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn sizes_are_human() {
        assert_eq!(format_size(512), "512 B");
        assert_eq!(format_size(43_008), "42.0 KiB");
        assert_eq!(format_size(3 * 1024 * 1024), "3.0 MiB");
    }

    #[test]
    fn collects_top_level_wasm_only_and_drops_stale_ones() {
        let dir = scratch("collect");
        let from = dir.join("release");
        let to = dir.join("plugins");
        fs::create_dir_all(from.join("deps")).unwrap();
        fs::write(from.join("b.wasm"), b"abc").unwrap();
        fs::write(from.join("a.wasm"), b"").unwrap();
        fs::write(from.join("a.d"), b"dep info").unwrap();
        fs::write(from.join("deps").join("c.wasm"), b"nested").unwrap();
        fs::create_dir_all(&to).unwrap();
        fs::write(to.join("old.wasm"), b"stale").unwrap();
        fs::write(to.join("notes.txt"), b"kept").unwrap();

        let plugins = collect(&from, &to).unwrap();
        let names: Vec<&str> = plugins.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["a.wasm", "b.wasm"]);
        assert_eq!(plugins[1].size, 3);
        assert_eq!(plugins[1].sha256, sha256_hex(b"abc"));
        assert_eq!(fs::read(to.join("b.wasm")).unwrap(), b"abc");
        assert!(!to.join("old.wasm").exists());
        assert!(!to.join("c.wasm").exists());
        assert!(to.join("notes.txt").exists());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_release_dir_yields_nothing() {
        let dir = scratch("missing");
        let plugins = collect(&dir.join("nope"), &dir.join("out")).unwrap();
        assert!(plugins.is_empty());
        fs::remove_dir_all(&dir).unwrap();
    }
}
