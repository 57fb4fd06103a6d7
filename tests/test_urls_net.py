"""The small shared helpers issue 14 collected: IPv6 bracketing (urls.bracket) and "is this
host this machine?" (net.is_this_machine, net.is_served_here)."""

from __future__ import annotations

import asyncio

import pytest

from lmdoctor import net, urls


@pytest.mark.parametrize(
    ("host", "shown"),
    [("127.0.0.1", "127.0.0.1"), ("::1", "[::1]"), ("fe80::1", "[fe80::1]"), ("lan", "lan")],
)
def test_bracket(host: str, shown: str):
    assert urls.bracket(host) == shown


def test_url_builders_bracket_ipv6():
    assert urls.with_port("http://[::1]:1234/v1", 8080) == "http://[::1]:8080/v1"
    assert urls.with_scheme("https://[::1]/v1", "http") == "http://[::1]:443/v1"


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "127.1.2.3", "::1", "[::1]"])
def test_loopback_is_this_machine(host: str):
    assert net.is_this_machine(host)


def test_an_interface_address_is_this_machine():
    mine = next((a for a in sorted(net.local_addresses()) if not net.is_loopback(a)), None)
    if mine is None:
        pytest.skip("no interface besides loopback")
    assert net.is_this_machine(mine)


@pytest.mark.parametrize("host", ["192.0.2.1", "2001:db8::1", "example.invalid"])
def test_other_addresses_are_not(host: str):
    # documentation ranges (RFC 5737, 3849) and a reserved name: nothing is sent to them
    assert not net.is_this_machine(host)


def test_served_here_resolves_names_without_traffic():
    assert asyncio.run(net.is_served_here("localhost", 2.0))
    assert asyncio.run(net.is_served_here("127.0.0.1", 2.0))
    assert not asyncio.run(net.is_served_here("192.0.2.1", 2.0))
