//! The bad-input suite for data loading, archives, downloads and the CIFAR-10 trainer's flags:
//! every case feeds one malformed input and must end in an error of the right kind whose message
//! names what is wrong. A case that is accepted, fails with another kind of error, says too
//! little, or panics fails the suite (all cases run; the failures are listed together).
//!
//! Cases: data loading 15, archives 13, URLs and downloads 12, trainer flags 24 (64 in all).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;
use tar::EntryType;
use wgtrain::data::Dataset;
use wgtrain::data::cifar10::{self, Cifar10, FOLDER, RECORD, Split};
use wgtrain::data::download::Download;
use wgtrain::{Result, TrainError};

use super::support::{Reply, Tgz, batches, md5_hex, refused, scratch, serve};
use super::trainer_bin::Args;

/// One malformed input: what it is, the error kind expected, and what the message must say.
struct Case {
    name: String,
    kind: &'static str,
    says: Vec<String>,
    run: Box<dyn FnOnce() -> Result<()>>,
}

fn case(name: &str, kind: &'static str, says: &[&str], run: impl FnOnce() -> Result<()> + 'static) -> Case {
    Case { name: name.into(), kind, says: says.iter().map(|s| s.to_string()).collect(), run: Box::new(run) }
}

fn kind(e: &TrainError) -> &'static str {
    match e {
        TrainError::Data { .. } => "data",
        TrainError::Download { .. } => "download",
        TrainError::Config { .. } => "config",
        TrainError::Io { .. } => "io",
        _ => "other",
    }
}

/// Runs every case; fails listing each one that did not end in the expected error.
fn run_all(area: &str, cases: Vec<Case>, expected: usize) {
    assert_eq!(cases.len(), expected, "{area}: the module docs count {expected} cases");
    let mut failures = Vec::new();
    for c in cases {
        let (name, want, says) = (c.name, c.kind, c.says);
        match catch_unwind(AssertUnwindSafe(c.run)) {
            Err(_) => failures.push(format!("{name}: panicked")),
            Ok(Ok(())) => failures.push(format!("{name}: accepted")),
            Ok(Err(e)) => {
                let msg = e.to_string();
                if kind(&e) != want {
                    failures.push(format!("{name}: a {} error, expected {want}: {msg}", kind(&e)));
                }
                for s in says.iter().filter(|s| !msg.contains(s.as_str())) {
                    failures.push(format!("{name}: no {s:?} in: {msg}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{area}:\n{}", failures.join("\n"));
}

/// A data folder of good batches (20 training images, 5 test), changed by `change`.
fn folder(name: &str, change: impl FnOnce(&Path)) -> PathBuf {
    let dir = scratch(&format!("bad-{name}"));
    change(&batches(&dir, 20, 5));
    dir
}

/// Deterministic noise (a 64-bit LCG), so a failure reproduces.
fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 56) as u8
        })
        .collect()
}

fn load(dir: &Path, split: Split) -> Result<()> {
    Cifar10::load(dir, split).map(|_| ())
}

/// Sets the label byte of record `k` of `file` to `v`.
fn set_label(folder: &Path, file: &str, k: usize, v: u8) {
    let path = folder.join(file);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[k * RECORD] = v;
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn malformed_data_files_are_refused_naming_the_file_and_record() {
    let whole = noise(3 * RECORD, 11);
    let first_bad = (0..3).find(|k| whole[k * RECORD] > 9).unwrap();
    let (first, label) = (format!("record {first_bad}"), format!("label {}", whole[first_bad * RECORD]));
    let set = Cifar10::synthetic(20, 1).unwrap();
    let cases = vec![
        case("random bytes in whole records", "data", &["data_batch_1.bin", &first, &label, "0..9"], {
            let dir = folder("random", |f| std::fs::write(f.join("data_batch_1.bin"), &whole).unwrap());
            move || load(&dir, Split::Train)
        }),
        case("random bytes, not whole records", "data", &["data_batch_2.bin", "5000 bytes", "3073-byte records"], {
            let dir = folder("random-odd", |f| std::fs::write(f.join("data_batch_2.bin"), noise(5000, 3)).unwrap());
            move || load(&dir, Split::Train)
        }),
        case("a truncated batch", "data", &["data_batch_3.bin", "truncated", "download again"], {
            let dir = folder("truncated", |f| {
                let b = std::fs::read(f.join("data_batch_3.bin")).unwrap();
                std::fs::write(f.join("data_batch_3.bin"), &b[..b.len() - 100]).unwrap();
            });
            move || load(&dir, Split::Train)
        }),
        case("a batch with 5 extra bytes", "data", &["data_batch_4.bin", "not a whole number"], {
            let dir = folder("extra", |f| {
                let mut b = std::fs::read(f.join("data_batch_4.bin")).unwrap();
                b.extend_from_slice(&[0; 5]);
                std::fs::write(f.join("data_batch_4.bin"), b).unwrap();
            });
            move || load(&dir, Split::Train)
        }),
        case("an empty test batch", "data", &["test_batch.bin", "0 bytes"], {
            let dir = folder("empty-file", |f| std::fs::write(f.join("test_batch.bin"), b"").unwrap());
            move || load(&dir, Split::Test)
        }),
        case("an empty folder", "data", &["data_batch_1.bin", "missing", "--data", "--synthetic"], {
            let dir = scratch("bad-empty-folder");
            move || load(&dir, Split::Train)
        }),
        case("one batch file missing", "data", &["data_batch_5.bin", "missing"], {
            let dir = folder("one-missing", |f| std::fs::remove_file(f.join("data_batch_5.bin")).unwrap());
            move || load(&dir, Split::Train)
        }),
        case("label 10 at record 3", "data", &["data_batch_2.bin", "record 3", "label 10"], {
            let dir = folder("label10", |f| set_label(f, "data_batch_2.bin", 3, 10));
            move || load(&dir, Split::Train)
        }),
        case("label 255 at record 0 of the test batch", "data", &["test_batch.bin", "record 0", "label 255"], {
            let dir = folder("label255", |f| set_label(f, "test_batch.bin", 0, 255));
            move || load(&dir, Split::Test)
        }),
        case("a batch that is a folder", "io", &["data_batch_4.bin"], {
            let dir = folder("batch-dir", |f| {
                std::fs::remove_file(f.join("data_batch_4.bin")).unwrap();
                std::fs::create_dir(f.join("data_batch_4.bin")).unwrap();
            });
            move || load(&dir, Split::Train)
        }),
        case("the data folder is a file", "data", &["not a folder", "--data"], {
            let file = scratch("bad-data-file").join("data");
            std::fs::write(&file, b"x").unwrap();
            move || load(&file, Split::Train)
        }),
        case("image past the end", "config", &["index 20 out of range for 20 images"], {
            let set = set.clone();
            move || set.image(20).map(|_| ())
        }),
        case("image at usize::MAX", "config", &["out of range"], {
            let set = set.clone();
            move || set.image(usize::MAX).map(|_| ())
        }),
        case("get past the end", "config", &["index 21 out of range"], {
            let set = set.clone();
            move || set.get(21).map(|_| ())
        }),
        case("synthetic images beyond memory", "config", &["do not fit"], || {
            Cifar10::synthetic(usize::MAX / 1000, 0).map(|_| ())
        }),
    ];
    run_all("data loading", cases, 15);
}

/// The archive in `dir` is refused by extraction; afterwards no batch loads from `dir`.
fn extract(name: &str, tgz: Vec<u8>) -> impl FnOnce() -> Result<()> + use<> {
    let dir = scratch(&format!("bad-archive-{name}"));
    let path = dir.join(cifar10::ARCHIVE);
    std::fs::write(&path, tgz).unwrap();
    let name = name.to_string();
    move || {
        let r = cifar10::extract(&path, &dir).map(|_| ());
        assert!(load(&dir, Split::Train).is_err() && load(&dir, Split::Test).is_err(), "{name}: data left");
        r
    }
}

#[test]
fn bad_archives_are_refused_and_leave_nothing_that_loads() {
    let good = batches(&scratch("bad-archive-src"), 10, 3);
    let gzip = |b: &[u8]| {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b).unwrap();
        gz.finish().unwrap()
    };
    let whole = Tgz::new().cifar(&good).bytes();
    let plain_tar = {
        let mut t = tar::Builder::new(Vec::new());
        t.append_dir_all(FOLDER, &good).unwrap();
        t.into_inner().unwrap()
    };
    let batch = format!("{FOLDER}/test_batch.bin");
    let cases = vec![
        case("random bytes", "data", &["not a readable .tar.gz"], extract("random", noise(4096, 5))),
        case("an empty file", "data", &["not a readable .tar.gz"], extract("empty", Vec::new())),
        case("gzip of random bytes", "data", &["not a readable .tar.gz"], extract("gz-noise", gzip(&noise(4096, 6)))),
        case("a tar that is not gzipped", "data", &["not a readable .tar.gz"], extract("plain-tar", plain_tar)),
        case("truncated", "data", &["corrupt or truncated"], extract("truncated", whole[..whole.len() / 3].to_vec())),
        case("no batches in it", "data", &["lacks", "data_batch_1.bin"], {
            extract("no-batches", Tgz::new().file("readme.txt", b"hi").bytes())
        }),
        case("a symbolic link", "data", &["symbolic link", "/etc/passwd"], {
            extract("symlink", Tgz::new().link(EntryType::Symlink, &batch, "/etc/passwd").cifar(&good).bytes())
        }),
        case("a hard link", "data", &["hard link", "test_batch.bin"], {
            extract("hardlink", Tgz::new().link(EntryType::Link, &batch, "/etc/passwd").cifar(&good).bytes())
        }),
        case("../escape", "data", &["../escape", "outside"], {
            extract("dotdot", Tgz::new().raw(EntryType::Regular, "../escape", b"x").cifar(&good).bytes())
        }),
        case("an absolute path", "data", &["/tmp/wgtrain-abs", "outside"], {
            extract("absolute", Tgz::new().raw(EntryType::Regular, "/tmp/wgtrain-abs", b"x").cifar(&good).bytes())
        }),
        case("a FIFO entry", "data", &["fifo", "not a regular file"], {
            extract("fifo", Tgz::new().raw(EntryType::Fifo, "fifo", b"").cifar(&good).bytes())
        }),
        case("a cached archive with the wrong MD5", "data", &["MD5", "delete the file"], {
            let dir = scratch("bad-archive-md5");
            std::fs::write(dir.join(cifar10::ARCHIVE), &whole).unwrap();
            move || Cifar10::ensure(&dir, Split::Train, &cifar10::source()).map(|_| ())
        }),
        case("no archive at the path", "io", &["absent.tar.gz"], {
            let dir = scratch("bad-archive-absent");
            move || cifar10::extract(&dir.join("absent.tar.gz"), &dir).map(|_| ())
        }),
    ];
    run_all("archives", cases, 13);
}

/// Fetching `url` (1 s timeouts, expecting `md5`) fails, leaving nothing behind.
fn fetch(url: String, md5: &str) -> impl FnOnce() -> Result<()> + use<> {
    let dir = scratch(&format!("bad-url-{}", md5_hex(url.as_bytes())));
    let from = Download::new(url, md5).connect_timeout(Duration::from_secs(1)).stall_timeout(Duration::from_secs(1));
    move || {
        let r = from.fetch(&dir.join(cifar10::ARCHIVE));
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "{}: files left", from.url);
        r
    }
}

#[test]
fn bad_urls_and_bad_servers_fail_naming_the_url() {
    let body = b"not the archive".to_vec();
    let md5 = md5_hex(&body);
    let dead = refused();
    let cases = vec![
        case("not a url", "download", &["not a url", "not a URL"], fetch("not a url".into(), &md5)),
        case("an empty url", "download", &["not a URL"], fetch(String::new(), &md5)),
        case("ftp://", "download", &["ftp://host/c.tgz", "only http:// and https://"], {
            fetch("ftp://host/c.tgz".into(), &md5)
        }),
        case("file://", "download", &["file://", "only http://"], fetch("file:///etc/passwd".into(), &md5)),
        case("no host", "download", &["no host"], fetch("http:///c.tgz".into(), &md5)),
        case("a space in the host", "download", &["not a valid URL"], fetch("http://exa mple.org/c".into(), &md5)),
        case(
            "a port out of range",
            "download",
            &["127.0.0.1:99999", "port 99999"],
            fetch("http://127.0.0.1:99999/c".into(), &md5),
        ),
        case("an unreachable port", "download", &[&dead, "refused"], fetch(dead.clone(), &md5)),
        case("HTTP 404", "download", &["HTTP 404"], fetch(serve(Reply::NotFound, 1), &md5)),
        case(
            "another file (MD5)",
            "download",
            &["MD5", &md5],
            fetch(serve(Reply::Body(body.clone()), 1), &"0".repeat(32)),
        ),
        case(
            "a silent server",
            "download",
            &["sent nothing for 1 s", "stall timeout"],
            fetch(serve(Reply::Silent, 1), &md5),
        ),
        case("closed after 5000 bytes", "download", &["after 5000 of 9000 bytes"], {
            fetch(serve(Reply::Close { len: 9000, sent: vec![1; 5000] }, 1), &md5)
        }),
    ];
    run_all("URLs and downloads", cases, 12);
}

#[test]
fn the_trainers_bad_flags_are_refused_naming_the_flag_never_a_panic() {
    let cases: [(&[&str], &str, &str); 24] = [
        (&["--batch-size", "0"], "--batch-size", "at least 1"),
        (&["--batch-size", "-3"], "--batch-size", "whole number"),
        (&["--batch-size", "many"], "--batch-size", "whole number"),
        (&["--epochs", "0"], "--epochs", "at least 1"),
        (&["--lr", "-1"], "--lr", "positive finite"),
        (&["--lr", "0"], "--lr", "positive finite"),
        (&["--lr", "nan"], "--lr", "positive finite"),
        (&["--lr", "inf"], "--lr", "positive finite"),
        (&["--limit", "0"], "--limit", "at least 10"),
        (&["--limit", "9"], "--limit", "at least 10"),
        (&["--synthetic", "0"], "--synthetic", "at least 10"),
        (&["--or-synthetic", "5"], "--or-synthetic", "at least 10"),
        (&["--cutout", "33"], "--cutout", "at most 32"),
        (&["--zoom", "1"], "--zoom", "[0, 1)"),
        (&["--zoom", "-0.1"], "--zoom", "[0, 1)"),
        (&["--rotation", "181"], "--rotation", "[0, 180]"),
        (&["--rotation", "nan"], "--rotation", "[0, 180]"),
        (&["--color-jitter", "1.5"], "--color-jitter", "[0, 1]"),
        (&["--data-url", "not a url"], "--data-url", "not a URL"),
        (&["--data-url", "ftp://mirror/c.tgz"], "--data-url", "only http://"),
        (&["--download-timeout", "0"], "--download-timeout", "seconds in (0, 86400]"),
        (&["--download-timeout", "nan"], "--download-timeout", "seconds in (0, 86400]"),
        (&["--model", "vgg"], "--model", "vgg"),
        (&["--epochs"], "--epochs", "a value is required"),
    ];
    let mut failures = Vec::new();
    for (flags, flag, says) in cases {
        let argv = std::iter::once("cifar10").chain(flags.iter().copied());
        match catch_unwind(|| Args::try_parse_from(argv)) {
            Err(_) => failures.push(format!("{flags:?}: panicked")),
            Ok(Ok(_)) => failures.push(format!("{flags:?}: accepted")),
            Ok(Err(e)) => {
                let msg = e.to_string();
                if e.exit_code() == 0 || !msg.contains(flag) || !msg.contains(says) {
                    failures.push(format!("{flags:?}: exit {}, expected {flag} and {says:?} in: {msg}", e.exit_code()));
                }
            }
        }
    }
    assert!(failures.is_empty(), "trainer flags:\n{}", failures.join("\n"));
}
