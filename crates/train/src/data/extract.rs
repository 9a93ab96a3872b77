//! Taking a data set's files out of a `.tar.gz`, and nothing else.
//!
//! Only the regular files the data set needs (`FOLDER/NAME` for a listed NAME) are extracted;
//! every other entry is skipped unread, so an archive can never replace or delete what the user
//! keeps beside the data (a `precious/` folder), and files already in `dir/FOLDER` are kept as
//! they are. The whole archive is refused (naming the entry) when any entry is a symbolic or
//! hard link, a device or FIFO, or has an absolute path or a `..` component: such an archive is
//! not the data set's. The files are written into a fresh hidden folder inside `dir`, the gzip
//! checksum is verified to the end of the stream, and only then are they renamed into place
//! one by one, so a corrupt or truncated archive leaves nothing that could later load as data.

use std::path::{Component, Path, PathBuf};

use crate::error::{Result, TrainError};

/// What to take out of an archive: `folder/name` for each name, where `required` ones must be
/// present (the others are taken when present).
#[derive(Debug, Clone, Copy)]
pub struct Wanted<'a> {
    /// The folder the files sit in, inside the archive and inside the target folder.
    pub folder: &'a str,
    /// Names that must be in the archive.
    pub required: &'a [&'a str],
    /// Names taken when present.
    pub optional: &'a [&'a str],
}

impl Wanted<'_> {
    fn wants(&self, name: &str) -> bool {
        self.required.contains(&name) || self.optional.contains(&name)
    }
}

fn bad(archive: &Path, why: impl Into<String>) -> TrainError {
    TrainError::Data { file: archive.display().to_string(), why: why.into() }
}

fn io(path: &Path, e: std::io::Error) -> TrainError {
    TrainError::Io { file: path.display().to_string(), source: e }
}

/// Extracts the `wanted` files of the `.tar.gz` at `archive` into `dir/<wanted.folder>`, adding
/// the ones not already there. Returns the folder. See the module docs for what is refused.
pub fn extract(archive: &Path, dir: &Path, wanted: Wanted) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let tmp = fresh_folder(dir)?;
    let result = unpack(archive, &tmp, wanted).and_then(|()| move_into_place(&tmp, dir, wanted));
    // Only what this call created is removed: `tmp` is a folder it made, holding its files.
    let _ = std::fs::remove_dir_all(&tmp);
    result
}

/// A new, empty folder `dir/.extract-<pid>-<k>` (never one that already existed).
fn fresh_folder(dir: &Path) -> Result<PathBuf> {
    for k in 0..1000 {
        let tmp = dir.join(format!(".extract-{}-{k}", std::process::id()));
        match std::fs::create_dir(&tmp) {
            Ok(()) => return Ok(tmp),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io(&tmp, e)),
        }
    }
    Err(bad(dir, "could not create a temporary folder to extract into (1000 names taken)"))
}

/// Writes the wanted files into `tmp` (flat), refusing unsafe entries, then reads the gzip
/// stream to its end so that its checksum is verified.
fn unpack(archive: &Path, tmp: &Path, wanted: Wanted) -> Result<()> {
    let file = std::fs::File::open(archive).map_err(|e| io(archive, e))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(std::io::BufReader::new(file)));
    let corrupt = |e: std::io::Error| bad(archive, format!("not a readable .tar.gz (corrupt or truncated?): {e}"));
    let mut found = Vec::new();
    for entry in tar.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        let path = entry.path().map_err(corrupt)?.into_owned();
        let kind = entry.header().entry_type();
        let shown = path.display();
        if path.components().any(|c| !matches!(c, Component::Normal(_) | Component::CurDir)) {
            return Err(bad(
                archive,
                format!("entry {shown} would be written outside the target folder (absolute or ..)"),
            ));
        }
        if kind.is_symlink() || kind.is_hard_link() {
            let to = entry.link_name().ok().flatten().map(|l| l.display().to_string()).unwrap_or_default();
            let what = if kind.is_symlink() { "symbolic" } else { "hard" };
            return Err(bad(archive, format!("entry {shown} is a {what} link (to {to}): links are refused")));
        }
        if kind.is_pax_global_extensions() || kind.is_dir() {
            continue;
        }
        if !kind.is_file() {
            return Err(bad(archive, format!("entry {shown} is not a regular file or folder ({kind:?}): refused")));
        }
        let parts: Vec<&str> =
            path.components().filter_map(|c| if let Component::Normal(p) = c { p.to_str() } else { None }).collect();
        let name = match parts.as_slice() {
            [folder, name] if *folder == wanted.folder && wanted.wants(name) => *name,
            _ => continue,
        };
        let target = tmp.join(name);
        let mut out = std::fs::File::create(&target).map_err(|e| io(&target, e))?;
        std::io::copy(&mut entry, &mut out).map_err(corrupt)?;
        out.sync_all().map_err(|e| io(&target, e))?;
        found.push(name.to_string());
    }
    // tar stops at the end-of-archive blocks; the gzip trailer (CRC and length) comes after.
    std::io::copy(&mut tar.into_inner(), &mut std::io::sink()).map_err(corrupt)?;
    let missing: Vec<&str> = wanted.required.iter().copied().filter(|n| !found.iter().any(|f| f == n)).collect();
    if !missing.is_empty() {
        let why =
            format!("the archive lacks {} under {}/: not the expected data set", missing.join(", "), wanted.folder);
        return Err(bad(archive, why));
    }
    Ok(())
}

/// Renames each extracted file into `dir/<folder>` unless a file of that name is already there.
fn move_into_place(tmp: &Path, dir: &Path, wanted: Wanted) -> Result<PathBuf> {
    let folder = dir.join(wanted.folder);
    std::fs::create_dir_all(&folder).map_err(|e| io(&folder, e))?;
    for name in wanted.required.iter().chain(wanted.optional) {
        let (from, to) = (tmp.join(name), folder.join(name));
        if from.is_file() && std::fs::symlink_metadata(&to).is_err() {
            std::fs::rename(&from, &to).map_err(|e| io(&to, e))?;
        }
    }
    Ok(folder)
}
