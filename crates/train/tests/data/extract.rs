//! Extraction takes only the data set's batch files: a user's folder beside the data survives
//! byte for byte, files already there are kept, and archives with links, absolute paths or
//! `..` are refused whole; a corrupt archive leaves nothing that could later load.

use std::path::Path;

use tar::EntryType;
use wgtrain::TrainError;
use wgtrain::data::cifar10::{self, Cifar10, FOLDER, Split};

use super::support::{Tgz, batches, names, scratch};

/// A folder of synthetic batches to archive, and its train labels.
fn source(name: &str) -> (std::path::PathBuf, Vec<u8>) {
    let folder = batches(&scratch(name), 15, 4);
    let labels = Cifar10::load(&folder, Split::Train).unwrap().labels().to_vec();
    (folder, labels)
}

/// Extraction of `archive` into `dir` failed with a data error saying `says`, and left no
/// batch files (and no temporary folder) in `dir`.
fn refused(archive: &Path, dir: &Path, says: &[&str]) {
    let err = cifar10::extract(archive, dir).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, TrainError::Data { .. }), "{msg}");
    for s in says {
        assert!(msg.contains(s), "no {s:?} in: {msg}");
    }
    assert!(names(&dir.join(FOLDER)).is_empty(), "{:?}", names(&dir.join(FOLDER)));
    assert!(!names(dir).iter().any(|n| n.starts_with(".extract")), "{:?}", names(dir));
    assert!(Cifar10::load(dir, Split::Train).is_err());
}

#[test]
fn a_users_folder_beside_the_data_survives_byte_for_byte() {
    let (folder, labels) = source("precious-src");
    let dir = scratch("precious");
    std::fs::create_dir_all(dir.join("precious")).unwrap();
    let mine: Vec<u8> = (0..=255).collect();
    std::fs::write(dir.join("precious/file"), &mine).unwrap();
    std::fs::write(dir.join("notes.txt"), b"mine").unwrap();
    let archive = Tgz::new()
        .cifar(&folder)
        .dir("precious")
        .file("precious/file", b"the archive's")
        .file("precious/other", b"new")
        .file(&format!("{FOLDER}/readme.html"), b"<html>")
        .write(&scratch("precious-tgz"), "c.tar.gz");
    cifar10::extract(&archive, &dir).unwrap();
    assert_eq!(std::fs::read(dir.join("precious/file")).unwrap(), mine);
    assert_eq!(names(&dir.join("precious")), ["file"]);
    assert_eq!(std::fs::read(dir.join("notes.txt")).unwrap(), b"mine");
    assert_eq!(names(&dir), [FOLDER, "notes.txt", "precious"]);
    assert_eq!(Cifar10::load(&dir, Split::Train).unwrap().labels(), labels);
    assert!(!dir.join(FOLDER).join("readme.html").exists(), "only the batch files are taken");
}

#[test]
fn files_already_in_the_data_folder_are_kept() {
    let (folder, _) = source("keep-src");
    let dir = scratch("keep");
    std::fs::create_dir_all(dir.join(FOLDER)).unwrap();
    let theirs = Cifar10::synthetic(3, 9).unwrap();
    let own = theirs.write_binary(&theirs, scratch("keep-theirs")).unwrap().join("test_batch.bin");
    std::fs::copy(&own, dir.join(FOLDER).join("test_batch.bin")).unwrap();
    let before = std::fs::read(dir.join(FOLDER).join("test_batch.bin")).unwrap();
    cifar10::extract(&Tgz::new().cifar(&folder).write(&scratch("keep-tgz"), "c.tar.gz"), &dir).unwrap();
    assert_eq!(std::fs::read(dir.join(FOLDER).join("test_batch.bin")).unwrap(), before);
    assert_eq!(names(&dir.join(FOLDER)).len(), 6);
}

#[test]
fn a_symlink_entry_is_refused_and_never_followed() {
    let (folder, _) = source("symlink-src");
    let dir = scratch("symlink");
    // Every batch file is there, but the test batch is a link to a system file.
    let evil = scratch("symlink-evil");
    for n in names(&folder).iter().filter(|n| *n != "test_batch.bin") {
        std::fs::copy(folder.join(n), evil.join(n)).unwrap();
    }
    let archive = Tgz::new()
        .cifar(&evil)
        .link(EntryType::Symlink, &format!("{FOLDER}/test_batch.bin"), "/etc/passwd")
        .write(&scratch("symlink-tgz"), "c.tar.gz");
    refused(&archive, &dir, &["test_batch.bin", "symbolic link", "/etc/passwd"]);
    // A link anywhere in the archive, even where nothing is extracted, refuses it all.
    let archive = Tgz::new().cifar(&folder).link(EntryType::Symlink, "elsewhere", "/etc").write(&dir, "d.tar.gz");
    refused(&archive, &dir, &["elsewhere", "symbolic link"]);
}

#[test]
fn a_hard_link_entry_is_refused() {
    let (folder, _) = source("hardlink-src");
    let dir = scratch("hardlink");
    let archive = Tgz::new()
        .cifar(&folder)
        .link(EntryType::Link, &format!("{FOLDER}/batches.meta.txt"), &format!("{FOLDER}/data_batch_1.bin"))
        .write(&scratch("hardlink-tgz"), "c.tar.gz");
    refused(&archive, &dir, &["batches.meta.txt", "hard link"]);
}

#[test]
fn entries_outside_the_target_are_refused() {
    let (folder, _) = source("escape-src");
    let dir = scratch("escape");
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    for name in ["../escape", "/tmp/wgtrain-absolute-escape", "cifar-10-batches-bin/../../up"] {
        let archive = Tgz::new().raw(EntryType::Regular, name, b"owned").cifar(&folder).write(&dir, "e.tar.gz");
        refused(&archive, &out, &[name, "outside"]);
    }
    assert!(!dir.join("escape").exists() && !dir.join("up").exists());
    assert!(!Path::new("/tmp/wgtrain-absolute-escape").exists());
}

#[test]
fn a_truncated_or_corrupt_archive_leaves_nothing_that_loads() {
    let (folder, _) = source("corrupt-src");
    let good = Tgz::new().cifar(&folder).bytes();
    let dir = scratch("corrupt");
    let tmp = scratch("corrupt-tgz");
    // The gzip trailer holds the CRC of the whole stream, after the tar's last block: a changed
    // byte there, or a cut inside it, is caught too.
    let mut bad = good.clone();
    let n = bad.len();
    bad[n - 6] ^= 0xff;
    std::fs::write(tmp.join("crc.tar.gz"), &bad).unwrap();
    refused(&tmp.join("crc.tar.gz"), &dir, &["corrupt or truncated"]);
    for cut in [good.len() - 4, good.len() / 2] {
        std::fs::write(tmp.join("t.tar.gz"), &good[..cut]).unwrap();
        refused(&tmp.join("t.tar.gz"), &dir, &["corrupt or truncated"]);
    }
}

#[test]
fn an_archive_without_the_batches_is_refused_whole() {
    let (folder, _) = source("partial-src");
    let dir = scratch("partial");
    let some = scratch("partial-some");
    std::fs::copy(folder.join("data_batch_1.bin"), some.join("data_batch_1.bin")).unwrap();
    let archive = Tgz::new().cifar(&some).write(&scratch("partial-tgz"), "c.tar.gz");
    refused(&archive, &dir, &["lacks", "data_batch_2.bin", "test_batch.bin"]);
}
