//! Downloading a data set's archive over HTTP(S) with timeouts, so that a server which never
//! answers, or stops sending mid-file, fails in bounded time instead of hanging the trainer.
//!
//! The file is written to `<dest>.part`, its MD5 checked, and only then renamed to `dest`: a
//! failed, stalled or corrupt download leaves neither `dest` nor the `.part` file behind, so
//! nothing half-written can later pass as complete.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use md5::{Digest, Md5};

use crate::error::{Result, TrainError};

/// Default wait for a connection (DNS included).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default wait for the next bytes once connected (response headers or body): a server that
/// sends nothing for this long is taken as stalled.
pub const STALL_TIMEOUT: Duration = Duration::from_secs(60);

/// An archive to fetch: where from, its expected MD5, and how long to wait.
///
/// ```no_run
/// use std::time::Duration;
/// use wgtrain::data::download::Download;
///
/// Download::new("https://example.org/data.tar.gz", "c32a1d4ab5d03f1284b67883e8d87530")
///     .stall_timeout(Duration::from_secs(20))
///     .fetch(std::path::Path::new("data/data.tar.gz"))?;
/// # Ok::<(), wgtrain::TrainError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Download {
    /// The address (`http://` or `https://`).
    pub url: String,
    /// The expected MD5, lowercase hex.
    pub md5: String,
    /// How long to wait for a connection.
    pub connect_timeout: Duration,
    /// How long to wait for more bytes before taking the server as stalled.
    pub stall_timeout: Duration,
    /// Show a progress bar.
    pub progress: bool,
}

impl Download {
    /// Fetches `url`, expecting `md5`, with the default timeouts ([`CONNECT_TIMEOUT`],
    /// [`STALL_TIMEOUT`]) and no progress bar.
    pub fn new(url: impl Into<String>, md5: impl Into<String>) -> Download {
        Download {
            url: url.into(),
            md5: md5.into(),
            connect_timeout: CONNECT_TIMEOUT,
            stall_timeout: STALL_TIMEOUT,
            progress: false,
        }
    }
    /// Another address (a mirror), same file.
    pub fn url(mut self, url: impl Into<String>) -> Download {
        self.url = url.into();
        self
    }
    /// How long to wait for a connection.
    pub fn connect_timeout(mut self, d: Duration) -> Download {
        self.connect_timeout = d;
        self
    }
    /// How long to wait for more bytes before giving up.
    pub fn stall_timeout(mut self, d: Duration) -> Download {
        self.stall_timeout = d;
        self
    }
    /// Show a progress bar.
    pub fn progress(mut self, on: bool) -> Download {
        self.progress = on;
        self
    }

    /// Downloads to `dest` through `dest.part`, checking the MD5 before the rename. Fails with
    /// [`TrainError::Download`] (naming the URL, and the timeout when one expired) and leaves
    /// no file behind when the server cannot be reached, answers with an error, stalls, closes
    /// early or sends a file with another checksum.
    pub fn fetch(&self, dest: &Path) -> Result<()> {
        check_url(&self.url)?;
        if self.connect_timeout.is_zero() || self.stall_timeout.is_zero() {
            return Err(self.fail("timeouts must be longer than zero".into()));
        }
        if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_resolve(Some(self.connect_timeout))
            .timeout_connect(Some(self.connect_timeout))
            .timeout_per_read(Some(self.stall_timeout))
            .timeout_per_write(Some(self.stall_timeout))
            .build()
            .into();
        let response = agent.get(&self.url).call().map_err(|e| self.fail(self.describe(&e)))?;
        let len = response.headers().get("content-length").and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        let mut reader = response.into_body().into_reader();
        let part = Part::beside(dest);
        let (got, md5) = self.copy(&mut reader, &part.path, len)?;
        if let Some(len) = len.filter(|&len| len != got) {
            return Err(self.fail(format!("the server closed the connection after {got} of {len} bytes; retry")));
        }
        if !md5.eq_ignore_ascii_case(&self.md5) {
            let why = format!("MD5 {md5}, expected {} (a corrupt or different file: check the mirror)", self.md5);
            return Err(self.fail(why));
        }
        part.commit(dest)
    }

    /// Copies the body into the `.part` file; returns the byte count and the MD5 of the bytes.
    fn copy(&self, reader: &mut impl Read, part: &Path, len: Option<u64>) -> Result<(u64, String)> {
        let bar = if self.progress {
            indicatif::ProgressBar::new(len.unwrap_or(0))
        } else {
            indicatif::ProgressBar::hidden()
        };
        if let Ok(style) = indicatif::ProgressStyle::with_template("{msg} {bar:30} {bytes}/{total_bytes} [{eta}]") {
            bar.set_style(style);
        }
        bar.set_message(format!("downloading {}", self.url));
        let mut file = std::fs::File::create(part).map_err(|e| io(part, e))?;
        let mut hasher = Md5::new();
        let mut buf = vec![0u8; 1 << 16];
        let mut got = 0u64;
        loop {
            let n = match reader.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let of = len.map(|l| format!(" of {l}")).unwrap_or_default();
                    return Err(self.fail(format!("{} after {got}{of} bytes", self.describe_io(&e))));
                }
            };
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            file.write_all(&buf[..n]).map_err(|e| io(part, e))?;
            got += n as u64;
            bar.inc(n as u64);
        }
        file.sync_all().map_err(|e| io(part, e))?;
        bar.finish_and_clear();
        Ok((got, format!("{:x}", hasher.finalize())))
    }

    fn fail(&self, why: String) -> TrainError {
        TrainError::Download { url: self.url.clone(), why }
    }

    /// A ureq error in words, naming the timeout that expired.
    fn describe(&self, e: &ureq::Error) -> String {
        match e {
            ureq::Error::Timeout(t) => self.describe_timeout(*t),
            ureq::Error::StatusCode(code) => format!("the server answered HTTP {code}"),
            ureq::Error::Io(e) => self.describe_io(e),
            ureq::Error::ConnectionFailed => "could not connect".into(),
            ureq::Error::HostNotFound => "host not found".into(),
            other => other.to_string(),
        }
    }

    fn describe_timeout(&self, t: ureq::Timeout) -> String {
        match t {
            ureq::Timeout::Resolve | ureq::Timeout::Connect => {
                format!("no connection within {} (connect timeout)", secs(self.connect_timeout))
            }
            _ => format!("the server sent nothing for {} (stall timeout)", secs(self.stall_timeout)),
        }
    }

    fn describe_io(&self, e: &std::io::Error) -> String {
        if let Some(inner) = e.get_ref().and_then(|i| i.downcast_ref::<ureq::Error>()) {
            return self.describe(inner);
        }
        match e.kind() {
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
                format!("the server sent nothing for {} (stall timeout)", secs(self.stall_timeout))
            }
            std::io::ErrorKind::ConnectionRefused => "connection refused (nothing listens at that address)".into(),
            _ => e.to_string(),
        }
    }
}

/// Refuses what is not an `http://` or `https://` address with a host and a valid port, before
/// any network use.
pub fn check_url(url: &str) -> Result<()> {
    let bad = |why: String| TrainError::Download { url: url.to_string(), why };
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(bad("not a URL: expected http://HOST/PATH or https://HOST/PATH".into()));
    };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Err(bad(format!("unsupported scheme {scheme}://: only http:// and https:// are fetched")));
    }
    if rest.split(['/', '?', '#']).next().unwrap_or_default().is_empty() {
        return Err(bad("the URL has no host".into()));
    }
    let uri: ureq::http::Uri = url.parse().map_err(|e| bad(format!("not a valid URL: {e}")))?;
    // `Uri::port` is None for a port that is not a u16, and the request would then go to the
    // scheme's default port: check the digits after the host's last ':' here.
    let host_port = uri.authority().map(|a| a.as_str()).unwrap_or_default();
    let host_port = host_port.rsplit_once('@').map_or(host_port, |(_, h)| h);
    if let Some((_, port)) = host_port.rsplit_once(':').filter(|(_, p)| !p.contains(']')) {
        if !matches!(port.parse::<u16>(), Ok(p) if p > 0) {
            return Err(bad(format!("port {port} is not in 1..=65535")));
        }
    }
    Ok(())
}

/// A duration as people write it: "1 s", "0.5 s", "60 s".
fn secs(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

fn io(path: &Path, e: std::io::Error) -> TrainError {
    TrainError::Io { file: path.display().to_string(), source: e }
}

/// The `.part` file beside the destination: removed when dropped unless committed, so an error
/// (or a panic) anywhere in the download leaves nothing half-written.
struct Part {
    path: PathBuf,
}

impl Part {
    fn beside(dest: &Path) -> Part {
        let mut name = dest.file_name().unwrap_or_default().to_os_string();
        name.push(".part");
        Part { path: dest.with_file_name(name) }
    }

    /// Renames the checked file into place.
    fn commit(self, dest: &Path) -> Result<()> {
        std::fs::rename(&self.path, dest).map_err(|e| io(dest, e))
    }
}

impl Drop for Part {
    fn drop(&mut self) {
        // After a commit the file was renamed away and this finds nothing to remove.
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_and_https_urls_with_a_host_are_fetched() {
        assert!(check_url("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz").is_ok());
        assert!(check_url("http://127.0.0.1:8000/x.tar.gz").is_ok());
        assert!(check_url("http://[::1]:8000/x.tar.gz").is_ok() && check_url("http://[::1]/x").is_ok());
        for (url, says) in [
            ("not a url", "not a URL"),
            ("ftp://host/x", "ftp://"),
            ("http://", "no host"),
            ("http:///x", "no host"),
            ("http://127.0.0.1:99999/x", "port 99999 is not in 1..=65535"),
            ("http://127.0.0.1:0/x", "port 0"),
        ] {
            let e = check_url(url).unwrap_err().to_string();
            assert!(e.contains(says) && e.contains(url), "{url}: {e}");
        }
    }

    #[test]
    fn durations_read_as_seconds() {
        assert_eq!(secs(Duration::from_secs(60)), "60 s");
        assert_eq!(secs(Duration::from_millis(500)), "0.5 s");
    }
}
