//! Reproducible image layers: a tar of sorted entries with fixed times and owners,
//! gzipped without a timestamp, so the same files always make the same digest.

use std::collections::BTreeMap;
use std::io::Write;

use flate2::{Compression, GzBuilder};
use sha2::{Digest, Sha256};

/// One file of a layer.
#[derive(Debug, Clone)]
pub struct File {
    pub bytes: Vec<u8>,
    /// Permission bits (`0o755` for programs).
    pub mode: u32,
}

/// What goes into a layer: absolute paths (without the leading `/`) to files, plus
/// directories owned by a given uid (made writable for it).
#[derive(Debug, Default)]
pub struct LayerFiles {
    files: BTreeMap<String, File>,
    owned_dirs: BTreeMap<String, u64>,
}

impl LayerFiles {
    /// Add the file `path` (`/lib/x.so` or `lib/x.so`).
    pub fn file(&mut self, path: &str, bytes: Vec<u8>, mode: u32) {
        self.files.insert(
            path.trim_start_matches('/').to_string(),
            File { bytes, mode },
        );
    }

    /// Add the directory `path`, owned by `uid` (the unprivileged user's data dir).
    pub fn owned_dir(&mut self, path: &str, uid: u64) {
        self.owned_dirs
            .insert(path.trim_matches('/').to_string(), uid);
    }
}

/// A built layer: its gzipped bytes and both digests.
#[derive(Debug, Clone)]
pub struct Layer {
    /// The tar.gz.
    pub blob: Vec<u8>,
    /// `sha256:` of the tar.gz (the manifest's digest).
    pub digest: String,
    /// `sha256:` of the uncompressed tar (the config's `diff_id`).
    pub diff_id: String,
}

/// `sha256:<hex>` of `bytes`.
pub fn digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

impl LayerFiles {
    /// The layer: every parent directory first (root-owned, 0755), then entries in path
    /// order; all times 0, owner root unless a directory was given another.
    pub fn build(&self) -> std::io::Result<Layer> {
        let mut dirs: BTreeMap<String, u64> = BTreeMap::new();
        let paths = self.files.keys().chain(self.owned_dirs.keys());
        for path in paths {
            let mut parent = String::new();
            for part in path
                .split('/')
                .collect::<Vec<_>>()
                .iter()
                .rev()
                .skip(1)
                .rev()
            {
                if !parent.is_empty() {
                    parent.push('/');
                }
                parent.push_str(part);
                dirs.entry(parent.clone()).or_insert(0);
            }
        }
        for (dir, uid) in &self.owned_dirs {
            dirs.insert(dir.clone(), *uid);
        }
        // One sorted list of entries: a directory sorts before what it holds.
        let mut entries: BTreeMap<String, Option<&File>> = BTreeMap::new();
        for dir in dirs.keys() {
            entries.insert(format!("{dir}/"), None);
        }
        for (path, file) in &self.files {
            entries.insert(path.clone(), Some(file));
        }
        let mut tar = tar::Builder::new(Vec::new());
        for (path, file) in entries {
            let mut header = tar::Header::new_ustar();
            header.set_mtime(0);
            match file {
                Some(file) => {
                    header.set_entry_type(tar::EntryType::Regular);
                    header.set_mode(file.mode);
                    header.set_uid(0);
                    header.set_gid(0);
                    header.set_size(file.bytes.len() as u64);
                    tar.append_data(&mut header, &path, file.bytes.as_slice())?;
                }
                None => {
                    let uid = dirs[path.trim_end_matches('/')];
                    header.set_entry_type(tar::EntryType::Directory);
                    header.set_mode(if uid == 0 { 0o755 } else { 0o700 });
                    header.set_uid(uid);
                    header.set_gid(uid);
                    header.set_size(0);
                    tar.append_data(&mut header, &path, std::io::empty())?;
                }
            }
        }
        let tar = tar.into_inner()?;
        let mut gz = GzBuilder::new()
            .mtime(0)
            .write(Vec::new(), Compression::best());
        gz.write_all(&tar)?;
        let blob = gz.finish()?;
        Ok(Layer {
            digest: digest(&blob),
            diff_id: digest(&tar),
            blob,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(order: &[(&str, &[u8])]) -> Layer {
        let mut files = LayerFiles::default();
        for (path, bytes) in order {
            files.file(path, bytes.to_vec(), 0o644);
        }
        files.owned_dir("/data", 65532);
        files.build().expect("layer")
    }

    #[test]
    fn the_same_files_make_the_same_digest_in_any_order() {
        let a = layer(&[("/app/app.wasm", b"wasm"), ("/app/jac.toml", b"toml")]);
        let b = layer(&[("/app/jac.toml", b"toml"), ("/app/app.wasm", b"wasm")]);
        assert_eq!(a.digest, b.digest);
        assert_eq!(a.diff_id, b.diff_id);
        let c = layer(&[("/app/app.wasm", b"wasm2"), ("/app/jac.toml", b"toml")]);
        assert_ne!(a.digest, c.digest);
    }

    #[test]
    fn entries_are_sorted_with_parents_first_and_fixed_owners() {
        let l = layer(&[
            ("/usr/local/bin/jac-scale", b"elf"),
            ("/app/app.wasm", b"wasm"),
        ]);
        let tar = flate2::read::GzDecoder::new(l.blob.as_slice());
        let mut archive = tar::Archive::new(tar);
        let entries: Vec<(String, u64, u64)> = archive
            .entries()
            .expect("entries")
            .map(|e| {
                let e = e.expect("entry");
                let h = e.header();
                (
                    e.path().expect("path").display().to_string(),
                    h.uid().expect("uid"),
                    h.mtime().expect("mtime"),
                )
            })
            .collect();
        let names: Vec<&str> = entries.iter().map(|(p, _, _)| p.as_str()).collect();
        assert_eq!(
            names,
            [
                "app/",
                "app/app.wasm",
                "data/",
                "usr/",
                "usr/local/",
                "usr/local/bin/",
                "usr/local/bin/jac-scale"
            ]
        );
        assert!(entries.iter().all(|(_, _, mtime)| *mtime == 0));
        assert_eq!(
            entries[2].1, 65532,
            "the data dir belongs to the app's user"
        );
    }
}
