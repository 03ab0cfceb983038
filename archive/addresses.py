"""Which hosts and addresses a crawl may connect to: public ones, unless the user named them.

A crawler follows links, redirects, meta refreshes and sitemaps from pages it
does not control, from inside someone's network (a laptop, a university
server, a cloud VM). A page that points it at the cloud metadata service
(169.254.169.254), a local Redis (127.0.0.1:6379) or an intranet host must not
get it fetched, and above all not archived into a WARC that is then shared.

This module only decides; the crawl applies it (crawler/downloadermiddlewares/address_policy.py):

- `host_refusal(host)`: a host as written in a URL. IP literals in every form
  a resolver accepts (`127.1`, `0x7f000001`, `2130706433`, `[::ffff:7f00:1]`)
  are parsed and judged by `address_refusal`; names that never denote a public
  web server (`localhost`, `*.localhost`, `*.local`, `*.internal`,
  `*.home.arpa`, `*.localdomain`, single-label intranet names) are refused.
- `address_refusal(ip)`: loopback, private (RFC 1918), shared/CGNAT,
  link-local, unique-local and site-local IPv6, unspecified, multicast,
  documentation, benchmarking and reserved ranges (IANA's special-purpose
  registries), and the IPv4-mapped, 6to4 and NAT64 forms of them.
- `AddressPolicy`: the two above plus the exceptions a user gives, the hosts
  named in the crawl's own seeds (so a crawl of a local test server works) and
  networks allowed by setting; it also answers for an address a name resolved
  to, which is what a direct connection really reaches.

No Scrapy, no I/O: the resolver and the downloader middleware call it.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

__all__ = ["AddressPolicy", "address_refusal", "host_refusal", "literal_address", "parse_networks",
           "url_origin"]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_IPV4_SPECIAL = tuple((ipaddress.IPv4Network(net), why) for net, why in (
    ("0.0.0.0/8", "unspecified"),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "shared (CGNAT)"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),  # 169.254.169.254: cloud instance metadata
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "IETF protocol assignment"),
    ("192.0.2.0/24", "documentation"),
    ("192.88.99.0/24", "6to4 relay"),
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),  # 255.255.255.255 (broadcast) included
))
_IPV6_SPECIAL = tuple((ipaddress.IPv6Network(net), why) for net, why in (
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("64:ff9b:1::/48", "local-use NAT64"),
    ("100::/64", "discard-only"),
    ("2001::/23", "IETF protocol assignment"),  # Teredo, ORCHID, benchmarking
    ("2001:db8::/32", "documentation"),
    ("3fff::/20", "documentation"),
    ("5f00::/16", "segment routing"),
    ("fc00::/7", "unique-local"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local"),
    ("ff00::/8", "multicast"),
))
_IPV6_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# Names that resolve on the machine or its LAN, never to a public web server (RFC 6761, 6762,
# 8375; ICANN's .internal); a name of one label is an intranet host found through a search domain.
_LOCAL_NAMES = ("localhost",)
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa", ".localdomain")


def address_refusal(ip: Address) -> str | None:
    """Why `ip` is not a public address (e.g. "link-local 169.254.169.254"), or None if it is."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            reason = address_refusal(embedded)
            return f"{reason} (as {ip})" if reason else None
        table = _IPV6_SPECIAL
    else:
        table = _IPV4_SPECIAL
    for network, why in table:
        if ip in network:
            return f"{why} {ip}"
    if isinstance(ip, ipaddress.IPv6Address) and ip not in _IPV6_GLOBAL_UNICAST:
        return f"reserved {ip}"
    if not ip.is_global:  # whatever else the running Python's registry knows of
        return f"not globally routable {ip}"
    return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv4-mapped, 6to4 or NAT64 address reaches (the deprecated
    IPv4-compatible `::a.b.c.d` is refused as reserved, outside 2000::/3)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def literal_address(host: str) -> Address | None:
    """The IP address `host` (as in a URL) spells, or None for a name.

    IPv4 is read as inet_aton and the WHATWG URL standard do: one to four
    parts, each decimal, octal (leading 0) or hex (0x), the last filling the
    remaining bytes, so `127.1`, `0177.0.0.1` and `2130706433` are all
    127.0.0.1. IPv6 may be bracketed and carry a zone (`fe80::1%eth0`).
    """
    host = host.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return None
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()  # one trailing dot: a fully qualified name or address
    if not 1 <= len(parts) <= 4:
        return None
    numbers = [_ipv4_part(part) for part in parts]
    if any(n is None for n in numbers):
        return None
    *leading, last = numbers
    if any(n > 255 for n in leading) or last >= 256 ** (5 - len(numbers)):
        return None
    value = last
    for position, n in enumerate(leading):
        value += n << (8 * (3 - position))
    return ipaddress.IPv4Address(value)


def _ipv4_part(part: str) -> int | None:
    if part.startswith("0x"):
        digits, base = part[2:] or "0", 16
    elif len(part) > 1 and part.startswith("0"):
        digits, base = part[1:], 8
    else:
        digits, base = part, 10
    if not digits.isascii() or not digits.isalnum():
        return None
    try:
        return int(digits, base)
    except ValueError:
        return None


def host_refusal(host: str) -> str | None:
    """Why a URL's host is not a public one, or None: an address by `address_refusal`, a name
    by its form (local names and single-label intranet names)."""
    ip = literal_address(host)
    if ip is not None:
        return address_refusal(ip)
    name = host.strip().lower().rstrip(".")
    if not name:
        return "empty host"
    if name in _LOCAL_NAMES or name.endswith(_LOCAL_SUFFIXES):
        return f"local name {name}"
    if "." not in name:
        return f"single-label (intranet) name {name}"
    return None


def parse_networks(values: str | Iterable[str] | None) -> tuple[Network, ...]:
    """Networks from a setting: a list, or one string separated by commas or spaces
    (`10.1.0.0/16, fd00::/8`; a bare address is a /32 or /128). Raises ValueError naming the bad entry."""
    if values is None:
        return ()
    if isinstance(values, str):
        values = values.replace(",", " ").split()
    networks = []
    for value in values:
        text = str(value).strip()
        if not text:
            continue
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            raise ValueError(f"not an IP network: {text!r} (expected e.g. 10.1.0.0/16 or fd00::/8)") from None
    return tuple(networks)


def url_origin(url) -> tuple[str, int | None]:
    """`(host, port)` of a URL (a string, or what urlsplit/urlparse made of one) as the policy
    compares them: host lower-cased without brackets or a trailing dot; port None for the
    scheme's default (80 and 443 count as one: a named `http://host/` may be reached over https)."""
    parts = urlsplit(url) if isinstance(url, str) else url
    host = (parts.hostname or "").rstrip(".")
    try:
        port = parts.port
    except ValueError:
        port = -1  # malformed: never equal to a named one
    return host, None if port in (None, 80, 443) else port


class AddressPolicy:
    """The decisions for one crawl (or one process's resolver, shared by its crawls).

    `name(url)` adds a user-named origin: its host is allowed at its port (a
    named `http://127.0.0.1:8000/` does not open `127.0.0.1:6379`) whatever
    address it resolves to. A resolver sees names, not ports: once a named name
    has resolved to a non-public address, its other ports are refused here, by
    name. `allowed_networks` opens addresses whoever names them.
    `proxy_host(host)` lets the crawl reach its own proxies, which are often on
    loopback or the LAN.
    """

    def __init__(self, allowed_networks: Iterable[Network] = ()):
        self.allowed_networks: tuple[Network, ...] = tuple(allowed_networks)
        self.named: set[tuple[str, int | None]] = set()
        self.named_hosts: set[str] = set()
        self.proxy_hosts: set[str] = set()
        # host -> why, for names a resolver found to resolve to a non-public address
        self.refused_names: dict[str, str] = {}
        # the same for named hosts: allowed at their named ports only
        self.named_private: dict[str, str] = {}
        self._decided: dict[str, str | None] = {}  # netloc -> refusal; cleared when anything above changes

    def name(self, url: str) -> None:
        host, port = url_origin(url)
        if host:
            self.named.add((host, port))
            self.named_hosts.add(host)
            self._decided.clear()

    def proxy_host(self, host: str) -> None:
        if host:
            self.proxy_hosts.add(host.lower().rstrip("."))

    def allow_networks(self, networks: Iterable[Network]) -> None:
        self.allowed_networks += tuple(n for n in networks if n not in self.allowed_networks)
        self._decided.clear()

    def refusal(self, url) -> str | None:
        """Why a request for `url` (as for `url_origin`) is refused before any connection, or None."""
        parts = urlsplit(url) if isinstance(url, str) else url
        try:
            return self._decided[parts.netloc]
        except KeyError:
            pass
        if len(self._decided) > 4096:
            self._decided.clear()
        reason = self._decided[parts.netloc] = self._refusal(parts)
        return reason

    def _refusal(self, parts) -> str | None:
        host, port = url_origin(parts)
        if (host, port) in self.named:
            return None
        resolved = self.refused_names.get(host)
        if resolved is not None:
            return resolved
        if host in self.named_private:
            ports = sorted(str(p or "default") for h, p in self.named if h == host)
            return f"{self.named_private[host]}, named at port {', '.join(ports)} only"
        ip = literal_address(host)
        if ip is not None and self._allowed(ip):
            return None
        return host_refusal(host)

    def resolved_refusal(self, name: str, address: str) -> str | None:
        """Why a connection to `address`, which `name` resolved to, is refused, or None. A refusal
        is remembered, so later requests for `name` are refused before they reach the resolver."""
        name = name.lower().rstrip(".")
        if name in self.proxy_hosts:
            return None
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return None if name in self.named_hosts else f"unreadable address {address!r}"
        if self._allowed(ip):
            return None
        reason = address_refusal(ip)
        if reason is None:
            return None
        reason = f"{name} resolves to {reason}"
        remembered = self.named_private if name in self.named_hosts else self.refused_names
        if remembered.get(name) != reason:
            remembered[name] = reason
            self._decided.clear()
        return None if remembered is self.named_private else reason

    def _allowed(self, ip: Address) -> bool:
        return any(ip.version == network.version and ip in network for network in self.allowed_networks)
