//! `postlens`: the workers' analysis on JSON lines, the real handlers in-process, and the
//! local stack. Every command runs the same batch engine the Lambdas run.

mod demo;
mod jsonl;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};

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
    /// Run a worker's real handler in-process on an SQS event file; print the batch
    /// response and the events it would publish.
    Invoke {
        worker: WorkerName,
        /// An SQS event, as `cargo lambda invoke --data-file` takes it.
        #[arg(long)]
        event: PathBuf,
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
        /// Stop waiting for queues to drain after this many seconds.
        #[arg(long, default_value_t = 180)]
        max_seconds: u64,
    },
    /// Start moto with the template's topology and keep it running, writing one env file per
    /// function for `cargo lambda watch --env-file`.
    Stack {
        #[arg(long, default_value = "infra/template.yaml")]
        template: PathBuf,
        #[arg(long, default_value = "out")]
        out: PathBuf,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum WorkerName {
    CaptionParser,
}

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    postlens_runtime::logging::init(postlens_runtime::logging::LogTarget::Stderr, "warn");
    let cli = Cli::parse();
    match cli.command {
        Command::Caption => {
            let stdin = tokio::io::stdin();
            let stdout = tokio::io::stdout();
            let summary = jsonl::run(caption_parser::CaptionParser::new(), stdin, stdout).await?;
            Ok(summary.exit_code())
        }
        Command::Invoke {
            worker: WorkerName::CaptionParser,
            event,
        } => {
            let text = std::fs::read_to_string(&event)
                .with_context(|| format!("reading {}", event.display()))?;
            let output = jsonl::invoke(caption_parser::CaptionParser::new(), &text).await?;
            println!("{}", serde_json::to_string_pretty(&output)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo {
            template,
            posts,
            documents,
            out,
            max_seconds,
        } => {
            demo::run(demo::DemoOptions {
                template,
                posts,
                documents: Some(documents),
                out_dir: out,
                max_duration: std::time::Duration::from_secs(max_seconds),
            })
            .await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Stack { template, out } => {
            demo::serve(&template, &out).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
