//! The project's Python virtualenv (`<cache>/venv`): the emulator (moto) and cfn-lint.
//! Each user installs its requirement files and keeps a stamp of them, so pip runs only
//! when a file changes.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::cmd;
use crate::paths::Paths;
use crate::plugins::sha256_hex;

/// What one user of the virtualenv needs in it.
pub struct Install<'a> {
    /// What is being installed, for messages (`the emulator`, `cfn-lint`).
    pub what: &'a str,
    /// The requirement files, relative to the repository root, installed in one pip run.
    pub requirements: &'a [&'a str],
    /// The file under the venv recording what was installed.
    pub stamp: &'a str,
    /// An executable under `venv/bin` whose presence shows the install completed.
    pub witness: &'a str,
}

/// The stamp of requirement files: their names and contents, so that moving a line from
/// one file to another is a change too.
pub fn stamp_of(files: &[(&str, &[u8])]) -> String {
    let mut all = Vec::new();
    for (name, bytes) in files {
        all.extend_from_slice(name.as_bytes());
        all.push(b'\n');
        all.extend_from_slice(bytes);
        all.push(0);
    }
    sha256_hex(&all)
}

/// Makes sure `<cache>/venv` exists and has `install`'s requirements; returns its python.
pub fn ensure(paths: &Paths, install: &Install<'_>) -> Result<PathBuf> {
    let mut contents = Vec::new();
    for name in install.requirements {
        let file = paths.root.join(name);
        let bytes = fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
        contents.push((*name, bytes));
    }
    let wanted = stamp_of(
        &contents
            .iter()
            .map(|(n, b)| (*n, b.as_slice()))
            .collect::<Vec<_>>(),
    );

    let venv = paths.cache.join("venv");
    let python = venv.join("bin").join("python");
    let witness = venv.join("bin").join(install.witness);
    let stamp = venv.join(install.stamp);

    // A venv without pip is what a failed `python3 -m venv` leaves behind: redo it.
    if !python.exists() || !venv.join("bin").join("pip").exists() {
        create(paths, &venv)?;
    }
    let installed = fs::read_to_string(&stamp).unwrap_or_default();
    if installed.trim() != wanted || !witness.exists() {
        eprintln!(
            "xtask: installing {} ({})…",
            install.what,
            install.requirements.join(", ")
        );
        let mut pip = Command::new(&python);
        pip.args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ]);
        for name in install.requirements {
            pip.arg("-r").arg(paths.root.join(name));
        }
        cmd::run_quietly_to_stderr(&mut pip)?;
        fs::write(&stamp, format!("{wanted}\n"))
            .with_context(|| format!("cannot write {}", stamp.display()))?;
    }
    if !witness.exists() {
        bail!(
            "{} is missing after installing {}",
            witness.display(),
            install.requirements.join(", ")
        );
    }
    Ok(python)
}

fn create(paths: &Paths, venv: &Path) -> Result<()> {
    if venv.exists() {
        fs::remove_dir_all(venv)
            .with_context(|| format!("cannot remove the broken virtualenv {}", venv.display()))?;
    }
    fs::create_dir_all(&paths.cache)
        .with_context(|| format!("cannot create {}", paths.cache.display()))?;
    eprintln!(
        "xtask: creating the project virtualenv at {}…",
        venv.display()
    );
    cmd::run_quietly_to_stderr(Command::new("python3").args(["-m", "venv"]).arg(venv)).context(
        "cannot create a Python virtualenv (on Debian/Ubuntu: apt-get install python3-venv)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stamp_follows_every_requirement_file() {
        let stamp = |a: &[u8], b: &[u8]| stamp_of(&[("e.txt", a), ("d.txt", b)]);
        let base = stamp(b"moto[server]==5.2.5\n", b"cfn-lint==1.58.0\n");
        assert_eq!(base.len(), 64);
        assert_eq!(base, stamp(b"moto[server]==5.2.5\n", b"cfn-lint==1.58.0\n"));
        assert_ne!(base, stamp(b"moto[server]==5.2.6\n", b"cfn-lint==1.58.0\n"));
        assert_ne!(base, stamp(b"moto[server]==5.2.5\n", b"cfn-lint==1.58.1\n"));
        // Moving bytes from one file to the other is a change too.
        assert_ne!(stamp(b"ab", b""), stamp(b"a", b"b"));
    }
}
