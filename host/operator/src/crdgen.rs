//! `crdgen`: writes the CRDs of `dynamo_api` as YAML files (or to standard output).
//!
//! Run from the workspace root to refresh the committed files in `crds/`:
//!
//! ```text
//! cargo run -p dynamo-operator -- crdgen
//! ```

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;

/// Options of `dynamo-operator crdgen`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory the YAML files are written to (created if missing).
    #[arg(long, default_value = "crds")]
    pub out: PathBuf,

    /// Print all CRDs as one multi-document YAML stream instead of writing files.
    #[arg(long)]
    pub stdout: bool,
}

/// Runs the subcommand.
pub fn run(args: &Args) -> anyhow::Result<()> {
    if args.stdout {
        let stream = dynamo_api::crds::multi_document_yaml()?;
        std::io::stdout()
            .lock()
            .write_all(stream.as_bytes())
            .context("writing to standard output")?;
        return Ok(());
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    for (name, yaml) in dynamo_api::crds::rendered()? {
        let path = args.out.join(&name);
        if std::fs::read_to_string(&path).is_ok_and(|old| old == yaml) {
            eprintln!("unchanged {}", path.display());
            continue;
        }
        std::fs::write(&path, yaml).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
