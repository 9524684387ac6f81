//! A local AWS emulator (moto server) for integration tests and the local stack.
//!
//! moto is installed into the project's virtualenv by `make venv`; this module finds it,
//! starts it on a free loopback port, and gives SDK clients pointed at it.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

/// The one region every emulator client uses (moto keeps resources per region).
pub const REGION: &str = "us-east-1";

/// Why the emulator could not be started.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// `moto_server` is not where `make venv` puts it.
    #[error("moto_server not found (looked for {0}); run `make venv` to install it")]
    NotInstalled(String),
    /// The process could not be spawned.
    #[error("could not start moto_server: {0}")]
    Spawn(#[from] std::io::Error),
    /// The process started but never listened.
    #[error("moto_server did not accept connections on {0} within 30 s")]
    NotReady(String),
}

/// A running moto server; stopped when dropped.
pub struct Emulator {
    child: Child,
    /// `http://127.0.0.1:PORT`, for SDK clients and `AWS_ENDPOINT_URL`.
    pub endpoint: String,
}

impl Emulator {
    /// Starts moto from `MOTO_SERVER`, or from `.venv/bin/moto_server` in this directory or a parent.
    pub async fn start() -> Result<Self, EmulatorError> {
        let binary = find_moto_server()?;
        let port = free_port()?;
        let child = Command::new(&binary)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()?;
        let endpoint = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            if Instant::now() > deadline {
                return Err(EmulatorError::NotReady(endpoint));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(Self { child, endpoint })
    }

    /// SDK configuration for this emulator: fixed test credentials, one region.
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        sdk_config_for(&self.endpoint).await
    }

    /// Kills the server now, instead of when it is dropped.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// Shared SDK configuration for an emulator endpoint.
pub async fn sdk_config_for(endpoint: &str) -> aws_config::SdkConfig {
    let credentials = aws_sdk_sns::config::Credentials::new(
        "testing",
        "testing",
        None,
        None,
        "postlens-emulator",
    );
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(REGION))
        .credentials_provider(credentials)
        .endpoint_url(endpoint)
        .load()
        .await
}

/// S3 against an emulator needs path-style addressing (no bucket DNS names).
pub fn s3_client(config: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(true)
            .build(),
    )
}

fn find_moto_server() -> Result<PathBuf, EmulatorError> {
    if let Some(path) = std::env::var_os("MOTO_SERVER") {
        return Ok(PathBuf::from(path));
    }
    let start = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let mut searched = Vec::new();
    let mut dir: Option<&Path> = Some(&start);
    while let Some(current) = dir {
        let candidate = current.join(".venv/bin/moto_server");
        if candidate.is_file() {
            return Ok(candidate);
        }
        searched.push(candidate.display().to_string());
        dir = current.parent();
    }
    Err(EmulatorError::NotInstalled(
        searched.first().cloned().unwrap_or_default(),
    ))
}

fn free_port() -> std::io::Result<u16> {
    // Bind port 0 and release it; moto binds it right after. A race is possible but rare on
    // loopback, and a failed start is reported as NotReady.
    Ok(TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}
