//! Command-line parsing (small enough not to need a parser crate).

use std::path::PathBuf;

pub(crate) const USAGE: &str = "\
Usage:
  ferry standalone <worker.properties> [<connector.properties|connector.json> ...]
  ferry distributed <worker.properties>                 a worker of a distributed cluster
  ferry mirror <mm2.properties> [--clusters A B ...]   MirrorMaker 2 dedicated mode
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
    Distributed {
        worker: PathBuf,
    },
    Mirror {
        config: PathBuf,
        clusters: Option<Vec<String>>,
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
        Some("mirror") => {
            let config = args
                .get(1)
                .ok_or("mirror: missing the mm2.properties file")?;
            let clusters = match args.get(2).map(String::as_str) {
                None => None,
                Some("--clusters") if args.len() > 3 => Some(args[3..].to_vec()),
                Some(other) => return Err(format!("mirror: unexpected argument {other}")),
            };
            Ok(Command::Mirror {
                config: PathBuf::from(config),
                clusters,
            })
        }
        Some("distributed") => Ok(Command::Distributed {
            worker: PathBuf::from(
                args.get(1)
                    .ok_or("distributed: missing the worker properties file")?,
            ),
        }),
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
