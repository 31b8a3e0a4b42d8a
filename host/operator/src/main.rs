//! `dynamo-operator`: the operator binary and its offline tools.
#![forbid(unsafe_code)]

mod crdgen;
mod leader;
mod plugin_input;
mod plugins;
mod render;
mod run;
mod scaffold;
mod yaml_input;

use std::process::ExitCode;

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
    /// Run the operator: reconcile DynamoGraphDeployments on a cluster until SIGTERM.
    Run(run::Args),
    /// Print every object the operator would create for DynamoGraphDeployment YAML, offline.
    Render(render::Args),
    /// Write the nvidia.com CustomResourceDefinitions as YAML.
    Crdgen(crdgen::Args),
    /// Tools for plugin authors.
    Plugin {
        /// What to do.
        #[command(subcommand)]
        command: scaffold::Command,
    },
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Run(args) => run::run(&args),
        Command::Render(args) => render::run(&args),
        Command::Crdgen(args) => crdgen::run(&args),
        Command::Plugin { command } => scaffold::run(&command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line: the context chain joined, most general first.
            let chain: Vec<String> = error.chain().map(ToString::to_string).collect();
            eprintln!("error: {}", chain.join(": "));
            ExitCode::FAILURE
        }
    }
}
