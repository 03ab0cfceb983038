"""The address policy's decisions (archive/addresses.py) and its two checks in the crawl
(crawler/downloadermiddlewares/address_policy.py), without a network: no test here opens a connection."""
import ipaddress

import pytest
from scrapy import Request
from scrapy.exceptions import CannotResolveHostError
from scrapy.utils.test import get_crawler
from twisted.internet import defer
from twisted.internet.error import DNSLookupError

from archive.addresses import AddressPolicy, address_refusal, host_refusal, literal_address, parse_networks
from crawler.downloadermiddlewares.address_policy import AddressPolicyMiddleware, PublicAddressResolver
from crawler.refusals import RefusedAddress, refusal_counts

REFUSED_HOSTS = {
    "127.0.0.1": "loopback", "127.1": "loopback", "2130706433": "loopback", "0x7f000001": "loopback",
    "0177.0.0.1": "loopback", "[::1]": "loopback", "localhost": "local name", "a.localhost": "local name",
    "169.254.169.254": "link-local", "10.1.2.3": "private", "172.16.0.1": "private", "192.168.1.1": "private",
    "100.64.0.1": "shared (CGNAT)", "0.0.0.0": "unspecified", "[::]": "unspecified", "224.0.0.1": "multicast",
    "[ff02::1]": "multicast", "255.255.255.255": "reserved", "240.0.0.1": "reserved",
    "[fd00::1]": "unique-local", "[fe80::1%25eth0]": "link-local", "[fec0::1]": "site-local",
    "[::ffff:169.254.169.254]": "link-local", "[::ffff:7f00:1]": "loopback",  # IPv4-mapped
    "[2002:a9fe:a9fe::]": "link-local",  # 6to4 of 169.254.169.254
    "[64:ff9b::a00:1]": "private",  # NAT64 of 10.0.0.1
    "[2001::1]": "IETF protocol assignment",  # Teredo
    "198.51.100.7": "documentation", "metadata.google.internal": "local name", "printer.local": "local name",
    "redis": "single-label",
}
PUBLIC_HOSTS = ["nhandan.vn", "8.8.8.8", "[2606:4700::1111]", "[::ffff:8.8.8.8]", "[2002:808:808::]",
                "[64:ff9b::808:808]", "1e100.net", "xn--bao-ngh-5ya.vn"]


@pytest.mark.parametrize("host,why", REFUSED_HOSTS.items())
def test_non_public_hosts_are_refused_with_the_reason(host, why):
    assert why in (host_refusal(host.strip("[]").replace("%25", "%")) or "")


@pytest.mark.parametrize("host", PUBLIC_HOSTS)
def test_public_hosts_pass(host):
    assert host_refusal(host.strip("[]")) is None


def test_ipv4_literals_are_read_as_a_resolver_reads_them():
    assert literal_address("127.1") == literal_address("2130706433") == ipaddress.ip_address("127.0.0.1")
    assert literal_address("10.0.0.1.") == ipaddress.ip_address("10.0.0.1")  # trailing dot
    assert literal_address("1.2.3.4.5") is None and literal_address("256.1.1.1") is None
    assert literal_address("nhandan.vn") is None


def test_address_refusal_covers_ipv6_outside_global_unicast():
    assert "reserved" in address_refusal(ipaddress.ip_address("::808:808"))  # IPv4-compatible, deprecated


def test_named_origins_are_allowed_at_their_port_only():
    policy = AddressPolicy()
    policy.name("http://127.0.0.1:8000/start")
    assert policy.refusal("http://127.0.0.1:8000/other") is None
    assert "loopback" in policy.refusal("http://127.0.0.1:6379/")
    policy.name("https://intranet.example.com/")  # default ports: http and https alike
    assert policy.refusal("http://intranet.example.com/x") is None


def test_a_named_name_that_resolves_privately_is_refused_at_other_ports():
    policy = AddressPolicy()
    policy.name("http://news.example.com:8000/")
    assert policy.resolved_refusal("news.example.com", "127.0.0.1") is None  # named: allowed
    assert policy.refusal("http://news.example.com:8000/a") is None
    assert "named at port 8000 only" in policy.refusal("http://news.example.com:6379/")


def test_resolved_addresses_are_checked_and_remembered():
    policy = AddressPolicy()
    assert policy.resolved_refusal("news.example.com", "93.184.215.14") is None
    assert "private 10.0.0.7" in policy.resolved_refusal("intranet.example.com", "10.0.0.7")
    assert "resolves to private" in policy.refusal("http://intranet.example.com/anything")


def test_allowed_networks_and_proxies_are_exceptions():
    policy = AddressPolicy(parse_networks("10.20.0.0/16, fd00::/8"))
    assert policy.refusal("http://10.20.1.1/") is None and policy.refusal("http://[fd00::5]/") is None
    assert policy.refusal("http://10.21.0.1/") is not None
    assert policy.resolved_refusal("wiki.corp.example", "10.20.3.4") is None
    policy.proxy_host("proxy.corp.example")
    assert policy.resolved_refusal("proxy.corp.example", "10.99.0.1") is None


def test_bad_allowed_network_names_the_entry():
    with pytest.raises(ValueError, match="'10.0.0.0/33'"):
        parse_networks(["10.0.0.0/8", "10.0.0.0/33"])


# --- in the crawl -------------------------------------------------------------------------------

def _middleware(**settings):
    crawler = get_crawler(settings_dict=settings)
    crawler.stats.open_spider()
    return AddressPolicyMiddleware(crawler, AddressPolicy(parse_networks(settings.get("ADDRESS_ALLOWED_NETWORKS"))),
                                   True), crawler


def test_middleware_refuses_counts_and_logs_once_per_host(caplog):
    middleware, crawler = _middleware()
    middleware.policy.name("http://127.0.0.1:8000/")
    assert middleware.process_request(Request("http://127.0.0.1:8000/page")) is None
    for path in ("/latest/meta-data/", "/latest/user-data"):
        with pytest.raises(RefusedAddress, match="link-local 169.254.169.254"):
            middleware.process_request(Request(f"http://169.254.169.254{path}"))
    assert refusal_counts(crawler.stats.get_stats()) == {"non-public address": 2}
    assert caplog.text.count("refused: non-public address: 169.254.169.254") == 1


def test_middleware_turns_a_resolver_refusal_into_a_refused_request():
    middleware, crawler = _middleware()
    middleware.policy.resolved_refusal("intranet.example.com", "10.0.0.7")
    request = Request("http://intranet.example.com/a")
    with pytest.raises(RefusedAddress):
        middleware.process_exception(request, CannotResolveHostError("no results"))
    assert middleware.process_exception(Request("http://other.example.com/"), CannotResolveHostError("x")) is None


class _TableResolver(PublicAddressResolver):
    answers = {"intranet.example.com": "10.0.0.7", "news.example.com": "93.184.215.14"}

    def lookup(self, name, timeout=()):
        return defer.succeed(self.answers[name])


def test_resolver_refuses_non_public_answers_at_connect_time():
    from twisted.internet import reactor

    resolver = _TableResolver(reactor, 0, 5.0, AddressPolicy())
    results = []
    resolver.getHostByName("news.example.com").addBoth(results.append)
    resolver.getHostByName("intranet.example.com").addBoth(results.append)
    assert results[0] == "93.184.215.14"
    assert results[1].check(DNSLookupError) and "resolves to private 10.0.0.7" in str(results[1].value)
