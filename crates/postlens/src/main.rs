//! `postlens`: the workers' analysis on JSON lines, the real handlers in-process, and the
//! local stack. Every command runs the same batch engine the Lambdas run.

mod bench_serve;
mod demo;
mod hostile;
mod jsonl;
mod lambda_smoke;
mod slop_eval;
mod workers;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use futures::future::LocalBoxFuture;
use postlens_runtime::{Assemble, MemoryStore};
use workers::{assemble_local, ForWorker, WorkerKind};

#[derive(Parser)]
#[command(name = "postlens", version, about = "postlens workers on your machine")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// new-video-posted JSON lines on stdin → caption-parsed events on stdout, one per line.
    Caption,
    /// new-video-posted JSON lines on stdin → tags-generated events on stdout, one per line.
    Tag,
    /// new-video-posted JSON lines with `video_path` or `image_path` (local files) on stdin →
    /// thumbnail-generated events on stdout; thumbnails are written under `--out`.
    Thumbnail {
        #[arg(long, default_value = "out/thumbnails")]
        out: PathBuf,
        /// Thumbnail sizes as ASPECT@WIDTH, comma-separated.
        #[arg(long, default_value = "1:1@720,4:5@720")]
        sizes: String,
        #[arg(long, default_value_t = 85)]
        jpeg_quality: u8,
    },
    /// Build (or fetch from the cache) the auto-tagger's category embeddings under models/.
    CategoryIndex,
    /// text-submitted JSON lines on stdin → text-scored events on stdout, one per line.
    Score,
    /// Separation on Sloposcope's own test data: rank correlation with its expected
    /// scores (test_dataset.json) and high/low agreement (inline_cases.json).
    EvalSlop {
        #[arg(long, default_value = "../shared/data/sloposcope")]
        data: PathBuf,
        /// Labelled texts written for fitting weights (never part of the peer's data).
        #[arg(long, default_value = "fixtures/slop/calibration.jsonl")]
        calibration: PathBuf,
        /// Labelled texts held out of every fit (issue 30): AUROC and TPR at 1 % FPR.
        #[arg(long, default_value = "fixtures/slop/zero-shot.jsonl")]
        held_out: PathBuf,
        /// Also write every scored text's metrics and sub-fields (JSON lines) to this file.
        #[arg(long)]
        dump: Option<PathBuf>,
    },
    /// Category accuracy (top-1, top-3) of the auto-tagger and of an embedding-only
    /// baseline on labelled JSONL files ({caption, market, expected}).
    EvalTags {
        files: Vec<PathBuf>,
        /// Also list the captions the tagger got wrong.
        #[arg(long)]
        misses: bool,
    },
    /// Run a worker's real handler in-process on an SQS event file; print the batch
    /// response and the events it would publish.
    Invoke {
        worker: WorkerKind,
        /// An SQS event, as `cargo lambda invoke --data-file` takes it.
        #[arg(long)]
        event: PathBuf,
    },
    /// Run a corpus of hostile inputs (fixtures/hostile/WORKER.jsonl) through a worker's
    /// real handler with in-memory SNS and S3; print each case's outcome and the peak
    /// memory. Exits non-zero when a case does not end as it expects.
    Hostile {
        worker: WorkerKind,
        #[arg(long)]
        cases: PathBuf,
        /// Only load the cases and print how many bytes the in-memory S3 holds.
        #[arg(long)]
        dry_run: bool,
    },
    /// The whole fan-out on this machine: moto, the template's topology, fixture events,
    /// every implemented worker behind a local event source mapping, and a summary.
    Demo {
        #[arg(long, default_value = "infra/template.yaml")]
        template: PathBuf,
        /// new-video-posted events, one JSON object per line (bad lines are sent too).
        #[arg(long, default_value = "fixtures/posts/posts.jsonl")]
        posts: PathBuf,
        /// text-submitted events, one per line; skipped when the file does not exist.
        #[arg(long, default_value = "fixtures/texts/documents.jsonl")]
        documents: PathBuf,
        /// Where result events (and thumbnails) are written.
        #[arg(long, default_value = "out")]
        out: PathBuf,
        /// Media uploaded to the media bucket first (its `videos/` and `images/`).
        #[arg(long, default_value = "fixtures")]
        media: PathBuf,
        /// Stop waiting for queues to drain after this many seconds.
        #[arg(long, default_value_t = 180)]
        max_seconds: u64,
    },
    /// Run each function's deployable `bootstrap` (arm64, under a runner such as
    /// qemu-aarch64-static) as its own process against a local Lambda Runtime API and moto,
    /// invoke it with every fixture event, and compare with the x86-64 build. Exits
    /// non-zero when a batch response or a published event differs.
    LambdaSmoke {
        #[arg(long, default_value = "infra/template.yaml")]
        template: PathBuf,
        /// `cargo lambda build` output (`<dir>/<binary>/bootstrap`).
        #[arg(long, default_value = "target/lambda")]
        bootstrap_dir: PathBuf,
        /// The command the bootstraps run under, split on spaces.
        #[arg(long, default_value = "qemu-aarch64-static -L /usr/aarch64-linux-gnu")]
        runner: String,
        /// The x86-64 binaries to compare with (`<dir>/<binary>`).
        #[arg(long, default_value = "target/debug")]
        reference_dir: PathBuf,
        #[arg(long, default_value = "fixtures/events")]
        events: PathBuf,
        /// Deadlines are the template's Timeout times this (emulation is slower).
        #[arg(long, default_value_t = 20)]
        time_scale: u32,
        /// Only these functions (binary names, comma-separated); all when absent.
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
        #[arg(long, default_value = "target/lambda-smoke")]
        out: PathBuf,
        /// The application log level the functions run at (`AWS_LAMBDA_LOG_LEVEL`); their
        /// metric lines must survive Lambda's filter at it.
        #[arg(long, default_value = "WARN")]
        log_level: String,
    },
    /// The postlens side of `make bench-compare`: one JSON timing request per stdin line,
    /// one JSON reply per stdout line (see scripts/bench_compare.py).
    BenchServe,
    /// Start moto with the template's topology and keep it running, writing one env file per
    /// function for `cargo lambda watch --env-file`.
    Stack {
        #[arg(long, default_value = "infra/template.yaml")]
        template: PathBuf,
        #[arg(long, default_value = "out")]
        out: PathBuf,
    },
}

/// `invoke`: a worker's real handler on an SQS event file, against an in-memory S3.
struct Invoke<'a> {
    event: &'a str,
}

impl<'a> ForWorker for Invoke<'a> {
    type Output = LocalBoxFuture<'a, anyhow::Result<serde_json::Value>>;

    fn run<W: Assemble>(self) -> Self::Output {
        Box::pin(async move {
            let store = Arc::new(MemoryStore::default());
            let worker = assemble_local::<W>(&hostile::in_memory_settings, store)?;
            jsonl::invoke(worker, self.event).await
        })
    }
}

/// `hostile`: a corpus through a worker's real handler.
struct Hostile<'a> {
    cases: &'a Path,
    dry_run: bool,
}

impl<'a> ForWorker for Hostile<'a> {
    type Output = LocalBoxFuture<'a, anyhow::Result<bool>>;

    fn run<W: Assemble>(self) -> Self::Output {
        Box::pin(async move {
            let assemble = |store| assemble_local::<W>(&hostile::in_memory_settings, store);
            hostile::run(assemble, self.cases, self.dry_run).await
        })
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    postlens_runtime::logging::init(postlens_runtime::logging::LogTarget::Stderr, "warn")?;
    let cli = Cli::parse();
    match cli.command {
        Command::Caption => {
            let stdin = tokio::io::stdin();
            let stdout = tokio::io::stdout();
            let summary = jsonl::run(caption_parser::CaptionParser::new(), stdin, stdout).await?;
            Ok(summary.exit_code())
        }
        Command::Thumbnail {
            out,
            sizes,
            jpeg_quality,
        } => {
            let dir = postlens_models::model_dir()
                .context("no models/ directory (run `make models`) and MODEL_DIR is not set")?;
            let detector = postlens_models::YoloxNano::load(&dir.join("yolox-nano"))?;
            let settings = thumbnail_generator::Settings {
                outputs: thumbnail_generator::OutputSpec::parse_list(&sizes)?,
                jpeg_quality,
                ..thumbnail_generator::Settings::default()
            };
            let worker = thumbnail_generator::ThumbnailGenerator::new(
                detector,
                thumbnail_generator::Destination::Directory(out),
            )
            .with_settings(settings);
            let summary = jsonl::run(worker, tokio::io::stdin(), tokio::io::stdout()).await?;
            Ok(summary.exit_code())
        }
        Command::Tag => {
            let tagger = assemble_local::<auto_tagger::AutoTagger>(&process_env, no_store())?;
            let summary = jsonl::run(tagger, tokio::io::stdin(), tokio::io::stdout()).await?;
            Ok(summary.exit_code())
        }
        Command::EvalTags { files, misses } => {
            let tagger = load_auto_tagger_models()?;
            println!("| set | captions | tagger top-1 | tagger top-3 | embedding-only top-1 | embedding-only top-3 |");
            println!("|---|---|---|---|---|---|");
            for file in files {
                let text = std::fs::read_to_string(&file)
                    .with_context(|| format!("reading {}", file.display()))?;
                let cases = auto_tagger::eval::parse_cases(&text)?;
                let report = auto_tagger::eval::evaluate(&tagger, &cases)?;
                let pct = |n: usize| 100.0 * n as f64 / report.cases.max(1) as f64;
                println!(
                    "| {} | {} | {:.0} % | {:.0} % | {:.0} % | {:.0} % |",
                    file.display(),
                    report.cases,
                    pct(report.tagger.top1),
                    pct(report.tagger.top3),
                    pct(report.baseline.top1),
                    pct(report.baseline.top3)
                );
                if misses {
                    for (caption, expected, predicted) in &report.misses {
                        eprintln!("  miss: {caption}\n        expected {expected}\n        got      {predicted}");
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Score => {
            // Text only: `s3_uri` inputs get `bucket_not_allowed` unless DOCUMENT_BUCKETS is set.
            let scorer = assemble_local::<text_scorer::TextScorer>(&process_env, no_store())?;
            let summary = jsonl::run(scorer, tokio::io::stdin(), tokio::io::stdout()).await?;
            Ok(summary.exit_code())
        }
        Command::EvalSlop {
            data,
            calibration,
            held_out,
            dump,
        } => {
            print!(
                "{}",
                slop_eval::run(
                    &data,
                    &calibration,
                    &held_out,
                    dump.as_deref(),
                    &load_text_scorer_models()?
                )?
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::CategoryIndex => {
            // A one-off batch job with nothing else running: use every core for the kernels
            // (the workers use one per record, see `init_kernel_threads`).
            if std::env::var_os("CANDLE_NUM_THREADS").is_none() {
                let cores = std::thread::available_parallelism().map_or(1, usize::from);
                std::env::set_var("CANDLE_NUM_THREADS", cores.to_string());
                std::env::set_var("RAYON_NUM_THREADS", cores.to_string());
            }
            let dir = model_dir()?;
            let taxonomy = postlens_analysis::tags::Taxonomy::parse(
                postlens_analysis::tags::SHOPIFY_TAXONOMY,
            )?;
            eprintln!("category index: checking {} …", dir.display());
            let path = postlens_models::category_index::ensure(
                &dir,
                &taxonomy,
                postlens_analysis::tags::SHOPIFY_TAXONOMY,
                &cache_dir(),
            )?;
            eprintln!("category index: {}", path.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Invoke { worker, event } => {
            let text = std::fs::read_to_string(&event)
                .with_context(|| format!("reading {}", event.display()))?;
            let output = worker.apply(Invoke { event: &text }).await?;
            println!("{}", serde_json::to_string_pretty(&output)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Hostile {
            worker,
            cases,
            dry_run,
        } => {
            let as_expected = worker
                .apply(Hostile {
                    cases: &cases,
                    dry_run,
                })
                .await?;
            Ok(if as_expected {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Demo {
            template,
            posts,
            documents,
            out,
            media,
            max_seconds,
        } => {
            demo::run(demo::DemoOptions {
                template,
                posts,
                documents: Some(documents),
                out_dir: out,
                media_dir: media,
                max_duration: std::time::Duration::from_secs(max_seconds),
            })
            .await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::LambdaSmoke {
            template,
            bootstrap_dir,
            runner,
            reference_dir,
            events,
            time_scale,
            only,
            out,
            log_level,
        } => {
            let options = lambda_smoke::SmokeOptions {
                template,
                bootstrap_dir,
                runner: runner.split_whitespace().map(str::to_owned).collect(),
                reference_dir,
                events_dir: events,
                time_scale,
                only,
                out_dir: out,
                log_level,
            };
            let cases = lambda_smoke::run(&options).await?;
            println!("{}", lambda_smoke::summary(&cases));
            let all_same = !cases.is_empty() && cases.iter().all(|case| case.same);
            println!(
                "{} of {} cases the same on both builds; report: {}",
                cases.iter().filter(|case| case.same).count(),
                cases.len(),
                options.out_dir.join("lambda-smoke.json").display()
            );
            Ok(if all_same {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::BenchServe => {
            bench_serve::run(&model_dir()?)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Stack { template, out } => {
            demo::serve(&template, &out).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn model_dir() -> anyhow::Result<PathBuf> {
    postlens_models::model_dir()
        .context("no models/ directory found and MODEL_DIR is not set: run `make models`")
}

/// `$POSTLENS_CACHE`, else `~/.cache/postlens`: model artefacts keyed by checksum.
fn cache_dir() -> PathBuf {
    std::env::var_os("POSTLENS_CACHE")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache/postlens"))
        })
        .unwrap_or_else(|| PathBuf::from(".cache/postlens"))
}

fn load_text_scorer_models() -> anyhow::Result<text_scorer::Models> {
    let dir = model_dir()?;
    text_scorer::Models::load(&dir)
        .with_context(|| format!("loading models from {}", dir.display()))
}

fn load_auto_tagger_models() -> anyhow::Result<auto_tagger::Models> {
    let dir = model_dir()?;
    auto_tagger::Models::load(&dir)
        .with_context(|| format!("loading models from {}", dir.display()))
}

fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// An empty in-memory S3, for commands whose inputs are all inline.
fn no_store() -> Arc<dyn postlens_runtime::ObjectStore> {
    Arc::new(MemoryStore::default())
}
