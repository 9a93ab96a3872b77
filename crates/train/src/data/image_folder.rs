//! Keras' `image_dataset_from_directory`: a folder with one subfolder per class, its PNG and
//! JPEG pictures decoded (the `image` crate), resized, and split into training and validation
//! images by a seeded shuffle.

use std::path::{Path, PathBuf};

use rand::SeedableRng;
use rand::seq::SliceRandom;

use super::images::Images;
use crate::error::{Result, TrainError};

/// How [`image_dataset_from_directory`] reads a folder. `Default`: 256x256 RGB (Keras'
/// defaults), no validation split, seed 0.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageFolderOptions {
    /// Every picture is resized to `[height, width]` (bilinear, as Keras).
    pub image_size: [usize; 2],
    /// One channel (luma) instead of three (RGB).
    pub grayscale: bool,
    /// The fraction of the pictures, after a seeded shuffle, held out as validation images.
    pub validation_split: f32,
    /// The shuffle's seed.
    pub seed: u64,
}

impl Default for ImageFolderOptions {
    fn default() -> Self {
        ImageFolderOptions { image_size: [256, 256], grayscale: false, validation_split: 0.0, seed: 0 }
    }
}

fn bad(path: &Path, why: impl Into<String>) -> TrainError {
    TrainError::Data { file: path.display().to_string(), why: why.into() }
}

/// The pictures under `dir`, a class per subfolder (classes in alphanumeric order of their
/// folders' names, as Keras), as training images and, with a `validation_split`, validation
/// images. Files other than `.png`, `.jpg` and `.jpeg` are skipped; a picture that can't be
/// decoded is an error naming it. Everything is decoded into memory up front.
pub fn image_dataset_from_directory(dir: impl AsRef<Path>, o: &ImageFolderOptions) -> Result<(Images, Option<Images>)> {
    let dir = dir.as_ref();
    if !(0.0..1.0).contains(&o.validation_split) {
        return Err(bad(dir, format!("validation_split {} is not in [0, 1)", o.validation_split)));
    }
    if o.image_size.contains(&0) {
        return Err(bad(dir, format!("image_size {:?} has a zero side", o.image_size)));
    }
    let mut classes: Vec<(String, PathBuf)> = read_dir(dir)?
        .into_iter()
        .filter(|p| p.is_dir())
        .map(|p| (p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(), p))
        .collect();
    classes.sort();
    if classes.is_empty() {
        return Err(bad(dir, "has no class folders: put each class's pictures in a subfolder named after it"));
    }
    let mut files = Vec::new();
    for (label, (_, folder)) in classes.iter().enumerate() {
        let mut pictures: Vec<PathBuf> = read_dir(folder)?.into_iter().filter(|p| is_picture(p)).collect();
        pictures.sort();
        files.extend(pictures.into_iter().map(|p| (p, label as u32)));
    }
    if files.is_empty() {
        return Err(bad(dir, "its class folders hold no .png, .jpg or .jpeg pictures"));
    }
    files.shuffle(&mut rand::rngs::StdRng::seed_from_u64(o.seed));
    let [h, w] = o.image_size;
    let channels = if o.grayscale { 1 } else { 3 };
    let mut pixels = Vec::with_capacity(files.len() * channels * h * w);
    for (path, _) in &files {
        pixels.extend(decode(path, o)?);
    }
    let names = classes.into_iter().map(|(n, _)| n).collect();
    let labels = files.iter().map(|(_, l)| *l).collect();
    let mut train = Images::new(pixels, [channels, h, w], labels, names)?;
    let held = (files.len() as f32 * o.validation_split).floor() as usize;
    let validation = (held > 0).then(|| train.split_off(files.len() - held));
    Ok((train, validation))
}

fn read_dir(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => bad(dir, "no such folder"),
        _ => TrainError::Io { file: dir.display().to_string(), source: e },
    })?;
    entries
        .map(|e| e.map(|e| e.path()).map_err(|e| TrainError::Io { file: dir.display().to_string(), source: e }))
        .collect()
}

fn is_picture(path: &Path) -> bool {
    let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase());
    path.is_file() && matches!(ext.as_deref(), Some("png" | "jpg" | "jpeg"))
}

/// One picture, resized, as bytes channels first.
fn decode(path: &Path, o: &ImageFolderOptions) -> Result<Vec<u8>> {
    let picture = image::open(path).map_err(|e| bad(path, format!("not a readable PNG or JPEG picture: {e}")))?;
    let [h, w] = o.image_size;
    let resized = picture.resize_exact(w as u32, h as u32, image::imageops::FilterType::Triangle);
    let (interleaved, channels) =
        if o.grayscale { (resized.to_luma8().into_raw(), 1) } else { (resized.to_rgb8().into_raw(), 3) };
    // HWC to CHW.
    let mut out = vec![0u8; interleaved.len()];
    for (i, &v) in interleaved.iter().enumerate() {
        let (pixel, c) = (i / channels, i % channels);
        out[c * h * w + pixel] = v;
    }
    Ok(out)
}
