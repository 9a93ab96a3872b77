//! The CIFAR-10 reader and its download path, offline: a local HTTP server on 127.0.0.1 serves
//! an archive in the official format that the test builds from synthetic images.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};

use md5::{Digest, Md5};
use wgtrain::data::cifar10::{self, Cifar10, Split};
use wgtrain::data::{Dataset, Label};

fn scratch(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("wgtrain-data-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

/// A `.tar.gz` of `folder` (stored under its own name), as the official archive is laid out.
fn archive(folder: &Path) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    tar.append_dir_all(cifar10::FOLDER, folder).unwrap();
    tar.into_inner().unwrap().finish().unwrap()
}

/// Serves `body` to each of `requests` GETs (status 200, or 404 when `body` is None).
fn serve(body: Option<Vec<u8>>, requests: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(requests) {
            let mut s = stream.unwrap();
            let mut req = [0u8; 4096];
            let _ = s.read(&mut req);
            match &body {
                Some(b) => {
                    let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", b.len());
                    let _ = s.write_all(head.as_bytes()).and_then(|_| s.write_all(b));
                }
                None => {
                    let _ = s.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                }
            }
        }
    });
    format!("http://{addr}/cifar-10-binary.tar.gz")
}

fn md5_hex(bytes: &[u8]) -> String {
    format!("{:x}", Md5::digest(bytes))
}

#[test]
fn the_reader_parses_records_and_rejects_truncated_files() {
    let dir = scratch("reader");
    let (train, test) = (Cifar10::synthetic(23, 1), Cifar10::synthetic(7, 2));
    let folder = train.write_binary(&test, &dir).unwrap();
    let got = Cifar10::load(&dir, Split::Train).unwrap();
    assert_eq!(got.len(), 23);
    assert_eq!(got.labels(), train.labels());
    let e = got.get(4).unwrap();
    assert_eq!(e.y, Label::Class(train.labels()[4] as u32));
    assert_eq!(e.x[..5], train.image(4)[..5].iter().map(|&b| b as f32 / 255.0).collect::<Vec<_>>()[..]);
    assert_eq!(Cifar10::load(&folder, Split::Test).unwrap().len(), 7);

    let batch = folder.join("data_batch_3.bin");
    let bytes = std::fs::read(&batch).unwrap();
    std::fs::write(&batch, &bytes[..bytes.len() - 100]).unwrap();
    let err = Cifar10::load(&dir, Split::Train).unwrap_err().to_string();
    assert!(err.contains("data_batch_3.bin") && err.contains("truncated") && err.contains("--synthetic"), "{err}");
    let err = Cifar10::load(scratch("empty"), Split::Test).unwrap_err().to_string();
    assert!(err.contains("missing") && err.contains("--data"), "{err}");
}

#[test]
fn missing_data_is_downloaded_checked_and_extracted() {
    let src = scratch("src");
    let (train, test) = (Cifar10::synthetic(15, 3), Cifar10::synthetic(5, 4));
    let folder = train.write_binary(&test, &src).unwrap();
    let tgz = archive(&folder);
    let md5 = md5_hex(&tgz);

    let dir = scratch("download");
    let url = serve(Some(tgz.clone()), 1);
    let got = Cifar10::ensure(&dir, Split::Train, &url, &md5, false).unwrap();
    assert_eq!(got.labels(), train.labels());
    assert_eq!(Cifar10::load(&dir, Split::Test).unwrap().labels(), test.labels());
    // The archive is cached; nothing half-written is left behind.
    assert!(dir.join("cifar-10-binary.tar.gz").is_file());
    let names: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert!(!names.iter().any(|n| n.starts_with(".extract") || n.ends_with(".part")), "{names:?}");
    // A second call needs no server.
    assert_eq!(Cifar10::ensure(&dir, Split::Train, "http://127.0.0.1:9/none", &md5, false).unwrap().len(), 15);

    // A wrong checksum is refused and nothing is kept.
    let dir = scratch("badsum");
    let err =
        Cifar10::ensure(&dir, Split::Train, &serve(Some(tgz), 1), &"0".repeat(32), false).unwrap_err().to_string();
    assert!(err.contains("MD5") && err.contains(&md5), "{err}");
    assert!(!dir.join("cifar-10-binary.tar.gz").exists());
    // A server error says what to do offline.
    let err = Cifar10::ensure(scratch("404"), Split::Train, &serve(None, 1), &md5, false).unwrap_err().to_string();
    assert!(err.contains("404") && err.contains("--synthetic"), "{err}");
}

#[test]
fn archive_entries_outside_the_target_are_refused() {
    let dir = scratch("evil");
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    let mut header = tar::Header::new_gnu();
    let data = b"owned";
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    // set_path refuses "..", so write the raw name the way a hostile archive would.
    header.as_old_mut().name[..9].copy_from_slice(b"../escape");
    header.set_cksum();
    tar.append(&header, &data[..]).unwrap();
    let bytes = tar.into_inner().unwrap().finish().unwrap();
    let path = dir.join("evil.tar.gz");
    std::fs::write(&path, bytes).unwrap();
    let target = dir.join("out");
    std::fs::create_dir_all(&target).unwrap();
    let err = cifar10::extract(&path, &target).unwrap_err().to_string();
    assert!(err.contains("outside"), "{err}");
    assert!(!dir.join("escape").exists());
}
