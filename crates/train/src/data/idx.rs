//! The MNIST family (MNIST, Fashion-MNIST): images and labels in the IDX format, raw or
//! gzipped, downloaded and MD5-checked like CIFAR-10 when missing.
//!
//! An IDX file is a big-endian header (two zero bytes, a type byte, 0x08 for u8, a rank byte,
//! then one u32 per dimension) followed by the values.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::download::Download;
use super::images::Images;
use crate::error::{Result, TrainError};

/// Which of the MNIST family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// LeCun's handwritten digits.
    Mnist,
    /// Zalando's Fashion-MNIST: ten kinds of clothing, MNIST's format.
    FashionMnist,
}

/// The training or the test files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdxSplit {
    /// 60,000 images.
    Train,
    /// 10,000 images.
    Test,
}

impl Family {
    /// The address the files are fetched from (its files under it), where `var` is unset.
    pub fn default_url(self) -> &'static str {
        match self {
            Family::Mnist => "https://ossci-datasets.s3.amazonaws.com/mnist/",
            Family::FashionMnist => "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        }
    }
    /// The environment variable naming a mirror (a folder URL holding the four `.gz` files).
    pub fn url_var(self) -> &'static str {
        match self {
            Family::Mnist => "WGTRAIN_MNIST_URL",
            Family::FashionMnist => "WGTRAIN_FASHION_MNIST_URL",
        }
    }
    /// The class names, by label.
    pub fn classes(self) -> Vec<String> {
        let names: [&str; 10] = match self {
            Family::Mnist => ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
            Family::FashionMnist => {
                ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot"]
            }
        };
        names.iter().map(|s| s.to_string()).collect()
    }
    /// The (images, labels) files of `split`, as published (gzipped), with their MD5s.
    pub fn files(self, split: IdxSplit) -> [(&'static str, &'static str); 2] {
        match (self, split) {
            (Family::Mnist, IdxSplit::Train) => [
                ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
                ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
            ],
            (Family::Mnist, IdxSplit::Test) => [
                ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
                ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
            ],
            (Family::FashionMnist, IdxSplit::Train) => [
                ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
                ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
            ],
            (Family::FashionMnist, IdxSplit::Test) => [
                ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
                ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
            ],
        }
    }
    /// The mirror named by [`url_var`](Self::url_var) when set and not empty, else the default.
    pub fn url(self) -> String {
        let var = std::env::var(self.url_var()).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        var.unwrap_or_else(|| self.default_url().to_string())
    }
}

fn bad(path: &Path, why: impl Into<String>) -> TrainError {
    TrainError::Data { file: path.display().to_string(), why: why.into() }
}

/// Reads `split` of `family` from `dir`: each file as published (`.gz`) or unpacked (the name
/// without `.gz`), whichever is there.
pub fn load(dir: impl AsRef<Path>, family: Family, split: IdxSplit) -> Result<Images> {
    let dir = dir.as_ref();
    let [(images_file, _), (labels_file, _)] = family.files(split);
    let (images_path, images) = read_either(dir, images_file, family)?;
    let (labels_path, labels) = read_either(dir, labels_file, family)?;
    let (dims, pixels) = parse(&images_path, &images, 3)?;
    let (label_dims, labels) = parse(&labels_path, &labels, 1)?;
    if label_dims[0] != dims[0] {
        let why = format!("{} labels for the {} images of {}", label_dims[0], dims[0], images_path.display());
        return Err(bad(&labels_path, why));
    }
    let classes = family.classes();
    if let Some((i, l)) = labels.iter().enumerate().find(|(_, l)| **l as usize >= classes.len()) {
        return Err(bad(&labels_path, format!("label {l} (item {i}) is not a class 0..{}", classes.len())));
    }
    Images::new(pixels.to_vec(), [1, dims[1], dims[2]], labels.iter().map(|&l| l as u32).collect(), classes)
}

/// Loads `split`, first downloading its missing files from `base_url` (each MD5-checked; see
/// [`Family::url`]). A failed download says what to do instead.
pub fn ensure(
    dir: impl AsRef<Path>,
    family: Family,
    split: IdxSplit,
    base_url: &str,
    progress: bool,
) -> Result<Images> {
    let dir = dir.as_ref();
    if dir.exists() && !dir.is_dir() {
        return Err(bad(dir, "is not a folder: pass --data DIR with the folder that holds the IDX files"));
    }
    for (name, md5) in family.files(split) {
        let unpacked = name.trim_end_matches(".gz");
        if dir.join(name).is_file() || dir.join(unpacked).is_file() {
            continue;
        }
        let url = format!("{}/{name}", base_url.trim_end_matches('/'));
        Download::new(url, md5).progress(progress).fetch(&dir.join(name)).map_err(|e| match e {
            TrainError::Download { url, why } => TrainError::Download {
                url,
                why: format!(
                    "{why}. To go on: retry later, use a mirror ({}=URL, a folder holding the four .gz files), or put {name} (or {unpacked}) in {}",
                    family.url_var(),
                    dir.display()
                ),
            },
            other => other,
        })?;
    }
    load(dir, family, split)
}

/// The bytes of `name` (gzipped) or of its unpacked twin, unpacked.
fn read_either(dir: &Path, name: &str, family: Family) -> Result<(PathBuf, Vec<u8>)> {
    let unpacked = dir.join(name.trim_end_matches(".gz"));
    let path = if dir.join(name).is_file() { dir.join(name) } else { unpacked };
    let bytes = std::fs::read(&path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            let why = format!(
                "missing: put {name} from {} (or its unpacked file) in {}, or let the trainer download it",
                family.default_url(),
                dir.display()
            );
            bad(&path, why)
        } else {
            TrainError::Io { file: path.display().to_string(), source: e }
        }
    })?;
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .map_err(|e| bad(&path, format!("not a readable gzip file ({e}): delete it and download it again")))?;
        return Ok((path, out));
    }
    Ok((path, bytes))
}

/// The dimensions and u8 values of an IDX file of `rank`, every size checked.
pub fn parse<'a>(path: &Path, bytes: &'a [u8], rank: usize) -> Result<(Vec<usize>, &'a [u8])> {
    let header = 4 + 4 * rank;
    if bytes.len() < header || bytes[0] != 0 || bytes[1] != 0 {
        return Err(bad(path, "not an IDX file (no IDX header): a corrupt or different file"));
    }
    if bytes[2] != 0x08 || bytes[3] as usize != rank {
        let why =
            format!("an IDX file of type {:#04x} and rank {}, expected u8 (0x08) and rank {rank}", bytes[2], bytes[3]);
        return Err(bad(path, why));
    }
    let dims: Vec<usize> =
        bytes[4..header].chunks_exact(4).map(|d| u32::from_be_bytes([d[0], d[1], d[2], d[3]]) as usize).collect();
    let values = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    match values {
        Some(n) if bytes.len() - header == n && dims.iter().all(|&d| d > 0) => Ok((dims, &bytes[header..])),
        _ => {
            let why = format!("dimensions {dims:?} but {} bytes of values (truncated download?)", bytes.len() - header);
            Err(bad(path, why))
        }
    }
}
