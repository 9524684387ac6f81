//! `postlens-fuzz`: every fuzz target for a set time (`make fuzz`). Inputs that make a target
//! panic are written under `--findings` and the run exits non-zero.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use postlens_fuzz::{fuzz, seeds, Budget, TARGETS};

#[derive(Parser)]
#[command(about = "Fuzz postlens's parsers of untrusted input")]
struct Args {
    /// Seconds per target.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Mutator seed; a run is reproducible from it.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Only this target (caption, tagger_text, envelope, mp4, image, slop).
    #[arg(long)]
    target: Option<String>,
    #[arg(long, default_value = "fixtures")]
    fixtures: PathBuf,
    #[arg(long, default_value = "target/fuzz-findings")]
    findings: PathBuf,
}

fn main() -> anyhow::Result<ExitCode> {
    let args = Args::parse();
    // Panics are what we look for; their default report would flood the terminal.
    std::panic::set_hook(Box::new(|_| {}));
    let mut found = 0;
    println!("| target | seeds | seconds | executions | exec/s | findings |");
    println!("|---|---|---|---|---|---|");
    for target in TARGETS {
        if args
            .target
            .as_deref()
            .is_some_and(|name| name != target.name)
        {
            continue;
        }
        let corpus = seeds(&args.fixtures, target)?;
        let started = std::time::Instant::now();
        let report = fuzz(
            target,
            &corpus,
            Budget::Time(Duration::from_secs(args.seconds)),
            args.seed,
        );
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "| {} | {} | {:.0} | {} | {:.0} | {} |",
            target.name,
            corpus.len(),
            seconds,
            report.executions,
            report.executions as f64 / seconds,
            report.findings.len()
        );
        for (index, finding) in report.findings.iter().enumerate() {
            let dir = args.findings.join(target.name);
            std::fs::create_dir_all(&dir)?;
            let path = dir.join(format!("seed{}-{index}", args.seed));
            std::fs::write(&path, &finding.input)?;
            eprintln!("{}: {} ({})", target.name, finding.message, path.display());
        }
        found += report.findings.len();
    }
    Ok(if found == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
