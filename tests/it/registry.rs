use std::time::Duration;

use anyhow::Result;
use aws_sdk_s3::primitives::ByteStream;
use hubfix_finding::Finding;
use hubfix_host::{
    Grants, LoadError, LoadedFrom, Loader, LoaderConfig, Mode, PublishError, Request, Runtime,
    Status, publish,
};
use hubfix_registry::{Publish, Registry, RegistryError};
use hubfix_tests::{
    EC2_EBS_DEFAULT_ENCRYPTION, account_finding, base_config, fresh_bucket, plugin_bytes, s3_client,
};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use crate::common::{require_emulator, runtime};
use hubfix_tests::MISBEHAVE_GRANTS;

fn cache_dir(test: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("hubfix-it-{test}-{}", std::process::id()))
}

/// Runs the `noop` behaviour of whatever version of `misbehave` the loader serves now
/// and returns the plugin's message and where the plugin came from.
async fn noop(rt: &Runtime, loader: &Loader) -> Result<(String, LoadedFrom)> {
    let grants = Grants::new(MISBEHAVE_GRANTS)?;
    let (plugin, source) = loader.plugin(rt, "misbehave", &grants).await?;
    let request = Request {
        finding: Finding::from_value(account_finding("290000000001", "EC2.7"))?,
        control: "EC2.7".into(),
        params: vec![("behavior".into(), "noop".into())],
        mode: Mode::Apply,
    };
    let outcome = rt.remediate(&plugin, &request).await;
    assert_eq!(outcome.status, Status::Skipped, "{}", outcome.message);
    assert!(
        outcome.calls.is_empty(),
        "noop reaches no AWS (no AssumeRole either)"
    );
    Ok((outcome.message, source))
}

#[tokio::test]
async fn a_running_host_follows_publish_and_rollback_and_refuses_tampered_bytes() -> Result<()> {
    require_emulator!();
    let base = base_config().await;
    let s3 = s3_client(&base, None);
    let bucket = fresh_bucket(&s3, "hubfix-registry").await?;
    let registry = Registry::new(s3.clone(), &bucket, "it");
    let rt = runtime().await?;
    // TTL zero: every lookup revalidates the index (a 304 when unchanged).
    let loader = Loader::new(
        registry.clone(),
        LoaderConfig {
            index_ttl: Duration::ZERO,
            cache_dir: Some(cache_dir("registry")),
            trusted_keys: None,
        },
    );
    let grants = Grants::new(MISBEHAVE_GRANTS)?;

    match loader.plugin(&rt, "misbehave", &grants).await {
        Err(LoadError::UnknownPlugin(name)) => assert_eq!(name, "misbehave"),
        Err(e) => panic!("expected UnknownPlugin, got {e}"),
        Ok(_) => panic!("an unpublished plugin loaded"),
    }

    let v1 = plugin_bytes("misbehave")?;
    let v2 = plugin_bytes("misbehave-v2")?;
    let report = publish(&rt, &registry, &v1, &grants, None, false).await?;
    assert!(report.uploaded && report.index_changed);
    assert_eq!((report.version.as_str(), report.previous), ("0.1.0", None));
    assert_eq!(report.key, "it/plugins/misbehave/0.1.0.wasm");
    let (message, source) = noop(&rt, &loader).await?;
    assert!(message.contains("misbehave 0.1.0"), "{message}");
    assert_eq!(source, LoadedFrom::Fetched);

    // Publishing the same bytes again changes nothing.
    let again = publish(&rt, &registry, &v1, &grants, None, false).await?;
    assert!(!again.uploaded && !again.index_changed);

    // A dry run of v2 reports and writes nothing.
    let dry = publish(&rt, &registry, &v2, &grants, None, true).await?;
    assert!(dry.dry_run && dry.uploaded && dry.index_changed);
    assert_eq!(
        noop(&rt, &loader).await?.0,
        message,
        "dry run changed nothing"
    );

    // v2 is live on the next finding, without restarting anything.
    let report = publish(&rt, &registry, &v2, &grants, None, false).await?;
    assert_eq!(report.previous.as_deref(), Some("0.1.0"));
    let (message, source) = noop(&rt, &loader).await?;
    assert!(message.contains("misbehave 0.2.0"), "{message}");
    assert_eq!(source, LoadedFrom::Fetched);

    // Rollback is one index write; v1 is still compiled in memory.
    let back = registry.rollback("misbehave").await?;
    assert_eq!(back.version, "0.1.0");
    let (message, source) = noop(&rt, &loader).await?;
    assert!(message.contains("misbehave 0.1.0"), "{message}");
    assert_eq!(source, LoadedFrom::Memory);

    // The policy's version must be the registry's active one.
    let policy_ref = |version: &str, sha256: Option<String>| hubfix_host::PluginRef {
        name: "misbehave".into(),
        version: version.into(),
        sha256,
    };
    match loader
        .plugin_pinned(&rt, &policy_ref("0.2.0", None), &grants)
        .await
    {
        Err(LoadError::Version {
            plugin,
            expected,
            active,
        }) => {
            assert_eq!(plugin, "misbehave");
            assert_eq!(expected, "0.2.0");
            assert_eq!(active, "0.1.0");
        }
        Err(e) => panic!("expected a version error, got {e}"),
        Ok(_) => panic!("a plugin whose active version is not the policy's loaded"),
    }
    assert!(
        loader
            .plugin_pinned(
                &rt,
                &policy_ref("0.1.0", Some(back.sha256.clone())),
                &grants
            )
            .await
            .is_ok()
    );

    // A digest pinned by the policy must be the registry's active one.
    let pinned_elsewhere = "0".repeat(64);
    match loader
        .plugin_pinned(
            &rt,
            &policy_ref("0.1.0", Some(pinned_elsewhere.clone())),
            &grants,
        )
        .await
    {
        Err(LoadError::Integrity { expected, actual }) => {
            assert_eq!(expected, pinned_elsewhere);
            assert_eq!(actual, back.sha256);
        }
        Err(e) => panic!("expected an integrity error, got {e}"),
        Ok(_) => panic!("a plugin not matching the policy's pin loaded"),
    }

    // Published versions are immutable.
    let clash = registry
        .publish(
            &Publish {
                name: "misbehave",
                version: "0.1.0",
                bytes: &v2,
                controls: vec![],
                imports: vec![],
                signature: None,
            },
            false,
        )
        .await;
    assert!(
        matches!(clash, Err(RegistryError::Immutable { .. })),
        "{clash:?}"
    );

    // A plugin whose imports exceed its grants is refused, and the index is untouched.
    let ebs = plugin_bytes(EC2_EBS_DEFAULT_ENCRYPTION.name)?;
    let (index_before, _) = registry.index().await?;
    let narrow = Grants::new(["ec2.get-ebs-encryption-by-default"])?;
    match publish(&rt, &registry, &ebs, &narrow, None, false).await {
        Err(PublishError::Load(LoadError::MissingGrants { missing })) => {
            assert_eq!(missing, ["ec2.enable-ebs-encryption-by-default"]);
        }
        other => panic!("expected MissingGrants, got {other:?}"),
    }
    assert_eq!(registry.index().await?.0, index_before);

    // Bytes published under another plugin's name are refused at load: the record would
    // name what the guest's describe() says, not what the registry pinned.
    registry
        .publish(
            &Publish {
                name: "impostor",
                version: "9.9.9",
                bytes: &v1,
                controls: vec!["EC2.7".into()],
                imports: vec![],
                signature: None,
            },
            false,
        )
        .await?;
    match loader.plugin(&rt, "impostor", &grants).await {
        Err(LoadError::Described {
            plugin,
            described_name,
            described_version,
            ..
        }) => {
            assert_eq!(plugin, "impostor");
            assert_eq!(
                (described_name.as_str(), described_version.as_str()),
                ("misbehave", "0.1.0")
            );
        }
        Err(e) => panic!("expected Described, got {e}"),
        Ok(_) => panic!("a plugin describing itself as another loaded"),
    }

    // Bytes overwritten in S3 behind the registry's back are refused; the host keeps
    // serving the other plugin.
    let ebs_grants = Grants::new(&EC2_EBS_DEFAULT_ENCRYPTION.grants)?;
    let report = publish(&rt, &registry, &ebs, &ebs_grants, None, false).await?;
    s3.put_object()
        .bucket(&bucket)
        .key(&report.key)
        .body(ByteStream::from(v1.clone()))
        .send()
        .await?;
    match loader
        .plugin(&rt, EC2_EBS_DEFAULT_ENCRYPTION.name, &ebs_grants)
        .await
    {
        Err(LoadError::Integrity { expected, actual }) => {
            assert_eq!(expected, report.sha256);
            assert_eq!(actual, hubfix_host::sha256_hex(&v1));
        }
        Err(e) => panic!("expected an integrity error, got {e}"),
        Ok(_) => panic!("tampered bytes loaded"),
    }
    let (message, _) = noop(&rt, &loader).await?;
    assert!(message.contains("misbehave 0.1.0"), "{message}");
    Ok(())
}

#[tokio::test]
async fn a_new_process_loads_from_the_disk_cache_without_fetching() -> Result<()> {
    require_emulator!();
    let base = base_config().await;
    let s3 = s3_client(&base, None);
    let bucket = fresh_bucket(&s3, "hubfix-disk-cache").await?;
    let registry = Registry::new(s3.clone(), &bucket, "");
    let dir = cache_dir("disk");
    let config = LoaderConfig {
        index_ttl: Duration::from_secs(60),
        cache_dir: Some(dir.clone()),
        trusted_keys: None,
    };
    let grants = Grants::new(MISBEHAVE_GRANTS)?;
    let rt = runtime().await?;
    publish(
        &rt,
        &registry,
        &plugin_bytes("misbehave")?,
        &grants,
        None,
        false,
    )
    .await?;
    let first = Loader::new(registry.clone(), config.clone());
    assert_eq!(noop(&rt, &first).await?.1, LoadedFrom::Fetched);

    // A second runtime and loader stand for a new container on the same disk.
    let rt2 = runtime().await?;
    let second = Loader::new(registry, config);
    assert_eq!(noop(&rt2, &second).await?.1, LoadedFrom::Disk);
    assert_eq!(noop(&rt2, &second).await?.1, LoadedFrom::Memory);
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}

/// A compiled file copied onto another digest's name (what a local user could do to a
/// shared cache) fails its seal: the host deletes it, recompiles the pinned plugin from
/// its verified bytes and runs that, never the other code. A cache directory others
/// may write is not used at all.
#[tokio::test]
async fn a_swapped_compiled_file_is_detected_and_not_run() -> Result<()> {
    use std::os::unix::fs::PermissionsExt;

    require_emulator!();
    let base = base_config().await;
    let s3 = s3_client(&base, None);
    let bucket = fresh_bucket(&s3, "hubfix-cache-swap").await?;
    let registry = Registry::new(s3.clone(), &bucket, "");
    let dir = cache_dir("swap");
    let config = LoaderConfig {
        index_ttl: Duration::ZERO,
        cache_dir: Some(dir.clone()),
        trusted_keys: None,
    };
    let grants = Grants::new(MISBEHAVE_GRANTS)?;
    let rt = runtime().await?;
    let v1 = plugin_bytes("misbehave")?;
    let v2 = plugin_bytes("misbehave-v2")?;
    let first = Loader::new(registry.clone(), config.clone());
    assert!(first.disk_cache_enabled());
    publish(&rt, &registry, &v1, &grants, None, false).await?;
    assert_eq!(noop(&rt, &first).await?.1, LoadedFrom::Fetched);
    publish(&rt, &registry, &v2, &grants, None, false).await?;
    assert_eq!(noop(&rt, &first).await?.1, LoadedFrom::Fetched);
    registry.rollback("misbehave").await?;

    // v2's compiled file under v1's name.
    let named = |digest: &str| -> Result<std::path::PathBuf> {
        std::fs::read_dir(&dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(digest))
            })
            .ok_or_else(|| anyhow::anyhow!("no cache file for {digest}"))
    };
    let v1_file = named(&hubfix_host::sha256_hex(&v1))?;
    let v2_file = named(&hubfix_host::sha256_hex(&v2))?;
    std::fs::copy(&v2_file, &v1_file)?;

    let rt2 = runtime().await?;
    let second = Loader::new(registry.clone(), config.clone());
    let (message, source) = noop(&rt2, &second).await?;
    assert!(message.contains("misbehave 0.1.0"), "{message}");
    assert_eq!(source, LoadedFrom::Fetched, "the swapped file was not used");
    // Rewritten with a good seal: a third process loads it from disk.
    let rt3 = runtime().await?;
    let third = Loader::new(registry.clone(), config);
    assert_eq!(noop(&rt3, &third).await?.1, LoadedFrom::Disk);

    // A directory others may write is refused: nothing is read from or written to it.
    let open = cache_dir("swap-open");
    std::fs::create_dir_all(&open)?;
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777))?;
    let refused = Loader::new(
        registry,
        LoaderConfig {
            index_ttl: Duration::ZERO,
            cache_dir: Some(open.clone()),
            trusted_keys: None,
        },
    );
    assert!(!refused.disk_cache_enabled());
    let rt4 = runtime().await?;
    assert_eq!(noop(&rt4, &refused).await?.1, LoadedFrom::Fetched);
    assert_eq!(std::fs::read_dir(&open)?.count(), 0, "nothing written");
    let _ = std::fs::remove_dir_all(dir);
    let _ = std::fs::remove_dir_all(open);
    Ok(())
}

/// A TCP proxy in front of the emulator that the test can cut off.
async fn proxy(upstream: String) -> Result<(String, JoinSet<()>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = format!("http://{}", listener.local_addr()?);
    let mut tasks = JoinSet::new();
    tasks.spawn(async move {
        let mut connections = JoinSet::new();
        while let Ok((mut inbound, _)) = listener.accept().await {
            let upstream = upstream.clone();
            connections.spawn(async move {
                if let Ok(mut outbound) = TcpStream::connect(&upstream).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    Ok((address, tasks))
}

#[tokio::test]
async fn when_s3_is_unreachable_cached_plugins_keep_working() -> Result<()> {
    require_emulator!();
    let base = base_config().await;
    let endpoint = std::env::var("AWS_ENDPOINT_URL")?;
    let upstream = endpoint
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let s3 = s3_client(&base, None);
    let bucket = fresh_bucket(&s3, "hubfix-outage").await?;
    let direct = Registry::new(s3, &bucket, "");
    let rt = runtime().await?;
    let grants = Grants::new(MISBEHAVE_GRANTS)?;
    publish(
        &rt,
        &direct,
        &plugin_bytes("misbehave")?,
        &grants,
        None,
        false,
    )
    .await?;
    let ebs_grants = Grants::new(&EC2_EBS_DEFAULT_ENCRYPTION.grants)?;
    publish(
        &rt,
        &direct,
        &plugin_bytes(EC2_EBS_DEFAULT_ENCRYPTION.name)?,
        &ebs_grants,
        None,
        false,
    )
    .await?;

    let (address, mut cut) = proxy(upstream).await?;
    let via_proxy = Registry::new(s3_client(&base, Some(&address)), &bucket, "");
    let loader = Loader::new(
        via_proxy,
        LoaderConfig {
            index_ttl: Duration::ZERO,
            cache_dir: None,
            trusted_keys: None,
        },
    );
    assert_eq!(noop(&rt, &loader).await?.1, LoadedFrom::Fetched);

    cut.shutdown().await; // S3 is now unreachable.
    assert_eq!(
        noop(&rt, &loader).await?.1,
        LoadedFrom::Memory,
        "cached plugin keeps serving"
    );
    match loader
        .plugin(&rt, EC2_EBS_DEFAULT_ENCRYPTION.name, &ebs_grants)
        .await
    {
        Err(e @ LoadError::Unavailable(_)) => assert!(e.is_retryable()),
        Err(e) => panic!("expected a retryable Unavailable error, got {e}"),
        Ok(_) => panic!("loaded without S3"),
    }
    Ok(())
}

/// Eight publishes of eight plugins at once, against the
/// emulator's S3: every index update is conditional on the ETag it read, so none is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_publishes_never_lose_one() -> Result<()> {
    require_emulator!();
    let base = base_config().await;
    let s3 = s3_client(&base, None);
    let bucket = fresh_bucket(&s3, "hubfix-concurrent").await?;
    let registry = Registry::new(s3, &bucket, "race");
    let names: Vec<String> = (0..8).map(|i| format!("plugin-{i}")).collect();
    let mut publishes = JoinSet::new();
    for (i, name) in names.iter().enumerate() {
        let (registry, name) = (registry.clone(), name.clone());
        publishes.spawn(async move {
            let bytes = format!("component {i}").into_bytes();
            let publish = Publish {
                name: &name,
                version: "1.0.0",
                bytes: &bytes,
                controls: vec!["EC2.7".into()],
                imports: vec![],
                signature: None,
            };
            registry.publish(&publish, false).await
        });
    }
    while let Some(done) = publishes.join_next().await {
        done??;
    }
    let (index, _) = registry.index().await?;
    let listed: Vec<&String> = index.plugins.keys().collect();
    assert_eq!(
        listed,
        names.iter().collect::<Vec<_>>(),
        "every publish is in the index"
    );
    Ok(())
}

/// Signed plugins: a host that trusts a key runs what that key signed, and refuses an
/// unsigned plugin, one signed by another key, and one whose signature was replaced by a
/// signature of other bytes. A host that trusts no key runs all of them.
#[tokio::test]
async fn a_host_that_trusts_keys_runs_only_what_they_signed() -> Result<()> {
    use hubfix_registry::signature::{LocalSigner, TrustedKeys};
    use hubfix_tests::IAM_PASSWORD_POLICY;
    require_emulator!();
    let base = base_config().await;
    let s3 = s3_client(&base, None);
    let bucket = fresh_bucket(&s3, "hubfix-signed").await?;
    let registry = Registry::new(s3.clone(), &bucket, "");
    let rt = runtime().await?;
    let ours = LocalSigner::from_pem(&LocalSigner::generate_pem()?)?;
    let theirs = LocalSigner::from_pem(&LocalSigner::generate_pem()?)?;

    let ebs = Grants::new(&EC2_EBS_DEFAULT_ENCRYPTION.grants)?;
    let password = Grants::new(&IAM_PASSWORD_POLICY.grants)?;
    let misbehave = Grants::new(MISBEHAVE_GRANTS)?;
    let signed = publish(
        &rt,
        &registry,
        &plugin_bytes(EC2_EBS_DEFAULT_ENCRYPTION.name)?,
        &ebs,
        Some(&ours),
        false,
    )
    .await?;
    assert_eq!(signed.signed_by.as_deref(), Some(ours.key_id()));
    publish(
        &rt,
        &registry,
        &plugin_bytes("misbehave")?,
        &misbehave,
        None,
        false,
    )
    .await?;
    publish(
        &rt,
        &registry,
        &plugin_bytes(IAM_PASSWORD_POLICY.name)?,
        &password,
        Some(&theirs),
        false,
    )
    .await?;

    let strict = |trusted: Option<TrustedKeys>| {
        Loader::new(
            registry.clone(),
            LoaderConfig {
                index_ttl: Duration::ZERO,
                cache_dir: None,
                trusted_keys: trusted,
            },
        )
    };
    let trusting = strict(Some(TrustedKeys::from_pem(&ours.public_pem()?)?));
    trusting
        .plugin(&rt, EC2_EBS_DEFAULT_ENCRYPTION.name, &ebs)
        .await?;
    let refused = |r: Result<_, LoadError>| match r {
        Err(LoadError::Signature(message)) => message,
        Err(other) => panic!("not a signature refusal: {other}"),
        Ok(_) => panic!("loaded"),
    };
    let unsigned = refused(trusting.plugin(&rt, "misbehave", &misbehave).await);
    assert!(unsigned.contains("not signed"), "{unsigned}");
    let other_key = refused(
        trusting
            .plugin(&rt, IAM_PASSWORD_POLICY.name, &password)
            .await,
    );
    assert!(other_key.contains("not trusted"), "{other_key}");

    // Someone with write access to the bucket swaps in our signature of other bytes.
    let forged = ours.sign(
        EC2_EBS_DEFAULT_ENCRYPTION.name,
        &signed.version,
        &"0".repeat(64),
    )?;
    s3.put_object()
        .bucket(&bucket)
        .key(Registry::signature_key(&signed.key))
        .body(ByteStream::from(serde_json::to_vec(&forged)?))
        .send()
        .await?;
    let fresh = strict(Some(TrustedKeys::from_pem(&ours.public_pem()?)?));
    let tampered = refused(
        fresh
            .plugin(&rt, EC2_EBS_DEFAULT_ENCRYPTION.name, &ebs)
            .await,
    );
    assert!(tampered.contains("does not match"), "{tampered}");

    // Signatures are opt-in: a host that trusts no key runs all three.
    let open = strict(None);
    open.plugin(&rt, EC2_EBS_DEFAULT_ENCRYPTION.name, &ebs)
        .await?;
    open.plugin(&rt, "misbehave", &misbehave).await?;
    open.plugin(&rt, IAM_PASSWORD_POLICY.name, &password)
        .await?;
    Ok(())
}
