//! `postlens demo`: the whole fan-out on this machine. moto plays AWS, the topology comes
//! from `infra/template.yaml`, and each implemented worker's real handler is fed by a local
//! event source mapping. Progress goes to stderr, the summary to stdout.
//!
//! - `workers`: the worker behind each binary the template names, built as its Lambda builds it.
//! - `media`: fixture media up to the media bucket, thumbnails back down.
//! - `stack`: `postlens stack` (the topology kept running) and a function's local environment.
//! - `summary`: what the demo prints per worker.

mod media;
mod stack;
mod summary;
mod workers;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context as _};
use postlens_local_stack::emulator::Emulator;
use postlens_local_stack::{
    run_until_drained, DrainOptions, EventSourceMapping, LocalStack, MappingSettings, Tap, Topology,
};

pub(crate) use media::upload_media;
pub(crate) use stack::local_environment;
pub use stack::serve;

use media::download_thumbnails;
use summary::{print_worker, progress_line, Worker};
use workers::local_function;

pub struct DemoOptions {
    pub template: PathBuf,
    pub posts: PathBuf,
    pub documents: Option<PathBuf>,
    pub out_dir: PathBuf,
    /// Holds `videos/` and `images/`, uploaded to the media bucket before posts go out.
    pub media_dir: PathBuf,
    pub max_duration: Duration,
}

pub async fn run(options: DemoOptions) -> anyhow::Result<()> {
    eprintln!("▶ starting moto server (local AWS) …");
    let emulator = Emulator::start().await?;
    eprintln!("  listening on {}", emulator.endpoint);
    let outcome = run_on(&emulator, &options).await;
    emulator.stop().await;
    eprintln!("▶ moto stopped");
    outcome
}

async fn run_on(emulator: &Emulator, options: &DemoOptions) -> anyhow::Result<()> {
    let config = emulator.sdk_config().await;
    let topology = Topology::from_file(&options.template)?;
    let stack = LocalStack::create(topology, &config).await?;
    eprintln!(
        "▶ created from {}: {} topics, {} queues (with DLQs), {} subscriptions, {} buckets",
        options.template.display(),
        stack.topics.len(),
        stack.queues.len(),
        stack.topology.subscriptions.len(),
        stack.buckets.len()
    );

    let sns = aws_sdk_sns::Client::new(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let mut workers = Vec::new();
    for spec in &stack.topology.functions {
        let environment = stack.environment(spec)?;
        let Some(output_topic) = environment.get("OUTPUT_TOPIC_ARN") else {
            bail!("{} has no OUTPUT_TOPIC_ARN in the template", spec.id);
        };
        let tap = Tap::subscribe(
            &format!("demo-tap-{}", spec.binary),
            output_topic,
            sqs.clone(),
            &sns,
        )
        .await?;
        let (source, dead_letter) = stack.source_queues(spec);
        let mapping = match (local_function(&stack, spec, &config)?, source) {
            (Some(function), Some(queue)) => Some(Arc::new(EventSourceMapping::new(
                spec.binary.clone(),
                sqs.clone(),
                queue.clone(),
                MappingSettings::for_function(spec),
                function,
            ))),
            _ => None,
        };
        workers.push(Worker {
            spec: spec.clone(),
            tap,
            mapping,
            dead_letter_url: dead_letter.map(|q| q.url.clone()),
        });
    }

    let store =
        postlens_runtime::store::S3Store::new(postlens_local_stack::emulator::s3_client(&config));
    if let Some(bucket) = stack.buckets.get("MediaBucket") {
        let uploaded = upload_media(&store, bucket, &options.media_dir).await?;
        eprintln!(
            "▶ uploaded {uploaded} media files from {} to s3://{bucket}/",
            options.media_dir.display()
        );
    }
    let posts = publish_lines(&sns, &stack, "NewVideoPostedTopic", &options.posts).await?;
    eprintln!(
        "▶ published {posts} new-video-posted events from {}",
        options.posts.display()
    );
    if let Some(documents) = options.documents.as_deref().filter(|p| p.is_file()) {
        let count = publish_lines(&sns, &stack, "TextSubmittedTopic", documents).await?;
        eprintln!(
            "▶ published {count} text-submitted events from {}",
            documents.display()
        );
    }
    for worker in workers.iter().filter(|w| w.mapping.is_none()) {
        eprintln!(
            "  {}: not started (see above); its queue keeps its records",
            worker.spec.binary
        );
    }

    let mappings: Vec<_> = workers.iter().filter_map(|w| w.mapping.clone()).collect();
    eprintln!(
        "▶ running {} worker(s) through local event source mappings …",
        mappings.len()
    );
    let mut last_line = String::new();
    let report = run_until_drained(
        &mappings,
        &sqs,
        &DrainOptions {
            max_duration: options.max_duration,
            ..DrainOptions::default()
        },
        |snapshot| {
            let line = progress_line(&mappings, snapshot);
            if line != last_line {
                eprintln!("  {line}");
                last_line = line;
            }
        },
    )
    .await?;
    if !report.drained {
        eprintln!(
            "  stopped after {:?} with records still queued",
            report.elapsed
        );
    }

    std::fs::create_dir_all(&options.out_dir)
        .with_context(|| format!("creating {}", options.out_dir.display()))?;
    let events_path = options.out_dir.join("events.jsonl");
    let mut all_events = String::new();
    println!("postlens demo: results");
    for worker in &workers {
        let events = worker.tap.drain().await?;
        let dead = match &worker.dead_letter_url {
            Some(url) => postlens_local_stack::queue_depth(&sqs, url).await?.total(),
            None => 0,
        };
        print_worker(worker, &events, dead);
        let thumbnails = download_thumbnails(&store, &events, &options.out_dir).await?;
        if thumbnails > 0 {
            println!(
                "  {thumbnails} thumbnails copied to {}",
                options.out_dir.join("thumbnails").display()
            );
        }
        for event in &events {
            all_events.push_str(&event.to_string());
            all_events.push('\n');
        }
    }
    std::fs::write(&events_path, all_events)
        .with_context(|| format!("writing {}", events_path.display()))?;
    // Each function ran under its role from the template (moto itself checks no IAM).
    let refused = stack.refused();
    if refused.is_empty() {
        println!("\nrefused by the functions' roles: none");
    } else {
        println!("\nrefused by the functions' roles:");
        for line in &refused {
            println!("  {line}");
        }
    }
    println!("\nall result events: {}", events_path.display());
    Ok(())
}

async fn publish_lines(
    sns: &aws_sdk_sns::Client,
    stack: &LocalStack,
    topic: &str,
    path: &Path,
) -> anyhow::Result<usize> {
    let Some(topic_arn) = stack.topic_arn(topic) else {
        bail!("the template has no {topic}");
    };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut count = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        // Bad lines are published too: the workers must turn them into error events.
        sns.publish()
            .topic_arn(topic_arn)
            .message(line)
            .send()
            .await
            .with_context(|| format!("publishing to {topic}"))?;
        count += 1;
    }
    Ok(count)
}
