//! The compiled-pipeline cache on disk (Vulkan's pipeline cache through wgpu): a program's
//! first run compiles every kernel it uses, and the next run on the same adapter and driver
//! starts from what the driver kept. The file is ours, not the driver's: an envelope with the
//! adapter's identity and a CRC-32C around wgpu's data, so a corrupt, truncated or foreign file
//! is ignored with a warning instead of being handed to the driver.
//!
//! Where: `$WGTRAIN_CACHE_DIR`, else `$XDG_CACHE_HOME/wgtrain`, else `~/.cache/wgtrain`;
//! `WGTRAIN_PIPELINE_CACHE=0` turns it off. One file per adapter (wgpu's
//! `pipeline_cache_key`), written through a temporary file and a rename when the device is
//! dropped (or [`crate::Device::save_pipeline_cache`]).

use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"WGTRPIPE";
const VERSION: u32 = 1;

/// Where the device's pipeline cache stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PipelineCacheStatus {
    /// No cache: turned off, no cache folder, or a backend without pipeline caches (only
    /// Vulkan has them). Says why.
    Off(String),
    /// No file yet: this run compiles everything and writes the file when the device goes.
    Cold,
    /// A file of this many bytes was loaded.
    Warm(u64),
    /// A file was there but not used, and why (corrupt, truncated, another adapter or driver).
    Ignored(String),
}

/// Which folder holds the pipeline cache.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PipelineCacheDir {
    /// `$WGTRAIN_CACHE_DIR`, `$XDG_CACHE_HOME/wgtrain` or `~/.cache/wgtrain`, unless
    /// `WGTRAIN_PIPELINE_CACHE=0`.
    #[default]
    Default,
    /// No cache on disk.
    Off,
    /// This folder.
    At(PathBuf),
}

impl PipelineCacheDir {
    fn resolve(&self) -> Option<PathBuf> {
        match self {
            PipelineCacheDir::Off => None,
            PipelineCacheDir::At(dir) => Some(dir.clone()),
            PipelineCacheDir::Default => {
                if std::env::var("WGTRAIN_PIPELINE_CACHE").is_ok_and(|v| v == "0") {
                    return None;
                }
                let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
                env("WGTRAIN_CACHE_DIR")
                    .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("wgtrain")))
                    .or_else(|| env("HOME").map(|d| d.join(".cache").join("wgtrain")))
            }
        }
    }
}

/// The cache file of one device: its path, the identity its envelope must carry, and the size
/// of what was loaded (a save that would write the same size again is skipped).
pub(crate) struct PipelineFile {
    path: PathBuf,
    identity: String,
    loaded: u64,
}

/// Opens the cache for `device` (which must have `PIPELINE_CACHE`): the wgpu cache to build
/// pipelines with, the file to save it to, and the status.
pub(crate) fn open(
    device: &wgpu::Device,
    info: &wgpu::AdapterInfo,
    dir: &PipelineCacheDir,
) -> (Option<wgpu::PipelineCache>, Option<PipelineFile>, PipelineCacheStatus) {
    let Some(key) = wgpu::util::pipeline_cache_key(info) else {
        return (None, None, PipelineCacheStatus::Off(format!("{:?} has no pipeline cache", info.backend)));
    };
    if !device.features().contains(wgpu::Features::PIPELINE_CACHE) {
        return (None, None, PipelineCacheStatus::Off("the adapter lacks PIPELINE_CACHE".into()));
    }
    let Some(dir) = dir.resolve() else {
        return (None, None, PipelineCacheStatus::Off("no cache folder (or WGTRAIN_PIPELINE_CACHE=0)".into()));
    };
    let path = dir.join(format!("{key}.bin"));
    // The driver and wgtrain's version are part of the identity: a driver update or a new
    // release starts cold rather than feeding the driver another build's data.
    let identity =
        format!("{} | {} {} | wgtrain {}", info.name, info.driver, info.driver_info, env!("CARGO_PKG_VERSION"));
    let file = std::fs::read(&path);
    let (data, status) = match &file {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (None, PipelineCacheStatus::Cold),
        Err(e) => (None, PipelineCacheStatus::Ignored(format!("{}: {e}", path.display()))),
        Ok(bytes) => match unwrap(bytes, &identity) {
            Ok(payload) => (Some(payload), PipelineCacheStatus::Warm(bytes.len() as u64)),
            Err(why) => (None, PipelineCacheStatus::Ignored(format!("{}: {why}", path.display()))),
        },
    };
    if let PipelineCacheStatus::Ignored(why) = &status {
        eprintln!("wgtrain: warning: pipeline cache ignored (it will be rewritten): {why}");
    }
    let loaded = data.as_ref().map_or(0, |d| d.len() as u64);
    // SAFETY: the data is either none or exactly what `get_data` of a wgpu pipeline cache
    // returned on an adapter with this identity (checked by the envelope's identity and
    // CRC-32C); `fallback: true` makes wgpu and the driver discard data they cannot use
    // (both also check their own headers: vendor, device, driver UUID).
    let cache = unsafe {
        device.create_pipeline_cache(&wgpu::PipelineCacheDescriptor {
            label: Some("wgtrain pipelines"),
            data,
            fallback: true,
        })
    };
    (Some(cache), Some(PipelineFile { path, identity, loaded }), status)
}

impl PipelineFile {
    /// Writes `cache`'s data (when it grew since it was loaded) through a temporary file and a
    /// rename, so a reader never sees half a file.
    pub(crate) fn save(&mut self, cache: &wgpu::PipelineCache) -> std::io::Result<()> {
        let Some(data) = cache.get_data() else { return Ok(()) };
        if data.len() as u64 == self.loaded {
            return Ok(());
        }
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let tmp = dir.join(format!(".{}.{}.tmp", std::process::id(), unique()));
        std::fs::write(&tmp, wrap(&data, &self.identity))?;
        std::fs::rename(&tmp, &self.path).inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })?;
        self.loaded = data.len() as u64;
        Ok(())
    }
}

fn unique() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// `MAGIC | version u32 | identity length u32 | identity | payload length u64 | crc32c u32 |
/// payload`, little-endian; the CRC covers the identity and the payload.
fn wrap(payload: &[u8], identity: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + identity.len() + 32);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(identity.len() as u32).to_le_bytes());
    out.extend_from_slice(identity.as_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    let crc = crc32c::crc32c_append(crc32c::crc32c(identity.as_bytes()), payload);
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// The payload of a file written by [`wrap`] for `identity`, or why it cannot be used.
fn unwrap<'a>(bytes: &'a [u8], identity: &str) -> Result<&'a [u8], String> {
    let mut rest = bytes;
    let mut take = |n: usize| -> Result<&'a [u8], String> {
        if rest.len() < n {
            return Err("truncated".into());
        }
        let (head, tail) = rest.split_at(n);
        rest = tail;
        Ok(head)
    };
    if take(8)? != MAGIC {
        return Err("not a wgtrain pipeline cache".into());
    }
    let version = u32::from_le_bytes(take(4)?.try_into().expect("4 bytes"));
    if version != VERSION {
        return Err(format!("format version {version}, this build reads {VERSION}"));
    }
    let id_len = u32::from_le_bytes(take(4)?.try_into().expect("4 bytes")) as usize;
    let saved = take(id_len)?;
    if saved != identity.as_bytes() {
        return Err(format!("made for {:?}, this is {identity:?}", String::from_utf8_lossy(saved)));
    }
    let len = u64::from_le_bytes(take(8)?.try_into().expect("8 bytes"));
    let crc = u32::from_le_bytes(take(4)?.try_into().expect("4 bytes"));
    if rest.len() as u64 != len {
        return Err(format!("payload of {} bytes, the header says {len}", rest.len()));
    }
    if crc32c::crc32c_append(crc32c::crc32c(saved), rest) != crc {
        return Err("checksum mismatch (corrupt)".into());
    }
    Ok(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_envelope_round_trips_and_refuses_every_damage() {
        let payload: Vec<u8> = (0..200u32).map(|i| (i * 7) as u8).collect();
        let file = wrap(&payload, "adapter A | driver 1");
        assert_eq!(unwrap(&file, "adapter A | driver 1").unwrap(), payload.as_slice());
        assert!(unwrap(&file, "adapter B | driver 1").unwrap_err().contains("made for"));
        for cut in [0, 7, 12, 30, file.len() - 1] {
            assert!(unwrap(&file[..cut], "adapter A | driver 1").is_err(), "cut {cut}");
        }
        for at in [0, 9, 20, file.len() - 1] {
            let mut bad = file.clone();
            bad[at] ^= 0x40;
            assert!(unwrap(&bad, "adapter A | driver 1").is_err(), "flip at {at}");
        }
    }
}
