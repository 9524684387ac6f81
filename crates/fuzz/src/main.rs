//! `postlens-fuzz`: every fuzz target for a set time (`make fuzz`). Inputs that make a target
//! panic are written under `--findings` and the run exits non-zero.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use postlens_fuzz::{fuzz, seeds, Budget, Current, TARGETS};

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
    /// Run this one input through `--target` (a saved finding) and stop.
    #[arg(long)]
    replay: Option<PathBuf>,
    /// An input running longer than this is a hang: it is saved and the run stops.
    #[arg(long, default_value_t = 10)]
    hang_seconds: u64,
}

/// A thread that saves the running input and exits the process when one runs too long: a
/// loop in a target cannot be caught like a panic.
fn watch_for_hangs(name: &'static str, current: Current, args: &Args) {
    let limit = Duration::from_secs(args.hang_seconds);
    let dir = args.findings.join(name);
    let seed = args.seed;
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_millis(500));
        let guard = current.lock().unwrap_or_else(|p| p.into_inner());
        match &*guard {
            Some((since, input)) if since.elapsed() > limit => {
                let _ = std::fs::create_dir_all(&dir);
                let path = dir.join(format!("seed{seed}-hang"));
                let _ = std::fs::write(&path, input);
                eprintln!("{name}: an input ran over {limit:?} ({})", path.display());
                std::process::exit(2);
            }
            Some(_) => {}
            // This target is done; the next one has its own watchdog.
            None => return,
        }
    });
}

fn main() -> anyhow::Result<ExitCode> {
    let args = Args::parse();
    if let Some(path) = &args.replay {
        let name = args.target.as_deref().unwrap_or_default();
        let target = TARGETS
            .iter()
            .find(|t| t.name == name)
            .ok_or_else(|| anyhow::anyhow!("--replay needs --target (one of the targets)"))?;
        (target.run)(&std::fs::read(path)?);
        println!("{name}: {} ran to the end", path.display());
        return Ok(ExitCode::SUCCESS);
    }
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
        let current: Current = Default::default();
        watch_for_hangs(target.name, current.clone(), &args);
        let report = fuzz(
            target,
            &corpus,
            Budget::Time(Duration::from_secs(args.seconds)),
            args.seed,
            Some(&current),
        );
        *current.lock().unwrap_or_else(|p| p.into_inner()) = None;
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
