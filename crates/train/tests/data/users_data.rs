//! Users' own data (issue 24, item 12): the MNIST family's IDX files (raw or gzipped, checked,
//! downloaded with MD5s), a folder of PNG and JPEG pictures (Keras'
//! `image_dataset_from_directory`), and CSV files. Every data set is made on the fly.

use std::io::Write;
use std::path::Path;

use wgtrain::data::idx::{self, Family, IdxSplit};
use wgtrain::data::{CsvOptions, Dataset, ImageFolderOptions, Label, csv_dataset, image_dataset_from_directory};

use super::support::{Reply, scratch, serve};

/// An IDX file of u8 values with these dimensions.
fn idx_bytes(dims: &[u32], values: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, dims.len() as u8];
    dims.iter().for_each(|d| out.extend(d.to_be_bytes()));
    out.extend(values);
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// `n` 28x28 images whose pixels are `image index + row`, and labels `i % 10`.
pub(super) fn write_idx(dir: &Path, prefix: &str, n: usize, gzipped: bool) -> (Vec<u8>, Vec<u8>) {
    std::fs::create_dir_all(dir).unwrap();
    let pixels: Vec<u8> = (0..n * 784).map(|i| ((i / 784) + (i % 784) / 28) as u8).collect();
    let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
    let files = [
        (format!("{prefix}-images-idx3-ubyte"), idx_bytes(&[n as u32, 28, 28], &pixels)),
        (format!("{prefix}-labels-idx1-ubyte"), idx_bytes(&[n as u32], &labels)),
    ];
    for (name, bytes) in files {
        match gzipped {
            true => std::fs::write(dir.join(format!("{name}.gz")), gzip(&bytes)).unwrap(),
            false => std::fs::write(dir.join(name), bytes).unwrap(),
        }
    }
    (pixels, labels)
}

#[test]
fn idx_files_raw_or_gzipped_read_as_one_channel_images_with_their_classes() {
    let dir = scratch("idx_read");
    let (pixels, labels) = write_idx(&dir, "train", 12, true);
    write_idx(&dir, "t10k", 5, false);
    let train = idx::load(&dir, Family::Mnist, IdxSplit::Train).unwrap();
    assert_eq!((train.len(), train.shape()), (12, [1, 28, 28]));
    assert_eq!(train.image(3).unwrap(), &pixels[3 * 784..4 * 784]);
    assert_eq!(train.labels(), labels.iter().map(|&l| l as u32).collect::<Vec<_>>());
    let ex = train.get(3).unwrap();
    assert_eq!((ex.x[28 * 5], ex.y.clone()), (pixels[3 * 784 + 28 * 5] as f32 / 255.0, Label::Class(3)));
    let test = idx::load(&dir, Family::FashionMnist, IdxSplit::Test).unwrap();
    assert_eq!((test.len(), test.classes()[9].as_str()), (5, "boot"));
}

#[test]
fn broken_idx_files_are_refused_naming_the_file_and_the_fault() {
    let dir = scratch("idx_broken");
    write_idx(&dir, "t10k", 4, false);
    let images = dir.join("t10k-images-idx3-ubyte");
    let whole = std::fs::read(&images).unwrap();
    let cases: [(&str, Vec<u8>, &str); 4] = [
        ("truncated", whole[..whole.len() - 10].to_vec(), "truncated"),
        ("no header", vec![7; 40], "IDX header"),
        ("a rank-2 file", idx_bytes(&[4, 784], &whole[16..]), "rank 3"),
        ("bad gzip", vec![0x1f, 0x8b, 1, 2, 3], "gzip"),
    ];
    for (what, bytes, words) in cases {
        std::fs::write(&images, bytes).unwrap();
        let err = idx::load(&dir, Family::Mnist, IdxSplit::Test).expect_err(what).to_string();
        assert!(err.contains("t10k-images-idx3-ubyte") && err.contains(words), "{what}: {err}");
    }
    std::fs::write(&images, &whole).unwrap();
    std::fs::write(dir.join("t10k-labels-idx1-ubyte"), idx_bytes(&[4], &[1, 2, 10, 3])).unwrap();
    let err = idx::load(&dir, Family::Mnist, IdxSplit::Test).expect_err("label 10").to_string();
    assert!(err.contains("label 10"), "{err}");
    std::fs::remove_file(dir.join("t10k-labels-idx1-ubyte")).unwrap();
    let err = idx::load(&dir, Family::Mnist, IdxSplit::Test).expect_err("missing").to_string();
    assert!(err.contains("missing") && err.contains("t10k-labels-idx1-ubyte.gz"), "{err}");
}

#[test]
fn missing_idx_files_are_downloaded_and_their_checksums_checked() {
    let dir = scratch("idx_download");
    // The served bytes are not the published file: the MD5 check refuses them, and keeps nothing.
    let url = serve(Reply::Body(gzip(&idx_bytes(&[1, 28, 28], &[0; 784]))), 1);
    let base = url.rsplit_once('/').unwrap().0;
    let err = idx::ensure(&dir, Family::Mnist, IdxSplit::Test, base, false).expect_err("wrong MD5").to_string();
    assert!(err.contains("MD5") || err.contains("md5"), "{err}");
    assert!(err.contains("WGTRAIN_MNIST_URL"), "says how to use a mirror: {err}");
    assert!(!dir.join("t10k-images-idx3-ubyte.gz").exists(), "a file that failed its check is not kept");
    // Files already there are not fetched again (nothing listens at this address).
    write_idx(&dir, "t10k", 3, true);
    let got = idx::ensure(&dir, Family::Mnist, IdxSplit::Test, "http://127.0.0.1:9/", false).unwrap();
    assert_eq!(got.len(), 3);
}

/// A `w`x`h` picture of one colour, saved as PNG or JPEG by its extension.
pub(super) fn picture(path: &Path, w: u32, h: u32, rgb: [u8; 3]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    image::RgbImage::from_pixel(w, h, image::Rgb(rgb)).save(path).unwrap();
}

#[test]
fn a_folder_of_pictures_reads_as_classes_by_subfolder_resized_and_split() {
    let dir = scratch("image_folder");
    for i in 0..6 {
        picture(&dir.join(format!("cats/{i}.png")), 10 + i, 7, [200, 10, 10]);
        picture(&dir.join(format!("dogs/{i}.JPG")), 5, 9 + i, [10, 10, 200]);
    }
    std::fs::write(dir.join("cats/notes.txt"), "not a picture").unwrap();
    let o = ImageFolderOptions { image_size: [4, 6], validation_split: 0.25, seed: 3, ..Default::default() };
    let (train, val) = image_dataset_from_directory(&dir, &o).unwrap();
    let val = val.expect("a quarter held out");
    assert_eq!((train.len(), val.len(), train.shape()), (9, 3, [3, 4, 6]));
    assert_eq!(train.classes(), ["cats", "dogs"]);
    // Every picture is one colour: its class shows in its red and blue planes (JPEG's loss aside).
    for set in [&train, &val] {
        for i in 0..set.len() {
            let px = set.image(i).unwrap();
            let (red, blue) = (px[0] as i32, px[2 * 24] as i32);
            let want_cat = set.labels()[i] == 0;
            assert_eq!(red > blue, want_cat, "image {i}: red {red}, blue {blue}");
            assert!((red - if want_cat { 200 } else { 10 }).abs() < 12, "red {red}");
        }
    }
    // Both classes are in the training images, and the split follows the seed.
    assert!(train.labels().contains(&0) && train.labels().contains(&1));
    let (again, _) = image_dataset_from_directory(&dir, &o).unwrap();
    assert_eq!(again.labels(), train.labels());
    let gray = ImageFolderOptions { image_size: [4, 4], grayscale: true, ..Default::default() };
    let (g, none) = image_dataset_from_directory(&dir, &gray).unwrap();
    assert_eq!((g.shape(), g.len(), none.is_none()), ([1, 4, 4], 12, true));

    std::fs::write(dir.join("dogs/broken.png"), b"not a png").unwrap();
    let err = image_dataset_from_directory(&dir, &o).expect_err("a broken picture").to_string();
    assert!(err.contains("broken.png"), "{err}");
    let empty = scratch("image_folder_empty");
    std::fs::create_dir_all(&empty).unwrap();
    let err = image_dataset_from_directory(&empty, &o).expect_err("no classes").to_string();
    assert!(err.contains("class folders"), "{err}");
}

#[test]
fn csv_files_read_as_features_and_labels_with_errors_naming_line_and_column() {
    let dir = scratch("csv");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("iris.csv");
    std::fs::write(&path, "length, width ,species\n5.1,3.5,setosa\n6.2,2.9,virginica\n5.9,3.0,setosa\n").unwrap();
    let o = CsvOptions { label: "species".into(), ..Default::default() };
    let csv = csv_dataset(&path, &o).unwrap();
    assert_eq!(
        (csv.data.len(), csv.data.sample_shape(), csv.features.clone()),
        (3, vec![2], vec!["length".to_string(), "width".into()])
    );
    assert_eq!(csv.classes, ["setosa", "virginica"]);
    let second = csv.data.get(1).unwrap();
    assert_eq!((second.x, second.y), (vec![6.2, 2.9], Label::Class(1)));

    std::fs::write(&path, "a,label\n1,2\n3,0\n").unwrap();
    let numbered = csv_dataset(&path, &CsvOptions::default()).unwrap();
    assert_eq!((numbered.data.get(0).unwrap().y, numbered.classes.len()), (Label::Class(2), 0));
    let values = csv_dataset(&path, &CsvOptions { classes: false, ..Default::default() }).unwrap();
    assert_eq!(values.data.get(1).unwrap().y, Label::Values(vec![0.0]));

    for (text, words) in [
        ("a,label\n1,0\nx,1\n", vec!["line 3", "\"a\"", "\"x\""]),
        ("a,b\n1,0\n", vec!["no column \"label\""]),
        ("a,label\n1,0\n2\n", vec!["line 3"]),
        ("a,label\n", vec!["no rows"]),
    ] {
        std::fs::write(&path, text).unwrap();
        let err = csv_dataset(&path, &CsvOptions::default()).expect_err(text).to_string();
        assert!(words.iter().all(|w| err.contains(w)), "{text:?}: {err}");
    }
}
