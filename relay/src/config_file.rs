//! The optional configuration file, the secrets read from files, and `--print-config`.
//!
//! `relay --config /etc/scene-relay/relay.toml`: a TOML file whose keys are the flags'
//! long names (`listen = "127.0.0.1:8081"`, `trust-proxy = true`,
//! `allowed-origin = ["https://a.example"]`). Each key fills in a flag that neither the
//! command line nor its environment variable set, by handing the value to the same parser
//! as the flag (so the same checks and ranges apply). Flags beat the environment, which
//! beats the file, which beats the defaults. A key that is not a flag is an error, not a
//! silent typo.
//!
//! Secrets need not sit in a process's arguments or environment (which other users of the
//! machine, `ps` and crash reporters can read): the admin token comes from
//! `--admin-token-file`, the auth key from `--auth-key-file`, a Redis URL with a password
//! from the config file. `--print-config` shows the effective configuration as a config
//! file, with what is secret left out and said so in comments.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser};

use crate::cli::{Cli, Command, Config};

/// Why the configuration could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Cli(#[from] clap::Error),
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path} is not valid TOML: {message}")]
    Toml { path: PathBuf, message: String },
    #[error("{path}: unknown key {key:?} (keys are the flags' names, e.g. data-dir)")]
    UnknownKey { path: PathBuf, key: String },
    #[error("{path}: key {key:?} cannot take {value} (a string, number, boolean or a list of them)")]
    BadValue { path: PathBuf, key: String, value: String },
    #[error("{path}: {message}")]
    FromFile { path: PathBuf, message: String },
    #[error("{path} is empty: it should hold the secret")]
    EmptySecret { path: PathBuf },
}

/// The command line in `args` (the program name first), with the config file it names (if
/// any) beneath it.
pub fn parse(args: Vec<OsString>) -> Result<Cli, ConfigError> {
    let command = Cli::command();
    let matches = command.clone().try_get_matches_from(&args)?;
    let cli = Cli::from_arg_matches(&matches)?;
    let (serve, serve_matches, serve_command) = match (&cli.command, matches.subcommand()) {
        (None, _) => (&cli.serve, &matches, &command),
        (Some(Command::Serve(serve)), Some((name, sub))) => {
            let Some(sub_command) = command.find_subcommand(name) else { return Ok(cli) };
            (&**serve, sub, sub_command)
        }
        _ => return Ok(cli),
    };
    let Some(path) = serve.config_file.clone() else { return Ok(cli) };
    let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read { path: path.clone(), source })?;
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| ConfigError::Toml { path: path.clone(), message: e.to_string() })?;
    let mut extra = Vec::new();
    for (key, value) in &table {
        let unknown = || ConfigError::UnknownKey { path: path.clone(), key: key.clone() };
        let arg = serve_command
            .get_arguments()
            .find(|arg| arg.get_long() == Some(key.as_str()))
            .filter(|_| !["config", "print-config"].contains(&key.as_str()))
            .ok_or_else(unknown)?;
        let set_elsewhere =
            matches!(serve_matches.value_source(arg.get_id().as_str()), Some(ValueSource::CommandLine | ValueSource::EnvVariable));
        if set_elsewhere {
            continue;
        }
        let bad = || ConfigError::BadValue { path: path.clone(), key: key.clone(), value: value.to_string() };
        let takes_value = arg.get_action().takes_values();
        let items: Vec<&toml::Value> = match value {
            toml::Value::Array(items) => items.iter().collect(),
            single => vec![single],
        };
        for item in items {
            match item {
                toml::Value::Boolean(true) if !takes_value => extra.push(OsString::from(format!("--{key}"))),
                toml::Value::Boolean(false) if !takes_value => {}
                toml::Value::String(text) => extra.push(OsString::from(format!("--{key}={text}"))),
                toml::Value::Integer(_) | toml::Value::Float(_) | toml::Value::Boolean(_) => {
                    extra.push(OsString::from(format!("--{key}={item}")))
                }
                _ => return Err(bad()),
            }
        }
    }
    // After the given arguments: a subcommand's flags go to it, the rest to the top level.
    let mut with_file = args;
    with_file.extend(extra);
    Cli::try_parse_from(with_file).map_err(|error| ConfigError::FromFile { path, message: error.to_string() })
}

/// Reads the secrets configured as files into `config` (the admin token); the auth key file
/// is read where the key is loaded.
pub fn read_secret_files(config: &mut Config) -> Result<(), ConfigError> {
    if let Some(path) = &config.admin_token_file {
        config.admin_token = Some(read_secret(path)?);
    }
    Ok(())
}

/// The first line of `path`, without surrounding whitespace; an empty one is an error.
fn read_secret(path: &Path) -> Result<String, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
    let secret = text.lines().next().unwrap_or("").trim();
    if secret.is_empty() {
        return Err(ConfigError::EmptySecret { path: path.to_owned() });
    }
    Ok(secret.to_owned())
}

/// The effective configuration as a config file, secrets left out (said so in comments).
pub fn print(config: &Config) -> Result<String, ConfigError> {
    let mut text = toml::to_string(config).map_err(|e| ConfigError::Toml { path: "(effective configuration)".into(), message: e.to_string() })?;
    if config.admin_token.is_some() && config.admin_token_file.is_none() {
        text.push_str("# admin-token: set (hidden; prefer admin-token-file)\n");
    }
    if let Some(url) = &config.redis {
        match without_credentials(url) {
            None => text.push_str(&format!("redis = {}\n", toml::Value::String(url.clone()))),
            Some(shown) => text.push_str(&format!("# redis: {shown} (credentials hidden)\n")),
        }
    }
    Ok(text)
}

/// `url` with its credentials replaced, if it has any (`redis://:secret@host/0` →
/// `redis://***@host/0`).
fn without_credentials(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (userinfo, host) = rest[..authority_end].rsplit_once('@')?;
    (!userinfo.is_empty()).then(|| format!("{scheme}://***@{host}{}", &rest[authority_end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    fn file(text: &str) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut file, text.as_bytes()).unwrap();
        file
    }

    #[test]
    fn the_file_fills_in_what_flags_leave_and_flags_win() {
        let conf = file("listen = \"127.0.0.1:9100\"\ndata-dir = \"/srv/d\"\ntrust-proxy = true\nmax-conns-per-ip = 7\nallowed-origin = [\"https://a.example\", \"https://b.example\"]\n");
        let path = conf.path().to_str().unwrap();
        let cli = parse(args(&["relay", "--config", path, "--listen", "127.0.0.1:9200"])).unwrap();
        let c = &cli.serve.config;
        assert_eq!(c.listen.port(), 9200, "the flag wins");
        assert_eq!(c.data_dir, Path::new("/srv/d"));
        assert!(c.trust_proxy);
        assert_eq!(c.max_conns_per_ip, 7);
        assert_eq!(c.allowed_origins, ["https://a.example", "https://b.example"]);
        let cli = parse(args(&["relay", "serve", "--config", path])).unwrap();
        assert!(matches!(cli.command, Some(Command::Serve(s)) if s.config.listen.port() == 9100), "after `serve` too");
    }

    #[test]
    fn mistakes_in_the_file_are_errors_that_name_it() {
        let conf = file("data_dir = \"/srv/d\"\n");
        let error = parse(args(&["relay", "--config", conf.path().to_str().unwrap()])).unwrap_err();
        assert!(matches!(&error, ConfigError::UnknownKey { key, .. } if key == "data_dir"), "{error}");
        let conf = file("ping-interval-secs = 0\n");
        let error = parse(args(&["relay", "--config", conf.path().to_str().unwrap()])).unwrap_err();
        assert!(matches!(&error, ConfigError::FromFile { .. }) && error.to_string().contains("ping-interval-secs"), "{error}");
        let conf = file("listen = { host = \"x\" }\n");
        assert!(matches!(parse(args(&["relay", "--config", conf.path().to_str().unwrap()])), Err(ConfigError::BadValue { .. })));
    }

    #[test]
    fn the_printed_configuration_reads_back_the_same_without_its_secrets() {
        let token = file("s3cret-admin\n");
        let conf = file(&format!(
            "admin-token-file = {:?}\nredis = \"redis://:hunter2@127.0.0.1:6379/0\"\nbase-path = \"/collab\"\n",
            token.path().to_str().unwrap()
        ));
        let cli = parse(args(&["relay", "--config", conf.path().to_str().unwrap(), "--cache-bytes", "1000"])).unwrap();
        let mut config = cli.serve.config;
        read_secret_files(&mut config).unwrap();
        assert_eq!(config.admin_token.as_deref(), Some("s3cret-admin"));
        let printed = print(&config).unwrap();
        assert!(!printed.contains("s3cret") && !printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("# redis: redis://***@127.0.0.1:6379/0 (credentials hidden)"), "{printed}");
        let again = file(&printed);
        let reread = parse(args(&["relay", "--config", again.path().to_str().unwrap()])).unwrap().serve.config;
        assert_eq!(format!("{:?}", Config { redis: config.redis.clone(), admin_token: None, ..reread }), format!("{:?}", Config { admin_token: None, ..config }));
    }

    #[test]
    fn credentials_are_recognised_in_urls() {
        assert_eq!(without_credentials("redis://127.0.0.1:6379/0"), None);
        assert_eq!(without_credentials("redis://user:pw@h:1/2").as_deref(), Some("redis://***@h:1/2"));
        assert_eq!(without_credentials("rediss://:pw@h").as_deref(), Some("rediss://***@h"));
    }
}
