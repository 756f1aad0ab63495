//! `hubfix:plugin/account`: the alternate contacts of the finding's own account.
//!
//! The Account Management API takes an optional `AccountId` (an organization's management
//! account may name a member); the host never sends it, so every call acts on the account
//! the remediation role is in. Contact fields are checked against the API's documented
//! limits before anything is sent.

use aws_sdk_account::types::AlternateContactType;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use hubfix_contract::{HostFunction, function};

use crate::aws::{AwsClients, CallError, PluginCtx, map_sdk_error};
use crate::bindings::account::{AlternateContact, ContactType, Host};
use crate::bindings::types::AwsError;

const GET: &HostFunction = function("account.get-alternate-contact");
const PUT: &HostFunction = function("account.put-alternate-contact");

/// The API's limits, in characters: name, e-mail address, phone number, title.
const MAX_NAME: usize = 64;
const MAX_EMAIL: usize = 254;
const MAX_PHONE: usize = 25;
const MAX_TITLE: usize = 50;

fn account(aws: &AwsClients) -> aws_sdk_account::Client {
    aws.client(aws_sdk_account::Client::new)
}

fn sdk_type(kind: ContactType) -> AlternateContactType {
    match kind {
        ContactType::Billing => AlternateContactType::Billing,
        ContactType::Operations => AlternateContactType::Operations,
        ContactType::Security => AlternateContactType::Security,
    }
}

fn invalid(field: &str, message: String) -> CallError {
    AwsError::InvalidInput(format!("{}: `{field}` {message}", PUT.name)).into()
}

/// 1 to `max` characters, none of them a control character, and not only spaces.
fn text(field: &str, value: &str, max: usize) -> Result<(), CallError> {
    let n = value.chars().count();
    if n == 0 || n > max || value.trim().is_empty() {
        return Err(invalid(field, format!("must be 1 to {max} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(field, "must not contain control characters".into()));
    }
    Ok(())
}

/// The API's pattern `[\w+=.#|!&-]+@[\w.-]+\.[\w]+` (without the surrounding spaces it
/// tolerates), over ASCII.
fn email_address(value: &str) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    let Some((host, top)) = domain.rsplit_once('.') else {
        return false;
    };
    !local.is_empty()
        && local.bytes().all(|b| word(b) || b"+=.#|!&-".contains(&b))
        && !host.is_empty()
        && host.bytes().all(|b| word(b) || b == b'.' || b == b'-')
        && !top.is_empty()
        && top.bytes().all(word)
}

/// The API's pattern `[\s0-9()+-]+` with at least one digit (spaces only as the space).
fn phone_number(value: &str) -> bool {
    value.bytes().any(|b| b.is_ascii_digit())
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || b" ()+-".contains(&b))
}

fn check(contact: &AlternateContact) -> Result<(), CallError> {
    text("name", &contact.name, MAX_NAME)?;
    text("title", &contact.title, MAX_TITLE)?;
    text("email-address", &contact.email_address, MAX_EMAIL)?;
    if !email_address(&contact.email_address) {
        return Err(invalid(
            "email-address",
            format!("is not an e-mail address: {:?}", contact.email_address),
        ));
    }
    text("phone-number", &contact.phone_number, MAX_PHONE)?;
    if !phone_number(&contact.phone_number) {
        return Err(invalid(
            "phone-number",
            format!(
                "must be digits, spaces, `+`, `-`, `(` and `)`, not {:?}",
                contact.phone_number
            ),
        ));
    }
    Ok(())
}

impl Host for PluginCtx {
    async fn get_alternate_contact(
        &mut self,
        contact_type: ContactType,
    ) -> Result<Option<AlternateContact>, CallError> {
        self.enter(const { function("account.get-alternate-contact") })?;
        self.call(GET, None, |aws| async move {
            match account(&aws)
                .get_alternate_contact()
                .alternate_contact_type(sdk_type(contact_type))
                .send()
                .await
            {
                Ok(out) => Ok(out.alternate_contact.map(|c| AlternateContact {
                    name: c.name.unwrap_or_default(),
                    email_address: c.email_address.unwrap_or_default(),
                    phone_number: c.phone_number.unwrap_or_default(),
                    title: c.title.unwrap_or_default(),
                })),
                // No contact of that type: a normal state.
                Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(None),
                Err(e) => Err(map_sdk_error(e)),
            }
        })
        .await
    }

    async fn put_alternate_contact(
        &mut self,
        contact_type: ContactType,
        contact: AlternateContact,
    ) -> Result<(), CallError> {
        self.enter(const { function("account.put-alternate-contact") })?;
        check(&contact)?;
        self.call(PUT, None, |aws| async move {
            account(&aws)
                .put_alternate_contact()
                .alternate_contact_type(sdk_type(contact_type))
                .name(contact.name)
                .email_address(contact.email_address)
                .phone_number(contact.phone_number)
                .title(contact.title)
                .send()
                .await
                .map(|_| ())
                .map_err(map_sdk_error)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use crate::aws::mock_tests::mock_ctx;

    use aws_sdk_account::operation::get_alternate_contact::{
        GetAlternateContactError, GetAlternateContactOutput,
    };
    use aws_sdk_account::operation::put_alternate_contact::PutAlternateContactOutput;
    use aws_sdk_account::types::error::ResourceNotFoundException;
    use aws_smithy_types::error::ErrorMetadata;
    use hubfix_mocks::{Rule, RuleMode, mock, mock_client};
    use serde_json::json;

    use super::*;
    use crate::bindings::types::Mode;
    use crate::outcome::CallResult;

    const ACCOUNT: &str = "AWS::::Account:111111111111";

    fn ctx(resources: serde_json::Value, rules: &[&Rule], mode: Mode) -> PluginCtx {
        mock_ctx(
            "us-east-1",
            resources,
            mock_client!(aws_sdk_account, RuleMode::MatchAny, rules),
            &[
                "account.get-alternate-contact",
                "account.put-alternate-contact",
            ],
            mode,
            50,
        )
    }

    fn security() -> AlternateContact {
        AlternateContact {
            name: "Security Team".into(),
            email_address: "security@example.com".into(),
            phone_number: "+1 (555) 010-0100".into(),
            title: "CISO".into(),
        }
    }

    #[tokio::test]
    async fn contacts_are_read_none_when_unset_and_put_without_an_account_id() {
        let get = mock!(aws_sdk_account::Client::get_alternate_contact)
            .match_requests(|r| {
                r.alternate_contact_type() == Some(&AlternateContactType::Security)
                    && r.account_id().is_none()
            })
            .sequence()
            .error(|| {
                GetAlternateContactError::ResourceNotFoundException(
                    ResourceNotFoundException::builder()
                        .message("No contact of the inputted alternate contact type found.")
                        .meta(
                            ErrorMetadata::builder()
                                .code("ResourceNotFoundException")
                                .build(),
                        )
                        .build()
                        .unwrap(),
                )
            })
            .output(|| {
                GetAlternateContactOutput::builder()
                    .alternate_contact(
                        aws_sdk_account::types::AlternateContact::builder()
                            .alternate_contact_type(AlternateContactType::Security)
                            .name("Security Team")
                            .email_address("security@example.com")
                            .phone_number("+1 (555) 010-0100")
                            .title("CISO")
                            .build(),
                    )
                    .build()
            })
            .build();
        let put = mock!(aws_sdk_account::Client::put_alternate_contact)
            .match_requests(|r| {
                r.account_id().is_none()
                    && r.alternate_contact_type() == Some(&AlternateContactType::Security)
                    && r.name() == Some("Security Team")
                    && r.email_address() == Some("security@example.com")
            })
            .then_output(|| PutAlternateContactOutput::builder().build());
        let mut ctx = ctx(
            json!([{"Type": "AwsAccount", "Id": ACCOUNT}]),
            &[&get, &put],
            Mode::Apply,
        );
        assert_eq!(
            ctx.get_alternate_contact(ContactType::Security)
                .await
                .unwrap(),
            None
        );
        ctx.put_alternate_contact(ContactType::Security, security())
            .await
            .unwrap();
        assert_eq!(
            ctx.get_alternate_contact(ContactType::Security)
                .await
                .unwrap(),
            Some(security())
        );
        assert_eq!((get.num_calls(), put.num_calls()), (2, 1));
    }

    #[tokio::test]
    async fn a_put_needs_an_account_finding_and_valid_fields() {
        let put = mock!(aws_sdk_account::Client::put_alternate_contact)
            .then_output(|| PutAlternateContactOutput::builder().build());
        let mut about_a_bucket = ctx(
            json!([{"Type": "AwsS3Bucket", "Id": "arn:aws:s3:::b"}]),
            &[&put],
            Mode::Apply,
        );
        let err = about_a_bucket
            .put_alternate_contact(ContactType::Security, security())
            .await
            .unwrap_err();
        assert!(matches!(err, CallError::Aws(AwsError::AccessDenied(_))));

        let mut ctx = ctx(
            json!([{"Type": "AwsAccount", "Id": ACCOUNT}]),
            &[&put],
            Mode::Apply,
        );
        type Spoil = fn(&mut AlternateContact);
        let bad: [(&str, Spoil); 9] = [
            ("`name`", |c| c.name = String::new()),
            ("`name`", |c| c.name = "n".repeat(65)),
            ("`name`", |c| c.name = "Sec\u{0}urity".into()),
            ("`title`", |c| c.title = "   ".into()),
            ("`email-address`", |c| c.email_address = "security".into()),
            ("`email-address`", |c| {
                c.email_address = "a b@example.com".into()
            }),
            ("`email-address`", |c| c.email_address = "a@example".into()),
            ("`phone-number`", |c| c.phone_number = "call me".into()),
            ("`phone-number`", |c| c.phone_number = "1".repeat(26)),
        ];
        for (field, spoil) in bad {
            let mut contact = security();
            spoil(&mut contact);
            let err = ctx
                .put_alternate_contact(ContactType::Security, contact.clone())
                .await
                .unwrap_err();
            assert!(
                matches!(err, CallError::Aws(AwsError::InvalidInput(ref m)) if m.contains(field)),
                "{contact:?}: {err:?}"
            );
        }
        assert_eq!(put.num_calls(), 0);
    }

    #[tokio::test]
    async fn a_planned_put_reaches_no_one() {
        let put = mock!(aws_sdk_account::Client::put_alternate_contact)
            .then_output(|| PutAlternateContactOutput::builder().build());
        let mut ctx = ctx(
            json!([{"Type": "AwsAccount", "Id": ACCOUNT}]),
            &[&put],
            Mode::Plan,
        );
        ctx.put_alternate_contact(ContactType::Operations, security())
            .await
            .unwrap();
        assert_eq!(put.num_calls(), 0);
        let results: Vec<_> = ctx.into_trail().calls.iter().map(|c| c.result).collect();
        assert_eq!(results, [CallResult::Planned]);
    }
}
