//! CIFAR-10 from its official binary distribution: `cifar-10-batches-bin/` with
//! `data_batch_1..5.bin` (training, 50,000 images) and `test_batch.bin` (10,000), each a run of
//! 3073-byte records (a label byte, then the 32x32 red, green and blue planes).
//!
//! When the data is missing, [`Cifar10::ensure`] downloads `cifar-10-binary.tar.gz` (with
//! connect and stall timeouts, see [`Download`]), checks its MD5, and extracts only the batch
//! files from it (see [`super::extract`]): the rest of the data folder is never touched.
//! [`source`] is the official address, or the mirror named by `WGTRAIN_CIFAR10_URL`.

use std::path::{Path, PathBuf};

use md5::{Digest, Md5};
use rand::{Rng, SeedableRng};

use super::download::Download;
use super::extract::{self, Wanted};
use super::{Dataset, Example, Label};
use crate::error::{Result, TrainError};

/// The archive's official address.
pub const URL: &str = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";
/// Its official MD5.
pub const MD5: &str = "c32a1d4ab5d03f1284b67883e8d87530";
/// The folder the archive extracts to.
pub const FOLDER: &str = "cifar-10-batches-bin";
/// The environment variable naming a mirror of [`URL`] (same file, same MD5).
pub const URL_VAR: &str = "WGTRAIN_CIFAR10_URL";
/// The class names, by label.
pub const CLASSES: [&str; 10] =
    ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

/// Bytes per record: a label byte, then the image.
pub const RECORD: usize = 3073;
/// Bytes per image: 3 channels of 32x32.
pub const PIXELS: usize = 3072;
/// The archive's file name in the data folder.
pub const ARCHIVE: &str = "cifar-10-binary.tar.gz";
/// The batch files every copy of the data set has (what extraction requires).
const BATCHES: [&str; 6] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
    "test_batch.bin",
];

/// Which part of the data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// The 50,000 training images (data_batch_1..5.bin).
    Train,
    /// The 10,000 test images (test_batch.bin).
    Test,
}

impl Split {
    fn files(self) -> &'static [&'static str] {
        match self {
            Split::Train => &BATCHES[..5],
            Split::Test => &BATCHES[5..],
        }
    }
}

/// CIFAR-10 images (bytes, CHW) and labels in memory. As a [`Dataset`] an example is
/// `[3, 32, 32]` f32 in [0, 1] with its class.
#[derive(Debug, Clone)]
pub struct Cifar10 {
    images: Vec<u8>,
    labels: Vec<u8>,
}

fn missing_help(dir: &Path) -> String {
    format!(
        "put the CIFAR-10 binary distribution ({FOLDER}/ with data_batch_1..5.bin and test_batch.bin, or \
         {ARCHIVE} from {URL}) in {}, pass --data DIR, or use --synthetic N",
        dir.display()
    )
}

/// What to do when the download fails.
fn download_help(dir: &Path) -> String {
    format!("retry later, use a mirror (--data-url URL or {URL_VAR}=URL), or {}", missing_help(dir))
}

/// The official archive ([`URL`], [`MD5`]), or the mirror named by the environment variable
/// [`URL_VAR`] when it is set and not empty; default timeouts, no progress bar.
pub fn source() -> Download {
    Download::new(mirror(std::env::var(URL_VAR).ok()), MD5)
}

/// The address to use given the environment variable's value.
fn mirror(var: Option<String>) -> String {
    var.map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).unwrap_or_else(|| URL.to_string())
}

fn io(path: &Path, e: std::io::Error) -> TrainError {
    TrainError::Io { file: path.display().to_string(), source: e }
}

/// Refuses a data folder that exists as something else (a file), before reading or downloading.
fn not_a_file(dir: &Path) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        let why = "is not a folder: pass --data DIR with the folder that holds cifar-10-batches-bin/ (or that folder)";
        return Err(bad(dir, why));
    }
    Ok(())
}

fn bad(path: &Path, why: impl Into<String>) -> TrainError {
    TrainError::Data { file: path.display().to_string(), why: why.into() }
}

impl Cifar10 {
    /// Reads `split` from `dir`, which holds `cifar-10-batches-bin/` (or is that folder).
    pub fn load(dir: impl AsRef<Path>, split: Split) -> Result<Cifar10> {
        let dir = dir.as_ref();
        not_a_file(dir)?;
        let folder = if dir.join(FOLDER).is_dir() { dir.join(FOLDER) } else { dir.to_path_buf() };
        let (mut images, mut labels) = (Vec::new(), Vec::new());
        for name in split.files() {
            let path = folder.join(name);
            let bytes = std::fs::read(&path).map_err(|e| {
                if e.kind() == std::io::ErrorKind::NotFound {
                    bad(&path, format!("missing: {}", missing_help(dir)))
                } else {
                    io(&path, e)
                }
            })?;
            if bytes.is_empty() || bytes.len() % RECORD != 0 {
                let why = format!(
                    "{} bytes is not a whole number of {RECORD}-byte records (truncated download?): delete it and \
                     download again, or {}",
                    bytes.len(),
                    missing_help(dir)
                );
                return Err(bad(&path, why));
            }
            // chunks_exact yields whole RECORD-byte records (the length was checked above).
            for (k, rec) in bytes.chunks_exact(RECORD).enumerate() {
                let (label, image) = (rec[0], &rec[1..]);
                if label > 9 {
                    let why = format!(
                        "record {k} (byte {}) has label {label}, not a CIFAR-10 class (0..9): a corrupt or different \
                         file; delete it and download again",
                        k * RECORD
                    );
                    return Err(bad(&path, why));
                }
                labels.push(label);
                images.extend_from_slice(image);
            }
        }
        Ok(Cifar10 { images, labels })
    }

    /// Loads `split` from `dir`, first downloading the archive from `from` ([`source`] for the
    /// official one) and extracting its batch files when they are not there. A failed download
    /// says what to do instead (a mirror, `--data DIR`, `--synthetic N`).
    pub fn ensure(dir: impl AsRef<Path>, split: Split, from: &Download) -> Result<Cifar10> {
        let dir = dir.as_ref();
        not_a_file(dir)?;
        let have = |d: &Path| split.files().iter().all(|f| d.join(FOLDER).join(f).is_file() || d.join(f).is_file());
        if !have(dir) {
            let archive = dir.join(ARCHIVE);
            if !archive.is_file() {
                from.fetch(&archive).map_err(|e| match e {
                    TrainError::Download { url, why } => {
                        TrainError::Download { url, why: format!("{why}. To go on: {}", download_help(dir)) }
                    }
                    other => other,
                })?;
            } else {
                check_md5(&archive, &from.md5)?;
            }
            extract(&archive, dir)?;
        }
        Cifar10::load(dir, split)
    }

    /// `n` generated images in CIFAR's format whose label depends on their content: class `k`
    /// is a noisy image whose brightest colour channel and a bright stripe's position encode k.
    /// A pipeline demo and test set when the real data cannot be had. An error when the
    /// `n * 3072` bytes cannot be had (instead of an allocation abort).
    pub fn synthetic(n: usize, seed: u64) -> Result<Cifar10> {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let (mut images, mut labels) = (Vec::new(), Vec::new());
        let too_many = |what: String| {
            TrainError::config("Cifar10::synthetic", format!("{n} images ({what}) do not fit in host memory"))
        };
        let bytes = n.checked_mul(PIXELS).ok_or_else(|| too_many("more than usize::MAX bytes".into()))?;
        images.try_reserve_exact(bytes).map_err(|_| too_many(format!("{bytes} bytes")))?;
        labels.try_reserve_exact(n).map_err(|_| too_many(format!("{bytes} bytes")))?;
        for _ in 0..n {
            let k: u8 = rng.random_range(0..10);
            let (channel, band) = ((k % 3) as usize, (k / 3) as usize); // band 0..3
            for c in 0..3 {
                for y in 0..32 {
                    for x in 0..32 {
                        let mut v: f32 = rng.random_range(0.0..0.35);
                        if c == channel {
                            v += 0.3;
                        }
                        // A horizontal stripe 8 rows high at band k / 3 (band 3: the last class).
                        if y / 8 == band && (x + y) % 2 == 0 {
                            v += 0.35;
                        }
                        images.push((v.clamp(0.0, 1.0) * 255.0) as u8);
                    }
                }
            }
            labels.push(k);
        }
        Ok(Cifar10 { images, labels })
    }

    /// Writes the images as CIFAR binary files (`data_batch_1..5.bin` split evenly and
    /// `test_batch.bin` from `test`) into `dir/cifar-10-batches-bin`.
    pub fn write_binary(&self, test: &Cifar10, dir: impl AsRef<Path>) -> Result<PathBuf> {
        let folder = dir.as_ref().join(FOLDER);
        std::fs::create_dir_all(&folder).map_err(|e| io(&folder, e))?;
        let per = self.len().div_ceil(5).max(1);
        for (i, name) in Split::Train.files().iter().enumerate() {
            let range = (i * per).min(self.len())..((i + 1) * per).min(self.len());
            std::fs::write(folder.join(name), self.records(range)).map_err(|e| io(&folder.join(name), e))?;
        }
        std::fs::write(folder.join("test_batch.bin"), test.records(0..test.len())).map_err(|e| io(&folder, e))?;
        Ok(folder)
    }

    /// The records of images `range`, which callers keep within `0..len()`.
    fn records(&self, range: std::ops::Range<usize>) -> Vec<u8> {
        let mut out = Vec::with_capacity(range.len() * RECORD);
        for i in range {
            out.push(self.labels[i]);
            out.extend_from_slice(&self.images[i * PIXELS..(i + 1) * PIXELS]);
        }
        out
    }

    /// The first `n` images.
    pub fn truncated(mut self, n: usize) -> Cifar10 {
        let n = n.min(self.labels.len());
        self.labels.truncate(n);
        self.images.truncate(n * PIXELS);
        self
    }

    /// Moves the images from `at` on into a set of their own (a train/validation split).
    pub fn split_off(&mut self, at: usize) -> Cifar10 {
        let at = at.min(self.labels.len());
        Cifar10 { images: self.images.split_off(at * PIXELS), labels: self.labels.split_off(at) }
    }

    /// The class (0..10) of every image, in order.
    pub fn labels(&self) -> &[u8] {
        &self.labels
    }
    /// Image `i` as bytes, CHW; an error when there is no image `i`.
    pub fn image(&self, i: usize) -> Result<&[u8]> {
        let start = i.checked_mul(PIXELS).filter(|s| s.checked_add(PIXELS).is_some());
        start.and_then(|start| self.images.get(start..start + PIXELS)).ok_or_else(|| {
            TrainError::config("Cifar10::image", format!("index {i} out of range for {} images", self.labels.len()))
        })
    }
}

impl Dataset for Cifar10 {
    fn len(&self) -> usize {
        self.labels.len()
    }
    fn sample_shape(&self) -> Vec<usize> {
        vec![3, 32, 32]
    }
    fn get(&self, index: usize) -> Result<Example> {
        if index >= self.labels.len() {
            return Err(TrainError::config(
                "Cifar10",
                format!("index {index} out of range for {} images", self.labels.len()),
            ));
        }
        let x = self.image(index)?.iter().map(|&b| b as f32 / 255.0).collect();
        Ok(Example { x, y: Label::Class(self.labels[index] as u32) })
    }
}

/// Checks an existing archive's MD5.
fn check_md5(path: &Path, md5: &str) -> Result<()> {
    let mut f = std::fs::File::open(path).map_err(|e| io(path, e))?;
    let mut hasher = Md5::new();
    std::io::copy(&mut f, &mut hasher).map_err(|e| io(path, e))?;
    let got = format!("{:x}", hasher.finalize());
    if !got.eq_ignore_ascii_case(md5) {
        return Err(bad(path, format!("MD5 {got}, expected {md5}: delete the file to download it again")));
    }
    Ok(())
}

/// Extracts the six batch files (and `batches.meta.txt` when present) of a CIFAR-10 archive
/// into `dir/cifar-10-batches-bin`, adding those not already there and touching nothing else;
/// archives with links, absolute paths or `..` are refused (see [`super::extract`]).
pub fn extract(archive: &Path, dir: &Path) -> Result<PathBuf> {
    extract::extract(archive, dir, Wanted { folder: FOLDER, required: &BATCHES, optional: &["batches.meta.txt"] })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mirror_variable_replaces_the_official_url_unless_empty() {
        assert_eq!(mirror(None), URL);
        assert_eq!(mirror(Some(" ".into())), URL);
        assert_eq!(mirror(Some("http://mirror.example/c.tgz".into())), "http://mirror.example/c.tgz");
    }
}
