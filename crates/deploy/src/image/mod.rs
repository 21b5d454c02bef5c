//! `--build` and `jac-scale image`: an OCI image of this binary serving the app, made
//! without a container engine, and pushed with the OCI distribution API.
//!
//! Three layers, each reproducible ([`layer`]): the base (only what the binary needs:
//! the shared libraries `ldd` lists and their loader, CA certificates, a passwd entry
//! for the unprivileged user, its writable `/data`; no shell, no package manager), the
//! binary, and the app (`/app/app.wasm` and `/app/jac.toml`). The same inputs make the
//! same manifest digest.

mod layer;
mod push;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;

pub use layer::{Layer, LayerFiles, digest};
pub use push::{Registry, push};

use crate::manifests::{APP_DIR, APP_UID, COMPONENT_FILE, HTTP_PORT, JAC_TOML_FILE};

/// Where the binary goes in the image.
const BINARY: &str = "/usr/local/bin/jac-scale";
/// The unprivileged user's writable data directory.
const DATA_DIR: &str = "/data";
/// CA certificates (for TLS to MongoDB, S3, identity providers), when the build machine has them.
const CA_CERTIFICATES: &str = "/etc/ssl/certs/ca-certificates.crt";

/// Media types of the OCI image spec.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
const CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";
const LAYER_MEDIA_TYPE: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// What goes into the image.
#[derive(Debug, Clone)]
pub struct ImageContents {
    /// The `jac-scale` binary (this one).
    pub binary: PathBuf,
    /// The app's component.
    pub component: Vec<u8>,
    /// The app's jac.toml, if it has one.
    pub jac_toml: Option<String>,
}

/// Why the image could not be made, written or pushed.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot list the shared libraries of {binary} with ldd: {message}")]
    Ldd { binary: String, message: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Registry(String),
}

/// A built image: its layers, config and manifest, with their digests.
#[derive(Debug, Clone)]
pub struct BuiltImage {
    pub layers: Vec<Layer>,
    pub config: Vec<u8>,
    pub config_digest: String,
    pub manifest: Vec<u8>,
    /// `sha256:` of the manifest: the image's identity.
    pub manifest_digest: String,
}

impl BuiltImage {
    /// Bytes a pull downloads: the compressed layers, the config and the manifest.
    pub fn compressed_size(&self) -> usize {
        self.layers.iter().map(|l| l.blob.len()).sum::<usize>()
            + self.config.len()
            + self.manifest.len()
    }
}

/// `bytes` for people: `12.3 MiB`.
pub fn human_size(bytes: usize) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn read(path: &Path) -> Result<Vec<u8>, ImageError> {
    std::fs::read(path).map_err(|source| ImageError::Read {
        path: path.display().to_string(),
        source,
    })
}

/// The shared libraries `binary` loads (and the loader), as `ldd` resolves them; none
/// for a static binary.
fn shared_libraries(binary: &Path) -> Result<Vec<PathBuf>, ImageError> {
    let failed = |message: String| ImageError::Ldd {
        binary: binary.display().to_string(),
        message,
    };
    let output = Command::new("ldd")
        .arg(binary)
        .output()
        .map_err(|e| failed(format!("{e} (install the libc-bin package)")))?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        if text.contains("statically linked") || stderr.contains("not a dynamic executable") {
            return Ok(Vec::new());
        }
        return Err(failed(stderr.trim().to_string()));
    }
    let mut libraries = Vec::new();
    for line in text.lines() {
        // `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)` or
        // `/lib64/ld-linux-x86-64.so.2 (0x...)`; `linux-vdso.so.1 (0x...)` has no file.
        let target = match line.split_once("=>") {
            Some((_, right)) => right.trim(),
            None => line.trim(),
        };
        let path = target.split_whitespace().next().unwrap_or_default();
        if path.starts_with('/') {
            libraries.push(PathBuf::from(path));
        } else if line.contains("not found") {
            return Err(failed(format!("a library is missing: {}", line.trim())));
        }
    }
    Ok(libraries)
}

/// The base layer: libraries, loader, certificates, the user, its data dir.
fn base_layer(binary: &Path) -> Result<(Layer, Vec<String>), ImageError> {
    let mut files = LayerFiles::default();
    let mut library_dirs: Vec<String> = Vec::new();
    for library in shared_libraries(binary)? {
        files.file(&library.display().to_string(), read(&library)?, 0o755);
        if let Some(dir) = library.parent().map(|d| d.display().to_string())
            && !library_dirs.contains(&dir)
        {
            library_dirs.push(dir);
        }
    }
    if Path::new(CA_CERTIFICATES).is_file() {
        files.file(CA_CERTIFICATES, read(Path::new(CA_CERTIFICATES))?, 0o644);
    }
    files.file(
        "/etc/passwd",
        format!("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:{APP_UID}:{APP_UID}:nonroot:{DATA_DIR}:/sbin/nologin\n")
            .into_bytes(),
        0o644,
    );
    files.file(
        "/etc/group",
        format!("root:x:0:\nnonroot:x:{APP_UID}:\n").into_bytes(),
        0o644,
    );
    files.file("/etc/nsswitch.conf", b"hosts: files dns\n".to_vec(), 0o644);
    files.owned_dir(DATA_DIR, APP_UID as u64);
    let layer = files.build().map_err(|source| ImageError::Write {
        path: "the base layer".into(),
        source,
    })?;
    Ok((layer, library_dirs))
}

/// Build the image (in memory).
pub fn build(contents: &ImageContents) -> Result<BuiltImage, ImageError> {
    let layer_error = |what: &str| {
        let path = what.to_string();
        move |source| ImageError::Write { path, source }
    };
    let (base, library_dirs) = base_layer(&contents.binary)?;
    let mut binary = LayerFiles::default();
    binary.file(BINARY, read(&contents.binary)?, 0o755);
    let binary = binary.build().map_err(layer_error("the binary layer"))?;
    let mut app = LayerFiles::default();
    app.file(
        &format!("{APP_DIR}/{COMPONENT_FILE}"),
        contents.component.clone(),
        0o644,
    );
    if let Some(toml) = &contents.jac_toml {
        app.file(
            &format!("{APP_DIR}/{JAC_TOML_FILE}"),
            toml.clone().into_bytes(),
            0o644,
        );
    }
    let app = app.build().map_err(layer_error("the app layer"))?;
    let layers = vec![base, binary, app];

    let mut env = vec![
        format!("JAC_DATA_PATH={DATA_DIR}"),
        format!("JAC_SCALE_CACHE_DIR={DATA_DIR}/cache"),
    ];
    if !library_dirs.is_empty() {
        env.push(format!("LD_LIBRARY_PATH={}", library_dirs.join(":")));
    }
    let config = json!({
        "created": "1970-01-01T00:00:00Z",
        "architecture": oci_architecture(),
        "os": "linux",
        "config": {
            "User": format!("{APP_UID}:{APP_UID}"),
            "Env": env,
            "Entrypoint": [BINARY],
            "Cmd": ["start", format!("{APP_DIR}/{COMPONENT_FILE}"), "--host", "0.0.0.0", "--port", HTTP_PORT.to_string()],
            "ExposedPorts": { format!("{HTTP_PORT}/tcp"): {} },
            "WorkingDir": DATA_DIR,
        },
        "rootfs": {
            "type": "layers",
            "diff_ids": layers.iter().map(|l| l.diff_id.clone()).collect::<Vec<_>>(),
        },
    });
    let config = serde_json::to_vec(&config).expect("JSON values serialise");
    let config_digest = digest(&config);
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_MEDIA_TYPE,
        "config": {
            "mediaType": CONFIG_MEDIA_TYPE,
            "digest": config_digest,
            "size": config.len(),
        },
        "layers": layers.iter().map(|l| json!({
            "mediaType": LAYER_MEDIA_TYPE,
            "digest": l.digest,
            "size": l.blob.len(),
        })).collect::<Vec<_>>(),
    });
    let manifest = serde_json::to_vec(&manifest).expect("JSON values serialise");
    Ok(BuiltImage {
        manifest_digest: digest(&manifest),
        layers,
        config,
        config_digest,
        manifest,
    })
}

/// The OCI name of this machine's architecture (the image's).
fn oci_architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// Write `image` as an OCI image layout in `dir` (`oci-layout`, `index.json`, `blobs/`).
pub fn write_layout(image: &BuiltImage, dir: &Path) -> Result<(), ImageError> {
    let write = |path: &Path, bytes: &[u8]| {
        std::fs::write(path, bytes).map_err(|source| ImageError::Write {
            path: path.display().to_string(),
            source,
        })
    };
    let blobs = dir.join("blobs").join("sha256");
    std::fs::create_dir_all(&blobs).map_err(|source| ImageError::Write {
        path: blobs.display().to_string(),
        source,
    })?;
    let blob = |digest: &str| blobs.join(digest.trim_start_matches("sha256:"));
    for layer in &image.layers {
        write(&blob(&layer.digest), &layer.blob)?;
    }
    write(&blob(&image.config_digest), &image.config)?;
    write(&blob(&image.manifest_digest), &image.manifest)?;
    write(
        &dir.join("oci-layout"),
        br#"{"imageLayoutVersion":"1.0.0"}"#,
    )?;
    let index = json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": MANIFEST_MEDIA_TYPE,
            "digest": image.manifest_digest,
            "size": image.manifest.len(),
        }],
    });
    write(
        &dir.join("index.json"),
        &serde_json::to_vec(&index).expect("JSON values serialise"),
    )
}
