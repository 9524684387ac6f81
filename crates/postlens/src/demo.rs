//! `postlens demo`: the whole fan-out on this machine. moto plays AWS, the topology comes
//! from `infra/template.yaml`, and each implemented worker's real handler is fed by a local
//! event source mapping. Progress goes to stderr, the summary to stdout.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context as _};
use postlens_local::{
    run_until_drained, DrainOptions, EngineFunction, EventSourceMapping, FunctionSpec,
    LocalFunction, LocalStack, MappingSettings, MappingStats, QueueDepth, Tap, Topology,
};
use postlens_runtime::config::name_list;
use postlens_runtime::emulator::Emulator;
use postlens_runtime::envelope::S3Location;
use postlens_runtime::ObjectStore;
use serde_json::Value;

pub struct DemoOptions {
    pub template: PathBuf,
    pub posts: PathBuf,
    pub documents: Option<PathBuf>,
    pub out_dir: PathBuf,
    /// Holds `videos/` and `images/`, uploaded to the media bucket before posts go out.
    pub media_dir: PathBuf,
    pub max_duration: Duration,
}

/// The handler behind each binary the template names; `None` for workers not built yet.
fn local_function(
    stack: &LocalStack,
    function: &FunctionSpec,
    config: &aws_config::SdkConfig,
) -> anyhow::Result<Option<Arc<dyn LocalFunction>>> {
    let function: Arc<dyn LocalFunction> = match function.binary.as_str() {
        "caption-parser" => Arc::new(EngineFunction::new(stack.engine(
            caption_parser::CaptionParser::new(),
            function,
            config,
        )?)),
        "auto-tagger" => {
            let Some(dir) = postlens_models::model_dir() else {
                eprintln!("  auto-tagger: no models/ (run `make models`); not started");
                return Ok(None);
            };
            let models = auto_tagger::Models::load(&dir)?;
            Arc::new(EngineFunction::new(stack.engine(
                auto_tagger::AutoTagger::new(models),
                function,
                config,
            )?))
        }
        "text-scorer" => {
            let Some(dir) = postlens_models::model_dir() else {
                eprintln!("  text-scorer: no models/ (run `make models`); not started");
                return Ok(None);
            };
            let models = text_scorer::Models::load(&dir)?;
            let environment = stack.environment(function)?;
            let buckets = environment
                .get("DOCUMENT_BUCKETS")
                .map(|b| name_list(b))
                .unwrap_or_default();
            let store = Arc::new(postlens_runtime::store::S3Store::new(
                postlens_runtime::emulator::s3_client(config),
            ));
            Arc::new(EngineFunction::new(stack.engine(
                text_scorer::TextScorer::new(models, Some(store), buckets),
                function,
                config,
            )?))
        }
        "thumbnail-generator" => {
            let Some(dir) = postlens_models::model_dir() else {
                eprintln!("  thumbnail-generator: no models/ (run `make models`); not started");
                return Ok(None);
            };
            let detector = postlens_models::YoloxNano::load(&dir.join("yolox-nano"))?;
            let environment = stack.environment(function)?;
            let list = |name: &str| -> Vec<String> {
                environment
                    .get(name)
                    .map(|v| name_list(v))
                    .unwrap_or_default()
            };
            let Some(output_bucket) = list("THUMBNAIL_BUCKET").into_iter().next() else {
                bail!("thumbnail-generator has no THUMBNAIL_BUCKET in the template");
            };
            let store: Arc<dyn ObjectStore> = Arc::new(postlens_runtime::store::S3Store::new(
                postlens_runtime::emulator::s3_client(config),
            ));
            Arc::new(EngineFunction::new(stack.engine(
                thumbnail_generator::ThumbnailGenerator::new(
                    detector,
                    Some(store.clone()),
                    list("MEDIA_BUCKETS"),
                    thumbnail_generator::Destination::S3 {
                        store,
                        bucket: output_bucket,
                    },
                    thumbnail_generator::UrlPolicy {
                        allowed_hosts: list("VIDEO_URL_HOSTS"),
                        ..Default::default()
                    },
                    thumbnail_generator::Settings::default(),
                ),
                function,
                config,
            )?))
        }
        _ => return Ok(None),
    };
    Ok(Some(function))
}

/// Uploads every file of `fixtures/videos` and `fixtures/images` to the media bucket as
/// `videos/NAME` and `images/NAME`, where the fixture posts point.
pub(crate) async fn upload_media(
    store: &dyn ObjectStore,
    bucket: &str,
    fixtures: &Path,
) -> anyhow::Result<usize> {
    let mut count = 0;
    for folder in ["videos", "images"] {
        let Ok(entries) = std::fs::read_dir(fixtures.join(folder)) else {
            continue;
        };
        for entry in entries {
            let path = entry?.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if !path.is_file() || name.ends_with(".md") {
                continue;
            }
            let location = S3Location {
                bucket: bucket.to_owned(),
                key: format!("{folder}/{name}"),
            };
            let bytes =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            store
                .put(&location, bytes, "application/octet-stream")
                .await
                .with_context(|| format!("uploading {}", location.uri()))?;
            count += 1;
        }
    }
    Ok(count)
}

/// Copies the thumbnails the events list from S3 into `out/thumbnails/`, keeping their keys.
async fn download_thumbnails(
    store: &dyn ObjectStore,
    events: &[Value],
    out_dir: &Path,
) -> anyhow::Result<usize> {
    let mut count = 0;
    for event in events {
        for thumbnail in event["result"]["thumbnails"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let Some(location) = thumbnail["s3_uri"].as_str().and_then(S3Location::parse) else {
                continue;
            };
            let bytes = store
                .get(&location, 64 * 1024 * 1024)
                .await
                .with_context(|| format!("downloading {}", location.uri()))?;
            let target = out_dir.join(&location.key);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&target, bytes)
                .with_context(|| format!("writing {}", target.display()))?;
            count += 1;
        }
    }
    Ok(count)
}

struct Worker {
    spec: FunctionSpec,
    tap: Tap,
    mapping: Option<Arc<EventSourceMapping>>,
    dead_letter_url: Option<String>,
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
        postlens_runtime::store::S3Store::new(postlens_runtime::emulator::s3_client(&config));
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
            "  {}: not implemented yet; its queue keeps its records",
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
            Some(url) => postlens_local::queue_depth(&sqs, url).await?.total(),
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
    println!("\nall result events: {}", events_path.display());
    Ok(())
}

/// A function's environment for a process of its own on this machine: the template's
/// variables resolved against the local stack, the emulator's endpoint and test
/// credentials, and MODEL_DIR pointing at ./models instead of the layer's /opt/models.
pub(crate) fn local_environment(
    stack: &LocalStack,
    function: &postlens_local::FunctionSpec,
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
        ("AWS_REGION", postlens_runtime::emulator::REGION),
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
        let store =
            postlens_runtime::store::S3Store::new(postlens_runtime::emulator::s3_client(&config));
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

fn progress_line(
    mappings: &[Arc<EventSourceMapping>],
    snapshot: &[(MappingStats, QueueDepth)],
) -> String {
    mappings
        .iter()
        .zip(snapshot)
        .map(|(mapping, (stats, depth))| {
            format!(
                "{}: {} invocations, {} records done, {} returned for retry, queue {} waiting / {} in flight",
                mapping.function_name,
                stats.invocations,
                stats.deleted,
                stats.returned_for_retry,
                depth.visible,
                depth.in_flight
            )
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

fn print_worker(worker: &Worker, events: &[Value], dead: u64) {
    let ok = events.iter().filter(|e| e["status"] == "ok").count();
    println!(
        "\n{} ({}): {} events, {} ok, {} error, {} in the DLQ{}",
        worker.spec.binary,
        worker.spec.id,
        events.len(),
        ok,
        events.len() - ok,
        dead,
        if worker.mapping.is_none() {
            " (not implemented yet)"
        } else {
            ""
        }
    );
    for event in events {
        println!("  {}", summarise(event));
    }
}

/// One readable line per event.
fn summarise(event: &Value) -> String {
    let subject = ["video_id", "doc_id"]
        .iter()
        .find_map(|key| event[key].as_str())
        .unwrap_or("(no id)");
    if event["status"] != "ok" {
        return format!(
            "{subject:<14} error {}: {}",
            event["error"]["code"].as_str().unwrap_or("?"),
            event["error"]["message"].as_str().unwrap_or("")
        );
    }
    let result = &event["result"];
    match event["event_type"].as_str() {
        Some("caption-parsed") => {
            let price = match (
                &result["price"]["amount"],
                result["price"]["currency"].as_str(),
            ) {
                (Value::Null, _) => "no price".to_owned(),
                (amount, currency) => {
                    format!("{amount} {}", currency.unwrap_or("(currency unknown)"))
                }
            };
            format!(
                "{subject:<14} ok    {:?} · {price} · sizes {} · colours {}",
                result["title"].as_str().unwrap_or(""),
                compact(&result["sizes"]),
                compact(&result["colors"]),
            )
        }
        Some("tags-generated") => {
            let categories: Vec<String> = result["categories"]
                .as_array()
                .map(|c| {
                    c.iter()
                        .take(2)
                        .map(|c| {
                            format!(
                                "{} ({:.2})",
                                c["path"].as_str().unwrap_or(""),
                                c["score"].as_f64().unwrap_or(0.0)
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            let tags: Vec<&str> = result["tags"]
                .as_array()
                .map(|t| t.iter().filter_map(|t| t["tag"].as_str()).take(6).collect())
                .unwrap_or_default();
            format!(
                "{subject:<14} ok    {} · tags {}",
                categories.join(" | "),
                tags.join(", ")
            )
        }
        Some("thumbnail-generated") => {
            let sizes: Vec<String> = result["thumbnails"]
                .as_array()
                .map(|t| {
                    t.iter()
                        .map(|t| format!("{}x{}", t["width"], t["height"]))
                        .collect()
                })
                .unwrap_or_default();
            let shown = match result["subject"]["label"].as_str() {
                Some(label) => format!(
                    "{label} ({:.2})",
                    result["subject"]["score"].as_f64().unwrap_or(0.0)
                ),
                None => "no object, detail-centred crop".to_owned(),
            };
            format!(
                "{subject:<14} ok    {} frame at {} ms · {shown} · sharpness {:.2} · {}",
                result["source"]["kind"].as_str().unwrap_or(""),
                result["source"]["frame_time_ms"],
                result["quality"]["sharpness"].as_f64().unwrap_or(0.0),
                sizes.join(", "),
            )
        }
        Some("text-scored") => format!(
            "{subject:<18} ok    {} {:.2} (confidence {:.2}) · {} spans",
            result["level"].as_str().unwrap_or(""),
            result["slop_score"].as_f64().unwrap_or(0.0),
            result["confidence"].as_f64().unwrap_or(0.0),
            result["spans"].as_array().map_or(0, Vec::len)
        ),
        _ => format!("{subject:<14} ok    {}", compact(result)),
    }
}

fn compact(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 100 {
        format!("{}…", text.chars().take(100).collect::<String>())
    } else {
        text
    }
}
