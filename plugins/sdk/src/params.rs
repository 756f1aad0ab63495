//! Typed access to the plugin's parameters (`request.params`).

use std::fmt;
use std::ops::RangeInclusive;

use crate::Outcome;

/// A validated view over `request.params`.
///
/// [`Params::new`] checks that every key is one the plugin knows and that no key is
/// given twice; the getters parse one value each and return `Ok(None)` when the key is
/// absent, so that defaults stay in the plugin:
///
/// ```
/// use hubfix_plugin_sdk::Params;
///
/// let raw = vec![("ports".to_owned(), "22, 3389".to_owned())];
/// let params = Params::new(&raw, &["ports", "dry"]).unwrap();
/// assert_eq!(params.u32_list("ports").unwrap(), Some(vec![22, 3389]));
/// assert_eq!(params.bool("dry").unwrap(), None);
///
/// let err = Params::new(&raw, &["port"]).unwrap_err();
/// assert_eq!(err.to_string(), "unknown parameter `ports`; allowed parameters: port");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Params<'a> {
    pairs: &'a [(String, String)],
}

/// Why a parameter was refused; the message names the key and the value.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamError {
    message: String,
}

impl ParamError {
    fn new(message: String) -> Self {
        Self { message }
    }

    /// An error for a value the plugin checks itself (beyond the typed getters):
    /// `parameter `key` = `value`: expected`.
    pub fn invalid_value(key: &str, value: &str, expected: &str) -> Self {
        Self::new(format!("parameter `{key}` = `{value}`: {expected}"))
    }

    /// The `failed` outcome a plugin reports for a bad parameter.
    pub fn to_outcome(&self) -> Outcome {
        Outcome::failed(format!("invalid parameters: {self}"))
    }
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ParamError {}

impl<'a> Params<'a> {
    /// Checks `params` against the keys the plugin accepts: an unknown key or a key
    /// given twice is an error. Pass `&[]` for a plugin that takes no parameters.
    pub fn new(params: &'a [(String, String)], allowed: &[&str]) -> Result<Self, ParamError> {
        for (i, (key, _)) in params.iter().enumerate() {
            if !allowed.contains(&key.as_str()) {
                return Err(ParamError::new(if allowed.is_empty() {
                    format!("unknown parameter `{key}`; this plugin takes no parameters")
                } else {
                    format!(
                        "unknown parameter `{key}`; allowed parameters: {}",
                        allowed.join(", ")
                    )
                }));
            }
            if params[..i].iter().any(|(k, _)| k == key) {
                return Err(ParamError::new(format!("parameter `{key}` is given twice")));
            }
        }
        Ok(Self { pairs: params })
    }

    /// The raw value of `key`, if given.
    pub fn get(&self, key: &str) -> Option<&'a str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `key` as a whole number (`0` to `4294967295`).
    pub fn u32(&self, key: &str) -> Result<Option<u32>, ParamError> {
        self.get(key).map(|v| parse_u32(key, v)).transpose()
    }

    /// `key` as a whole number within `range`.
    pub fn u32_in(&self, key: &str, range: RangeInclusive<u32>) -> Result<Option<u32>, ParamError> {
        match self.u32(key)? {
            Some(n) if !range.contains(&n) => Err(ParamError::invalid_value(
                key,
                self.get(key).unwrap_or_default(),
                &format!(
                    "expected a number from {} to {}",
                    range.start(),
                    range.end()
                ),
            )),
            n => Ok(n),
        }
    }

    /// `key` as `true` or `false` (any letter case).
    pub fn bool(&self, key: &str) -> Result<Option<bool>, ParamError> {
        self.get(key)
            .map(|v| match v.trim() {
                t if t.eq_ignore_ascii_case("true") => Ok(true),
                f if f.eq_ignore_ascii_case("false") => Ok(false),
                _ => Err(ParamError::invalid_value(
                    key,
                    v,
                    "expected `true` or `false`",
                )),
            })
            .transpose()
    }

    /// `key` as a comma-separated list of whole numbers, e.g. `22,3389`. Spaces around
    /// items are allowed; an empty list or an empty item is an error.
    pub fn u32_list(&self, key: &str) -> Result<Option<Vec<u32>>, ParamError> {
        let Some(value) = self.get(key) else {
            return Ok(None);
        };
        if value.trim().is_empty() {
            return Err(ParamError::invalid_value(
                key,
                value,
                "expected a comma-separated list of numbers, e.g. `22,3389`",
            ));
        }
        value
            .split(',')
            .map(|item| {
                item.trim().parse::<u32>().map_err(|_| {
                    ParamError::invalid_value(
                        key,
                        value,
                        &format!(
                            "`{}` is not a whole number (expected a comma-separated list, e.g. `22,3389`)",
                            item.trim()
                        ),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }
}

fn parse_u32(key: &str, value: &str) -> Result<u32, ParamError> {
    value
        .trim()
        .parse()
        .map_err(|_| ParamError::invalid_value(key, value, "expected a whole number"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn unknown_key_lists_the_allowed_ones() {
        let p = raw(&[("max-age", "90")]);
        let err = Params::new(&p, &["max-password-age", "minimum-password-length"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown parameter `max-age`; allowed parameters: max-password-age, minimum-password-length"
        );
        let err = Params::new(&p, &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown parameter `max-age`; this plugin takes no parameters"
        );
    }

    #[test]
    fn duplicate_key_is_an_error() {
        let p = raw(&[("ports", "22"), ("ports", "3389")]);
        let err = Params::new(&p, &["ports"]).unwrap_err();
        assert_eq!(err.to_string(), "parameter `ports` is given twice");
    }

    #[test]
    fn numbers_and_ranges() {
        let p = raw(&[("a", " 14 "), ("b", "x14"), ("c", "30"), ("d", "-1")]);
        let params = Params::new(&p, &["a", "b", "c", "d", "e"]).unwrap();
        assert_eq!(params.u32("a").unwrap(), Some(14));
        assert_eq!(params.u32("e").unwrap(), None);
        assert_eq!(
            params.u32("b").unwrap_err().to_string(),
            "parameter `b` = `x14`: expected a whole number"
        );
        assert!(params.u32("d").is_err());
        assert_eq!(
            params.u32_in("c", 1..=24).unwrap_err().to_string(),
            "parameter `c` = `30`: expected a number from 1 to 24"
        );
        assert_eq!(params.u32_in("c", 1..=1095).unwrap(), Some(30));
    }

    #[test]
    fn bools() {
        let p = raw(&[("a", "true"), ("b", "FALSE"), ("c", "yes")]);
        let params = Params::new(&p, &["a", "b", "c", "d"]).unwrap();
        assert_eq!(params.bool("a").unwrap(), Some(true));
        assert_eq!(params.bool("b").unwrap(), Some(false));
        assert_eq!(params.bool("d").unwrap(), None);
        assert_eq!(
            params.bool("c").unwrap_err().to_string(),
            "parameter `c` = `yes`: expected `true` or `false`"
        );
    }

    #[test]
    fn lists() {
        let p = raw(&[
            ("a", "22,3389"),
            ("b", "22, 3389 ,80"),
            ("c", "22,,80"),
            ("d", " "),
        ]);
        let params = Params::new(&p, &["a", "b", "c", "d"]).unwrap();
        assert_eq!(params.u32_list("a").unwrap(), Some(vec![22, 3389]));
        assert_eq!(params.u32_list("b").unwrap(), Some(vec![22, 3389, 80]));
        let err = params.u32_list("c").unwrap_err().to_string();
        assert!(
            err.starts_with("parameter `c` = `22,,80`: `` is not a whole number"),
            "{err}"
        );
        assert!(params.u32_list("d").is_err());
        assert_eq!(params.u32_list("e").unwrap(), None);
    }

    #[test]
    fn error_outcome_is_failed() {
        let p = raw(&[("x", "1")]);
        let out = Params::new(&p, &[]).unwrap_err().to_outcome();
        assert_eq!(out.status, crate::Status::Failed);
        assert!(out.message.contains("`x`"), "{}", out.message);
    }
}
