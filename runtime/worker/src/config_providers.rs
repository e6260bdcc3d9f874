//! Config providers (KIP-297/KIP-421): `${provider:path:key}` and `${provider:key}` placeholders
//! in connector configs are resolved when a connector or task starts; the stored config keeps the
//! placeholder, so secrets never reach the REST API or the config store.
//!
//! Providers are declared in the worker config as Kafka does:
//! `config.providers=file,env` with `config.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider`.
//! Bundled: FileConfigProvider (a `.properties` file), DirectoryConfigProvider (one file per key)
//! and EnvVarConfigProvider.

use std::collections::BTreeMap;
use std::path::Path;

use ferry_api::{ConnectError, Props};
use regex::Regex;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ProviderKind {
    File,
    Directory,
    EnvVar,
}

/// The providers a worker declares.
#[derive(Debug, Clone, Default)]
pub struct ConfigProviders {
    providers: BTreeMap<String, ProviderKind>,
}

impl ConfigProviders {
    /// Reads `config.providers` and `config.providers.<alias>.class` from the worker config.
    pub fn from_worker(worker: &Props) -> Result<Self, ConnectError> {
        let mut providers = BTreeMap::new();
        for alias in ferry_api::config::split_list(
            worker
                .get("config.providers")
                .map(String::as_str)
                .unwrap_or(""),
        ) {
            let key = format!("config.providers.{alias}.class");
            let class = worker.get(&key).ok_or_else(|| {
                ConnectError::config(format!("Missing required configuration \"{key}\""))
            })?;
            let kind = match class.trim().rsplit('.').next().unwrap_or("") {
                "FileConfigProvider" => ProviderKind::File,
                "DirectoryConfigProvider" => ProviderKind::Directory,
                "EnvVarConfigProvider" => ProviderKind::EnvVar,
                other => {
                    return Err(ConnectError::config(format!(
                        "Invalid value {class} for configuration {key}: Ferry bundles FileConfigProvider, DirectoryConfigProvider and EnvVarConfigProvider, not {other}"
                    )))
                }
            };
            providers.insert(alias, kind);
        }
        Ok(ConfigProviders { providers })
    }

    /// Whether any provider is declared.
    pub fn is_empty(&self) -> bool {
        self.providers.is_empty()
    }

    /// Replaces every placeholder of a declared provider in `props`. Placeholders of undeclared
    /// providers (and connector syntax such as `${topic}`) are left as they are, as Kafka does.
    pub fn resolve(&self, props: &Props) -> Result<Props, ConnectError> {
        if self.providers.is_empty() {
            return Ok(props.clone());
        }
        let pattern = Regex::new(r"\$\{([^}]*?):(?:([^}]*?):)?([^}]*?)\}").expect("valid pattern");
        let mut out = Props::new();
        for (k, v) in props {
            let mut error = None;
            let resolved = pattern.replace_all(v, |c: &regex::Captures<'_>| {
                let whole = c[0].to_owned();
                let Some(kind) = self.providers.get(&c[1]) else {
                    return whole;
                };
                let path = c.get(2).map(|m| m.as_str());
                let key = &c[3];
                match lookup(*kind, path, key) {
                    Ok(Some(v)) => v,
                    Ok(None) => whole,
                    Err(e) => {
                        error
                            .get_or_insert(ConnectError::config(format!("configuration {k}: {e}")));
                        whole
                    }
                }
            });
            if let Some(e) = error {
                return Err(e);
            }
            out.insert(k.clone(), resolved.into_owned());
        }
        Ok(out)
    }
}

fn lookup(kind: ProviderKind, path: Option<&str>, key: &str) -> Result<Option<String>, String> {
    match kind {
        ProviderKind::EnvVar => Ok(std::env::var(key).ok()),
        ProviderKind::File => {
            let path =
                path.ok_or("FileConfigProvider placeholders need a path: ${file:/path:key}")?;
            let props =
                crate::properties::load_properties(Path::new(path)).map_err(|e| e.to_string())?;
            Ok(props.get(key).cloned())
        }
        ProviderKind::Directory => {
            let dir =
                path.ok_or("DirectoryConfigProvider placeholders need a path: ${dir:/path:key}")?;
            let file = Path::new(dir).join(key);
            match std::fs::read_to_string(&file) {
                Ok(s) => Ok(Some(s)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(format!("cannot read {}: {e}", file.display())),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> Props {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn resolves_declared_providers_only() {
        let dir = tempfile::tempdir().unwrap();
        let secrets = dir.path().join("secrets.properties");
        std::fs::write(&secrets, "db.password=s3cr3t\n").unwrap();
        std::fs::write(dir.path().join("token"), "abc").unwrap();
        let worker = props(&[
            ("config.providers", "file, dir"),
            (
                "config.providers.file.class",
                "org.apache.kafka.common.config.provider.FileConfigProvider",
            ),
            (
                "config.providers.dir.class",
                "org.apache.kafka.common.config.provider.DirectoryConfigProvider",
            ),
        ]);
        let p = ConfigProviders::from_worker(&worker).unwrap();
        let path = secrets.display().to_string();
        let d = dir.path().display().to_string();
        let c = props(&[
            (
                "connection.password",
                &format!("${{file:{path}:db.password}}"),
            ),
            ("token", &format!("x-${{dir:{d}:token}}")),
            ("table.name.format", "${topic}"),
            ("other", "${env:HOME}"),
        ]);
        let r = p.resolve(&c).unwrap();
        assert_eq!(r["connection.password"], "s3cr3t");
        assert_eq!(r["token"], "x-abc");
        assert_eq!(r["table.name.format"], "${topic}");
        assert_eq!(r["other"], "${env:HOME}", "env is not declared");
    }

    #[test]
    fn unknown_provider_class_names_the_key() {
        let worker = props(&[
            ("config.providers", "vault"),
            ("config.providers.vault.class", "com.example.Vault"),
        ]);
        let err = ConfigProviders::from_worker(&worker).unwrap_err();
        assert!(err.message().contains("config.providers.vault.class"));
    }
}
