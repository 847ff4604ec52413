//! `kitty-origin`: start Spec Kitty missions from Jira or Linear tickets.

mod cli;

use std::process::ExitCode;

use clap::Parser;

use cli::args::{Cli, Command};
use cli::failure::Failure;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let wants_json = std::env::args().any(|a| a == "--json");
            if wants_json && err.use_stderr() {
                let rendered = err.render().to_string();
                let first = rendered.split("\n\nUsage:").next().unwrap_or_default();
                let message = format!("{} Run kitty-origin --help for the usage.", first.trim().trim_start_matches("error: "));
                let failure = Failure::usage("usage", message);
                println!("{}", failure.json());
                eprintln!("kitty-origin: {}", failure.message);
                return ExitCode::from(failure.exit);
            }
            err.exit();
        }
    };
    let outcome = match &cli.command {
        Command::Search(args) => cli::commands::search(&cli, args),
        Command::Start(args) => cli::commands::start(&cli, args),
        Command::Bind(args) => cli::commands::bind(&cli, args),
        Command::Events(command) => cli::commands::events(command, cli.json),
        Command::DevSaas(args) => cli::commands::dev_saas(args),
    };
    match outcome {
        Ok(printed) => {
            if cli.json {
                println!("{}", serde_json::to_string_pretty(&printed.json).unwrap_or_default());
            } else {
                print!("{}", printed.text);
            }
            ExitCode::SUCCESS
        }
        Err(failure) => {
            if cli.json {
                println!("{}", failure.json());
            }
            eprintln!("kitty-origin: {}", failure.message);
            ExitCode::from(failure.exit)
        }
    }
}
