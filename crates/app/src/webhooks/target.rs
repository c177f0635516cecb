//! Where a webhook may point: `http://` or `https://` URLs without credentials, and — unless private
//! addresses are allowed — never at loopback, private, link-local or otherwise internal addresses, so that an
//! agency cannot make the server call into its own network (SSRF). Literal addresses and `localhost` are
//! refused when the endpoint is registered; names are resolved at every delivery by [`GuardedResolver`], which
//! refuses a name that resolves to such an address (and the connection then goes to the address it checked).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// The longest URL accepted.
const MAX_URL_CHARS: usize = 2000;

/// Whether an address is one a webhook must not reach without `--webhooks-allow-private`.
pub fn is_forbidden_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_v4(v4);
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (first & 0xffc0) == 0xfec0 // site-local fec0::/10 (deprecated)
        }
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT 100.64.0.0/10
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments 192.0.0.0/24
        || (a == 198 && (b == 18 || b == 19)) // benchmarking 198.18.0.0/15
        || a >= 240 // reserved
}

/// Checks a URL an agency registers; returns it as given (trimmed) or why it is refused.
pub fn check_url(text: &str, allow_private: bool) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_URL_CHARS {
        return Err(format!("must be an http:// or https:// URL of at most {MAX_URL_CHARS} characters"));
    }
    let url = url::Url::parse(text).map_err(|e| format!("is not a valid URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("must be an http:// or https:// URL, not {}://", url.scheme()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain credentials".into());
    }
    if url.fragment().is_some() {
        return Err("must not contain a fragment".into());
    }
    let host = match url.host() {
        Some(host) => host,
        None => return Err("must name a host".into()),
    };
    if !allow_private {
        let refused = match host {
            url::Host::Ipv4(ip) => is_forbidden_ip(IpAddr::V4(ip)),
            url::Host::Ipv6(ip) => is_forbidden_ip(IpAddr::V6(ip)),
            url::Host::Domain(name) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                name == "localhost" || name.ends_with(".localhost") || name.ends_with(".internal")
            }
        };
        if refused {
            return Err("must not point at a loopback, private or link-local address".into());
        }
    }
    Ok(text.to_owned())
}

/// Resolves names like the system does, then refuses the answer if any address it would connect to is one a
/// webhook must not reach.
#[derive(Debug, Default)]
pub(super) struct GuardedResolver;

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if addrs.is_empty() {
                return Err(format!("{host} has no address").into());
            }
            if let Some(bad) = addrs.iter().find(|a| is_forbidden_ip(a.ip())) {
                return Err(format!("{host} resolves to {}, a refused address", bad.ip()).into());
            }
            let addrs: Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_http_urls_pass() {
        assert_eq!(check_url(" https://hooks.example.com/x ", false).as_deref(), Ok("https://hooks.example.com/x"));
        assert!(check_url("ftp://example.com/", false).unwrap_err().contains("not ftp://"));
        for url in [
            "http://127.0.0.1:9000/",
            "http://10.1.2.3/",
            "http://192.168.0.1/",
            "http://172.16.5.4/",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/",
            "http://[fd00::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://localhost:8080/",
            "http://0.0.0.0/",
            "http://100.64.1.1/",
        ] {
            assert!(check_url(url, false).is_err(), "{url} must be refused");
            assert!(check_url(url, true).is_ok(), "{url} is fine with private addresses allowed");
        }
        assert!(check_url("https://user:pw@example.com/", true).is_err());
        assert!(check_url("not a url", true).is_err());
    }
}
