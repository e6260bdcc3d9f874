//! Command-line parsing (small enough not to need a parser crate).

use std::path::PathBuf;

pub(crate) const USAGE: &str = "\
Usage:
  ferry standalone <worker.properties> [<connector.properties|connector.json> ...]
  ferry plugins          list bundled connectors, converters, transforms and predicates
  ferry --version
  ferry --help

Environment:
  FERRY_LOG   log levels, e.g. `info` or `info,ferry_worker=debug` (default info)";

/// What to do.
#[derive(Debug, PartialEq)]
pub(crate) enum Command {
    Standalone {
        worker: PathBuf,
        connectors: Vec<PathBuf>,
    },
    Plugins,
    Version,
    Help,
}

/// Parses arguments (without the program name).
pub(crate) fn parse(args: &[String]) -> Result<Command, String> {
    match args.first().map(String::as_str) {
        None | Some("-h" | "--help" | "help") => Ok(Command::Help),
        Some("-V" | "--version" | "version") => Ok(Command::Version),
        Some("plugins") => Ok(Command::Plugins),
        Some("standalone") => {
            let worker = args
                .get(1)
                .ok_or("standalone: missing the worker properties file")?;
            Ok(Command::Standalone {
                worker: PathBuf::from(worker),
                connectors: args[2..].iter().map(PathBuf::from).collect(),
            })
        }
        Some("distributed") => Err("distributed mode is not available in this build yet".into()),
        Some(other) => Err(format!("unknown command: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_standalone() {
        let args: Vec<String> = ["standalone", "w.properties", "a.json", "b.properties"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            parse(&args).unwrap(),
            Command::Standalone {
                worker: "w.properties".into(),
                connectors: vec!["a.json".into(), "b.properties".into()]
            }
        );
        assert!(parse(&["standalone".to_string()]).is_err());
        assert_eq!(parse(&[]).unwrap(), Command::Help);
    }
}
