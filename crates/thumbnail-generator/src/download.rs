//! `video_url` downloads, for hosts on an allow-list only.
//!
//! Every hop (the first request and each redirect) must be https to an allowed host, and the
//! host must resolve only to public addresses: we connect to the address we checked, so a
//! DNS answer cannot swap in 169.254.169.254 or 10.x after the check. The body is streamed
//! and cut off at the media size cap; the whole download has a time limit.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use http::{StatusCode, Uri};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use postlens_runtime::RecordError;
use rustls::pki_types::ServerName;
use rustls::RootCertStore;
use tokio_rustls::TlsConnector;

use crate::error_codes::{
    MEDIA_TOO_LARGE, URL_FETCH_FAILED, URL_NOT_ALLOWED, URL_NOT_FOUND, URL_UNAVAILABLE,
};

const MAX_REDIRECTS: usize = 3;

/// Which `video_url`s may be fetched.
#[derive(Debug, Clone)]
pub struct UrlPolicy {
    /// Exact host names (`VIDEO_URL_HOSTS`); empty allows none.
    pub allowed_hosts: Vec<String>,
    /// Whole-download time limit.
    pub timeout: Duration,
    /// Lets tests reach a server on 127.0.0.1; never set from the environment.
    pub allow_private_addresses: bool,
}

impl Default for UrlPolicy {
    fn default() -> Self {
        Self {
            allowed_hosts: Vec::new(),
            timeout: Duration::from_secs(30),
            allow_private_addresses: false,
        }
    }
}

/// An allowed https target: host, port and the request path.
#[derive(Debug, PartialEq)]
struct Target {
    host: String,
    port: u16,
    path: String,
}

impl UrlPolicy {
    fn target(&self, url: &str) -> Result<Target, RecordError> {
        let refuse = |why: String| RecordError::permanent(URL_NOT_ALLOWED, why);
        let uri: Uri = url
            .parse()
            .map_err(|_| refuse("video_url is not a URL".to_owned()))?;
        if uri.scheme_str() != Some("https") {
            return Err(refuse("video_url must be https".to_owned()));
        }
        let authority = uri
            .authority()
            .ok_or_else(|| refuse("video_url has no host".to_owned()))?;
        if authority.as_str().contains('@') {
            return Err(refuse("video_url must not carry credentials".to_owned()));
        }
        let host = authority.host().to_ascii_lowercase();
        if !self.allowed_hosts.contains(&host) {
            // The host is the input's: the message says which rule, not which host.
            return Err(refuse(
                "the URL's host is not in VIDEO_URL_HOSTS (empty by default)".to_owned(),
            ));
        }
        Ok(Target {
            host,
            port: authority.port_u16().unwrap_or(443),
            path: uri
                .path_and_query()
                .map_or("/".to_owned(), |p| p.as_str().to_owned()),
        })
    }

    /// Why `url` may not be fetched, if it may not (checks only what needs no network).
    pub fn check(&self, url: &str) -> Result<(), RecordError> {
        self.target(url).map(|_| ())
    }
}

/// Public unicast addresses only: no private, loopback, link-local, CGNAT, multicast,
/// documentation or reserved ranges, and IPv4-mapped IPv6 judged as its IPv4.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => {
            let [first, second, ..] = a.octets();
            !(a.is_private()
                || a.is_loopback()
                || a.is_link_local()
                || a.is_unspecified()
                || a.is_broadcast()
                || a.is_multicast()
                || a.is_documentation()
                || first == 0
                || first >= 240
                || (first == 100 && (second & 0xC0) == 64))
        }
        IpAddr::V6(a) => {
            if let Some(v4) = embedded_ipv4(a) {
                return is_public(IpAddr::V4(v4));
            }
            let head = a.segments()[0];
            !(a.is_loopback()
                || a.is_unspecified()
                || a.is_multicast()
                || (head & 0xfe00) == 0xfc00
                || (head & 0xffc0) == 0xfe80
                || head == 0x2001 && a.segments()[1] == 0x0db8
                // Teredo: the client's IPv4 is obfuscated in it; nothing to judge, so no.
                || head == 0x2001 && a.segments()[1] == 0)
        }
    }
}

/// Where a redirect from `current` to `location` goes. Location is a URI reference (RFC
/// 9110 10.2.2): absolute, or relative to the current URL (`/a`, `a`, `../a`, `?q`),
/// resolved as RFC 3986 says. The result is checked like any other hop.
fn redirect_target(current: &str, location: &str) -> Result<String, RecordError> {
    url::Url::parse(current)
        .and_then(|base| base.join(location))
        .map(String::from)
        .map_err(|_| RecordError::permanent(URL_FETCH_FAILED, "redirect to an invalid Location"))
}

/// The IPv4 address an IPv6 address carries and reaches: IPv4-mapped (`::ffff:a.b.c.d`),
/// IPv4-compatible (`::a.b.c.d`, deprecated but routed by some stacks), NAT64
/// (`64:ff9b::/96` and the local-use `64:ff9b:1::/48`, RFC 6052 / 8215) and 6to4
/// (`2002:aabb:ccdd::/48`). Each reaches that IPv4 host, so each is judged as it.
fn embedded_ipv4(a: std::net::Ipv6Addr) -> Option<std::net::Ipv4Addr> {
    let s = a.segments();
    let last =
        std::net::Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if let Some(v4) = a.to_ipv4_mapped() {
        return Some(v4);
    }
    // ::a.b.c.d, but not :: and ::1 themselves (judged as IPv6 unspecified and loopback).
    if s[..6] == [0; 6] && (s[6] != 0 || s[7] > 1) {
        return Some(last);
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1) {
        return Some(last);
    }
    if s[0] == 0x2002 {
        return Some(std::net::Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        ));
    }
    None
}

/// Fetches `video_url`s over HTTPS within a [`UrlPolicy`].
pub struct Downloader {
    policy: UrlPolicy,
    tls: TlsConnector,
}

impl Downloader {
    /// With the system's root certificates.
    pub fn new(policy: UrlPolicy) -> Self {
        let mut roots = RootCertStore::empty();
        for cert in rustls_native_certs::load_native_certs().certs {
            // One unreadable system certificate must not disable downloads.
            let _ = roots.add(cert);
        }
        Self::with_roots(policy, roots)
    }

    /// With `roots` as the trusted certificates (tests use a local CA).
    pub fn with_roots(policy: UrlPolicy, roots: RootCertStore) -> Self {
        let config = rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth();
        Self {
            policy,
            tls: TlsConnector::from(Arc::new(config)),
        }
    }

    /// The hosts and limits downloads keep to.
    pub fn policy(&self) -> &UrlPolicy {
        &self.policy
    }

    /// The body of `url`, following at most three redirects, each checked like the first.
    pub async fn get(&self, url: &str, max_bytes: usize) -> Result<Vec<u8>, RecordError> {
        tokio::time::timeout(self.policy.timeout, self.follow(url, max_bytes))
            .await
            .unwrap_or_else(|_| {
                Err(RecordError::transient(
                    URL_UNAVAILABLE,
                    format!("download took longer than {:?}", self.policy.timeout),
                ))
            })
    }

    async fn follow(&self, url: &str, max_bytes: usize) -> Result<Vec<u8>, RecordError> {
        let mut url = url.to_owned();
        for _ in 0..=MAX_REDIRECTS {
            let target = self.policy.target(&url)?;
            let address = self.resolve(&target).await?;
            let response = self.request(address, &target).await?;
            let status = response.status();
            if status.is_redirection() {
                let location = response
                    .headers()
                    .get(http::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| {
                        RecordError::permanent(URL_FETCH_FAILED, "redirect without a Location")
                    })?;
                url = redirect_target(&url, location)?;
                continue;
            }
            return match status {
                StatusCode::OK => read_capped(response.into_body(), max_bytes).await,
                StatusCode::NOT_FOUND | StatusCode::GONE => Err(RecordError::permanent(
                    URL_NOT_FOUND,
                    format!("video_url answered {status}"),
                )),
                s if s.is_server_error() || s == StatusCode::TOO_MANY_REQUESTS => Err(
                    RecordError::transient(URL_UNAVAILABLE, format!("video_url answered {s}")),
                ),
                s => Err(RecordError::permanent(
                    URL_FETCH_FAILED,
                    format!("video_url answered {s}"),
                )),
            };
        }
        Err(RecordError::permanent(
            URL_FETCH_FAILED,
            format!("more than {MAX_REDIRECTS} redirects"),
        ))
    }

    async fn resolve(&self, target: &Target) -> Result<SocketAddr, RecordError> {
        let addresses: Vec<SocketAddr> =
            tokio::net::lookup_host((target.host.as_str(), target.port))
                .await
                .map_err(|e| {
                    RecordError::transient(URL_UNAVAILABLE, format!("{}: {e}", target.host))
                })?
                .collect();
        // Every answer must be public: otherwise a name with one public and one private
        // address could still steer us inside.
        if !self.policy.allow_private_addresses {
            if let Some(bad) = addresses.iter().find(|a| !is_public(a.ip())) {
                return Err(RecordError::permanent(
                    URL_NOT_ALLOWED,
                    format!(
                        "{} resolves to a non-public address {}",
                        target.host,
                        bad.ip()
                    ),
                ));
            }
        }
        addresses.first().copied().ok_or_else(|| {
            RecordError::transient(URL_UNAVAILABLE, format!("{} has no address", target.host))
        })
    }

    async fn request(
        &self,
        address: SocketAddr,
        target: &Target,
    ) -> Result<hyper::Response<hyper::body::Incoming>, RecordError> {
        let unavailable = |e: String| RecordError::transient(URL_UNAVAILABLE, e);
        let tcp = tokio::net::TcpStream::connect(address)
            .await
            .map_err(|e| unavailable(format!("connecting to {}: {e}", target.host)))?;
        let name = ServerName::try_from(target.host.clone())
            .map_err(|e| RecordError::permanent(URL_NOT_ALLOWED, e.to_string()))?;
        let tls = self
            .tls
            .connect(name, tcp)
            .await
            .map_err(|e| unavailable(format!("TLS with {}: {e}", target.host)))?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        tokio::spawn(connection);
        let request = hyper::Request::get(target.path.as_str())
            .header(http::header::HOST, target.host.as_str())
            .header(http::header::USER_AGENT, "postlens-thumbnail-generator")
            .body(Empty::<Bytes>::new())
            .map_err(|e| RecordError::permanent(URL_FETCH_FAILED, e.to_string()))?;
        sender
            .send_request(request)
            .await
            .map_err(|e| unavailable(e.to_string()))
    }
}

async fn read_capped(
    mut body: hyper::body::Incoming,
    max_bytes: usize,
) -> Result<Vec<u8>, RecordError> {
    let mut bytes = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| RecordError::transient(URL_UNAVAILABLE, e.to_string()))?;
        if let Some(data) = frame.data_ref() {
            if bytes.len() + data.len() > max_bytes {
                return Err(RecordError::permanent(
                    MEDIA_TOO_LARGE,
                    format!("the download is over {max_bytes} bytes"),
                ));
            }
            bytes.extend_from_slice(data);
        }
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_pass() {
        for private in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:10.0.0.1",
            "::ffff:127.0.0.1",
            // Reached through NAT64, IPv4-compatible and 6to4 forms: judged by the IPv4.
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::a00:1",
            "::127.0.0.1",
            "::10.0.0.1",
            "2002:7f00:1::",
            "2002:a9fe:a9fe::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
        ] {
            assert!(!is_public(private.parse().expect("ip")), "{private}");
        }
        for public in [
            "8.8.8.8",
            "151.101.1.69",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert!(is_public(public.parse().expect("ip")), "{public}");
        }
    }

    /// A relative Location without a leading `/` was taken as a whole URL and refused.
    #[test]
    fn relative_redirects_resolve_against_the_current_url() {
        let here = "https://cdn.example.com/v/2026/clip.mp4?sig=1";
        for (location, expected) in [
            ("other.mp4", "https://cdn.example.com/v/2026/other.mp4"),
            ("../b.mp4", "https://cdn.example.com/v/b.mp4"),
            ("/root.mp4", "https://cdn.example.com/root.mp4"),
            ("?sig=2", "https://cdn.example.com/v/2026/clip.mp4?sig=2"),
            ("https://cdn2.example.com/x", "https://cdn2.example.com/x"),
            ("//cdn3.example.com/y", "https://cdn3.example.com/y"),
        ] {
            assert_eq!(redirect_target(here, location).expect(location), expected);
        }
        let policy = UrlPolicy {
            allowed_hosts: vec!["cdn.example.com".to_owned()],
            ..UrlPolicy::default()
        };
        assert!(policy
            .check(&redirect_target(here, "other.mp4").expect("resolves"))
            .is_ok());
        // Resolved, then judged like any hop: http and other hosts are still refused.
        let off_list = redirect_target(here, "http://cdn.example.com/a").expect("resolves");
        assert!(policy.check(&off_list).is_err());
    }

    #[test]
    fn urls_must_be_https_to_an_allowed_host() {
        let policy = UrlPolicy {
            allowed_hosts: vec!["cdn.example.com".to_owned()],
            ..UrlPolicy::default()
        };
        assert_eq!(
            policy
                .target("https://CDN.example.com:8443/v.mp4?x=1")
                .expect("allowed"),
            Target {
                host: "cdn.example.com".to_owned(),
                port: 8443,
                path: "/v.mp4?x=1".to_owned(),
            }
        );
        for url in [
            "http://cdn.example.com/v.mp4",
            "https://evil.example.com/v.mp4",
            "https://cdn.example.com.evil.net/v.mp4",
            "https://user:pw@cdn.example.com/v.mp4",
            "https://169.254.169.254/latest/meta-data",
            "not a url",
        ] {
            let error = policy.check(url).expect_err(url);
            assert_eq!(error.code(), URL_NOT_ALLOWED, "{url}");
            assert!(!error.is_retryable());
        }
        let error = UrlPolicy::default()
            .check("https://cdn.example.com/v.mp4")
            .expect_err("empty allow-list");
        assert!(error.message().contains("VIDEO_URL_HOSTS"));
        assert!(
            !error.message().contains("cdn.example.com"),
            "no input in messages"
        );
    }
}
