//! Account Management calls (`account.*`): the member account's alternate contacts.

use aws_sdk_account::types::AlternateContactType;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Member, Record, call_failed};

/// An Account Management call, written `call = "account.operation"` with the operation's
/// fields next to it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "call", deny_unknown_fields)]
#[allow(
    clippy::enum_variant_names,
    reason = "the variants are the AWS operations, which share a noun"
)]
pub enum Op {
    /// `account:PutAlternateContact` for the member account. Returns nothing.
    #[serde(rename = "account.put-alternate-contact", rename_all = "kebab-case")]
    PutAlternateContact {
        /// `BILLING`, `OPERATIONS` or `SECURITY`.
        contact_type: String,
        /// The contact's name.
        name: String,
        /// Its e-mail address.
        email_address: String,
        /// Its phone number.
        phone_number: String,
        /// Its title.
        title: String,
    },
    /// `account:GetAlternateContact` for the member account. Returns `exists` and, when it
    /// does, `name`, `email-address`, `phone-number` and `title`.
    #[serde(rename = "account.get-alternate-contact", rename_all = "kebab-case")]
    GetAlternateContact {
        /// `BILLING`, `OPERATIONS` or `SECURITY`.
        contact_type: String,
    },
}

/// Every Account Management call name.
pub const CALLS: &[&str] = &[
    "account.put-alternate-contact",
    "account.get-alternate-contact",
];

const TYPES: &[&str] = &["BILLING", "OPERATIONS", "SECURITY"];

impl Op {
    /// Its `call` name.
    pub fn call(&self) -> &'static str {
        match self {
            Op::PutAlternateContact { .. } => "account.put-alternate-contact",
            Op::GetAlternateContact { .. } => "account.get-alternate-contact",
        }
    }

    /// The fields its [`Record`] can have.
    pub fn outputs(&self) -> &'static [&'static str] {
        match self {
            Op::PutAlternateContact { .. } => &[],
            Op::GetAlternateContact { .. } => {
                &["exists", "name", "email-address", "phone-number", "title"]
            }
        }
    }

    /// Whether it only reads (what checks may call).
    pub fn is_read(&self) -> bool {
        matches!(self, Op::GetAlternateContact { .. })
    }

    fn contact_type(&self) -> &str {
        match self {
            Op::PutAlternateContact { contact_type, .. }
            | Op::GetAlternateContact { contact_type } => contact_type,
        }
    }

    /// Problems the call's fields have that their types do not catch.
    pub fn problems(&self) -> Vec<String> {
        let kind = self.contact_type();
        if TYPES.contains(&kind) {
            Vec::new()
        } else {
            vec![format!(
                "`contact-type` must be one of {}, not {kind:?}",
                TYPES.join(", ")
            )]
        }
    }

    /// Makes the call in `m`'s account (untimed: [`super::Op::run`] times it).
    pub async fn run(&self, m: &Member) -> Result<Record, String> {
        let failed = |e: &dyn std::error::Error| call_failed(self.call(), e);
        let kind = AlternateContactType::from(self.contact_type());
        match self {
            Op::PutAlternateContact {
                name,
                email_address,
                phone_number,
                title,
                ..
            } => {
                m.account_api
                    .put_alternate_contact()
                    .alternate_contact_type(kind)
                    .name(name)
                    .email_address(email_address)
                    .phone_number(phone_number)
                    .title(title)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                Ok(Record::new())
            }
            Op::GetAlternateContact { .. } => {
                let got = m
                    .account_api
                    .get_alternate_contact()
                    .alternate_contact_type(kind)
                    .send()
                    .await;
                let contact = match got {
                    Ok(out) => out.alternate_contact,
                    Err(e)
                        if e.as_service_error()
                            .is_some_and(|e| e.is_resource_not_found_exception()) =>
                    {
                        None
                    }
                    Err(e) => return Err(failed(&e)),
                };
                let Some(c) = contact else {
                    return Ok(Record::from([("exists".to_owned(), json!(false))]));
                };
                Ok(Record::from([
                    ("exists".to_owned(), json!(true)),
                    ("name".to_owned(), json!(c.name())),
                    ("email-address".to_owned(), json!(c.email_address())),
                    ("phone-number".to_owned(), json!(c.phone_number())),
                    ("title".to_owned(), json!(c.title())),
                ]))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contact_type_must_be_one_aws_knows() {
        let op = Op::GetAlternateContact {
            contact_type: "security".into(),
        };
        assert!(op.problems()[0].contains("`contact-type`"));
        let op = Op::GetAlternateContact {
            contact_type: "SECURITY".into(),
        };
        assert!(op.problems().is_empty());
    }
}
