//! `video_url` downloads against a real TLS server on 127.0.0.1 (a certificate for
//! `localhost` from a throwaway CA in fixtures/tls, trusted only by this test's downloader): redirects on and
//! off the allow-list, the size cap, status codes, and the private-address rule.

use std::sync::Arc;

use postlens_models::{model_dir, YoloxNano};
use postlens_runtime::{BatchEngine, MemorySink, MemoryStore};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use thumbnail_generator::{Destination, Downloader, ThumbnailGenerator, UrlPolicy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::TlsAcceptor;

fn fixture(path: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(format!(
        "{}/../../fixtures/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
}

/// Serves a few canned answers over TLS until the test ends; returns the port.
async fn serve() -> u16 {
    let cert = CertificateDer::from_pem_file(fixture("tls/localhost.crt")).expect("cert");
    let key = PrivateKeyDer::from_pem_file(fixture("tls/localhost.key")).expect("key");
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .expect("server config");
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let clip = std::fs::read(fixture("videos/cup-portrait.mp4")).expect("clip");
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let clip = clip.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&request);
                let path = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let (head, body): (String, Vec<u8>) = match path.as_str() {
                    "/clip.mp4" => ("200 OK".into(), clip),
                    "/hop" => (
                        format!("302 Found\r\nLocation: https://localhost:{port}/clip.mp4"),
                        vec![],
                    ),
                    "/relative" => ("301 Moved\r\nLocation: /clip.mp4".into(), vec![]),
                    "/away" => (
                        "302 Found\r\nLocation: https://elsewhere.example/clip.mp4".into(),
                        vec![],
                    ),
                    "/plain" => (
                        format!("302 Found\r\nLocation: http://localhost:{port}/clip.mp4"),
                        vec![],
                    ),
                    "/loop" => ("302 Found\r\nLocation: /loop".into(), vec![]),
                    "/busy" => ("503 Service Unavailable".into(), vec![]),
                    _ => ("404 Not Found".into(), vec![]),
                };
                let response = format!(
                    "HTTP/1.1 {head}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = tls.write_all(response.as_bytes()).await;
                let _ = tls.write_all(&body).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    port
}

fn downloader(allow_private: bool) -> Downloader {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(fixture("tls/ca.crt")).expect("ca"))
        .expect("root");
    Downloader::with_roots(
        UrlPolicy {
            allowed_hosts: vec!["localhost".to_owned()],
            allow_private_addresses: allow_private,
            ..UrlPolicy::default()
        },
        roots,
    )
}

#[tokio::test]
async fn downloads_follow_only_allowed_redirects_and_respect_the_cap() {
    let port = serve().await;
    let url = |path: &str| format!("https://localhost:{port}{path}");
    let clip_len = std::fs::metadata(fixture("videos/cup-portrait.mp4"))
        .expect("clip")
        .len();
    let fetch = downloader(true);
    for path in ["/clip.mp4", "/hop", "/relative"] {
        let bytes = fetch.get(&url(path), 10 << 20).await.expect(path);
        assert_eq!(bytes.len() as u64, clip_len, "{path}");
    }
    let code = |path: &'static str, cap: usize| {
        let fetch = &fetch;
        let url = url(path);
        async move { fetch.get(&url, cap).await.expect_err(path) }
    };
    assert_eq!(code("/away", 10 << 20).await.code(), "url_not_allowed");
    assert_eq!(code("/plain", 10 << 20).await.code(), "url_not_allowed");
    assert_eq!(code("/loop", 10 << 20).await.code(), "url_fetch_failed");
    assert_eq!(code("/missing", 10 << 20).await.code(), "url_not_found");
    let busy = code("/busy", 10 << 20).await;
    assert_eq!(busy.code(), "url_unavailable");
    assert!(busy.is_retryable());
    assert_eq!(code("/clip.mp4", 1000).await.code(), "media_too_large");

    // localhost resolves to 127.0.0.1, which the real policy refuses.
    let error = downloader(false)
        .get(&url("/clip.mp4"), 10 << 20)
        .await
        .expect_err("private");
    assert_eq!(error.code(), "url_not_allowed");
    assert!(
        error.message().contains("non-public"),
        "{}",
        error.message()
    );
}

#[tokio::test]
async fn a_post_with_a_video_url_becomes_thumbnails() {
    let port = serve().await;
    let detector = YoloxNano::load(
        &model_dir()
            .expect("models/ (make models)")
            .join("yolox-nano"),
    )
    .expect("YOLOX");
    let store = Arc::new(MemoryStore::default());
    let worker = ThumbnailGenerator::new(
        detector,
        Destination::S3 {
            store: store.clone(),
            bucket: "thumbs".to_owned(),
        },
    )
    .with_downloader(downloader(true));
    let sink = Arc::new(MemorySink::default());
    let engine = BatchEngine::new(worker, sink.clone());
    let mut record = aws_lambda_events::event::sqs::SqsMessage::default();
    record.message_id = Some("m1".to_owned());
    record.body = Some(
        serde_json::json!({"video_id": "remote", "video_url": format!("https://localhost:{port}/hop")})
            .to_string(),
    );
    engine.process_batch(&[record], None).await;
    let events = sink.take();
    assert_eq!(events.len(), 1);
    let event: serde_json::Value = serde_json::from_str(&events[0].message).expect("json");
    assert_eq!(event["status"], "ok", "{event}");
    assert_eq!(event["result"]["subject"]["label"], "cup");
    let uri = event["result"]["thumbnails"][0]["s3_uri"]
        .as_str()
        .expect("uri");
    assert!(store.object(uri).is_some(), "{uri} stored");
}
