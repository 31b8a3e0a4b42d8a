//! `plugin new`: writes a new backend plugin project, in Rust, Python, JavaScript or TypeScript,
//! that builds and tests on its own, outside this repository.
//!
//! Everything the project needs comes from this binary, so a project is pinned to the SDK and
//! contract of the operator that made it and needs no checkout of the operator's sources:
//!
//! | language | SDK written to | built with |
//! |---|---|---|
//! | Rust | `vendor/dynamo-plugin-sdk`, `vendor/dynamo-plugin-contract` (path dependencies) and the operator's `Cargo.lock` | `cargo build --release --target wasm32-wasip2` |
//! | Python | `dynamo_plugin/` | componentize-py |
//! | JavaScript | `dynamo-plugin-sdk/` | jco (componentize-js) |
//! | TypeScript | `dynamo-plugin-sdk/` (typed by its `.d.ts` files) | `tsc`, then jco (componentize-js) |
//!
//! Every project also gets the WIT contract at `wit/dynamo-backend@<version>/backend.wit` and a
//! `dynamo-plugin.json` recording the operator, SDK and contract versions it was made with.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/scaffold_files.rs"));
}

pub use embedded::WIT_VERSION;

/// The version of the operator, and of the SDKs it embeds (one workspace version).
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Files of the JavaScript template that a TypeScript project uses as they are.
const SHARED_WITH_TS: [&str; 2] = ["graph.yaml", "test/fixtures/main.json"];

/// Plugin names the operator ships; a plugin of the same name replaces the built-in.
const BUILT_IN_PLUGINS: [&str; 4] = ["vllm", "sglang", "trtllm", "mpi"];

/// The language of a new plugin project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// Rust, with `dynamo-plugin-sdk` (the smallest and fastest components).
    Rust,
    /// Python, with componentize-py and the `dynamo_plugin` package.
    Python,
    /// JavaScript, with jco / componentize-js and the `dynamo-plugin-sdk` module.
    Js,
    /// TypeScript, compiled by `tsc` to the JavaScript that jco / componentize-js builds; the
    /// same `dynamo-plugin-sdk` module, typed by its declaration files.
    #[value(name = "ts", alias = "typescript")]
    Ts,
}

impl Lang {
    fn template_group(self) -> &'static str {
        match self {
            Self::Rust => "template/rust",
            Self::Python => "template/python",
            Self::Js => "template/js",
            Self::Ts => "template/ts",
        }
    }

    /// Whether embedded file `path` of `group` is one of this language's templates. TypeScript
    /// shares the JavaScript template's graph and fixture: the same plugin, the same input.
    fn is_template(self, group: &str, path: &str) -> bool {
        group == self.template_group()
            || (self == Self::Ts && group == "template/js" && SHARED_WITH_TS.contains(&path))
    }

    fn name(self) -> &'static str {
        match self {
            Self::Rust => "rust",
            Self::Python => "python",
            Self::Js => "js",
            Self::Ts => "ts",
        }
    }
}

/// Options of `dynamo-operator plugin new`.
#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// Plugin name: a lowercase DNS label (`tgi`). It is also the backend framework the plugin
    /// handles (`nvidia.com/backend-framework: <name>`).
    pub name: String,

    /// Language of the project.
    #[arg(long, value_enum, default_value = "rust")]
    pub lang: Lang,

    /// Directory to create; `./<name>-plugin` when omitted. It must not exist or be empty.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Subcommands of `dynamo-operator plugin`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Write a new backend plugin project (Rust, Python, JavaScript or TypeScript) that builds
    /// and tests on its own, pinned to this operator's SDK and WIT contract.
    New(NewArgs),
}

/// Runs `plugin <subcommand>`.
pub fn run(command: &Command) -> anyhow::Result<()> {
    match command {
        Command::New(args) => {
            let dir = args
                .dir
                .clone()
                .unwrap_or_else(|| PathBuf::from(format!("{}-plugin", args.name)));
            let files = new_project(&args.name, args.lang, &dir)?;
            if BUILT_IN_PLUGINS.contains(&args.name.as_str()) {
                eprintln!(
                    "warning: a plugin named `{}` replaces the built-in plugin of that name when \
                     loaded (plugins.allowBuiltinOverride)",
                    args.name
                );
            }
            eprintln!(
                "created {} plugin `{}` in {} ({} files; SDK {SDK_VERSION}, contract \
                 dynamo:backend@{WIT_VERSION}); see its README.md to build and test it",
                args.lang.name(),
                args.name,
                dir.display(),
                files
            );
            Ok(())
        }
    }
}

/// Writes a `lang` project for plugin `name` into `dir`; returns how many files were written.
pub fn new_project(name: &str, lang: Lang, dir: &Path) -> anyhow::Result<usize> {
    check_name(name)?;
    if dir.exists()
        && std::fs::read_dir(dir)
            .with_context(|| format!("reading {}", dir.display()))?
            .next()
            .is_some()
    {
        bail!(
            "{}: the directory exists and is not empty; choose another with --dir",
            dir.display()
        );
    }
    let files = project_files(name, lang);
    for (path, bytes) in &files {
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&target, bytes).with_context(|| format!("writing {}", target.display()))?;
    }
    Ok(files.len())
}

/// Every file of a new project: (path in the project, contents).
pub fn project_files(name: &str, lang: Lang) -> Vec<(String, Vec<u8>)> {
    let substitute = |text: &str| substitute(text, name);
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for (group, path, bytes) in embedded::FILES {
        let template = lang.is_template(group, path);
        let destination = match (*group, lang) {
            _ if template => substitute(path),
            ("wit", _) => format!("wit/{path}"),
            ("sdk/rust", Lang::Rust) => format!("vendor/dynamo-plugin-sdk/src/{path}"),
            ("contract/rust", Lang::Rust) => format!("vendor/dynamo-plugin-contract/src/{path}"),
            ("lock", Lang::Rust) => "Cargo.lock".to_owned(),
            ("sdk/python", Lang::Python) => format!("dynamo_plugin/{path}"),
            ("sdk/js", Lang::Js | Lang::Ts) => format!("dynamo-plugin-sdk/{path}"),
            _ => continue,
        };
        // Templates are text with placeholders; everything else is copied byte for byte.
        let contents = if template {
            match std::str::from_utf8(bytes) {
                Ok(text) => substitute(text).into_bytes(),
                Err(_) => bytes.to_vec(),
            }
        } else {
            bytes.to_vec()
        };
        files.push((destination, contents));
    }
    if lang == Lang::Rust {
        files.push((
            "vendor/dynamo-plugin-sdk/Cargo.toml".to_owned(),
            vendored_manifest(embedded::SDK_MANIFEST).into_bytes(),
        ));
        files.push((
            "vendor/dynamo-plugin-contract/Cargo.toml".to_owned(),
            vendored_manifest(embedded::CONTRACT_MANIFEST).into_bytes(),
        ));
    }
    files.push((
        "dynamo-plugin.json".to_owned(),
        stamp(name, lang).into_bytes(),
    ));
    files.sort();
    files
}

/// A vendored SDK crate's manifest: the resolved manifest, marked as belonging to the project's
/// workspace (the project's root manifest declares it a member through its path dependency).
fn vendored_manifest(resolved: &str) -> String {
    format!(
        "# Vendored by `dynamo-operator plugin new` (operator {SDK_VERSION}); upgrade by copying \
         the vendor/ folder of a project made by a newer operator.\n{resolved}"
    )
}

/// `dynamo-plugin.json`: which operator made the project, with which SDK and contract.
fn stamp(name: &str, lang: Lang) -> String {
    let value = serde_json::json!({
        "plugin": name,
        "language": lang.name(),
        "operatorVersion": SDK_VERSION,
        "sdkVersion": SDK_VERSION,
        "contract": format!("dynamo:backend@{WIT_VERSION}"),
    });
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}

/// Replaces the template placeholders.
fn substitute(text: &str, name: &str) -> String {
    let package = format!("{name}-plugin");
    text.replace("{{name}}", name)
        .replace("{{package}}", &package)
        .replace("{{crate_name}}", &package.replace('-', "_"))
        .replace("{{sdk_version}}", SDK_VERSION)
        .replace("{{wit_version}}", WIT_VERSION)
        .replace("{{operator_version}}", SDK_VERSION)
}

/// A plugin name is its metadata name: a lowercase DNS label, which the host requires.
fn check_name(name: &str) -> anyhow::Result<()> {
    let valid = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-');
    if !valid {
        bail!(
            "plugin name `{name}`: must be a lowercase DNS label starting with a letter (a-z, 0-9 \
             and '-', at most 63 characters), e.g. `tgi`"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests;
