//! Where a video comes from: one type for every place vmafx accepts an input (`vmafx score`,
//! job submissions, MCP, vmafx-tune sources).
//!
//! An input is a local path (or `file://`), an `http(s)://` URL, an object in S3, GCS or
//! Azure Blob (`s3://bucket/key`, `gs://bucket/object`, `az://container/blob`), or a path on
//! an rclone remote (`rclone:REMOTE:path`). Parsing is pure; reaching the bytes is
//! `vmafx-storage`'s job. [`shown`] is how any URL is written into a log, a job view or an
//! error: without its query, where presigned URLs carry their signatures.

use std::fmt;

/// The schemes an input may use, as listed in errors.
pub const SUPPORTED: &str = "a local path, file://, http://, https://, s3://BUCKET/KEY, \
                             gs://BUCKET/OBJECT, az://CONTAINER/BLOB or rclone:REMOTE:PATH";

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum InputUri {
    /// A path on the machine that reads it (`file://` URLs become their path).
    Local(String),
    /// An `http://` or `https://` URL.
    Http(String),
    S3 {
        bucket: String,
        key: String,
    },
    Gs {
        bucket: String,
        object: String,
    },
    Az {
        container: String,
        blob: String,
    },
    /// A path on a remote named in the rclone configuration of the machine that reads it;
    /// `remote` may be an on-the-fly backend (`:local:`, `:sftp,host=…:`), which policy
    /// refuses unless allowed.
    Rclone {
        remote: String,
        path: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}`: {reason}")]
pub struct InputUriError {
    /// The input as given, with any URL query left out.
    pub input: String,
    pub reason: String,
}

impl InputUri {
    /// Reads an input as a user writes it.
    pub fn parse(text: &str) -> Result<InputUri, InputUriError> {
        let bad = |reason: String| InputUriError { input: shown(text), reason };
        if text.is_empty() {
            return Err(bad("an empty input: give a path or a URI".into()));
        }
        if text.chars().any(|c| c.is_control()) {
            return Err(bad("control characters in an input name".into()));
        }
        if let Some(rest) = text.strip_prefix("rclone:") {
            return parse_rclone(rest).map_err(bad);
        }
        let Some((scheme, rest)) = text.split_once("://") else {
            return Ok(InputUri::Local(text.to_string()));
        };
        if !scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c)) || scheme.is_empty() {
            // `some/dir://x` is a path with an odd name, not a URI.
            return Ok(InputUri::Local(text.to_string()));
        }
        match scheme.to_ascii_lowercase().as_str() {
            "file" => {
                let path = rest.strip_prefix("localhost").unwrap_or(rest);
                if !path.starts_with('/') {
                    return Err(bad("a file:// URI needs an absolute path (file:///dir/video.mp4)".into()));
                }
                Ok(InputUri::Local(percent_decode(path).map_err(bad)?))
            }
            "http" | "https" => {
                let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
                if authority.is_empty() {
                    return Err(bad("the URL names no host".into()));
                }
                if authority.contains('@') {
                    return Err(bad(
                        "credentials in a URL are refused (they would reach logs and job views): \
                         use a presigned URL or an object-store URI"
                            .into(),
                    ));
                }
                Ok(InputUri::Http(text.to_string()))
            }
            "s3" => {
                let (bucket, key) = bucket_and_name(rest, "s3://BUCKET/KEY").map_err(bad)?;
                check_bucket(&bucket, 3, 63).map_err(bad)?;
                Ok(InputUri::S3 { bucket, key })
            }
            "gs" => {
                let (bucket, object) = bucket_and_name(rest, "gs://BUCKET/OBJECT").map_err(bad)?;
                check_bucket(&bucket, 3, 222).map_err(bad)?;
                Ok(InputUri::Gs { bucket, object })
            }
            "az" => {
                let (container, blob) = bucket_and_name(rest, "az://CONTAINER/BLOB").map_err(bad)?;
                check_bucket(&container, 3, 63).map_err(bad)?;
                Ok(InputUri::Az { container, blob })
            }
            other => Err(bad(format!("unsupported scheme `{other}://`; an input is {SUPPORTED}"))),
        }
    }

    /// The scheme's name as policy and errors call it: `file`, `http`, `https`, `s3`, `gs`,
    /// `az` or `rclone`.
    pub fn scheme(&self) -> &'static str {
        match self {
            InputUri::Local(_) => "file",
            InputUri::Http(url) if url[..5].eq_ignore_ascii_case("https") => "https",
            InputUri::Http(_) => "http",
            InputUri::S3 { .. } => "s3",
            InputUri::Gs { .. } => "gs",
            InputUri::Az { .. } => "az",
            InputUri::Rclone { .. } => "rclone",
        }
    }
}

impl fmt::Display for InputUri {
    /// The input as a user wrote it (an `http(s)` URL without its query).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputUri::Local(p) => f.write_str(p),
            InputUri::Http(url) => f.write_str(&shown(url)),
            InputUri::S3 { bucket, key } => write!(f, "s3://{bucket}/{key}"),
            InputUri::Gs { bucket, object } => write!(f, "gs://{bucket}/{object}"),
            InputUri::Az { container, blob } => write!(f, "az://{container}/{blob}"),
            InputUri::Rclone { remote, path } => write!(f, "rclone:{remote}:{path}"),
        }
    }
}

/// `text` as it may appear in a log, a job view or an error: a URL loses its query (where
/// presigned URLs carry their signatures) and any user information; a path is unchanged.
pub fn shown(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        return text.to_string();
    };
    if !scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c)) {
        return text.to_string();
    }
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let host = authority.rsplit('@').next().unwrap_or(authority);
    let cut = if text.len() > scheme.len() + 3 + rest.len() { "?…" } else { "" };
    format!("{scheme}://{host}{path}{cut}")
}

fn parse_rclone(rest: &str) -> Result<InputUri, String> {
    let usage = "an rclone input is rclone:REMOTE:PATH (a remote from rclone.conf)";
    // `:backend,opt=v:path` names a backend on the fly; its options may hold a colon-free
    // value only, so the path starts after the second colon.
    let (remote, path) = match rest.strip_prefix(':') {
        Some(inline) => {
            let (backend, path) = inline.split_once(':').ok_or(usage)?;
            (format!(":{backend}:"), path)
        }
        None => {
            let (name, path) = rest.split_once(':').ok_or(usage)?;
            (format!("{name}:"), path)
        }
    };
    let name = remote.trim_matches(':');
    if name.is_empty() {
        return Err(usage.into());
    }
    if !remote.starts_with(':') && !name.chars().all(|c| c.is_ascii_alphanumeric() || "_-. ".contains(c)) {
        return Err(format!("`{name}` is not an rclone remote name (letters, digits, `_-. `)"));
    }
    if path.is_empty() || path.ends_with('/') {
        return Err(format!("{usage}: PATH names a file"));
    }
    if path.split('/').any(|seg| seg == "..") {
        return Err(
            "`..` in an rclone path is refused: name the file from the remote's root or starting point"
                .into(),
        );
    }
    Ok(InputUri::Rclone { remote: remote.trim_end_matches(':').to_string(), path: path.to_string() })
}

fn bucket_and_name(rest: &str, usage: &str) -> Result<(String, String), String> {
    let (bucket, name) = rest.split_once('/').ok_or_else(|| format!("expected {usage}"))?;
    if name.is_empty() || name.ends_with('/') {
        return Err(format!("expected {usage}: the name after the bucket is missing"));
    }
    if name.contains(['?', '#']) {
        return Err(format!("expected {usage}: no query or fragment"));
    }
    Ok((bucket.to_string(), name.to_string()))
}

fn check_bucket(name: &str, min: usize, max: usize) -> Result<(), String> {
    let ok = (min..=max).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-._".contains(c))
        && name.starts_with(|c: char| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a bucket or container name ({min}–{max} lower-case letters, digits, `-._`)"
        ))
    }
}

fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3).ok_or("a `%` escape is cut short")?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| format!("`%{hex}` is not an escape"))?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "the path is not UTF-8 once unescaped".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_parses_and_prints_back() {
        for text in [
            "ref.y4m",
            "/data/a b.mp4",
            "https://cdn.example.com/v/a.mp4",
            "http://127.0.0.1:8080/a.y4m",
            "s3://my-bucket/dir/a.mkv",
            "gs://bucket_1/a.mp4",
            "az://videos/2026/a.mp4",
            "rclone:nas:videos/a.mp4",
            "rclone::local:/etc/a.mp4",
        ] {
            let input = InputUri::parse(text).unwrap();
            assert_eq!(input.to_string(), text, "{input:?}");
        }
        assert_eq!(
            InputUri::parse("s3://b-1/k/x.mp4").unwrap(),
            InputUri::S3 { bucket: "b-1".into(), key: "k/x.mp4".into() }
        );
        assert_eq!(
            InputUri::parse("rclone::sftp,host=h:dir/x.mp4").unwrap(),
            InputUri::Rclone { remote: ":sftp,host=h".into(), path: "dir/x.mp4".into() }
        );
        assert_eq!(InputUri::parse("file:///tmp/a%20b.mp4").unwrap(), InputUri::Local("/tmp/a b.mp4".into()));
        assert_eq!(InputUri::parse("HTTPS://h/a").unwrap().scheme(), "https");
    }

    #[test]
    fn bad_inputs_say_what_is_wrong() {
        let reason = |t: &str| InputUri::parse(t).unwrap_err().to_string();
        assert!(reason("ftp://h/a.mp4").contains("unsupported scheme `ftp://`; an input is a local path"));
        assert!(reason("s3://ab/k").contains("not a bucket"));
        assert!(reason("s3://bucket").contains("expected s3://BUCKET/KEY"));
        assert!(reason("s3://bucket/").contains("name after the bucket is missing"));
        assert!(reason("gs://Bucket/x").contains("not a bucket"));
        assert!(reason("https:///x").contains("no host"));
        assert!(reason("https://u:pw@h/x").contains("credentials in a URL are refused"));
        assert!(!reason("https://u:pw@h/x").contains("pw"), "{}", reason("https://u:pw@h/x"));
        assert!(reason("rclone:nas").contains("rclone:REMOTE:PATH"));
        assert!(reason("rclone:nas:dir/").contains("PATH names a file"));
        assert!(reason("rclone:nas:a/../../etc/passwd").contains("`..` in an rclone path is refused"));
        assert!(reason("file://rel/x").contains("absolute path"));
        assert!(reason("").contains("empty"));
        assert!(reason("a\nb").contains("control characters"));
    }

    #[test]
    fn shown_urls_carry_no_signature_or_credentials() {
        assert_eq!(
            shown("https://h:9000/b/k.mp4?X-Amz-Signature=abc&X-Amz-Credential=AK"),
            "https://h:9000/b/k.mp4?…"
        );
        assert_eq!(shown("http://user:pw@h/k"), "http://h/k");
        assert_eq!(shown("/local/path?.mp4"), "/local/path?.mp4");
        assert_eq!(shown("https://h"), "https://h");
        let signed = InputUri::Http("https://h/k?sig=SECRET".into());
        assert!(!signed.to_string().contains("SECRET"));
        assert!(!InputUri::parse("https://h/k?sig=SECRET").unwrap().to_string().contains("SECRET"));
    }
}
