//! Egress policy: every outbound connection a script makes (databases, HTTP) is checked here
//! first. Per tenant: deny lists and allow lists of host names and CIDRs; cloud metadata
//! addresses are always denied. A host name is resolved once and the checked addresses are the
//! ones the client must connect to, so a DNS answer cannot change between check and connect.

use std::net::{IpAddr, SocketAddr};

/// An IP network (`10.0.0.0/8`, `fd00::/8`, or a single address).
#[derive(Debug, Clone, PartialEq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn parse(s: &str) -> Result<Cidr, String> {
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a
            .trim()
            .parse()
            .map_err(|_| format!("invalid address in CIDR '{s}'"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("invalid prefix in CIDR '{s}'"))?,
            None => max,
        };
        Ok(Cidr { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u32::MAX << (32 - self.prefix)
                };
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u128::MAX << (128 - self.prefix)
                };
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// Addresses no script may reach, whatever the policy says: cloud instance metadata services,
/// and all of `0.0.0.0/8` and `::` ("this network": on Linux a connection to them reaches the
/// local host). IPv4 addresses are also checked in their IPv4-mapped, IPv4-compatible and
/// NAT64 (`64:ff9b::/96`) IPv6 forms.
pub const ALWAYS_DENIED: &[&str] = &[
    "169.254.169.254/32",
    "169.254.170.2/32",
    "169.254.170.23/32",
    "fd00:ec2::254/128",
    "fd00:ec2::23/128",
    "100.100.100.200/32",
    "192.0.0.192/32",
    "0.0.0.0/8",
    "::/128",
];
/// Metadata services' host names, refused before any DNS lookup (also with a trailing dot
/// and in any letter case).
pub const ALWAYS_DENIED_HOSTS: &[&str] = &[
    "metadata.google.internal",
    "metadata.goog",
    "metadata",
    "metadata.azure.com",
    "instance-data",
    "instance-data.ec2.internal",
];

/// The IPv4 address an IPv6 address embeds (mapped `::ffff:a.b.c.d`, compatible `::a.b.c.d`,
/// NAT64 `64:ff9b::a.b.c.d`), if any.
fn embedded_v4(ip: std::net::Ipv6Addr) -> Option<std::net::Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = ip.segments();
    let tail =
        std::net::Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    let nat64 = s[0] == 0x64 && s[1] == 0xff9b && s[2..6].iter().all(|x| *x == 0);
    let compatible = s[..6].iter().all(|x| *x == 0) && u32::from(tail) > 1;
    (nat64 || compatible).then_some(tail)
}

/// Whether `ip` (in any of its forms) is one of [`ALWAYS_DENIED`].
fn always_denied(ip: IpAddr) -> bool {
    let forms = match ip {
        IpAddr::V6(v6) => vec![ip, embedded_v4(v6).map(IpAddr::V4).unwrap_or(ip)],
        v4 => vec![v4],
    };
    ALWAYS_DENIED
        .iter()
        .filter_map(|c| Cidr::parse(c).ok())
        .any(|c| forms.iter().any(|f| c.contains(*f)))
}

/// Whether `host` is a metadata service's name.
fn denied_host(host: &str) -> bool {
    ALWAYS_DENIED_HOSTS.iter().any(|h| host_matches(h, host))
}

const METADATA_REFUSAL: &str = "cloud metadata addresses are never reachable from scripts";

/// One tenant's egress policy.
#[derive(Debug, Clone, Default)]
pub struct EgressPolicy {
    /// Host names (`db.example.com`, or `*.example.com` for subdomains) always allowed.
    pub allow_hosts: Vec<String>,
    pub allow_cidrs: Vec<Cidr>,
    pub deny_hosts: Vec<String>,
    pub deny_cidrs: Vec<Cidr>,
    /// When no allow rule matches: allow (true) or deny (false).
    pub default_allow: bool,
}

fn host_matches(pattern: &str, host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(suffix) => host.ends_with(&format!(".{}", suffix.to_ascii_lowercase())),
        None => host == pattern.to_ascii_lowercase(),
    }
}

impl EgressPolicy {
    /// Allows everything but the metadata addresses (development default).
    pub fn allow_all() -> Self {
        EgressPolicy {
            default_allow: true,
            ..Default::default()
        }
    }

    /// Why `host`/`ip` is refused, if it is.
    pub fn verdict(&self, host: &str, ip: IpAddr) -> Result<(), String> {
        let denied = |why: &str| {
            Err(format!(
                "connection to {host} ({ip}) is not allowed by the tenant's egress policy: {why}"
            ))
        };
        if denied_host(host) || always_denied(ip) {
            return denied(METADATA_REFUSAL);
        }
        if self.deny_hosts.iter().any(|p| host_matches(p, host))
            || self.deny_cidrs.iter().any(|c| c.contains(ip))
        {
            return denied("denied");
        }
        if self.allow_hosts.iter().any(|p| host_matches(p, host))
            || self.allow_cidrs.iter().any(|c| c.contains(ip))
        {
            return Ok(());
        }
        if self.default_allow {
            Ok(())
        } else {
            denied("not in the allow list")
        }
    }

    /// Resolves `host:port` and checks every address; returns the addresses to connect to.
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if denied_host(host) {
            // Refused before the name is looked up: not even the DNS query leaves.
            return Err(format!(
                "connection to {host} is not allowed by the tenant's egress policy: {METADATA_REFUSAL}"
            ));
        }
        let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => tokio::net::lookup_host((host, port))
                .await
                .map_err(|e| format!("cannot resolve {host}: {e}"))?
                .collect(),
        };
        if addrs.is_empty() {
            return Err(format!("cannot resolve {host}"));
        }
        for a in &addrs {
            self.verdict(host, a.ip())?;
        }
        Ok(addrs)
    }
}

/// What host modules need from their container: the tenant, its egress policy and the
/// operator-added packages scripts may require (if any).
#[derive(Debug, Clone)]
pub struct ModuleEnv {
    pub tenant_id: String,
    pub egress: std::sync::Arc<EgressPolicy>,
    pub packages: Option<std::sync::Arc<crate::modules::packages::Packages>>,
    /// Pre-Node-16 "magic" globals (`bcrypt`, `crypto`, `jwt`, `uuid`, `request`, `mysql(opts)`,
    /// `postgres(conString, cb)`, `pg`) for old scripts; off unless the tenant turns it on.
    pub legacy_globals: bool,
    /// The container's access to native work (key derivations, bcrypt): see [`crate::native`].
    pub native: crate::native::NativeWork,
    /// The container's budget for query results and HTTP bodies held in Rust.
    pub buffers: crate::budget::HostBuffers,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs_match_v4_v6_and_mapped() {
        let c = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(c.contains("10.1.2.3".parse().unwrap()));
        assert!(!c.contains("11.0.0.1".parse().unwrap()));
        assert!(c.contains("::ffff:10.0.0.1".parse().unwrap()));
        let c6 = Cidr::parse("fd00::/8").unwrap();
        assert!(c6.contains("fd12::1".parse().unwrap()));
        assert!(Cidr::parse("1.2.3.4/33").is_err());
        assert!(Cidr::parse("nope").is_err());
    }

    #[test]
    fn metadata_addresses_are_denied_even_when_allowed() {
        let p = EgressPolicy {
            allow_cidrs: vec![Cidr::parse("0.0.0.0/0").unwrap()],
            default_allow: true,
            ..Default::default()
        };
        assert!(
            p.verdict("169.254.169.254", "169.254.169.254".parse().unwrap())
                .is_err()
        );
        assert!(
            p.verdict("metadata.google.internal", "10.0.0.1".parse().unwrap())
                .is_err()
        );
        assert!(p.verdict("db", "10.0.0.1".parse().unwrap()).is_ok());
    }

    #[test]
    fn all_of_this_network_is_denied_in_every_form() {
        let p = EgressPolicy::allow_all();
        for ip in [
            "0.0.0.0",
            "0.0.0.1",
            "0.1.2.3",
            "0.255.255.255",
            "::",
            "::ffff:0.0.0.1",
            "::ffff:169.254.169.254",
            "::169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b::5",
        ] {
            assert!(p.verdict("h", ip.parse().unwrap()).is_err(), "{ip}");
        }
        for ip in ["1.0.0.0", "::1", "64:ff9b::102:304", "10.0.0.1"] {
            assert!(p.verdict("h", ip.parse().unwrap()).is_ok(), "{ip}");
        }
    }

    #[tokio::test]
    async fn metadata_host_names_are_refused_before_any_lookup() {
        let p = EgressPolicy::allow_all();
        for host in [
            "metadata",
            "METADATA.",
            "metadata.google.internal",
            "Metadata.Google.Internal.",
            "metadata.goog",
            "instance-data",
        ] {
            let err = p.resolve(host, 80).await.unwrap_err();
            // A lookup would have failed with "cannot resolve": the refusal came first.
            assert!(err.contains("cloud metadata"), "{host}: {err}");
        }
    }

    #[test]
    fn deny_beats_allow_and_default_applies() {
        let p = EgressPolicy {
            allow_hosts: vec!["*.example.com".into()],
            deny_hosts: vec!["evil.example.com".into()],
            default_allow: false,
            ..Default::default()
        };
        assert!(
            p.verdict("db.example.com", "192.0.2.1".parse().unwrap())
                .is_ok()
        );
        assert!(
            p.verdict("evil.example.com", "192.0.2.1".parse().unwrap())
                .is_err()
        );
        assert!(
            p.verdict("other.org", "192.0.2.1".parse().unwrap())
                .is_err()
        );
        assert!(
            EgressPolicy::allow_all()
                .verdict("other.org", "192.0.2.1".parse().unwrap())
                .is_ok()
        );
    }
}
