//! Which remote inputs a job may name: a controller reads what its operator allowed
//! (`--allow-input`), and nothing else. The default is no remote input at all.
//!
//! A rule is a URI prefix cut at a component, never at a character: `s3://` (any bucket),
//! `s3://media` (that bucket, not `s3://media-evil`), `https://` or `https://cdn.example.com`
//! (that host, any port unless one is given), `rclone:nas` (that configured remote). An
//! on-the-fly rclone backend (`rclone::local:`, `rclone::sftp,host=…:`) reaches whatever the
//! node can, so it needs a rule naming it (`rclone::local`). Addresses a job's URL resolves
//! to are checked too ([`forbidden_address`]): loopback, link-local (cloud metadata),
//! private and other non-public ranges are refused unless `--allow-private-addresses`.

use std::net::IpAddr;

use vmafx_core::InputUri;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Rule {
    /// Every input of a scheme (`s3`, `gs`, `az`, `http`, `https`, `rclone`).
    Scheme(String),
    /// One bucket or container of an object store.
    Bucket { scheme: String, bucket: String },
    /// One host (and port, when given) over http or https.
    Host { scheme: String, host: String, port: Option<u16> },
    /// One rclone remote, as named in rclone.conf or `:backend` for an on-the-fly one.
    Remote(String),
}

/// What a controller lets jobs read besides its local roots.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InputPolicy {
    rules: Vec<Rule>,
    /// Let URLs reach loopback, private and link-local addresses (a lab, a test, an
    /// object store on the cluster's own network).
    pub allow_private_addresses: bool,
}

impl InputPolicy {
    /// No remote input (local roots are judged elsewhere).
    pub fn none() -> Self {
        Self::default()
    }

    /// Every scheme, every address: for one user scoring on their own machine, where the
    /// user is the one who names the inputs.
    pub fn everything() -> Self {
        let rules = ["http", "https", "s3", "gs", "az", "rclone"].map(|s| Rule::Scheme(s.into())).into();
        Self { rules, allow_private_addresses: true }
    }

    /// The rules `--allow-input` was given; a rule that is not one is an error naming it.
    pub fn parse(rules: &[String], allow_private_addresses: bool) -> Result<Self, String> {
        let rules = rules.iter().map(|r| parse_rule(r)).collect::<Result<_, _>>()?;
        Ok(Self { rules, allow_private_addresses })
    }

    /// Whether a job may name `input` (addresses are judged when they are resolved). The
    /// error says which rule would allow it.
    pub fn check(&self, input: &InputUri) -> Result<(), String> {
        let allowed = match input {
            InputUri::Local(_) => return Ok(()),
            InputUri::Http(url) => {
                let (scheme, host, port) = split_url(url).ok_or("the URL names no host")?;
                self.rules.iter().any(|r| match r {
                    Rule::Scheme(s) => *s == scheme,
                    Rule::Host { scheme: s, host: h, port: p } => {
                        *s == scheme && h.eq_ignore_ascii_case(&host) && p.is_none_or(|p| Some(p) == port)
                    }
                    _ => false,
                })
            }
            InputUri::S3 { bucket, .. }
            | InputUri::Gs { bucket, .. }
            | InputUri::Az { container: bucket, .. } => {
                let scheme = input.scheme();
                self.rules.iter().any(|r| match r {
                    Rule::Scheme(s) => s == scheme,
                    Rule::Bucket { scheme: s, bucket: b } => s == scheme && b == bucket,
                    _ => false,
                })
            }
            InputUri::Rclone { remote, .. } => {
                let inline = remote.starts_with(':');
                // `:sftp,host=h` is the backend `:sftp` with options.
                let backend = remote.split(',').next().unwrap_or(remote);
                self.rules.iter().any(|r| match r {
                    Rule::Scheme(s) => s == "rclone" && !inline,
                    Rule::Remote(name) => name == backend,
                    _ => false,
                })
            }
        };
        if allowed {
            return Ok(());
        }
        let hint = match input {
            InputUri::Rclone { remote, .. } if remote.starts_with(':') => format!(
                "an on-the-fly rclone backend reaches whatever the node can; the controller allows one only \
                 with --allow-input rclone:{}",
                remote.split(',').next().unwrap_or(remote)
            ),
            InputUri::Rclone { remote, .. } => {
                format!("start the controller with --allow-input rclone:{remote}")
            }
            InputUri::Http(url) => {
                let (scheme, host, _) = split_url(url).unwrap_or_default();
                format!("start the controller with --allow-input {scheme}://{host}")
            }
            other => {
                let text = other.to_string();
                let bucket = text.split('/').take(3).collect::<Vec<_>>().join("/");
                format!("start the controller with --allow-input {bucket}")
            }
        };
        Err(format!("`{input}` is not allowed on this controller: {hint}"))
    }

    /// Whether a URL of a job may reach `ip` (what its host resolved to).
    pub fn check_address(&self, host: &str, ip: IpAddr) -> Result<(), String> {
        match forbidden_address(ip) {
            Some(kind) if !self.allow_private_addresses => Err(format!(
                "`{host}` resolves to {ip}, a {kind} address: a job may not make the cluster reach it \
                 (start the controller with --allow-private-addresses to allow it)"
            )),
            _ => Ok(()),
        }
    }
}

/// What kind of non-public address `ip` is, or `None` for a public one.
pub fn forbidden_address(ip: IpAddr) -> Option<&'static str> {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    };
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            if v4.is_loopback() {
                Some("loopback")
            } else if v4.is_link_local() {
                Some("link-local (cloud metadata)")
            } else if v4.is_private() {
                Some("private")
            } else if v4.is_unspecified() || v4.is_broadcast() || v4.is_multicast() || a == 0 {
                Some("non-routable")
            } else if a == 100 && (64..128).contains(&b) {
                Some("shared (carrier-grade NAT)")
            } else if a >= 240 {
                Some("reserved")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            if v6.is_loopback() {
                Some("loopback")
            } else if v6.is_unspecified() || v6.is_multicast() {
                Some("non-routable")
            } else if first & 0xffc0 == 0xfe80 {
                Some("link-local (cloud metadata)")
            } else if first & 0xfe00 == 0xfc00 {
                // Unique local, which includes AWS's metadata address fd00:ec2::254.
                Some("private")
            } else {
                None
            }
        }
    }
}

fn parse_rule(text: &str) -> Result<Rule, String> {
    let bad = |why: &str| format!("--allow-input `{text}`: {why}");
    if let Some(remote) = text.strip_prefix("rclone:") {
        let remote = remote.trim_end_matches(':');
        return Ok(match remote {
            "" => Rule::Scheme("rclone".into()),
            name if name.starts_with(':') => Rule::Remote(name.split(',').next().unwrap_or(name).into()),
            name => Rule::Remote(name.into()),
        });
    }
    let (scheme, rest) = text.split_once("://").ok_or_else(|| {
        bad("expected a URI prefix such as s3://, s3://BUCKET, https://HOST, gs://BUCKET, az://CONTAINER or rclone:REMOTE")
    })?;
    let scheme = scheme.to_ascii_lowercase();
    let name = rest.trim_end_matches('/');
    if name.contains('/') {
        return Err(bad("a rule names a scheme, a bucket or a host, not a path inside one"));
    }
    match scheme.as_str() {
        "s3" | "gs" | "az" if name.is_empty() => Ok(Rule::Scheme(scheme)),
        "s3" | "gs" | "az" => Ok(Rule::Bucket { scheme, bucket: name.into() }),
        "http" | "https" if name.is_empty() => Ok(Rule::Scheme(scheme)),
        "http" | "https" => {
            let (host, port) = split_host_port(name).ok_or_else(|| bad("the port is not a number"))?;
            Ok(Rule::Host { scheme, host, port })
        }
        other => Err(bad(&format!("unknown scheme `{other}://` (s3, gs, az, http, https, rclone)"))),
    }
}

/// Scheme (lower case), host and port (when written) of an http(s) URL.
pub(crate) fn split_url(url: &str) -> Option<(String, String, Option<u16>)> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let (host, port) = split_host_port(authority)?;
    (!host.is_empty()).then(|| (scheme.to_ascii_lowercase(), host, port))
}

fn split_host_port(authority: &str) -> Option<(String, Option<u16>)> {
    // `[::1]:8080`, `h:8080`, `h`
    if let Some(v6) = authority.strip_prefix('[') {
        let (host, rest) = v6.split_once(']')?;
        let port = match rest.strip_prefix(':') {
            Some(p) => Some(p.parse().ok()?),
            None => None,
        };
        return Some((host.to_string(), port));
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => Some((host.to_string(), Some(port.parse().ok()?))),
        None => Some((authority.to_string(), None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(rules: &[&str]) -> InputPolicy {
        InputPolicy::parse(&rules.iter().map(|r| r.to_string()).collect::<Vec<_>>(), false).unwrap()
    }

    fn uri(text: &str) -> InputUri {
        InputUri::parse(text).unwrap()
    }

    #[test]
    fn nothing_remote_by_default() {
        let none = InputPolicy::none();
        assert!(none.check(&uri("/data/a.mp4")).is_ok());
        for text in
            ["s3://media/a.mp4", "https://h/a.mp4", "gs://media/a", "az://media/a", "rclone:nas:a.mp4"]
        {
            let e = none.check(&uri(text)).unwrap_err();
            assert!(e.contains(text) && e.contains("--allow-input"), "{e}");
        }
    }

    #[test]
    fn a_bucket_rule_allows_that_bucket_only() {
        let p = policy(&["s3://media", "gs://", "https://cdn.example.com", "http://10.0.0.5:9000"]);
        assert!(p.check(&uri("s3://media/x/a.mp4")).is_ok());
        let e = p.check(&uri("s3://media-evil/a.mp4")).unwrap_err();
        assert!(
            e.contains("`s3://media-evil/a.mp4` is not allowed")
                && e.contains("--allow-input s3://media-evil"),
            "{e}"
        );
        assert!(p.check(&uri("gs://anything/a")).is_ok());
        assert!(p.check(&uri("az://media/a")).is_err());
        assert!(p.check(&uri("https://cdn.example.com/a.mp4")).is_ok());
        assert!(p.check(&uri("https://CDN.example.com:8443/a.mp4")).is_ok());
        assert!(p.check(&uri("https://cdn.example.com.evil.net/a.mp4")).is_err());
        assert!(p.check(&uri("http://cdn.example.com/a.mp4")).is_err(), "the scheme is part of the rule");
        assert!(p.check(&uri("http://10.0.0.5:9000/a")).is_ok());
        assert!(p.check(&uri("http://10.0.0.5:9001/a")).is_err());
    }

    #[test]
    fn rclone_remotes_and_on_the_fly_backends() {
        let p = policy(&["rclone:nas"]);
        assert!(p.check(&uri("rclone:nas:videos/a.mp4")).is_ok());
        assert!(p.check(&uri("rclone:other:a.mp4")).is_err());
        let all = policy(&["rclone:"]);
        assert!(all.check(&uri("rclone:other:a.mp4")).is_ok());
        let e = all.check(&uri("rclone::local:/etc/shadow")).unwrap_err();
        assert!(e.contains("on-the-fly") && e.contains("--allow-input rclone::local"), "{e}");
        assert!(all.check(&uri("rclone::sftp,host=10.0.0.1:a.mp4")).is_err());
        assert!(policy(&["rclone::sftp"]).check(&uri("rclone::sftp,host=h:a.mp4")).is_ok());
    }

    #[test]
    fn bad_rules_are_named() {
        for (rule, why) in [
            ("s3", "expected a URI prefix"),
            ("ftp://h", "unknown scheme `ftp://`"),
            ("s3://b/dir", "not a path inside one"),
            ("https://h:x", "port"),
        ] {
            let e = InputPolicy::parse(&[rule.to_string()], false).unwrap_err();
            assert!(e.contains(rule) && e.contains(why), "{e}");
        }
    }

    #[test]
    fn non_public_addresses_are_refused_unless_allowed() {
        let p = InputPolicy::none();
        for (ip, kind) in [
            ("127.0.0.1", "loopback"),
            ("169.254.169.254", "link-local"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("192.168.1.1", "private"),
            ("100.64.0.1", "carrier-grade"),
            ("0.0.0.0", "non-routable"),
            ("::1", "loopback"),
            ("fe80::1", "link-local"),
            ("fd00:ec2::254", "private"),
            ("::ffff:127.0.0.1", "loopback"),
        ] {
            let e = p.check_address("h", ip.parse().unwrap()).unwrap_err();
            assert!(e.contains(kind) && e.contains("--allow-private-addresses"), "{ip}: {e}");
        }
        assert!(p.check_address("h", "93.184.216.34".parse().unwrap()).is_ok());
        assert!(p.check_address("h", "2606:2800:220:1::1".parse().unwrap()).is_ok());
        let lab = InputPolicy { allow_private_addresses: true, ..InputPolicy::none() };
        assert!(lab.check_address("h", "127.0.0.1".parse().unwrap()).is_ok());
    }
}
