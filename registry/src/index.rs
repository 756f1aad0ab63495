//! The registry index: for each plugin, the active version and its digest. Pure data.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The index format this code writes and reads.
pub const FORMAT: u32 = 1;

/// One published plugin version: where its bytes are and what they hash to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pinned {
    /// The plugin's version.
    pub version: String,
    /// sha256 of the component, lowercase hex.
    pub sha256: String,
    /// The S3 key of the component.
    pub key: String,
}

/// What the index says about one plugin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The active version.
    #[serde(flatten)]
    pub active: Pinned,
    /// Controls the active version handles (from its `describe()`).
    #[serde(default)]
    pub controls: Vec<String>,
    /// Host functions the active version imports (checked against the policy's grants
    /// at publish time).
    #[serde(default)]
    pub imports: Vec<String>,
    /// When the active version was made active (RFC 3339).
    pub activated_at: String,
    /// Versions that were active before, oldest first; `rollback` returns to the last.
    #[serde(default)]
    pub history: Vec<Pinned>,
}

/// The whole index object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Index {
    /// Always [`FORMAT`].
    pub format: u32,
    /// Plugin name → entry.
    pub plugins: BTreeMap<String, Entry>,
}

impl Default for Index {
    fn default() -> Self {
        Self {
            format: FORMAT,
            plugins: BTreeMap::new(),
        }
    }
}

/// Changing the index was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    /// No entry for that plugin.
    #[error("plugin `{0}` is not in the registry index")]
    UnknownPlugin(String),
    /// Rollback with no earlier version recorded.
    #[error("plugin `{0}` has no earlier version to roll back to")]
    NoHistory(String),
}

/// Longest history kept per plugin.
const MAX_HISTORY: usize = 20;

impl Index {
    /// Makes `pinned` the active version of `name`. The previously active version (if
    /// different) is remembered for rollback. Returns whether anything changed.
    pub fn activate(
        &mut self,
        name: &str,
        pinned: Pinned,
        controls: Vec<String>,
        imports: Vec<String>,
        now: String,
    ) -> bool {
        match self.plugins.get_mut(name) {
            Some(entry) if entry.active == pinned => false,
            Some(entry) => {
                let previous = std::mem::replace(&mut entry.active, pinned);
                entry.history.retain(|p| p.version != entry.active.version);
                entry.history.push(previous);
                if entry.history.len() > MAX_HISTORY {
                    entry.history.remove(0);
                }
                entry.controls = controls;
                entry.imports = imports;
                entry.activated_at = now;
                true
            }
            None => {
                self.plugins.insert(
                    name.to_owned(),
                    Entry {
                        active: pinned,
                        controls,
                        imports,
                        activated_at: now,
                        history: Vec::new(),
                    },
                );
                true
            }
        }
    }

    /// Makes the previously active version of `name` active again and returns it.
    pub fn rollback(&mut self, name: &str, now: String) -> Result<Pinned, IndexError> {
        let entry = self
            .plugins
            .get_mut(name)
            .ok_or_else(|| IndexError::UnknownPlugin(name.to_owned()))?;
        let previous = entry
            .history
            .pop()
            .ok_or_else(|| IndexError::NoHistory(name.to_owned()))?;
        entry.active = previous.clone();
        entry.activated_at = now;
        Ok(previous)
    }

    /// The active version of `name`.
    pub fn active(&self, name: &str) -> Result<&Entry, IndexError> {
        self.plugins
            .get(name)
            .ok_or_else(|| IndexError::UnknownPlugin(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pin(version: &str) -> Pinned {
        Pinned {
            version: version.into(),
            sha256: format!("sha-{version}"),
            key: format!("plugins/p/{version}.wasm"),
        }
    }

    #[test]
    fn activate_then_rollback_returns_to_the_previous_version() {
        let mut index = Index::default();
        assert!(index.activate("p", pin("1"), vec![], vec![], "t1".into()));
        assert!(!index.activate("p", pin("1"), vec![], vec![], "t2".into()));
        assert!(index.activate("p", pin("2"), vec![], vec![], "t3".into()));
        assert_eq!(index.active("p").unwrap().active.version, "2");
        assert_eq!(index.rollback("p", "t4".into()).unwrap(), pin("1"));
        assert_eq!(index.active("p").unwrap().active, pin("1"));
        assert_eq!(
            index.rollback("p", "t5".into()),
            Err(IndexError::NoHistory("p".into()))
        );
        assert_eq!(
            index.rollback("q", "t5".into()),
            Err(IndexError::UnknownPlugin("q".into()))
        );
    }

    #[test]
    fn reactivating_an_old_version_does_not_duplicate_history() {
        let mut index = Index::default();
        index.activate("p", pin("1"), vec![], vec![], "t".into());
        index.activate("p", pin("2"), vec![], vec![], "t".into());
        index.activate("p", pin("1"), vec![], vec![], "t".into());
        let history: Vec<_> = index.plugins["p"]
            .history
            .iter()
            .map(|p| p.version.as_str())
            .collect();
        assert_eq!(history, ["2"]);
    }

    #[test]
    fn the_json_form_is_stable() {
        let mut index = Index::default();
        index.activate("p", pin("1"), vec!["EC2.7".into()], vec![], "t".into());
        let json = serde_json::to_value(&index).unwrap();
        assert_eq!(json["plugins"]["p"]["version"], "1");
        assert_eq!(json["plugins"]["p"]["sha256"], "sha-1");
        let back: Index = serde_json::from_value(json).unwrap();
        assert_eq!(back, index);
        assert!(serde_json::from_str::<Index>(r#"{"format":1,"plugins":{},"extra":1}"#).is_err());
    }
}
