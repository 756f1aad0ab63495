//! `hubfix publish` and `hubfix registry list | rollback`: the plugin registry in S3.

use std::path::PathBuf;

use anyhow::anyhow;
use clap::{Args, Subcommand};
use hubfix_host::{Grants, HostConfig, Runtime};
use hubfix_pipeline::s3::S3Url;
use hubfix_registry::Registry;
use hubfix_registry::signature::{
    LocalSigner, PluginSigner, SignFuture, SignatureError, public_key_pem, signature_file,
    signed_message,
};

use crate::{Fatal, Output, policy, read_file};

/// Where the registry is.
#[derive(Args, Clone)]
pub struct Location {
    /// The registry: `s3://BUCKET[/PREFIX]`.
    #[arg(long = "registry", env = "HUBFIX_REGISTRY", value_name = "S3_URL")]
    pub url: String,
}

impl Location {
    /// Connects to the registry with the environment's AWS configuration. Path-style
    /// addressing when `HUBFIX_S3_PATH_STYLE` is `1`/`true` (S3-compatible endpoints such
    /// as the local emulator).
    pub async fn open(&self) -> Result<Registry, Fatal> {
        let url: S3Url = self
            .url
            .parse()
            .map_err(|e| Fatal::input(anyhow!("--registry: {e}")))?;
        let aws = hubfix_host::load_aws_config().await;
        Ok(Registry::new(
            hubfix_pipeline::s3::client(&aws),
            url.bucket,
            url.prefix,
        ))
    }
}

#[derive(Args)]
pub struct PublishArgs {
    /// Plugin components (.wasm) to publish; name and version come from each one's
    /// `describe()`.
    #[arg(required = true)]
    plugins: Vec<PathBuf>,
    #[command(flatten)]
    registry: Location,
    /// The policy whose grants each plugin must fit; the shipped policy when absent.
    #[arg(long, value_name = "DIR")]
    policy: Option<PathBuf>,
    /// Sign each component with this key: a PKCS#8 P-256 `PRIVATE KEY` PEM file (as
    /// `hubfix keygen` writes), or `kms:KEY` for an AWS KMS `ECC_NIST_P256` signing key
    /// (id, ARN or alias). Hosts that trust its public key (`HUBFIX_TRUSTED_KEYS`) run only
    /// signed plugins.
    #[arg(long, value_name = "KEY")]
    sign: Option<String>,
    /// Show what would change and write nothing.
    #[arg(long)]
    dry_run: bool,
    #[arg(long, value_enum, default_value_t)]
    output: Output,
}

#[derive(Args)]
pub struct KeygenArgs {
    /// Where to write the new private key (PKCS#8 PEM, mode 0600); the public key goes
    /// to the same path with `.pub` appended.
    path: PathBuf,
    /// Create no key: write the public key of this AWS KMS signing key (`ECC_NIST_P256`;
    /// id, ARN or alias) to PATH, as PEM for HUBFIX_TRUSTED_KEYS.
    #[arg(long, value_name = "KEY")]
    kms: Option<String>,
}

/// `hubfix keygen`: a new P-256 signing key for `publish --sign`, or the public key of a
/// KMS one.
pub async fn keygen(args: KeygenArgs) -> Result<u8, Fatal> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    if let Some(key) = &args.kms {
        let signer = KmsSigner::new(key).await?;
        std::fs::write(&args.path, &signer.public_pem)
            .map_err(|e| Fatal::input(anyhow!("{}: {e}", args.path.display())))?;
        out!(
            "KMS key {key} ({}): public key written to {} (give it to hosts as HUBFIX_TRUSTED_KEYS)",
            signer.key_id,
            args.path.display()
        );
        return Ok(0);
    }
    let private = LocalSigner::generate_pem().map_err(Fatal::input)?;
    let signer = LocalSigner::from_pem(&private).map_err(Fatal::input)?;
    let public = signer.public_pem().map_err(Fatal::input)?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&args.path)
        .map_err(|e| Fatal::input(anyhow!("{}: {e}", args.path.display())))?;
    file.write_all(private.as_bytes())
        .map_err(|e| Fatal::input(anyhow!("{}: {e}", args.path.display())))?;
    let mut public_path = args.path.clone().into_os_string();
    public_path.push(".pub");
    let public_path = PathBuf::from(public_path);
    std::fs::write(&public_path, &public)
        .map_err(|e| Fatal::input(anyhow!("{}: {e}", public_path.display())))?;
    out!(
        "key {} written to {} (private) and {} (public: give it to hosts as HUBFIX_TRUSTED_KEYS)",
        signer.key_id(),
        args.path.display(),
        public_path.display()
    );
    Ok(0)
}

#[derive(Subcommand)]
pub enum RegistryCommand {
    /// Show the active version of every plugin.
    List {
        #[command(flatten)]
        registry: Location,
        #[arg(long, value_enum, default_value_t)]
        output: Output,
    },
    /// Make the previously active version of a plugin active again.
    Rollback {
        /// The plugin's name.
        name: String,
        #[command(flatten)]
        registry: Location,
    },
}

pub async fn publish(args: PublishArgs) -> Result<u8, Fatal> {
    let policy = policy::load(args.policy.as_deref())?;
    let registry = args.registry.open().await?;
    let runtime =
        Runtime::new(HostConfig::default(), crate::offline_aws_config()).map_err(Fatal::input)?;
    let signer: Option<Box<dyn PluginSigner>> = match &args.sign {
        Some(key) => Some(signer(key).await?),
        None => None,
    };
    let mut reports = Vec::new();
    for path in &args.plugins {
        let bytes = read_file(path)?;
        let plugin = runtime
            .describe(&bytes)
            .await
            .map_err(|e| Fatal::input(anyhow!("{}: {e}", path.display())))?;
        let name = plugin.info().name.clone();
        let entry = policy.plugin(&name).ok_or_else(|| {
            Fatal::input(anyhow!(
                "{}: plugin `{name}` is not in the policy; add it (with its grants) to the plugins file first",
                path.display()
            ))
        })?;
        let grants = Grants::new(&entry.grants).map_err(Fatal::input)?;
        let report = hubfix_host::publish(
            &runtime,
            &registry,
            &bytes,
            &grants,
            signer.as_deref(),
            args.dry_run,
        )
        .await
        .map_err(|e| Fatal::input(anyhow!("{}: publish refused: {e}", path.display())))?;
        if matches!(args.output, Output::Table) {
            let verb = match (report.dry_run, report.uploaded, report.index_changed) {
                (true, _, false) | (false, _, false) => "unchanged",
                (true, true, true) => "would upload and activate",
                (true, false, true) => "would activate",
                (false, true, true) => "uploaded and activated",
                (false, false, true) => "activated",
            };
            out!(
                "{verb:<26} {} {} sha256:{} (s3://{}/{}){}{}",
                report.name,
                report.version,
                report.sha256,
                registry.bucket(),
                report.key,
                report
                    .previous
                    .as_deref()
                    .filter(|p| *p != report.version)
                    .map(|p| format!(", was {p}"))
                    .unwrap_or_default(),
                report
                    .signed_by
                    .as_deref()
                    .map(|k| format!(", signed by key {k}"))
                    .unwrap_or_default()
            );
        }
        reports.push(report);
    }
    if matches!(args.output, Output::Json) {
        out!(
            "{}",
            serde_json::to_string_pretty(&reports).map_err(Fatal::input)?
        );
    }
    Ok(0)
}

pub async fn registry(command: RegistryCommand) -> Result<u8, Fatal> {
    match command {
        RegistryCommand::List { registry, output } => {
            let registry = registry.open().await?;
            let (index, _) = registry.index().await.map_err(Fatal::input)?;
            match output {
                Output::Json => out!(
                    "{}",
                    serde_json::to_string_pretty(&index).map_err(Fatal::input)?
                ),
                Output::Table => {
                    if index.plugins.is_empty() {
                        out!(
                            "no plugin published in s3://{}/{}",
                            registry.bucket(),
                            registry.index_key()
                        );
                    }
                    for (name, entry) in &index.plugins {
                        let earlier: Vec<&str> = entry
                            .history
                            .iter()
                            .rev()
                            .map(|p| p.version.as_str())
                            .collect();
                        out!(
                            "{name:<28} {:<8} sha256:{}  {}  controls {}  earlier [{}]",
                            entry.active.version,
                            entry
                                .active
                                .sha256
                                .get(..16)
                                .unwrap_or(&entry.active.sha256),
                            entry.activated_at,
                            entry.controls.join(","),
                            earlier.join(", ")
                        );
                    }
                }
            }
            Ok(0)
        }
        RegistryCommand::Rollback { name, registry } => {
            let registry = registry.open().await?;
            let pinned = registry.rollback(&name).await.map_err(Fatal::input)?;
            out!(
                "{name} is back at {} (sha256:{})",
                pinned.version,
                pinned.sha256
            );
            Ok(0)
        }
    }
}

/// The signer `--sign` names: `kms:KEY` or a PEM file.
async fn signer(key: &str) -> Result<Box<dyn PluginSigner>, Fatal> {
    if let Some(kms) = key.strip_prefix("kms:") {
        return Ok(Box::new(KmsSigner::new(kms).await?));
    }
    let text =
        std::fs::read_to_string(key).map_err(|e| Fatal::input(anyhow!("--sign {key}: {e}")))?;
    let local =
        LocalSigner::from_pem(&text).map_err(|e| Fatal::input(anyhow!("--sign {key}: {e}")))?;
    Ok(Box::new(local))
}

/// Signs with an AWS KMS asymmetric key (`ECC_NIST_P256`, `SIGN_VERIFY`): KMS signs the
/// message with `ECDSA_SHA_256`; the private key never leaves KMS.
struct KmsSigner {
    kms: aws_sdk_kms::Client,
    key: String,
    key_id: String,
    spki: Vec<u8>,
    public_pem: String,
}

impl KmsSigner {
    async fn new(key: &str) -> Result<Self, Fatal> {
        let kms = aws_sdk_kms::Client::new(&hubfix_host::load_aws_config().await);
        let out = kms.get_public_key().key_id(key).send().await.map_err(|e| {
            Fatal::input(anyhow!(
                "KMS key {key}: {}",
                aws_sdk_kms::error::DisplayErrorContext(&e)
            ))
        })?;
        if out.key_spec() != Some(&aws_sdk_kms::types::KeySpec::EccNistP256) {
            return Err(Fatal::input(anyhow!(
                "KMS key {key} is {:?}, not ECC_NIST_P256",
                out.key_spec()
            )));
        }
        let spki = out
            .public_key()
            .map(|b| b.as_ref().to_vec())
            .ok_or_else(|| Fatal::input(anyhow!("KMS key {key}: no public key")))?;
        let public_pem =
            public_key_pem(&spki).map_err(|e| Fatal::input(anyhow!("KMS key {key}: {e}")))?;
        Ok(Self {
            kms,
            key: key.to_owned(),
            key_id: hubfix_registry::signature::key_id(&spki),
            spki,
            public_pem,
        })
    }
}

impl PluginSigner for KmsSigner {
    fn key_id(&self) -> &str {
        &self.key_id
    }

    fn sign<'a>(&'a self, name: &'a str, version: &'a str, sha256: &'a str) -> SignFuture<'a> {
        Box::pin(async move {
            let out = self
                .kms
                .sign()
                .key_id(&self.key)
                .message(aws_sdk_kms::primitives::Blob::new(signed_message(
                    name, version, sha256,
                )))
                .message_type(aws_sdk_kms::types::MessageType::Raw)
                .signing_algorithm(aws_sdk_kms::types::SigningAlgorithmSpec::EcdsaSha256)
                .send()
                .await
                .map_err(|e| {
                    SignatureError::Key(format!(
                        "KMS Sign with {}: {}",
                        self.key,
                        aws_sdk_kms::error::DisplayErrorContext(&e)
                    ))
                })?;
            let signature = out
                .signature()
                .ok_or_else(|| SignatureError::Key("KMS returned no signature".into()))?;
            Ok(signature_file(&self.spki, signature.as_ref()))
        })
    }
}
