//! `iam-password-policy`: sets an IAM account password policy that passes Security Hub
//! IAM.7 and IAM.11–IAM.17 (CIS AWS Foundations 1.8/1.9 in v3.0).
//!
//! The target policy: minimum length 14 or more, reuse prevention 24, all four
//! character classes required, and — only when the finding's control is IAM.7 or
//! IAM.17, or the `max-password-age` parameter is given — passwords expire within 90
//! days. The plugin reads the current policy with `iam.get-account-password-policy` and
//! merges the target into it without ever weakening a stricter setting (length 20 stays
//! 20, a 30-day maximum age stays 30); `allow-users-to-change-password` and
//! `hard-expiry` are kept as they are. When the merged policy equals the current one the
//! account is already compliant; otherwise one `iam.update-account-password-policy`
//! sends the whole merged policy (AWS replaces the policy as a whole).
//!
//! Parameters, all optional:
//!
//! | key | values | default |
//! |---|---|---|
//! | `minimum-password-length` | 14..=128 | 14 |
//! | `password-reuse-prevention` | 1..=24 | 24 |
//! | `max-password-age` | 1..=1095 days | 90, for IAM.7 and IAM.17 only |
//! | `require-symbols`, `require-numbers`, `require-uppercase-characters`, `require-lowercase-characters` | `true`, `false` | `true` |
//!
//! A `false` requirement only means "do not add it": an existing requirement stays.

use hubfix_plugin_sdk::iam::{self, PasswordPolicy};
use hubfix_plugin_sdk::{Guest, Mode, Outcome, ParamError, Params, PluginInfo, Request};

const NAME: &str = "iam-password-policy";
const CONTROLS: &[&str] = &[
    "IAM.7", "IAM.11", "IAM.12", "IAM.13", "IAM.14", "IAM.15", "IAM.16", "IAM.17",
];
const GET: &str = "iam.get-account-password-policy";
const UPDATE: &str = "iam.update-account-password-policy";

/// The controls whose check includes a maximum password age.
const MAX_AGE_CONTROLS: &[&str] = &["IAM.7", "IAM.17"];

const MIN_LENGTH: &str = "minimum-password-length";
const REUSE: &str = "password-reuse-prevention";
const MAX_AGE: &str = "max-password-age";
const SYMBOLS: &str = "require-symbols";
const NUMBERS: &str = "require-numbers";
const UPPERCASE: &str = "require-uppercase-characters";
const LOWERCASE: &str = "require-lowercase-characters";
const PARAMS: &[&str] = &[
    MIN_LENGTH, REUSE, MAX_AGE, SYMBOLS, NUMBERS, UPPERCASE, LOWERCASE,
];

struct IamPasswordPolicy;

impl Guest for IamPasswordPolicy {
    fn describe() -> PluginInfo {
        hubfix_plugin_sdk::plugin_info(NAME, env!("CARGO_PKG_VERSION"), CONTROLS, &[GET, UPDATE])
    }

    fn remediate(request: Request) -> Outcome {
        let target = match Target::from_request(&request) {
            Ok(target) => target,
            Err(e) => return e.to_outcome(),
        };
        let current = match iam::get_account_password_policy() {
            Ok(current) => current,
            Err(e) => return e.to_outcome(GET),
        };
        let merged = merge(current.as_ref(), &target);
        if current.as_ref() == Some(&merged) {
            return Outcome::already_compliant(format!(
                "the account password policy already meets the target ({})",
                target.summary()
            ));
        }
        match iam::update_account_password_policy(merged) {
            Err(e) => e.to_outcome(UPDATE),
            Ok(()) => Outcome::remediated(change_message(request.mode, current.as_ref(), &merged)),
        }
    }
}

hubfix_plugin_sdk::export!(IamPasswordPolicy);

/// What the policy must at least require.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Target {
    minimum_password_length: u32,
    password_reuse_prevention: u32,
    /// `None`: the control does not check the maximum age, so it is left as it is.
    max_password_age: Option<u32>,
    require_symbols: bool,
    require_numbers: bool,
    require_uppercase_characters: bool,
    require_lowercase_characters: bool,
}

impl Target {
    fn from_request(request: &Request) -> Result<Self, ParamError> {
        Self::new(request.finding.control_id.trim(), &request.params)
    }

    fn new(control_id: &str, raw: &[(String, String)]) -> Result<Self, ParamError> {
        let params = Params::new(raw, PARAMS)?;
        let max_password_age = match params.u32_in(MAX_AGE, 1..=1095)? {
            Some(days) => Some(days),
            None if MAX_AGE_CONTROLS.contains(&control_id) => Some(90),
            None => None,
        };
        Ok(Self {
            // AWS accepts up to 128; below 14 the length controls would still fail.
            minimum_password_length: params.u32_in(MIN_LENGTH, 14..=128)?.unwrap_or(14),
            password_reuse_prevention: params.u32_in(REUSE, 1..=24)?.unwrap_or(24),
            max_password_age,
            require_symbols: params.bool(SYMBOLS)?.unwrap_or(true),
            require_numbers: params.bool(NUMBERS)?.unwrap_or(true),
            require_uppercase_characters: params.bool(UPPERCASE)?.unwrap_or(true),
            require_lowercase_characters: params.bool(LOWERCASE)?.unwrap_or(true),
        })
    }

    fn summary(&self) -> String {
        let mut parts = vec![
            format!("{MIN_LENGTH} >= {}", self.minimum_password_length),
            format!("{REUSE} >= {}", self.password_reuse_prevention),
        ];
        if let Some(days) = self.max_password_age {
            parts.push(format!("{MAX_AGE} <= {days}"));
        }
        for (key, required) in [
            (SYMBOLS, self.require_symbols),
            (NUMBERS, self.require_numbers),
            (UPPERCASE, self.require_uppercase_characters),
            (LOWERCASE, self.require_lowercase_characters),
        ] {
            if required {
                parts.push(key.to_owned());
            }
        }
        parts.join(", ")
    }
}

/// The policy to send: the current one (or AWS's defaults when there is none) with every
/// setting raised to the target, never lowered.
fn merge(current: Option<&PasswordPolicy>, target: &Target) -> PasswordPolicy {
    let base = current.copied().unwrap_or(PasswordPolicy {
        minimum_password_length: None,
        require_symbols: false,
        require_numbers: false,
        require_uppercase_characters: false,
        require_lowercase_characters: false,
        allow_users_to_change_password: true,
        max_password_age: None,
        password_reuse_prevention: None,
        hard_expiry: None,
    });
    PasswordPolicy {
        minimum_password_length: Some(
            base.minimum_password_length
                .map_or(target.minimum_password_length, |n| {
                    n.max(target.minimum_password_length)
                }),
        ),
        require_symbols: base.require_symbols || target.require_symbols,
        require_numbers: base.require_numbers || target.require_numbers,
        require_uppercase_characters: base.require_uppercase_characters
            || target.require_uppercase_characters,
        require_lowercase_characters: base.require_lowercase_characters
            || target.require_lowercase_characters,
        allow_users_to_change_password: base.allow_users_to_change_password,
        // A shorter maximum age is stricter; `none` (never expires) is the weakest.
        max_password_age: match (base.max_password_age, target.max_password_age) {
            (Some(days), Some(limit)) => Some(days.min(limit)),
            (None, limit) => limit,
            (days, None) => days,
        },
        password_reuse_prevention: Some(
            base.password_reuse_prevention
                .map_or(target.password_reuse_prevention, |n| {
                    n.max(target.password_reuse_prevention)
                }),
        ),
        hard_expiry: base.hard_expiry,
    }
}

/// `old → new` for every field that differs, in WIT field names.
fn changes(old: &PasswordPolicy, new: &PasswordPolicy) -> Vec<String> {
    fn num(v: Option<u32>) -> String {
        v.map_or_else(|| "unset".to_owned(), |n| n.to_string())
    }
    fn flag(v: Option<bool>) -> String {
        v.map_or_else(|| "unset".to_owned(), |b| b.to_string())
    }
    let fields = [
        (
            MIN_LENGTH,
            num(old.minimum_password_length),
            num(new.minimum_password_length),
        ),
        (
            REUSE,
            num(old.password_reuse_prevention),
            num(new.password_reuse_prevention),
        ),
        (
            MAX_AGE,
            num(old.max_password_age),
            num(new.max_password_age),
        ),
        (
            SYMBOLS,
            old.require_symbols.to_string(),
            new.require_symbols.to_string(),
        ),
        (
            NUMBERS,
            old.require_numbers.to_string(),
            new.require_numbers.to_string(),
        ),
        (
            UPPERCASE,
            old.require_uppercase_characters.to_string(),
            new.require_uppercase_characters.to_string(),
        ),
        (
            LOWERCASE,
            old.require_lowercase_characters.to_string(),
            new.require_lowercase_characters.to_string(),
        ),
        (
            "allow-users-to-change-password",
            old.allow_users_to_change_password.to_string(),
            new.allow_users_to_change_password.to_string(),
        ),
        ("hard-expiry", flag(old.hard_expiry), flag(new.hard_expiry)),
    ];
    fields
        .into_iter()
        .filter(|(_, o, n)| o != n)
        .map(|(key, o, n)| format!("{key} {o} → {n}"))
        .collect()
}

fn change_message(mode: Mode, current: Option<&PasswordPolicy>, merged: &PasswordPolicy) -> String {
    match current {
        Some(old) => format!(
            "{} the account password policy: {}",
            mode.verb("updated", "would update"),
            changes(old, merged).join(", ")
        ),
        None => {
            let mut set = vec![
                format!(
                    "{MIN_LENGTH} {}",
                    merged.minimum_password_length.unwrap_or_default()
                ),
                format!(
                    "{REUSE} {}",
                    merged.password_reuse_prevention.unwrap_or_default()
                ),
            ];
            if let Some(days) = merged.max_password_age {
                set.push(format!("{MAX_AGE} {days}"));
            }
            for (key, on) in [
                (SYMBOLS, merged.require_symbols),
                (NUMBERS, merged.require_numbers),
                (UPPERCASE, merged.require_uppercase_characters),
                (LOWERCASE, merged.require_lowercase_characters),
                (
                    "allow-users-to-change-password",
                    merged.allow_users_to_change_password,
                ),
            ] {
                set.push(format!("{key} {on}"));
            }
            format!(
                "{} an account password policy (the account had none): {}",
                mode.verb("set", "would set"),
                set.join(", ")
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn target(control: &str, pairs: &[(&str, &str)]) -> Target {
        Target::new(control, &params(pairs)).unwrap()
    }

    /// A policy that meets the default target for every control, with a 90-day age.
    fn strong() -> PasswordPolicy {
        PasswordPolicy {
            minimum_password_length: Some(14),
            require_symbols: true,
            require_numbers: true,
            require_uppercase_characters: true,
            require_lowercase_characters: true,
            allow_users_to_change_password: true,
            max_password_age: Some(90),
            password_reuse_prevention: Some(24),
            hard_expiry: None,
        }
    }

    fn weak() -> PasswordPolicy {
        PasswordPolicy {
            minimum_password_length: Some(8),
            require_symbols: false,
            require_numbers: true,
            require_uppercase_characters: false,
            require_lowercase_characters: false,
            allow_users_to_change_password: false,
            max_password_age: None,
            password_reuse_prevention: None,
            hard_expiry: Some(true),
        }
    }

    #[test]
    fn describes_itself() {
        let info = IamPasswordPolicy::describe();
        assert_eq!(info.name, "iam-password-policy");
        assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
        assert_eq!(info.controls.len(), 8);
        assert!(info.controls.iter().any(|c| c == "IAM.17"));
        assert_eq!(
            info.functions,
            [
                "iam.get-account-password-policy",
                "iam.update-account-password-policy"
            ]
        );
    }

    #[test]
    fn max_age_only_for_iam7_iam17_or_when_asked() {
        assert_eq!(target("IAM.7", &[]).max_password_age, Some(90));
        assert_eq!(target("IAM.17", &[]).max_password_age, Some(90));
        assert_eq!(target("IAM.15", &[]).max_password_age, None);
        assert_eq!(
            target("IAM.15", &[(MAX_AGE, "60")]).max_password_age,
            Some(60)
        );
        assert_eq!(
            target("IAM.7", &[(MAX_AGE, "45")]).max_password_age,
            Some(45)
        );
    }

    #[test]
    fn bad_params_are_errors_naming_the_key() {
        for (key, value) in [
            (REUSE, "25"),
            (REUSE, "0"),
            (MAX_AGE, "1096"),
            (MIN_LENGTH, "8"),
            (SYMBOLS, "maybe"),
        ] {
            let err = Target::new("IAM.7", &params(&[(key, value)])).unwrap_err();
            assert!(err.to_string().contains(key), "{err}");
            assert!(err.to_string().contains(value), "{err}");
        }
        let err = Target::new("IAM.7", &params(&[("max-age", "90")])).unwrap_err();
        assert!(err.to_string().contains("allowed parameters"), "{err}");
    }

    #[test]
    fn compliant_policy_is_left_alone() {
        for control in CONTROLS {
            let t = target(control, &[]);
            assert_eq!(merge(Some(&strong()), &t), strong(), "{control}");
        }
    }

    #[test]
    fn weak_policy_is_raised_and_unrelated_fields_kept() {
        let merged = merge(Some(&weak()), &target("IAM.7", &[]));
        assert_eq!(
            merged,
            PasswordPolicy {
                minimum_password_length: Some(14),
                require_symbols: true,
                require_numbers: true,
                require_uppercase_characters: true,
                require_lowercase_characters: true,
                // Kept as they were.
                allow_users_to_change_password: false,
                hard_expiry: Some(true),
                max_password_age: Some(90),
                password_reuse_prevention: Some(24),
            }
        );
    }

    #[test]
    fn stricter_settings_are_never_weakened() {
        let strict = PasswordPolicy {
            minimum_password_length: Some(20),
            max_password_age: Some(30),
            ..strong()
        };
        // Defaults and explicit weaker parameters alike.
        for t in [
            target("IAM.7", &[]),
            target(
                "IAM.17",
                &[
                    (MAX_AGE, "365"),
                    (MIN_LENGTH, "14"),
                    (REUSE, "5"),
                    (SYMBOLS, "false"),
                    (NUMBERS, "false"),
                    (UPPERCASE, "false"),
                    (LOWERCASE, "false"),
                ],
            ),
        ] {
            assert_eq!(merge(Some(&strict), &t), strict);
        }
    }

    #[test]
    fn max_age_is_kept_when_the_control_does_not_check_it() {
        let no_expiry = PasswordPolicy {
            max_password_age: None,
            ..strong()
        };
        assert_eq!(merge(Some(&no_expiry), &target("IAM.15", &[])), no_expiry);
        let long = PasswordPolicy {
            max_password_age: Some(365),
            ..strong()
        };
        assert_eq!(merge(Some(&long), &target("IAM.16", &[])), long);
        assert_eq!(
            merge(Some(&long), &target("IAM.17", &[])).max_password_age,
            Some(90)
        );
    }

    #[test]
    fn parameters_raise_the_target() {
        let t = target("IAM.15", &[(MIN_LENGTH, "16")]);
        assert_eq!(merge(Some(&strong()), &t).minimum_password_length, Some(16));
        let t = target("IAM.15", &[(SYMBOLS, "false")]);
        let no_symbols = PasswordPolicy {
            require_symbols: false,
            ..strong()
        };
        assert_eq!(merge(Some(&no_symbols), &t), no_symbols);
    }

    #[test]
    fn no_policy_gets_the_full_target() {
        let merged = merge(None, &target("IAM.11", &[]));
        assert_eq!(
            merged,
            PasswordPolicy {
                max_password_age: None,
                ..strong()
            }
        );
        assert!(merged.allow_users_to_change_password);
        let message = change_message(Mode::Plan, None, &merged);
        assert!(
            message.starts_with("would set an account password policy"),
            "{message}"
        );
        assert!(message.contains("minimum-password-length 14"), "{message}");
    }

    #[test]
    fn message_lists_changed_fields_old_to_new() {
        let merged = merge(Some(&weak()), &target("IAM.7", &[]));
        let message = change_message(Mode::Apply, Some(&weak()), &merged);
        assert!(
            message.starts_with("updated the account password policy: "),
            "{message}"
        );
        for part in [
            "minimum-password-length 8 → 14",
            "password-reuse-prevention unset → 24",
            "max-password-age unset → 90",
            "require-symbols false → true",
            "require-uppercase-characters false → true",
            "require-lowercase-characters false → true",
        ] {
            assert!(message.contains(part), "{part} missing in {message}");
        }
        assert!(!message.contains("require-numbers"), "{message}");
        assert!(!message.contains("hard-expiry"), "{message}");
        assert!(change_message(Mode::Plan, Some(&weak()), &merged).starts_with("would update"));
    }
}
