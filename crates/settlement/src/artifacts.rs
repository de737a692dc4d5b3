//! The OP Stack's L1 contracts as forge artifacts of `@eth-optimism/contracts-bedrock`.

use alloy_primitives::Bytes;
use eyre::{WrapErr, eyre};
use std::path::{Path, PathBuf};

/// The npm package version `tools/package.json` pins.
pub const BEDROCK_VERSION: &str = "0.17.3";

/// A directory of forge artifacts (`<File>.sol/<Contract>.json`).
#[derive(Debug, Clone)]
pub struct Artifacts {
    dir: PathBuf,
}

impl Artifacts {
    /// Artifacts in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The artifacts `make tools` installs under `root` (the repository).
    pub fn installed(root: &Path) -> Self {
        Self::new(root.join(".tools/node_modules/@eth-optimism/contracts-bedrock/forge-artifacts"))
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The creation bytecode of `contract` (in `<contract>.sol`).
    pub fn bytecode(&self, contract: &str) -> eyre::Result<Bytes> {
        let path = self.dir.join(format!("{contract}.sol")).join(format!("{contract}.json"));
        let raw = std::fs::read_to_string(&path).wrap_err_with(|| {
            format!(
                "cannot read {} (run `make tools`: it installs @eth-optimism/contracts-bedrock {BEDROCK_VERSION})",
                path.display()
            )
        })?;
        let v: serde_json::Value = serde_json::from_str(&raw)
            .wrap_err_with(|| format!("{} is not JSON", path.display()))?;
        let hex = v["bytecode"]["object"]
            .as_str()
            .ok_or_else(|| eyre!("{} has no bytecode.object", path.display()))?;
        if v["bytecode"]["linkReferences"].as_object().is_some_and(|l| !l.is_empty()) {
            return Err(eyre!(
                "{contract} needs linked libraries, which this deployer does not link"
            ));
        }
        hex.parse().wrap_err_with(|| format!("bad bytecode in {}", path.display()))
    }
}
