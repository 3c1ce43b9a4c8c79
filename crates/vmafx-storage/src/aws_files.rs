//! The AWS shared files (`~/.aws/credentials`, `~/.aws/config`), the part of the AWS SDKs'
//! default credential chain that `object_store` does not read: a profile's keys, session
//! token, region and endpoint. Environment variables win over them, as in the SDKs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// What a profile of the shared files sets.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct AwsProfile {
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
}

/// The profile `AWS_PROFILE` (else `default`) of this user's shared files
/// (`AWS_SHARED_CREDENTIALS_FILE`, `AWS_CONFIG_FILE`, else `~/.aws/credentials` and
/// `~/.aws/config`); all `None` when there are none.
pub fn from_shared_files() -> AwsProfile {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let file = |var: &str, name: &str| -> Option<String> {
        let path = std::env::var_os(var)
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(".aws").join(name)))?;
        std::fs::read_to_string(Path::new(&path)).ok()
    };
    let profile = std::env::var("AWS_PROFILE").unwrap_or_else(|_| "default".into());
    profile_of(
        file("AWS_SHARED_CREDENTIALS_FILE", "credentials").as_deref().unwrap_or(""),
        file("AWS_CONFIG_FILE", "config").as_deref().unwrap_or(""),
        &profile,
    )
}

/// `profile` from the texts of a credentials file (sections `[NAME]`) and a config file
/// (`[default]`, `[profile NAME]`); the credentials file wins where both set a key.
pub fn profile_of(credentials: &str, config: &str, profile: &str) -> AwsProfile {
    let creds = section(credentials, profile);
    let config_name = if profile == "default" { "default".to_string() } else { format!("profile {profile}") };
    let conf = section(config, &config_name);
    let get = |key: &str| creds.get(key).or_else(|| conf.get(key)).cloned();
    AwsProfile {
        access_key_id: get("aws_access_key_id"),
        secret_access_key: get("aws_secret_access_key"),
        session_token: get("aws_session_token"),
        region: get("region"),
        endpoint_url: get("endpoint_url"),
    }
}

/// The `key = value` lines of the INI section `name`.
fn section(text: &str, name: &str) -> HashMap<String, String> {
    let mut inside = false;
    let mut out = HashMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(header) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            inside = header.trim() == name;
            continue;
        }
        if inside {
            if let Some((k, v)) = line.split_once('=') {
                out.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_comes_from_both_files_with_the_credentials_file_first() {
        let credentials = "[default]\naws_access_key_id = AKDEF\naws_secret_access_key = s1\n\n\
                           [media]\n# a comment\naws_access_key_id=AKMEDIA\naws_secret_access_key = s2\naws_session_token = tok\n";
        let config = "[default]\nregion = eu-west-1\n\n[profile media]\nregion = us-east-2\n\
                      endpoint_url = http://127.0.0.1:9000\naws_access_key_id = ignored\n";
        let d = profile_of(credentials, config, "default");
        assert_eq!((d.access_key_id.as_deref(), d.region.as_deref()), (Some("AKDEF"), Some("eu-west-1")));
        let m = profile_of(credentials, config, "media");
        assert_eq!(m.access_key_id.as_deref(), Some("AKMEDIA"), "the credentials file wins");
        assert_eq!(m.session_token.as_deref(), Some("tok"));
        assert_eq!(m.region.as_deref(), Some("us-east-2"));
        assert_eq!(m.endpoint_url.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(profile_of("", "", "none"), AwsProfile::default());
    }
}
