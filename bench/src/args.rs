//! `--key value` command-line options: enough for a handful of numeric and
//! string settings without a parser dependency.

use std::collections::BTreeMap;
use std::str::FromStr;

/// Parsed `--key value` pairs; every lookup names the option at fault.
#[derive(Debug)]
pub struct Args {
    program: String,
    usage: &'static str,
    values: BTreeMap<String, String>,
}

impl Args {
    /// Parses the process arguments; exits with `usage` on `--help` or on
    /// anything that is not a `--key value` pair.
    pub fn parse(usage: &'static str) -> Args {
        let mut argv = std::env::args();
        let program = argv.next().unwrap_or_default();
        Args::from_iter(program, argv, usage).unwrap_or_else(|e| {
            eprintln!("{e}\nusage: {usage}");
            std::process::exit(2)
        })
    }

    fn from_iter(
        program: String,
        argv: impl Iterator<Item = String>,
        usage: &'static str,
    ) -> Result<Args, String> {
        let mut values = BTreeMap::new();
        let mut argv = argv.peekable();
        while let Some(arg) = argv.next() {
            if arg == "--help" || arg == "-h" {
                return Err(format!("{program}: help"));
            }
            let key = arg
                .strip_prefix("--")
                .ok_or_else(|| format!("{program}: unexpected argument {arg:?}"))?;
            let value = argv
                .next()
                .ok_or_else(|| format!("{program}: --{key} needs a value"))?;
            values.insert(key.to_owned(), value);
        }
        Ok(Args {
            program,
            usage,
            values,
        })
    }

    /// The value of `--key`, or `default`.
    pub fn get_or<T: FromStr>(&self, key: &str, default: T) -> T {
        match self.values.get(key) {
            Some(_) => self.required(key),
            None => default,
        }
    }

    /// The value of `--key`, if given.
    pub fn get<T: FromStr>(&self, key: &str) -> Option<T> {
        self.values.contains_key(key).then(|| self.required(key))
    }

    /// The value of `--key`; exits naming the option when missing or invalid.
    pub fn required<T: FromStr>(&self, key: &str) -> T {
        let Some(raw) = self.values.get(key) else {
            self.fail(&format!("--{key} is required"));
        };
        raw.parse()
            .unwrap_or_else(|_| self.fail(&format!("--{key} {raw:?} is not valid")))
    }

    fn fail(&self, message: &str) -> ! {
        eprintln!("{}: {message}\nusage: {}", self.program, self.usage);
        std::process::exit(2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(argv: &[&str]) -> Result<Args, String> {
        Args::from_iter("t".into(), argv.iter().map(|s| s.to_string()), "t --n N")
    }

    #[test]
    fn key_value_pairs() {
        let args = parse(&["--records", "1000", "--topic", "t1"]).unwrap();
        assert_eq!(args.required::<u64>("records"), 1000);
        assert_eq!(args.required::<String>("topic"), "t1");
        assert_eq!(args.get_or("size", 100usize), 100);
        assert_eq!(args.get::<u32>("missing"), None);
    }

    #[test]
    fn rejects_positional_and_dangling_options() {
        assert!(parse(&["records"]).is_err());
        assert!(parse(&["--records"]).is_err());
    }
}
