//! The CIFAR-10 reader and its download path, offline: a local HTTP server on 127.0.0.1 serves
//! an archive in the official format that the test builds from synthetic images.

use wgtrain::TrainError;
use wgtrain::data::cifar10::{self, Cifar10, Split};
use wgtrain::data::download::Download;
use wgtrain::data::{Dataset, Label};

use super::support::{Reply, Tgz, md5_hex, names, scratch, serve};

#[test]
fn the_reader_parses_records_and_rejects_truncated_files() {
    let dir = scratch("reader");
    let (train, test) = (Cifar10::synthetic(23, 1).unwrap(), Cifar10::synthetic(7, 2).unwrap());
    let folder = train.write_binary(&test, &dir).unwrap();
    let got = Cifar10::load(&dir, Split::Train).unwrap();
    assert_eq!(got.len(), 23);
    assert_eq!(got.labels(), train.labels());
    let e = got.get(4).unwrap();
    assert_eq!(e.y, Label::Class(train.labels()[4] as u32));
    assert_eq!(e.x[..5], train.image(4).unwrap()[..5].iter().map(|&b| b as f32 / 255.0).collect::<Vec<_>>()[..]);
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
fn an_image_past_the_end_is_an_error_not_a_panic() {
    let set = Cifar10::synthetic(3, 1).unwrap();
    assert_eq!(set.image(2).unwrap().len(), cifar10::PIXELS);
    for i in [3, 1000, usize::MAX / 2, usize::MAX / cifar10::PIXELS, usize::MAX] {
        let err = set.image(i).unwrap_err();
        assert!(matches!(err, TrainError::Config { .. }), "{err}");
        assert!(err.to_string().contains(&format!("index {i} out of range for 3 images")), "{err}");
    }
}

#[test]
fn missing_data_is_downloaded_checked_and_extracted() {
    let src = scratch("src");
    let (train, test) = (Cifar10::synthetic(15, 3).unwrap(), Cifar10::synthetic(5, 4).unwrap());
    let folder = train.write_binary(&test, &src).unwrap();
    let tgz = Tgz::new().cifar(&folder).bytes();
    let md5 = md5_hex(&tgz);

    let dir = scratch("download");
    let got = Cifar10::ensure(&dir, Split::Train, &Download::new(serve(Reply::Body(tgz.clone()), 1), &md5)).unwrap();
    assert_eq!(got.labels(), train.labels());
    assert_eq!(Cifar10::load(&dir, Split::Test).unwrap().labels(), test.labels());
    // The archive is cached; nothing half-written is left behind.
    assert_eq!(names(&dir), [cifar10::FOLDER, cifar10::ARCHIVE]);
    // A second call needs no server.
    let nowhere = Download::new("http://127.0.0.1:9/none", &md5);
    assert_eq!(Cifar10::ensure(&dir, Split::Train, &nowhere).unwrap().len(), 15);

    // A wrong checksum is refused and nothing is kept.
    let dir = scratch("badsum");
    let from = Download::new(serve(Reply::Body(tgz), 1), "0".repeat(32));
    let err = Cifar10::ensure(&dir, Split::Train, &from).unwrap_err().to_string();
    assert!(err.contains("MD5") && err.contains(&md5), "{err}");
    assert!(names(&dir).is_empty(), "{:?}", names(&dir));
    // A server error says what to do offline.
    let err = Cifar10::ensure(scratch("404"), Split::Train, &Download::new(serve(Reply::NotFound, 1), &md5))
        .unwrap_err()
        .to_string();
    assert!(err.contains("404") && err.contains("--synthetic"), "{err}");
}
