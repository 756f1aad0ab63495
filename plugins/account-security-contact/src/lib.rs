//! `account-security-contact`: gives the account a security alternate contact (Security
//! Hub Account.1; CIS AWS Foundations 3.0.0 1.2, 5.0.0 1.2).
//!
//! The finding names the account (`AwsAccount`). The control passes when the account has
//! a security contact, whoever it is: an existing one is never replaced. Otherwise the
//! plugin sets one from its parameters, all four of which AWS requires:
//!
//! - `name` (at most 64 characters), `title` (at most 50),
//! - `email-address` (at most 254; a team mailbox rather than a person's),
//! - `phone-number` (at most 25 digits, spaces, `+`, `-`, `(` and `)`).
//!
//! With none of them set the finding is `skipped`, saying which to set: hubfix cannot
//! invent who answers AWS's security notices. Some but not all set is `failed` (a policy
//! mistake), as is a value AWS would refuse (the host checks them before any call).

use hubfix_plugin_sdk::account::{self, AlternateContact, ContactType};
use hubfix_plugin_sdk::{Guest, Outcome, Params, PluginInfo, Request};

const NAME: &str = "account-security-contact";
const CONTROLS: &[&str] = &["Account.1"];
const GET: &str = "account.get-alternate-contact";
const PUT: &str = "account.put-alternate-contact";
const FIELDS: [&str; 4] = ["name", "title", "email-address", "phone-number"];

struct SecurityContact;

impl Guest for SecurityContact {
    fn describe() -> PluginInfo {
        hubfix_plugin_sdk::plugin_info(NAME, env!("CARGO_PKG_VERSION"), CONTROLS, &[GET, PUT])
    }

    fn remediate(request: Request) -> Outcome {
        if let Err(skipped) = request
            .finding
            .own_account("the account's security contact")
        {
            return skipped;
        }
        let params = match Params::new(&request.params, &FIELDS) {
            Ok(params) => params,
            Err(e) => return e.to_outcome(),
        };
        let wanted = match contact(&params) {
            Ok(wanted) => wanted,
            Err(outcome) => return outcome,
        };
        match account::get_alternate_contact(ContactType::Security) {
            Err(e) => return e.to_outcome(GET),
            Ok(Some(existing)) => {
                return Outcome::already_compliant(format!(
                    "the account has a security contact ({} <{}>); hubfix does not replace it",
                    existing.name, existing.email_address
                ));
            }
            Ok(None) => {}
        }
        let Some(wanted) = wanted else {
            return Outcome::skipped(format!(
                "the account has no security contact, and the policy gives none: set the \
                 parameters {} of {NAME}",
                FIELDS.join(", ")
            ));
        };
        let done = format!(
            "{} the security contact to {} <{}>",
            request.mode.verb("set", "would set"),
            wanted.name,
            wanted.email_address
        );
        match account::put_alternate_contact(ContactType::Security, &wanted) {
            Ok(()) => Outcome::remediated(done),
            Err(e) => e.to_outcome(PUT),
        }
    }
}

/// The contact the parameters give: `None` when none is set, a failure when only some are.
fn contact(params: &Params<'_>) -> Result<Option<AlternateContact>, Outcome> {
    let values = FIELDS.map(|key| params.get(key));
    if values.iter().all(Option::is_none) {
        return Ok(None);
    }
    let missing: Vec<&str> = FIELDS
        .iter()
        .zip(&values)
        .filter(|(_, v)| v.is_none())
        .map(|(k, _)| *k)
        .collect();
    if !missing.is_empty() {
        return Err(Outcome::failed(format!(
            "{NAME} needs all of {} (AWS requires each); missing: {}",
            FIELDS.join(", "),
            missing.join(", ")
        )));
    }
    let [name, title, email_address, phone_number] =
        values.map(|v| v.unwrap_or_default().to_owned());
    Ok(Some(AlternateContact {
        name,
        email_address,
        phone_number,
        title,
    }))
}

hubfix_plugin_sdk::export!(SecurityContact);

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn no_parameters_is_no_contact_and_some_are_a_mistake() {
        let none = params(&[]);
        assert_eq!(
            contact(&Params::new(&none, &FIELDS).unwrap()).unwrap(),
            None
        );
        let some = params(&[("name", "Security"), ("title", "Team")]);
        let err = contact(&Params::new(&some, &FIELDS).unwrap()).unwrap_err();
        assert!(
            err.message.contains("missing: email-address, phone-number"),
            "{err:?}"
        );
        let all = params(&[
            ("name", "Security"),
            ("title", "Team"),
            ("email-address", "sec@example.com"),
            ("phone-number", "+1 555 0100"),
        ]);
        let got = contact(&Params::new(&all, &FIELDS).unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(
            (
                got.name.as_str(),
                got.email_address.as_str(),
                got.phone_number.as_str()
            ),
            ("Security", "sec@example.com", "+1 555 0100")
        );
    }
}
