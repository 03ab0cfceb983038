"""A DNS resolver for crawls under test: answers from a table, asks no real DNS, records what was asked.

`TWISTED_DNS_RESOLVER=tests.stub_resolver.StubResolver` with `STUB_DNS` set to
a JSON file `{"answers": {name: address}, "log": path}`: each name asked is
appended to `log`; a name in `answers` resolves to its address, an IP literal to
itself, anything else fails as an unknown name. The address policy's check
(crawler.downloadermiddlewares.address_policy.PublicAddressResolver) runs on these answers as it does
on real ones, so a public-looking name can be made to resolve to 127.0.0.1,
where a recording server shows whether anything connected.
"""
from __future__ import annotations

import ipaddress
import json
import os

from twisted.internet import defer
from twisted.internet.error import DNSLookupError

from crawler.downloadermiddlewares.address_policy import PublicAddressResolver


class StubResolver(PublicAddressResolver):
    def lookup(self, name: str, timeout=()):
        config = json.loads(open(os.environ["STUB_DNS"], encoding="utf-8").read())
        with open(config["log"], "a", encoding="utf-8") as log:
            log.write(name + "\n")
        address = config["answers"].get(name)
        if address is None:
            try:
                address = str(ipaddress.ip_address(name))
            except ValueError:
                return defer.fail(DNSLookupError(f"stub resolver: no answer for {name}"))
        return defer.succeed(address)
