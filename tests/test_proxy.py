"""The proxy check: Go's environment rules, the entry's `proxy`, and real proxies on loopback."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import netns
from conftest import by_code, codes, diagnose
from hostile import read_head
from lmdoctor import net
from lmdoctor.findings import Severity
from lmdoctor.target import Target
from loopback import RawServer, Reply, Server, free_port

MODELS = Reply(200, {"object": "list", "data": [{"id": "m", "object": "model"}]})
DENIED = (
    b"HTTP/1.1 403 Forbidden\r\nServer: squid/5.7\r\nX-Squid-Error: ERR_ACCESS_DENIED 0\r\n"
    b"Content-Type: text/html\r\nContent-Length: 26\r\nConnection: close\r\n\r\n"
    b"<html>Access denied</html>"
)
PROXY_VARIABLES = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (*PROXY_VARIABLES, "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    root = tmp_path / "root"
    root.mkdir()
    monkeypatch.setattr(net, "SYSTEM_ROOT", root)


def target(url: str, proxy: str | None = None) -> Target:
    return Target(
        name="t",
        api_base=url,
        model="m",
        model_id="m",
        proxy=proxy,
        config_path=Path("/home/u/.picoclaw/config.json"),
        entry="model_list[0]",
    )


# --- proxies ---------------------------------------------------------------------------------


class ForwardingProxy(RawServer):
    """A minimal HTTP forward proxy (absolute-form GET only); records the URLs it fetched."""

    def __init__(self) -> None:
        self.fetched: list[str] = []
        super().__init__(self._forward)

    def _forward(self, conn: socket.socket) -> None:
        head = read_head(conn)
        request_line, _, rest = head.partition(b"\r\n")
        method, url, version = request_line.decode().split(" ")
        self.fetched.append(url)
        parts = urlsplit(url)
        headers = [
            h
            for h in rest.split(b"\r\n")
            if h and not h.lower().startswith((b"connection:", b"proxy-connection:"))
        ]
        upstream_head = f"{method} {parts.path or '/'} {version}\r\n".encode()
        upstream_head += b"\r\n".join([*headers, b"Connection: close", b"", b""])
        with socket.create_connection((parts.hostname, parts.port or 80), timeout=3) as up:
            up.sendall(upstream_head)
            while chunk := up.recv(65536):
                conn.sendall(chunk)


class DenyingProxy(RawServer):
    """What a corporate squid says to a host it will not fetch."""

    def __init__(self) -> None:
        super().__init__(self._deny)

    def _deny(self, conn: socket.socket) -> None:
        read_head(conn)
        conn.sendall(DENIED)


@pytest.fixture
def llm() -> Iterator[Server]:
    with Server({"/v1/models": MODELS}) as server:
        yield server


# --- Go's rules, as data ------------------------------------------------------------------------

LAN = "http://192.168.1.20:1234/v1"
P = "http://p:1"


@pytest.mark.parametrize(
    ("env", "url", "expected"),
    [
        ({}, LAN, None),
        ({"HTTP_PROXY": P}, LAN, (P, "HTTP_PROXY")),
        ({"http_proxy": P}, LAN, (P, "http_proxy")),
        ({"HTTP_PROXY": P, "http_proxy": "http://other:2"}, LAN, (P, "HTTP_PROXY")),
        ({"HTTP_PROXY": "proxy.corp:3128"}, LAN, ("http://proxy.corp:3128", "HTTP_PROXY")),
        ({"HTTP_PROXY": P}, "https://192.168.1.20/v1", None),
        ({"HTTPS_PROXY": P}, "https://api.example.com/v1", (P, "HTTPS_PROXY")),
        ({"HTTP_PROXY": P}, "http://localhost:1234/v1", None),
        ({"HTTP_PROXY": P}, "http://127.0.0.1:1234/v1", None),
        ({"HTTP_PROXY": P}, "http://127.0.0.2:1234/v1", None),
        ({"HTTP_PROXY": P}, "http://[::1]:1234/v1", None),
        ({"HTTP_PROXY": P}, "http://host.docker.internal:11434/v1", (P, "HTTP_PROXY")),
    ],
)
def test_environment_proxy_follows_go(env, url, expected):
    route = net.client_proxy(url, env)
    assert (route.url, route.source) == expected if expected else route is None


@pytest.mark.parametrize(
    ("no_proxy", "url", "bypassed"),
    [
        ("192.168.1.20", LAN, True),
        ("192.168.1.21", LAN, False),
        ("192.168.0.0/16", LAN, True),
        ("10.0.0.0/8", LAN, False),
        ("192.168.1.20:1234", LAN, True),
        ("192.168.1.20:80", LAN, False),
        ("*", LAN, True),
        (" example.com , other", "http://example.com/v1", True),
        ("example.com", "http://gpu.example.com/v1", True),
        (".example.com", "http://example.com/v1", False),
        (".example.com", "http://gpu.example.com/v1", True),
        ("*.example.com", "http://gpu.example.com/v1", True),
        ("EXAMPLE.com:8080", "http://gpu.example.com:8080/v1", True),
        ("example.com:8080", "http://gpu.example.com:9090/v1", False),
        ("ample.com", "http://example.com/v1", False),
        ("[fd00::5]:1234", "http://[fd00::5]:1234/v1", True),
        ("fd00::/8", "http://[fd00::5]:1234/v1", True),
    ],
)
def test_no_proxy_entries_follow_go(no_proxy, url, bypassed):
    route = net.client_proxy(url, {"HTTP_PROXY": "http://p:1", "NO_PROXY": no_proxy})
    assert (route is None) is bypassed


def test_lower_case_no_proxy_counts_when_upper_case_is_unset():
    assert net.client_proxy(LAN, {"HTTP_PROXY": "http://p:1", "no_proxy": "192.168.1.20"}) is None


def test_the_entrys_proxy_applies_even_to_loopback():
    route = net.client_proxy(
        "http://127.0.0.1:1234/v1", {}, "http://user:pw@proxy:8080", "config.json model_list[3]"
    )
    assert route.source == "proxy in config.json model_list[3]"
    assert route.display == "http://proxy:8080"  # credentials never shown


def test_an_entry_proxy_go_cannot_parse_is_ignored_for_the_environments():
    route = net.client_proxy(LAN, {"HTTP_PROXY": "http://p:1"}, "127.0.0.1:3128")
    assert (route.url, route.source) == ("http://p:1", "HTTP_PROXY")
    alone = net.client_proxy(LAN, {}, "127.0.0.1:3128")
    assert alone.problem and "ignored" in alone.problem


# --- the check, against real proxies --------------------------------------------------------------


def test_no_proxy_on_the_route_gives_nothing(llm):
    found = diagnose(target(llm.url + "/v1"), only=["proxy"])
    assert "net.proxy" not in codes(found)


def test_an_environment_proxy_is_not_used_for_loopback(llm, monkeypatch):
    with DenyingProxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        found = diagnose(target(llm.url + "/v1"), only=["proxy"])
    assert "net.proxy" not in codes(found)  # Go never proxies 127.0.0.1 (httpx would)


def test_entry_proxy_that_denies_is_an_error_naming_the_proxy(llm):
    with DenyingProxy() as proxy:
        found = diagnose(target(llm.url + "/v1", proxy=proxy.url), only=["proxy"])
    assert codes(found, Severity.ERROR) == ["net.proxy"]
    finding = by_code(found, "net.proxy")
    assert finding.evidence["via_proxy"]["status"] == 403
    assert finding.evidence["via_proxy"]["server"] == "squid/5.7"
    assert finding.evidence["direct"]["status"] == 200
    assert finding.evidence["source"] == "proxy in config.json model_list[0]"
    assert "Remove `proxy` from config.json model_list[0]" in finding.fix


def test_entry_proxy_that_works_is_info(llm):
    with ForwardingProxy() as proxy:
        found = diagnose(target(llm.url + "/v1", proxy=proxy.url), only=["proxy"])
    finding = by_code(found, "net.proxy")
    assert finding.severity is Severity.INFO
    assert proxy.fetched == [f"{llm.url}/v1/models"]
    assert finding.evidence["via_proxy"]["status"] == 200


def test_entry_proxy_that_is_down_is_an_error_and_hides_its_credentials(llm):
    dead = f"http://lmdoctor:s3cret-pass@127.0.0.1:{free_port()}"
    found = diagnose(target(llm.url + "/v1", proxy=dead), only=["proxy"])
    finding = by_code(found, "net.proxy")
    assert finding.severity is Severity.ERROR
    assert finding.evidence["via_proxy"]["errno"] == "ECONNREFUSED"
    assert "s3cret" not in repr(finding)


def test_entry_proxy_without_a_scheme_is_a_warning(llm):
    found = diagnose(target(llm.url + "/v1", proxy="localhost:3128"), only=["proxy"])
    finding = by_code(found, "net.proxy")
    assert finding.severity is Severity.WARN and "http://HOST:PORT" in finding.fix


def test_environment_proxy_on_a_lan_route_that_denies_is_an_error(monkeypatch):
    """A LAN address is proxied by Go's rules; the LAN is a namespace of our own."""
    reason = netns.unavailable()
    if reason:
        if netns.REQUIRED:
            pytest.fail(f"LMDOCTOR_REQUIRE_INTEGRATION=1 but: {reason}", pytrace=False)
        pytest.skip(reason)
    space = netns.Netns()
    try:
        server = space.serve(space.ip, 11434)
        with DenyingProxy() as proxy:
            monkeypatch.setenv("HTTP_PROXY", proxy.url)
            found = diagnose(target(f"http://{space.ip}:11434/v1"), only=["proxy"])
        server.kill()
        server.wait()
    finally:
        space.close()
    finding = by_code(found, "net.proxy")
    assert finding.severity is Severity.ERROR
    assert finding.evidence["source"] == "HTTP_PROXY"
    assert f"NO_PROXY={space.ip}" in finding.fix
