//! `postlens stack`, and a function's environment for a process of its own on this machine.

use std::path::Path;

use anyhow::Context as _;
use postlens_local_stack::emulator::Emulator;
use postlens_local_stack::{LocalStack, Topology};

use super::media::upload_media;

/// A function's environment for a process of its own on this machine: the template's
/// variables resolved against the local stack, the emulator's endpoint and test
/// credentials, and MODEL_DIR pointing at ./models instead of the layer's /opt/models.
pub(crate) fn local_environment(
    stack: &LocalStack,
    function: &postlens_local_stack::FunctionSpec,
    endpoint: &str,
) -> anyhow::Result<std::collections::BTreeMap<String, String>> {
    let mut environment = stack.environment(function)?;
    if let Some(dir) = postlens_models::model_dir() {
        if environment.contains_key("MODEL_DIR") {
            environment.insert("MODEL_DIR".to_owned(), dir.display().to_string());
        }
    }
    for (name, value) in [
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", postlens_local_stack::emulator::REGION),
    ] {
        environment.insert(name.to_owned(), value.to_owned());
    }
    Ok(environment)
}

/// `postlens stack`: the template's topology on moto, kept running for `cargo lambda watch`.
/// Writes one env file per function (`<out>/env/<binary>.env`) with the emulator endpoint,
/// test credentials and the function's resolved environment, then waits for Ctrl-C.
pub async fn serve(template: &Path, out_dir: &Path) -> anyhow::Result<()> {
    let emulator = Emulator::start().await?;
    let config = emulator.sdk_config().await;
    let stack = LocalStack::create(Topology::from_file(template)?, &config).await?;
    let env_dir = out_dir.join("env");
    std::fs::create_dir_all(&env_dir).with_context(|| format!("creating {}", env_dir.display()))?;
    println!(
        "moto is serving the {} topology on {}",
        template.display(),
        emulator.endpoint
    );
    for function in &stack.topology.functions {
        let lines: Vec<String> = local_environment(&stack, function, &emulator.endpoint)?
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        let path = env_dir.join(format!("{}.env", function.binary));
        std::fs::write(&path, lines.join("\n") + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
        println!(
            "  {:<20} cargo lambda watch -p {} -A 127.0.0.1 --env-file {}",
            function.binary,
            function.binary,
            path.display()
        );
    }
    for (id, arn) in &stack.topics {
        println!("  topic {id:<24} {arn}");
    }
    if let Some(bucket) = stack.buckets.get("MediaBucket") {
        let store = postlens_runtime::store::S3Store::new(
            postlens_local_stack::emulator::s3_client(&config),
        );
        let uploaded = upload_media(&store, bucket, Path::new("fixtures")).await?;
        println!("  uploaded {uploaded} fixture media files to s3://{bucket}/ (videos/, images/)");
    }
    println!("Ctrl-C stops the emulator.");
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    emulator.stop().await;
    Ok(())
}
