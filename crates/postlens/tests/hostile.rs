//! Each worker's hostile-input corpus (fixtures/hostile/WORKER.jsonl) through its real
//! handler, under a hard memory limit equal to the function's MemorySize in the template.
//!
//! Every case must end as exactly the one event it expects (an `ok` or a stable error code)
//! and none may be returned for retry; the process must not be killed. The limit is a
//! cgroup (v1 memory controller, as on these machines) where one can be made, else
//! `prlimit --data` (private writable memory, which is stricter than resident memory). The
//! objects the corpus puts in the in-memory S3 are added to the limit: in AWS they live in
//! S3, not in the function.

use std::path::{Path, PathBuf};
use std::process::Command;

use postlens_local_stack::topology::{EnvValue, Topology};
use serde_json::Value;

const CGROUP_ROOT: &str = "/sys/fs/cgroup/memory";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn models_present() -> bool {
    repo().join("models/manifest.json").exists()
}

/// The function's MemorySize and its literal environment, from the one template.
fn function(binary: &str) -> (u64, Vec<(String, String)>) {
    let topology = Topology::from_file(&repo().join("infra/template.yaml")).expect("template");
    let spec = topology.function(binary).expect("function in the template");
    let env = spec
        .environment
        .iter()
        // MODEL_DIR names the Lambda layer (/opt/models); here the models are the repo's.
        .filter(|(name, _)| name.as_str() != "MODEL_DIR")
        .filter_map(|(name, value)| match value {
            EnvValue::Literal(value) => Some((name.clone(), value.clone())),
            EnvValue::Ref(_) => None,
        })
        .collect();
    (u64::from(spec.memory_mb), env)
}

fn hostile(worker: &str, extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_postlens"));
    let cases = repo().join(format!("fixtures/hostile/{worker}.jsonl"));
    command
        .current_dir(repo())
        .args(["hostile", worker, "--cases"])
        .arg(cases)
        .args(extra);
    command
}

/// A memory limit the child cannot exceed, and what it used.
enum Limit {
    Cgroup(PathBuf),
    Prlimit(u64),
}

impl Limit {
    fn new(worker: &str, bytes: u64) -> Self {
        let dir = Path::new(CGROUP_ROOT).join(format!("postlens-{worker}-{}", std::process::id()));
        let made = std::fs::create_dir(&dir).is_ok()
            && std::fs::write(dir.join("memory.limit_in_bytes"), bytes.to_string()).is_ok();
        if made {
            // Without swap accounting the limit above is already hard; with it, close swap too.
            let _ = std::fs::write(dir.join("memory.memsw.limit_in_bytes"), bytes.to_string());
            Limit::Cgroup(dir)
        } else {
            let _ = std::fs::remove_dir(&dir);
            Limit::Prlimit(bytes)
        }
    }

    /// `command` wrapped so that it runs inside the limit.
    fn wrap(&self, command: &Command) -> Command {
        let program = command.get_program().to_owned();
        let args: Vec<_> = command.get_args().map(|a| a.to_owned()).collect();
        let mut wrapped = match self {
            Limit::Cgroup(dir) => {
                let mut sh = Command::new("sh");
                sh.arg("-c")
                    .arg("echo $$ > \"$0\" && exec \"$@\"")
                    .arg(dir.join("cgroup.procs"))
                    .arg(program)
                    .args(args);
                sh
            }
            Limit::Prlimit(bytes) => {
                let mut prlimit = Command::new("prlimit");
                prlimit
                    .arg(format!("--data={bytes}"))
                    .arg(program)
                    .args(args);
                prlimit
            }
        };
        if let Some(dir) = command.get_current_dir() {
            wrapped.current_dir(dir);
        }
        for (name, value) in command.get_envs() {
            if let Some(value) = value {
                wrapped.env(name, value);
            }
        }
        wrapped
    }

    fn describe(&self) -> String {
        match self {
            Limit::Cgroup(dir) => {
                let read = |file: &str| std::fs::read_to_string(dir.join(file)).unwrap_or_default();
                format!(
                    "cgroup: peak {} bytes, failcnt {}",
                    read("memory.max_usage_in_bytes").trim(),
                    read("memory.failcnt").trim()
                )
            }
            Limit::Prlimit(bytes) => format!("prlimit --data={bytes}"),
        }
    }
}

impl Drop for Limit {
    fn drop(&mut self) {
        if let Limit::Cgroup(dir) = self {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

fn run_under_memory_size(worker: &str) {
    let (memory_mb, env) = function(worker);
    let dry = hostile(worker, &["--dry-run"])
        .output()
        .expect("postlens runs");
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    let dry: Value = serde_json::from_slice(&dry.stdout).expect("dry-run JSON");
    let store_bytes = dry["store_bytes"].as_u64().expect("store_bytes");
    let limit_bytes = memory_mb * 1024 * 1024 + store_bytes;

    let mut command = hostile(worker, &[]);
    command.envs(env);
    // As Lambda sets it: the thumbnail generator sizes its decode pool by it.
    command.env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory_mb.to_string());
    let limit = Limit::new(worker, limit_bytes);
    let output = limit.wrap(&command).output().expect("postlens runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let usage = limit.describe();
    assert!(
        output.status.code().is_some(),
        "{worker} was killed under {memory_mb} MB + {store_bytes} store bytes ({usage}): {:?}\n{stderr}",
        output.status
    );
    let report: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{worker}: no report ({e}); {usage}\n{stderr}"));
    let cases = report["cases"].as_array().expect("cases");
    let wrong: Vec<&Value> = cases
        .iter()
        .filter(|c| c["as_expected"] != Value::Bool(true))
        .collect();
    assert!(
        wrong.is_empty(),
        "{worker}: cases not as expected: {wrong:#?}"
    );
    assert_eq!(report["published"].as_u64(), Some(cases.len() as u64));
    assert!(output.status.success(), "{worker}: {stderr}");
    let peak_kib = report["peak_rss_kib"].as_u64().unwrap_or(0);
    eprintln!(
        "{worker}: {} cases, peak RSS {} MiB ({} MiB of it the in-memory S3), limit {memory_mb} MB + store; {usage}",
        cases.len(),
        peak_kib / 1024,
        store_bytes / (1024 * 1024)
    );
}

/// A worker added to infra/workers.toml without a corpus, or without its arm in the
/// `hostile` command, fails here instead of going untested. (Its own test below, which runs
/// the corpus under its memory, is the one line to add per worker.)
#[test]
fn every_worker_of_the_template_has_a_hostile_corpus() {
    let topology = Topology::from_file(&repo().join("infra/template.yaml")).expect("template");
    assert!(topology.functions.len() >= 5, "{:?}", topology.functions);
    for function in &topology.functions {
        let dry = hostile(&function.binary, &["--dry-run"])
            .output()
            .expect("postlens runs");
        assert!(
            dry.status.success(),
            "{}: {}",
            function.binary,
            String::from_utf8_lossy(&dry.stderr)
        );
    }
}

#[test]
fn caption_parser_hostile_corpus_fits_its_memory() {
    run_under_memory_size("caption-parser");
}

#[test]
fn language_detector_hostile_corpus_fits_its_memory() {
    assert!(models_present(), "no models/: run `make models`");
    run_under_memory_size("language-detector");
}

#[test]
fn auto_tagger_hostile_corpus_fits_its_memory() {
    assert!(models_present(), "no models/: run `make models`");
    run_under_memory_size("auto-tagger");
}

#[test]
fn text_scorer_hostile_corpus_fits_its_memory() {
    assert!(models_present(), "no models/: run `make models`");
    run_under_memory_size("text-scorer");
}

#[test]
fn thumbnail_generator_hostile_corpus_fits_its_memory() {
    assert!(models_present(), "no models/: run `make models`");
    run_under_memory_size("thumbnail-generator");
}
