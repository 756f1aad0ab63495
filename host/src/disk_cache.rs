//! The compiled-code cache on local disk, which nobody else can make the host run.
//!
//! Deserializing compiled code runs whatever it holds, so a cache file is trusted only
//! if this host sealed it:
//! - the directory is private: created `0700`, and refused (the cache is then off, with
//!   a warning) unless it is a real directory owned by this user that nobody else can
//!   read or write;
//! - it holds a random 32-byte key (`key`, `0600`, made on first use);
//! - every file starts with an HMAC-SHA256 under that key of the file's name (plugin
//!   digest and engine hash) and the compiled bytes. A file copied onto another
//!   digest's name, or changed at all, fails the check: it is deleted, logged, and the
//!   plugin recompiled from its verified bytes.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Length of the key and of the seal at the start of each file.
const LEN: usize = 32;
/// The key's file name in the cache directory.
const KEY_FILE: &str = "key";

/// The default cache directory: per user, under the system's temporary directory
/// (Lambda: `/tmp`).
pub fn default_cache_dir() -> PathBuf {
    std::env::temp_dir().join(format!(
        "hubfix-compiled-{}",
        rustix::process::getuid().as_raw()
    ))
}

/// An opened cache directory.
#[derive(Debug)]
pub struct DiskCache {
    dir: PathBuf,
    key: [u8; LEN],
}

impl DiskCache {
    /// Opens `dir`, creating it (`0700`) and its key when missing. Errors say why the
    /// directory cannot be trusted.
    pub fn open(dir: &Path) -> Result<Self, String> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        private(dir, true)?;
        let key = read_or_make_key(&dir.join(KEY_FILE))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            key,
        })
    }

    /// Where the compiled code of `name` (`<sha256>-<engine hash>.cwasm`) is kept.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// This host's compiled output for `name`, if the file is there and its seal holds.
    /// A file that fails the check is deleted and logged; any failure is a miss.
    #[allow(unsafe_code)]
    pub fn read(&self, engine: &Engine, name: &str) -> Option<Component> {
        let path = self.path(name);
        let sealed = fs::read(&path).ok()?;
        let Some(code) = open_seal(&self.key, name, &sealed) else {
            tracing::warn!(path = %path.display(), "compiled-code cache entry fails its seal (changed or copied from another plugin); deleted, recompiling from the verified component");
            let _ = fs::remove_file(&path);
            return None;
        };
        // SAFETY: the bytes carry this host's seal over their own file name, which names
        // the digest the source bytes were verified against; only this host's
        // `Component::serialize` output is ever sealed, and wasmtime checks the header
        // (engine and configuration) again.
        match unsafe { Component::deserialize(engine, code) } {
            Ok(component) => Some(component),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "ignoring unusable compiled-code cache entry");
                let _ = fs::remove_file(&path);
                None
            }
        }
    }

    /// Seals and writes `component` as `name`, atomically (a private temporary file
    /// renamed into place); failures only cost a recompile next time.
    pub fn write(&self, component: &Component, name: &str) {
        let path = self.path(name);
        let result = (|| -> std::io::Result<()> {
            let code = component
                .serialize()
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            let tmp = self.dir.join(format!(".{name}.tmp{}", std::process::id()));
            let mut file = fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)?;
            file.write_all(&seal(&self.key, name, &code))?;
            file.write_all(&code)?;
            drop(file);
            fs::rename(&tmp, &path)
        })();
        if let Err(e) = result {
            tracing::warn!(path = %path.display(), error = %e, "cannot write the compiled-code cache");
        }
    }
}

/// Refuses `path` unless it is (not through a symlink) a directory (or, with `dir`
/// false, a regular file) owned by this user with no permission for group or others.
fn private(path: &Path, dir: bool) -> Result<(), String> {
    let meta = fs::symlink_metadata(path)
        .map_err(|e| format!("cannot inspect {}: {e}", path.display()))?;
    let kind_ok = if dir {
        meta.file_type().is_dir()
    } else {
        meta.file_type().is_file()
    };
    if !kind_ok {
        return Err(format!(
            "{} is not a {} (a symlink or another kind of file)",
            path.display(),
            if dir { "directory" } else { "regular file" }
        ));
    }
    let me = rustix::process::getuid().as_raw();
    if meta.uid() != me {
        return Err(format!(
            "{} is owned by uid {}, not by this user (uid {me})",
            path.display(),
            meta.uid()
        ));
    }
    if meta.mode() & 0o077 != 0 {
        return Err(format!(
            "{} has mode {:o}: group or others may use it (want {})",
            path.display(),
            meta.mode() & 0o777,
            if dir { "0700" } else { "0600" }
        ));
    }
    Ok(())
}

/// The cache's key: read when present (and private), else 32 bytes of the system's
/// randomness written with `0600`. Two processes racing to create it both end with the
/// one written first.
fn read_or_make_key(path: &Path) -> Result<[u8; LEN], String> {
    let created = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path);
    match created {
        Ok(mut file) => {
            let mut key = [0u8; LEN];
            let mut random = fs::File::open("/dev/urandom")
                .map_err(|e| format!("cannot read /dev/urandom: {e}"))?;
            std::io::Read::read_exact(&mut random, &mut key)
                .map_err(|e| format!("cannot read /dev/urandom: {e}"))?;
            file.write_all(&key)
                .and_then(|()| file.sync_all())
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            private(path, false)?;
            let bytes =
                fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            bytes.try_into().map_err(|bytes: Vec<u8>| {
                format!(
                    "{} holds {} bytes, not a {LEN}-byte key",
                    path.display(),
                    bytes.len()
                )
            })
        }
        Err(e) => Err(format!("cannot create {}: {e}", path.display())),
    }
}

/// The seal of a file: HMAC-SHA256 under `key` of its name (length-prefixed) and code.
fn seal(key: &[u8; LEN], name: &str, code: &[u8]) -> [u8; LEN] {
    hmac_sha256(
        key,
        &[&(name.len() as u64).to_le_bytes(), name.as_bytes(), code],
    )
}

/// HMAC-SHA256 (RFC 2104) of the concatenated `parts`, for keys of at most one block
/// (64 bytes; ours are 32).
fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; LEN] {
    let mut inner_pad = [0x36u8; 64];
    let mut outer_pad = [0x5cu8; 64];
    for (i, byte) in key.iter().take(64).enumerate() {
        inner_pad[i] ^= byte;
        outer_pad[i] ^= byte;
    }
    let mut inner = Sha256::new();
    inner.update(inner_pad);
    for part in parts {
        inner.update(part);
    }
    let mut outer = Sha256::new();
    outer.update(outer_pad);
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// The code of a sealed file, if its seal is `name`'s under `key`.
fn open_seal<'a>(key: &[u8; LEN], name: &str, sealed: &'a [u8]) -> Option<&'a [u8]> {
    let (tag, code) = sealed.split_at_checked(LEN)?;
    let expected = seal(key, name, code);
    // Compared without an early exit.
    let differs = tag
        .iter()
        .zip(expected.iter())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    (differs == 0).then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn temp(test: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "hubfix-disk-cache-{test}-{}-{}",
            std::process::id(),
            unique()
        ));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    fn unique() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
    }

    #[test]
    fn seals_bind_the_name_and_every_byte() {
        let key = [7u8; LEN];
        let mut file = seal(&key, "aa-1.cwasm", b"code").to_vec();
        file.extend_from_slice(b"code");
        assert_eq!(open_seal(&key, "aa-1.cwasm", &file), Some(&b"code"[..]));
        assert_eq!(open_seal(&key, "bb-1.cwasm", &file), None, "another name");
        assert_eq!(
            open_seal(&[8u8; LEN], "aa-1.cwasm", &file),
            None,
            "another key"
        );
        let mut changed = file.clone();
        *changed.last_mut().unwrap() ^= 1;
        assert_eq!(
            open_seal(&key, "aa-1.cwasm", &changed),
            None,
            "a changed byte"
        );
        assert_eq!(
            open_seal(&key, "aa-1.cwasm", &file[..10]),
            None,
            "too short"
        );
    }

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test cases 1 and 2 of RFC 4231.
        let hex = |bytes: [u8; LEN]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
        assert_eq!(
            hex(hmac_sha256(&[0x0b; 20], &[b"Hi ", b"There"])),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        assert_eq!(
            hex(hmac_sha256(b"Jefe", &[b"what do ya want for nothing?"])),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn a_new_directory_is_private_and_keeps_its_key() {
        let dir = temp("new").join("nested");
        let first = DiskCache::open(&dir).unwrap();
        let mode = fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        let key_mode = fs::metadata(dir.join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(key_mode, 0o600);
        let again = DiskCache::open(&dir).unwrap();
        assert_eq!(first.key, again.key, "the key survives a new process");
        assert_ne!(first.key, [0u8; LEN]);
        let _ = fs::remove_dir_all(dir.parent().unwrap());
    }

    #[test]
    fn a_directory_others_can_use_is_refused() {
        let dir = temp("open");
        fs::create_dir_all(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).unwrap();
        let error = DiskCache::open(&dir).unwrap_err();
        assert!(error.contains("mode 777"), "{error}");
        assert!(!dir.join(KEY_FILE).exists(), "nothing written into it");
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o750)).unwrap();
        assert!(
            DiskCache::open(&dir).is_err(),
            "group access is refused too"
        );
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_symlinked_directory_or_a_loose_key_is_refused() {
        let base = temp("link");
        let real = base.join("real");
        fs::create_dir_all(&real).unwrap();
        fs::set_permissions(&base, fs::Permissions::from_mode(0o700)).unwrap();
        fs::set_permissions(&real, fs::Permissions::from_mode(0o700)).unwrap();
        let link = base.join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let error = DiskCache::open(&link).unwrap_err();
        assert!(error.contains("not a directory"), "{error}");

        DiskCache::open(&real).unwrap();
        fs::set_permissions(real.join(KEY_FILE), fs::Permissions::from_mode(0o644)).unwrap();
        let error = DiskCache::open(&real).unwrap_err();
        assert!(error.contains("mode 644"), "{error}");

        fs::set_permissions(real.join(KEY_FILE), fs::Permissions::from_mode(0o600)).unwrap();
        fs::write(real.join(KEY_FILE), b"short").unwrap();
        let error = DiskCache::open(&real).unwrap_err();
        assert!(error.contains("not a 32-byte key"), "{error}");
        let _ = fs::remove_dir_all(&base);
    }

    #[test]
    fn the_default_directory_is_per_user() {
        let dir = default_cache_dir();
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(
            name,
            format!("hubfix-compiled-{}", rustix::process::getuid().as_raw())
        );
    }
}
