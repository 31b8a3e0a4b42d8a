//! `dynamo-operator`: the operator binary and its offline tools.
#![forbid(unsafe_code)]

mod crdgen;

use clap::{Parser, Subcommand};

/// Kubernetes operator for Dynamo inference graphs.
#[derive(Debug, Parser)]
#[command(name = "dynamo-operator", version, about)]
struct Cli {
    /// What to do.
    #[command(subcommand)]
    command: Command,
}

/// Subcommands of the binary.
#[derive(Debug, Subcommand)]
enum Command {
    /// Write the nvidia.com CustomResourceDefinitions as YAML.
    Crdgen(crdgen::Args),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Crdgen(args) => crdgen::run(&args),
    }
}
