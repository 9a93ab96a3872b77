//! CIFAR-10 from its official binary distribution: `cifar-10-batches-bin/` with
//! `data_batch_1..5.bin` (training, 50,000 images) and `test_batch.bin` (10,000), each a run of
//! 3073-byte records (a label byte, then the 32x32 red, green and blue planes).
//!
//! When the data is missing, [`Cifar10::ensure`] downloads `cifar-10-binary.tar.gz` with a
//! progress bar, checks its MD5, and extracts it atomically (into a temporary folder renamed
//! into place), rejecting archive entries that would land outside the target folder.

use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

use md5::{Digest, Md5};
use rand::{Rng, SeedableRng};

use super::{Dataset, Example, Label};
use crate::error::{Result, TrainError};

/// The archive's official address.
pub const URL: &str = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";
/// Its official MD5.
pub const MD5: &str = "c32a1d4ab5d03f1284b67883e8d87530";
/// The folder the archive extracts to.
pub const FOLDER: &str = "cifar-10-batches-bin";
/// The class names, by label.
pub const CLASSES: [&str; 10] =
    ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

const RECORD: usize = 3073;
const PIXELS: usize = 3072;

/// Which part of the data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// The 50,000 training images (data_batch_1..5.bin).
    Train,
    /// The 10,000 test images (test_batch.bin).
    Test,
}

impl Split {
    fn files(self) -> Vec<String> {
        match self {
            Split::Train => (1..=5).map(|i| format!("data_batch_{i}.bin")).collect(),
            Split::Test => vec!["test_batch.bin".into()],
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
         cifar-10-binary.tar.gz from {URL}) in {}, pass --data DIR, or use --synthetic N",
        dir.display()
    )
}

fn io(path: &Path, e: std::io::Error) -> TrainError {
    TrainError::Io { file: path.display().to_string(), source: e }
}

fn bad(path: &Path, why: impl Into<String>) -> TrainError {
    TrainError::Checkpoint { file: path.display().to_string(), why: why.into() }
}

impl Cifar10 {
    /// Reads `split` from `dir`, which holds `cifar-10-batches-bin/` (or is that folder).
    pub fn load(dir: impl AsRef<Path>, split: Split) -> Result<Cifar10> {
        let dir = dir.as_ref();
        let folder = if dir.join(FOLDER).is_dir() { dir.join(FOLDER) } else { dir.to_path_buf() };
        let (mut images, mut labels) = (Vec::new(), Vec::new());
        for name in split.files() {
            let path = folder.join(&name);
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
            for rec in bytes.chunks_exact(RECORD) {
                if rec[0] > 9 {
                    return Err(bad(&path, format!("label {} is not a CIFAR-10 class (0..9)", rec[0])));
                }
                labels.push(rec[0]);
                images.extend_from_slice(&rec[1..]);
            }
        }
        Ok(Cifar10 { images, labels })
    }

    /// Loads `split` from `dir`, downloading and extracting the archive from `url` first when
    /// the files are not there (checking `md5`, the official [`MD5`] for the official [`URL`]).
    pub fn ensure(dir: impl AsRef<Path>, split: Split, url: &str, md5: &str, progress: bool) -> Result<Cifar10> {
        let dir = dir.as_ref();
        let have = |d: &Path| split.files().iter().all(|f| d.join(FOLDER).join(f).is_file() || d.join(f).is_file());
        if !have(dir) {
            let archive = dir.join("cifar-10-binary.tar.gz");
            if !archive.is_file() {
                download(url, &archive, md5, progress)?;
            } else {
                check_md5(&archive, md5)?;
            }
            extract(&archive, dir)?;
        }
        Cifar10::load(dir, split)
    }

    /// `n` generated images in CIFAR's format whose label depends on their content: class `k`
    /// is a noisy image whose brightest colour channel and a bright stripe's position encode k.
    /// A pipeline demo and test set when the real data cannot be had.
    pub fn synthetic(n: usize, seed: u64) -> Cifar10 {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut images = Vec::with_capacity(n * PIXELS);
        let mut labels = Vec::with_capacity(n);
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
        Cifar10 { images, labels }
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
    /// Image `i` as bytes, CHW.
    pub fn image(&self, i: usize) -> &[u8] {
        &self.images[i * PIXELS..(i + 1) * PIXELS]
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
        let x = self.image(index).iter().map(|&b| b as f32 / 255.0).collect();
        Ok(Example { x, y: Label::Class(self.labels[index] as u32) })
    }
}

/// Downloads `url` to `dest` through a `.part` file, checking the MD5 before the rename.
pub fn download(url: &str, dest: &Path, md5: &str, progress: bool) -> Result<()> {
    let fail = |why: String| {
        bad(
            dest,
            format!(
                "download from {url} failed: {why}; without network access, {}",
                missing_help(dest.parent().unwrap_or(dest))
            ),
        )
    };
    if let Some(dir) = dest.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    }
    let response = ureq::get(url).call().map_err(|e| fail(e.to_string()))?;
    let len = response.headers().get("content-length").and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let bar = if progress { indicatif::ProgressBar::new(len.unwrap_or(0)) } else { indicatif::ProgressBar::hidden() };
    if let Ok(style) = indicatif::ProgressStyle::with_template("{msg} {bar:30} {bytes}/{total_bytes} [{eta}]") {
        bar.set_style(style);
    }
    bar.set_message("downloading CIFAR-10");
    let mut reader = response.into_body().into_reader();
    let part = dest.with_extension("part");
    let mut file = std::fs::File::create(&part).map_err(|e| io(&part, e))?;
    let mut hasher = Md5::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = reader.read(&mut buf).map_err(|e| fail(e.to_string()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        file.write_all(&buf[..n]).map_err(|e| io(&part, e))?;
        bar.inc(n as u64);
    }
    file.sync_all().map_err(|e| io(&part, e))?;
    bar.finish_and_clear();
    let got = format!("{:x}", hasher.finalize());
    if got != md5 {
        let _ = std::fs::remove_file(&part);
        return Err(fail(format!("MD5 {got}, expected {md5} (a corrupt or different file)")));
    }
    std::fs::rename(&part, dest).map_err(|e| io(dest, e))
}

/// Checks an existing archive's MD5.
fn check_md5(path: &Path, md5: &str) -> Result<()> {
    let mut f = std::fs::File::open(path).map_err(|e| io(path, e))?;
    let mut hasher = Md5::new();
    std::io::copy(&mut f, &mut hasher).map_err(|e| io(path, e))?;
    let got = format!("{:x}", hasher.finalize());
    if got != md5 {
        return Err(bad(path, format!("MD5 {got}, expected {md5}: delete the file to download it again")));
    }
    Ok(())
}

/// Extracts a `.tar.gz` into `dir` atomically: into a temporary folder beside it, then each
/// top-level entry renamed into place. Entries with absolute paths or `..` are refused.
pub fn extract(archive: &Path, dir: &Path) -> Result<()> {
    let tmp = dir.join(format!(".extract-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| io(&tmp, e))?;
    let result = (|| -> Result<()> {
        let file = std::fs::File::open(archive).map_err(|e| io(archive, e))?;
        let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
        for entry in tar.entries().map_err(|e| bad(archive, format!("not a readable .tar.gz: {e}")))? {
            let mut entry = entry.map_err(|e| bad(archive, format!("corrupt archive: {e}")))?;
            let path = entry.path().map_err(|e| bad(archive, e.to_string()))?.into_owned();
            if path.components().any(|c| !matches!(c, Component::Normal(_) | Component::CurDir)) {
                return Err(bad(
                    archive,
                    format!("entry {} would be written outside {}", path.display(), dir.display()),
                ));
            }
            entry.unpack_in(&tmp).map_err(|e| bad(archive, format!("extracting {}: {e}", path.display())))?;
        }
        for item in std::fs::read_dir(&tmp).map_err(|e| io(&tmp, e))? {
            let item = item.map_err(|e| io(&tmp, e))?;
            let target = dir.join(item.file_name());
            if target.exists() {
                std::fs::remove_dir_all(&target).map_err(|e| io(&target, e))?;
            }
            std::fs::rename(item.path(), &target).map_err(|e| io(&target, e))?;
        }
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&tmp);
    result
}
