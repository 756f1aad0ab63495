//! Where things are: the repository root, the two target directories, the cache.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// The directories every task works with, resolved once from the environment.
#[derive(Debug, Clone)]
pub struct Paths {
    /// The repository root (the root workspace's directory).
    pub root: PathBuf,
    /// `$CARGO_TARGET_DIR`, made absolute, when it is set. Child cargo commands get
    /// this absolute value, so a relative one means the same thing whatever their
    /// working directory.
    pub explicit_target: Option<PathBuf>,
    /// The root workspace's target directory.
    pub target: PathBuf,
    /// The plugin workspace's target directory.
    pub plugin_target: PathBuf,
    /// `$HUBFIX_CACHE`, else `~/.cache/hubfix`: emulator virtualenv, state and logs.
    pub cache: PathBuf,
}

impl Paths {
    pub fn from_env() -> Result<Self> {
        // xtask lives at <root>/xtask, so its manifest directory's parent is the root.
        let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        let root = manifest_dir
            .parent()
            .context("xtask's manifest directory has no parent")?
            .to_path_buf();
        let cwd = std::env::current_dir().context("cannot read the current directory")?;
        let cache = cache_dir(
            std::env::var_os("HUBFIX_CACHE"),
            std::env::var_os("HOME"),
            &cwd,
        )?;
        Ok(Self::new(
            root,
            std::env::var_os("CARGO_TARGET_DIR"),
            &cwd,
            cache,
        ))
    }

    /// Resolves the target directories the way cargo does: `$CARGO_TARGET_DIR`
    /// (relative to the current directory) for both workspaces when set, else each
    /// workspace's own `target/`.
    pub fn new(
        root: PathBuf,
        cargo_target_dir: Option<OsString>,
        cwd: &Path,
        cache: PathBuf,
    ) -> Self {
        let explicit_target = cargo_target_dir
            .filter(|dir| !dir.is_empty())
            .map(|dir| cwd.join(dir));
        let target = explicit_target
            .clone()
            .unwrap_or_else(|| root.join("target"));
        let plugin_target = explicit_target
            .clone()
            .unwrap_or_else(|| root.join("plugins").join("target"));
        Self {
            root,
            explicit_target,
            target,
            plugin_target,
            cache,
        }
    }

    /// Where `cargo xtask plugins` puts the components: `<root target dir>/plugins`.
    pub fn plugin_out_dir(&self) -> PathBuf {
        self.target.join("plugins")
    }

    /// The plugin workspace's manifest.
    pub fn plugin_manifest(&self) -> PathBuf {
        self.root.join("plugins").join("Cargo.toml")
    }

    /// Fails with a clear message when the plugin workspace does not exist yet.
    pub fn require_plugin_manifest(&self) -> Result<PathBuf> {
        let manifest = self.plugin_manifest();
        if !manifest.is_file() {
            bail!(
                "the plugin workspace is missing: {} does not exist",
                manifest.display()
            );
        }
        Ok(manifest)
    }
}

/// `$HUBFIX_CACHE` (relative to `cwd` when relative), else `$HOME/.cache/hubfix`.
fn cache_dir(
    hubfix_cache: Option<OsString>,
    home: Option<OsString>,
    cwd: &Path,
) -> Result<PathBuf> {
    if let Some(dir) = hubfix_cache.filter(|dir| !dir.is_empty()) {
        return Ok(cwd.join(dir));
    }
    match home.filter(|home| !home.is_empty()) {
        Some(home) => Ok(PathBuf::from(home).join(".cache").join("hubfix")),
        None => bail!("neither HUBFIX_CACHE nor HOME is set: cannot place the emulator cache"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_target_dirs_are_per_workspace() {
        let paths = Paths::new("/repo".into(), None, Path::new("/elsewhere"), "/c".into());
        assert_eq!(paths.explicit_target, None);
        assert_eq!(paths.target, Path::new("/repo/target"));
        assert_eq!(paths.plugin_target, Path::new("/repo/plugins/target"));
        assert_eq!(paths.plugin_out_dir(), Path::new("/repo/target/plugins"));
    }

    #[test]
    fn cargo_target_dir_is_shared_and_made_absolute() {
        let paths = Paths::new(
            "/repo".into(),
            Some("tgt".into()),
            Path::new("/repo/cli"),
            "/c".into(),
        );
        assert_eq!(
            paths.explicit_target.as_deref(),
            Some(Path::new("/repo/cli/tgt"))
        );
        assert_eq!(paths.target, Path::new("/repo/cli/tgt"));
        assert_eq!(paths.plugin_target, Path::new("/repo/cli/tgt"));

        let paths = Paths::new(
            "/repo".into(),
            Some("/abs".into()),
            Path::new("/x"),
            "/c".into(),
        );
        assert_eq!(paths.target, Path::new("/abs"));
    }

    #[test]
    fn empty_cargo_target_dir_counts_as_unset() {
        let paths = Paths::new(
            "/repo".into(),
            Some("".into()),
            Path::new("/x"),
            "/c".into(),
        );
        assert_eq!(paths.target, Path::new("/repo/target"));
    }

    #[test]
    fn a_missing_plugin_workspace_is_a_clear_error() {
        let paths = Paths::new("/no/such/repo".into(), None, Path::new("/"), "/c".into());
        let err = paths.require_plugin_manifest().unwrap_err();
        assert_eq!(
            err.to_string(),
            "the plugin workspace is missing: /no/such/repo/plugins/Cargo.toml does not exist"
        );
    }

    #[test]
    fn cache_dir_prefers_hubfix_cache() {
        let cwd = Path::new("/work");
        assert_eq!(
            cache_dir(Some("/tmp/c".into()), Some("/home/u".into()), cwd).unwrap(),
            Path::new("/tmp/c")
        );
        assert_eq!(
            cache_dir(None, Some("/home/u".into()), cwd).unwrap(),
            Path::new("/home/u/.cache/hubfix")
        );
        assert!(cache_dir(None, None, cwd).is_err());
    }
}
