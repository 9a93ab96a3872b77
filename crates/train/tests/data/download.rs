//! Downloads fail in bounded time, naming the URL and the timeout, and leave no file behind:
//! against a local server that never answers, one that stalls mid-file, one that closes early,
//! and an address where nothing listens. Timeouts of 1 s keep each test near a second.

use std::path::Path;
use std::time::Duration;

use wgtrain::TrainError;
use wgtrain::data::cifar10::{self, Cifar10, Split};
use wgtrain::data::download::Download;

use super::support::{Reply, names, refused, scratch, serve, within};

const ONE: Duration = Duration::from_secs(1);
/// Far beyond the 1 s timeouts: a download still running then has none.
const LIMIT: Duration = Duration::from_secs(15);

fn quick(url: &str) -> Download {
    Download::new(url, "0".repeat(32)).connect_timeout(ONE).stall_timeout(ONE)
}

/// Fetches `url` into a fresh folder within [`LIMIT`]; returns the error and the folder.
fn fetch_fails(name: &str, url: &str) -> (TrainError, Duration, std::path::PathBuf) {
    let dir = scratch(name);
    let (dest, from) = (dir.join(cifar10::ARCHIVE), quick(url));
    let (got, took) = within(LIMIT, move || from.fetch(&dest));
    (got.expect_err("the download should fail"), took, dir)
}

fn assert_nothing_left(dir: &Path) {
    assert!(names(dir).is_empty(), "left behind: {:?}", names(dir));
}

#[test]
fn a_server_that_never_answers_times_out_naming_the_url_and_the_timeout() {
    let url = serve(Reply::Silent, 1);
    let (err, took, dir) = fetch_fails("silent", &url);
    let msg = err.to_string();
    assert!(matches!(err, TrainError::Download { .. }), "{msg}");
    assert!(msg.contains(&url) && msg.contains("sent nothing for 1 s") && msg.contains("stall timeout"), "{msg}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert_nothing_left(&dir);
}

#[test]
fn a_download_that_stalls_mid_file_fails_and_leaves_no_part_file() {
    let url = serve(Reply::Stall { len: 100_000, sent: vec![7; 5000] }, 1);
    let (err, took, dir) = fetch_fails("stall", &url);
    let msg = err.to_string();
    assert!(matches!(err, TrainError::Download { .. }), "{msg}");
    assert!(msg.contains(&url) && msg.contains("1 s") && msg.contains("after 5000 of 100000 bytes"), "{msg}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert_nothing_left(&dir);
}

#[test]
fn a_stalled_cifar_download_says_what_to_do_and_a_retry_starts_clean() {
    let url = serve(Reply::Stall { len: 100_000, sent: vec![7; 5000] }, 1);
    let dir = scratch("stall-cifar");
    let (d, from) = (dir.clone(), quick(&url));
    let (got, _) = within(LIMIT, move || Cifar10::ensure(&d, Split::Train, &from));
    let msg = got.unwrap_err().to_string();
    for says in [url.as_str(), "1 s", "--data-url", cifar10::URL_VAR, "--data", "--synthetic", "retry"] {
        assert!(msg.contains(says), "no {says:?} in: {msg}");
    }
    // Nothing that a later run could take for the archive or the data.
    assert_nothing_left(&dir);
}

#[test]
fn a_refused_connection_fails_at_once() {
    let url = refused();
    let (err, took, dir) = fetch_fails("refused", &url);
    let msg = err.to_string();
    assert!(matches!(err, TrainError::Download { .. }) && msg.contains(&url) && msg.contains("refused"), "{msg}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert_nothing_left(&dir);
}

#[test]
fn a_server_that_closes_early_is_not_taken_for_a_whole_file() {
    let url = serve(Reply::Close { len: 100_000, sent: vec![7; 5000] }, 1);
    let (err, _, dir) = fetch_fails("close", &url);
    let msg = err.to_string();
    assert!(matches!(err, TrainError::Download { .. }) && msg.contains(&url) && msg.contains("5000"), "{msg}");
    assert_nothing_left(&dir);
}

#[test]
fn the_defaults_wait_30_s_to_connect_and_60_s_for_more_bytes() {
    let d = Download::new("http://127.0.0.1/x", "");
    assert_eq!((d.connect_timeout, d.stall_timeout), (Duration::from_secs(30), Duration::from_secs(60)));
    let err = quick("http://127.0.0.1/x").stall_timeout(Duration::ZERO).fetch(Path::new("unused")).unwrap_err();
    assert!(err.to_string().contains("longer than zero"), "{err}");
}
