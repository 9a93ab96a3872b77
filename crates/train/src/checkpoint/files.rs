//! How a checkpoint reaches the disk all-or-nothing.
//!
//! A checkpoint folder holds generations: each `save` writes its data files under names of a
//! new generation (`weights-7.safetensors`, `optimizer-7.safetensors`, ...), syncs them, and
//! only then commits by replacing `training.json` (the manifest, which names those files with
//! their sizes and CRC-32C checksums) through a synced temporary file and a rename. A rename
//! within a folder is atomic, so at every moment `training.json` names one complete
//! generation: a crash (or a full disk) before the rename leaves the previous save in force,
//! after it the new one. Files of other generations and temporary files left by killed
//! processes are removed after each commit. One writer per folder is assumed.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::error::{Result, TrainError};

/// The manifest's file name: the one file whose replacement commits a save.
pub(crate) const MANIFEST: &str = "training.json";
/// The data files a generation may have, by role.
pub(crate) const ROLES: &[&str] = &["weights", "optimizer", "callbacks"];

pub(crate) fn io(path: &Path, e: std::io::Error) -> TrainError {
    TrainError::Io { file: path.display().to_string(), source: e }
}

pub(crate) fn bad(path: &Path, why: impl Into<String>) -> TrainError {
    TrainError::Checkpoint { file: path.display().to_string(), why: why.into() }
}

/// Writes `bytes` to `path` and syncs them to the disk before returning.
fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut f = std::fs::File::create(path).map_err(|e| io(path, e))?;
    f.write_all(bytes).and_then(|_| f.sync_all()).map_err(|e| io(path, e))
}

/// Makes a rename or a removal in `dir` durable (a folder's entries are data of their own).
/// Not every platform can open a folder for syncing; there the rename is atomic but may be
/// undone by a power cut, never torn.
fn sync_dir(dir: &Path) {
    if let Ok(f) = std::fs::File::open(dir) {
        let _ = f.sync_all();
    }
}

fn parent(path: &Path) -> &Path {
    path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// The temporary name `write_atomic` uses for `path` in this process.
fn temp_name(path: &Path) -> PathBuf {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", std::process::id()));
    PathBuf::from(tmp)
}

/// Whether `name` is a temporary file of `write_atomic` for a file named `of`.
fn is_temp_of(name: &str, of: &str) -> bool {
    name.strip_prefix(of)
        .and_then(|r| r.strip_prefix(".tmp"))
        .is_some_and(|pid| pid.bytes().all(|b| b.is_ascii_digit()))
}

/// Writes `bytes` to `path` through a synced temporary file and a rename, so `path` holds
/// either its old or its new content, never a mix. Temporary files of earlier, killed writers
/// of the same path are removed.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = parent(path);
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let tmp = temp_name(path);
    if let Err(e) = write_synced(&tmp, bytes) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, path).map_err(|e| io(path, e))?;
    if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
        remove_matching(dir, |f| is_temp_of(f, name));
    }
    sync_dir(dir);
    Ok(())
}

/// Removes the files of `dir` whose names `doomed` picks (best effort: a file that cannot be
/// removed is only clutter, never part of the committed generation).
fn remove_matching(dir: &Path, doomed: impl Fn(&str) -> bool) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        if e.file_name().to_str().is_some_and(&doomed) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// `(role, generation)` of a generation's data file name, e.g. `weights-7.safetensors`.
fn parse_data_name(name: &str) -> Option<(&str, u64)> {
    let stem = name.strip_suffix(".safetensors")?;
    let (role, generation) = stem.rsplit_once('-')?;
    ROLES.contains(&role).then_some(())?;
    Some((role, generation.parse().ok()?))
}

/// The file name of `role`'s data in `generation`.
pub(crate) fn data_name(role: &str, generation: u64) -> String {
    format!("{role}-{generation}.safetensors")
}

/// A generation greater than any the folder holds, committed or not, so a new save never
/// writes over a file that a manifest might name.
fn next_generation(dir: &Path) -> u64 {
    let committed = std::fs::read(dir.join(MANIFEST))
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|m| m["generation"].as_u64())
        .unwrap_or(0);
    let on_disk = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(parse_data_name).map(|(_, g)| g))
        .max()
        .unwrap_or(0);
    committed.max(on_disk) + 1
}

/// Commits one generation into `dir`: writes and syncs each `(role, bytes)` data file, then
/// the manifest `meta` with a `"files"` entry naming them (size and CRC-32C each) and its
/// `"generation"`, then removes every other generation's files and stale temporary files.
pub(crate) fn commit(dir: &Path, data: &[(&str, Vec<u8>)], mut meta: Value) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let generation = next_generation(dir);
    let mut files = serde_json::Map::new();
    let mut written = Vec::new();
    for (role, bytes) in data {
        let name = data_name(role, generation);
        let path = dir.join(&name);
        written.push(path.clone());
        if let Err(e) = write_synced(&path, bytes) {
            written.iter().for_each(|p| drop(std::fs::remove_file(p)));
            return Err(e);
        }
        files.insert(role.to_string(), json!({ "name": name, "bytes": bytes.len(), "crc32c": crc32c::crc32c(bytes) }));
    }
    meta["generation"] = json!(generation);
    meta["files"] = Value::Object(files);
    let text = serde_json::to_vec_pretty(&meta).map_err(|e| bad(dir, e.to_string()))?;
    if let Err(e) = write_atomic(&dir.join(MANIFEST), &text) {
        written.iter().for_each(|p| drop(std::fs::remove_file(p)));
        return Err(e);
    }
    // Committed. What remains of older generations (and of the first checkpoint format, whose
    // data files had fixed names) is no longer named by the manifest.
    remove_matching(dir, |f| {
        parse_data_name(f).is_some_and(|(_, g)| g != generation)
            || f == "weights.safetensors"
            || f == "optimizer.safetensors"
    });
    sync_dir(dir);
    Ok(())
}

/// Reads the data file the manifest names for `role`, checking its size and checksum, so a
/// file changed or truncated after its save is refused instead of loaded.
pub(crate) fn read_data(dir: &Path, manifest: &Path, entry: &Value, role: &str) -> Result<Vec<u8>> {
    let field = |k: &str| format!("files.{role}.{k}");
    let name = entry["name"]
        .as_str()
        .ok_or_else(|| bad(manifest, format!("field {:?} is missing or not a string", field("name"))))?;
    if parse_data_name(name).is_none_or(|(r, _)| r != role) {
        return Err(bad(manifest, format!("field {:?} is {name:?}, not a {role} data file name", field("name"))));
    }
    let want_len = entry["bytes"]
        .as_u64()
        .ok_or_else(|| bad(manifest, format!("field {:?} is missing or not an integer", field("bytes"))))?;
    let want_crc = entry["crc32c"]
        .as_u64()
        .ok_or_else(|| bad(manifest, format!("field {:?} is missing or not an integer", field("crc32c"))))?;
    let path = dir.join(name);
    let bytes = std::fs::read(&path).map_err(|e| io(&path, e))?;
    if bytes.len() as u64 != want_len {
        let why = format!("{} bytes, the manifest says {want_len} (truncated or replaced?)", bytes.len());
        return Err(bad(&path, why));
    }
    let crc = crc32c::crc32c(&bytes);
    if u64::from(crc) != want_crc {
        return Err(bad(
            &path,
            format!("checksum {crc:#010x} differs from the manifest's {want_crc:#010x} (corrupt?)"),
        ));
    }
    Ok(bytes)
}

/// Removes a checkpoint folder's own files (every generation, the manifest and temporary
/// files), then the folder if that left it empty: files a user keeps there survive.
pub(crate) fn remove_checkpoint(dir: &Path) -> Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    remove_matching(dir, |f| {
        parse_data_name(f).is_some()
            || f == MANIFEST
            || is_temp_of(f, MANIFEST)
            || f == "weights.safetensors"
            || f == "optimizer.safetensors"
    });
    let empty = std::fs::read_dir(dir).map_err(|e| io(dir, e))?.next().is_none();
    if empty {
        std::fs::remove_dir(dir).map_err(|e| io(dir, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_names_round_trip_and_foreign_names_are_not_ours() {
        assert_eq!(parse_data_name(&data_name("weights", 12)), Some(("weights", 12)));
        assert_eq!(parse_data_name("optimizer-3.safetensors"), Some(("optimizer", 3)));
        for foreign in ["weights.safetensors", "mine-3.safetensors", "weights-x.safetensors", "weights-3.bin"] {
            assert_eq!(parse_data_name(foreign), None, "{foreign}");
        }
        assert!(is_temp_of("training.json.tmp123", "training.json"));
        assert!(!is_temp_of("training.json.tmpx", "training.json"));
        assert!(!is_temp_of("training.json", "training.json"));
    }
}
