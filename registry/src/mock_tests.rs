//! The registry against aws-smithy-mocks S3 clients: what is written, in which order, and
//! how S3's answers map to errors.

use aws_sdk_s3::operation::get_object::{GetObjectError, GetObjectOutput};
use aws_sdk_s3::operation::head_object::{HeadObjectError, HeadObjectOutput};
use aws_sdk_s3::operation::put_object::PutObjectOutput;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::error::NotFound;
use aws_smithy_types::error::ErrorMetadata;
use hubfix_mocks::{RuleMode, mock, mock_client};

use super::*;

fn publish_of(bytes: &[u8]) -> Publish<'_> {
    Publish {
        name: "p",
        version: "1.0.0",
        bytes,
        controls: vec!["EC2.7".into()],
        imports: vec![],
        signature: None,
    }
}

#[tokio::test]
async fn throttled_s3_is_a_retryable_error() {
    let slow = mock!(aws_sdk_s3::Client::get_object)
        .sequence()
        .error(|| {
            GetObjectError::generic(
                ErrorMetadata::builder()
                    .code("SlowDown")
                    .message("reduce your request rate")
                    .build(),
            )
        })
        .repeatedly()
        .build();
    let s3 = mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&slow]);
    let registry = Registry::new(s3, "b", "");
    let err = registry.read_index(None).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(err.to_string().contains("SlowDown"), "{err}");
}

#[tokio::test]
async fn bytes_that_do_not_hash_to_the_pin_are_refused() {
    let object = mock!(aws_sdk_s3::Client::get_object).then_output(|| {
        GetObjectOutput::builder()
            .body(ByteStream::from_static(b"not the published bytes"))
            .build()
    });
    let s3 = mock_client!(aws_sdk_s3, [&object]);
    let registry = Registry::new(s3, "b", "");
    let pinned = Pinned {
        version: "1.0.0".into(),
        sha256: sha256_hex(b"the published bytes"),
        key: "plugins/p/1.0.0.wasm".into(),
    };
    match registry.fetch(&pinned).await {
        Err(RegistryError::Integrity {
            expected, actual, ..
        }) => {
            assert_eq!(expected, pinned.sha256);
            assert_eq!(actual, sha256_hex(b"not the published bytes"));
        }
        other => panic!("expected an integrity error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_version_stored_with_other_bytes_is_never_overwritten() {
    let stored = mock!(aws_sdk_s3::Client::head_object).then_output(|| {
        HeadObjectOutput::builder()
            .metadata("sha256", sha256_hex(b"first bytes"))
            .build()
    });
    let put =
        mock!(aws_sdk_s3::Client::put_object).then_output(|| PutObjectOutput::builder().build());
    let s3 = mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&stored, &put]);
    let registry = Registry::new(s3, "b", "");
    let err = registry
        .publish(&publish_of(b"other bytes"), false)
        .await
        .unwrap_err();
    assert!(matches!(err, RegistryError::Immutable { .. }), "{err}");
    assert_eq!(put.num_calls(), 0, "nothing written");
}

#[tokio::test]
async fn publish_writes_the_object_before_the_index_and_a_dry_run_writes_nothing() {
    let absent = mock!(aws_sdk_s3::Client::head_object)
        .sequence()
        .error(|| HeadObjectError::NotFound(NotFound::builder().build()))
        .repeatedly()
        .build();
    let no_index = mock!(aws_sdk_s3::Client::get_object)
        .sequence()
        .error(|| GetObjectError::generic(ErrorMetadata::builder().code("NoSuchKey").build()))
        .repeatedly()
        .build();
    let object = mock!(aws_sdk_s3::Client::put_object)
        .match_requests(|r| {
            r.key() == Some("pre/plugins/p/1.0.0.wasm") && r.if_none_match() == Some("*")
        })
        .sequence()
        .output(|| PutObjectOutput::builder().build())
        .repeatedly()
        .build();
    let index = mock!(aws_sdk_s3::Client::put_object)
        .match_requests(|r| r.key() == Some("pre/index.json"))
        .sequence()
        .output(|| PutObjectOutput::builder().build())
        .repeatedly()
        .build();
    let s3 = mock_client!(
        aws_sdk_s3,
        RuleMode::MatchAny,
        [&absent, &no_index, &object, &index]
    );
    let registry = Registry::new(s3, "b", "pre");

    let dry = registry.publish(&publish_of(b"bytes"), true).await.unwrap();
    assert!(dry.dry_run && dry.uploaded && dry.index_changed);
    assert_eq!((object.num_calls(), index.num_calls()), (0, 0));

    let report = registry
        .publish(&publish_of(b"bytes"), false)
        .await
        .unwrap();
    assert_eq!(report.key, "pre/plugins/p/1.0.0.wasm");
    assert_eq!((object.num_calls(), index.num_calls()), (1, 1));
}

/// An index another writer changed between the read and the write (`412`) is read again
/// and the change re-applied, each write conditional on the ETag just read; a first index
/// is written only if there still is none.
#[tokio::test]
async fn an_index_changed_meanwhile_is_read_again_and_written_on_its_new_etag() {
    let stored = mock!(aws_sdk_s3::Client::head_object)
        .sequence()
        .error(|| HeadObjectError::NotFound(NotFound::builder().build()))
        .repeatedly()
        .build();
    let index_text = |plugin: &str| {
        let mut index = Index::default();
        let pinned = Pinned {
            version: "1.0.0".into(),
            sha256: sha256_hex(plugin.as_bytes()),
            key: format!("plugins/{plugin}/1.0.0.wasm"),
        };
        index.activate(plugin, pinned, vec![], vec![], "t".into());
        serde_json::to_vec(&index).unwrap()
    };
    let (first, second) = (index_text("a"), index_text("b"));
    let reads = mock!(aws_sdk_s3::Client::get_object)
        .sequence()
        .output(move || {
            GetObjectOutput::builder()
                .e_tag("\"e1\"")
                .body(ByteStream::from(first.clone()))
                .build()
        })
        .output(move || {
            GetObjectOutput::builder()
                .e_tag("\"e2\"")
                .body(ByteStream::from(second.clone()))
                .build()
        })
        .build();
    let object = mock!(aws_sdk_s3::Client::put_object)
        .match_requests(|r| r.key() == Some("plugins/p/1.0.0.wasm"))
        .then_output(|| PutObjectOutput::builder().build());
    let stale = mock!(aws_sdk_s3::Client::put_object)
        .match_requests(|r| r.key() == Some("index.json") && r.if_match() == Some("\"e1\""))
        .then_http_response(|| {
            HttpResponse::new(
                aws_smithy_runtime_api::http::StatusCode::try_from(412).unwrap(),
                aws_smithy_types::body::SdkBody::from(
                    "<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>",
                ),
            )
        });
    let fresh = mock!(aws_sdk_s3::Client::put_object)
        .match_requests(|r| {
            r.key() == Some("index.json")
                && r.if_match() == Some("\"e2\"")
                && r.if_none_match().is_none()
        })
        .then_output(|| PutObjectOutput::builder().build());
    let s3 = mock_client!(
        aws_sdk_s3,
        RuleMode::MatchAny,
        [&stored, &reads, &object, &stale, &fresh]
    );
    let registry = Registry::new(s3, "b", "");
    let report = registry
        .publish(&publish_of(b"bytes"), false)
        .await
        .unwrap();
    assert!(report.index_changed);
    assert_eq!(
        (object.num_calls(), stale.num_calls(), fresh.num_calls()),
        (1, 1, 1)
    );
}
