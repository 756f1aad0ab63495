//! Policy errors and warnings, each naming the file, the line and the entry.

use std::fmt;

use serde::Serialize;

/// Where a policy entry is: the file name as the caller passed it and a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Location {
    /// The file name as given to [`Policy::from_files`](crate::Policy::from_files).
    pub file: String,
    /// 1-based line number.
    pub line: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// One problem in the policy files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyError {
    /// Where it is. `None` only for problems of the file set as a whole (no files given).
    pub location: Option<Location>,
    /// The entry, written as a TOML path where possible: `controls."EC2.53"`,
    /// `plugins.ec2-restrict-admin-ports`, `exceptions[2] (bastion-ssh)`.
    pub entry: Option<String>,
    /// What is wrong: lowercase, no trailing period.
    pub message: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(location) = &self.location {
            write!(f, "{location}: ")?;
        }
        if let Some(entry) = &self.entry {
            write!(f, "{entry}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for PolicyError {}

/// Every problem found in a set of policy files (at least one). Displayed one per line, in
/// file and line order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyErrors(pub(crate) Vec<PolicyError>);

impl PolicyErrors {
    /// The problems, in file and line order.
    pub fn errors(&self) -> &[PolicyError] {
        &self.0
    }
}

impl fmt::Display for PolicyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for PolicyErrors {}

/// Something in a valid policy that deserves attention (`hubfix policy check` prints these
/// without failing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyWarning {
    /// Where the entry is.
    pub location: Location,
    /// The entry, e.g. `exceptions[0] (bastion-ssh)`.
    pub entry: String,
    /// What deserves attention.
    pub message: String,
}

impl fmt::Display for PolicyWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.location, self.entry, self.message)
    }
}
