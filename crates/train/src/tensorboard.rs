//! TensorBoard event files, written directly: TFRecord framing (length, masked CRC-32C of the
//! length, payload, masked CRC-32C of the payload) around `Event` protocol buffers encoded by
//! hand (the few fields used: wall time, step, file version, and summaries of scalars and
//! histograms). The `tensorboard` program reads the files this writes.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::{Result, TrainError};

/// Appends events to one `events.out.tfevents.*` file in a log folder.
pub struct EventWriter {
    path: PathBuf,
    file: std::fs::File,
}

impl EventWriter {
    /// Creates the folder and a new event file in it (starting with the file-version event).
    pub fn new(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        let io = |e| TrainError::Io { file: dir.display().to_string(), source: e };
        std::fs::create_dir_all(dir).map_err(io)?;
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        let path = dir.join(format!("events.out.tfevents.{}.wgtrain.{}", now.as_secs(), std::process::id()));
        let file = std::fs::File::create(&path).map_err(io)?;
        let mut w = EventWriter { path, file };
        let mut event = Vec::new();
        field_double(&mut event, 1, wall_time());
        field_bytes(&mut event, 3, b"brain.Event:2");
        w.write_record(&event)?;
        Ok(w)
    }

    /// The event file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A scalar `value` of series `tag` at `step`.
    pub fn scalar(&mut self, tag: &str, step: u64, value: f32) -> Result<()> {
        let mut v = Vec::new();
        field_bytes(&mut v, 1, tag.as_bytes());
        v.push(0x15); // field 2, 32-bit: simple_value
        v.extend(value.to_le_bytes());
        self.summary(step, &v)
    }

    /// A histogram of `values` (30 equal-width buckets) of series `tag` at `step`.
    pub fn histogram(&mut self, tag: &str, step: u64, values: &[f32]) -> Result<()> {
        let finite: Vec<f64> = values.iter().filter(|v| v.is_finite()).map(|&v| v as f64).collect();
        let (min, max) = finite.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
        let (min, max) = if finite.is_empty() { (0.0, 0.0) } else { (min, max) };
        let buckets = 30;
        let width = ((max - min) / buckets as f64).max(1e-12);
        let mut counts = vec![0.0f64; buckets];
        for &v in &finite {
            counts[(((v - min) / width) as usize).min(buckets - 1)] += 1.0;
        }
        let limits: Vec<f64> = (1..=buckets).map(|i| min + width * i as f64).collect();
        let mut h = Vec::new();
        field_double(&mut h, 1, min);
        field_double(&mut h, 2, max);
        field_double(&mut h, 3, finite.len() as f64);
        field_double(&mut h, 4, finite.iter().sum());
        field_double(&mut h, 5, finite.iter().map(|v| v * v).sum());
        field_bytes(&mut h, 6, &packed(&limits));
        field_bytes(&mut h, 7, &packed(&counts));
        let mut v = Vec::new();
        field_bytes(&mut v, 1, tag.as_bytes());
        field_bytes(&mut v, 5, &h);
        self.summary(step, &v)
    }

    /// An event at `step` holding one encoded `Summary.Value`.
    fn summary(&mut self, step: u64, value: &[u8]) -> Result<()> {
        let mut summary = Vec::new();
        field_bytes(&mut summary, 1, value);
        let mut event = Vec::new();
        field_double(&mut event, 1, wall_time());
        event.push(0x10); // field 2, varint: step
        varint(&mut event, step);
        field_bytes(&mut event, 5, &summary);
        self.write_record(&event)
    }

    fn write_record(&mut self, data: &[u8]) -> Result<()> {
        let len = (data.len() as u64).to_le_bytes();
        let mut rec = Vec::with_capacity(data.len() + 16);
        rec.extend(len);
        rec.extend(masked_crc(&len).to_le_bytes());
        rec.extend(data);
        rec.extend(masked_crc(data).to_le_bytes());
        // One write and a flush per record: a reader (or a crash) sees whole records only.
        self.file
            .write_all(&rec)
            .and_then(|_| self.file.flush())
            .map_err(|e| TrainError::Io { file: self.path.display().to_string(), source: e })
    }
}

fn wall_time() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64()
}

/// TFRecord's checksum: CRC-32C, rotated and offset so that checksums of data containing
/// checksums stay well distributed.
pub fn masked_crc(data: &[u8]) -> u32 {
    let c = crc32c::crc32c(data);
    c.rotate_right(15).wrapping_add(0xa282_ead8)
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A length-delimited field (wire type 2).
fn field_bytes(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
    varint(out, (field << 3) | 2);
    varint(out, bytes.len() as u64);
    out.extend(bytes);
}

/// A double field (wire type 1).
fn field_double(out: &mut Vec<u8>, field: u64, v: f64) {
    varint(out, (field << 3) | 1);
    out.extend(v.to_le_bytes());
}

fn packed(values: &[f64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}
