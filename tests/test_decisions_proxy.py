"""The proxy check: what the net.proxy finding shows.

Verdicts asserted through public interfaces, each written to kill a mutant that survived
tools/mutation.py: a wrong diagnosis must fail a test."""

from __future__ import annotations

import pytest

from conftest import diagnose
from lmdoctor.findings import Severity
from lmdoctor.target import Target
from loopback import RawServer, Reply, Server

# A proxy that answers 400 without naming itself (no Server, no Via): a made-up answer, not an
# emulation of a particular proxy; the finding must still say the proxy answered.
BAD_BODY = "bad request-uri:" + "x" * 200  # longer than the 160 characters quoted
BAD_REQUEST = (
    b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 216\r\n"
    b"Connection: close\r\n\r\n" + BAD_BODY.encode()
)


def _answer_400(conn) -> None:
    data = b""
    while b"\r\n\r\n" not in data and (chunk := conn.recv(4096)):
        data += chunk
    conn.sendall(BAD_REQUEST)


def test_a_proxy_answering_400_is_an_error_quoting_its_body_not_the_healthy_one(monkeypatch):
    for name in (
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "NO_PROXY",
        "no_proxy",
        "ALL_PROXY",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    models = Reply(200, {"object": "list", "data": [{"id": "m", "object": "model"}]})
    with Server({"/v1/models": models}) as llm, RawServer(_answer_400) as proxy:
        t = Target(
            name="t",
            api_base=f"{llm.url}/v1",
            model="m",
            model_id="m",
            proxy=proxy.url,
            entry="model_list[0]",
        )
        found = [f for f in diagnose(t, only=["proxy"]) if f.code == "net.proxy"]
    assert len(found) == 1 and found[0].severity is Severity.ERROR
    finding = found[0]
    assert finding.summary.endswith("answers 400 (direct: 200)")
    assert "reach the proxy, not the LLM server" in finding.detail
    assert finding.evidence["via_proxy"] == {"status": 400, "body": BAD_BODY[:160] + "…"}
    assert "body" not in finding.evidence["direct"]  # a healthy answer is not quoted


def _proxy_findings(monkeypatch, proxy: str):
    for name in (
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "NO_PROXY",
        "no_proxy",
        "ALL_PROXY",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    models = Reply(200, {"object": "list", "data": [{"id": "m", "object": "model"}]})
    with Server({"/v1/models": models}) as llm:
        t = Target(
            name="t",
            api_base=f"{llm.url}/v1",
            model="m",
            model_id="m",
            proxy=proxy,
            entry="model_list[0]",
        )
        return [f for f in diagnose(t, only=["proxy"]) if f.code == "net.proxy"]


def test_a_socks_entry_proxy_is_reported_not_replayed(monkeypatch):
    from lmdoctor import net

    (finding,) = _proxy_findings(monkeypatch, "socks5://u:pw@127.0.0.1:1080")
    assert finding.severity is Severity.INFO
    assert finding.summary.endswith("through the SOCKS proxy socks5://127.0.0.1:1080")
    route = net.client_proxy("http://127.0.0.1:9/v1", {}, "socks5://u:pw@127.0.0.1:1080", "e")
    assert (route.scheme, route.display, route.problem) == (
        "socks5",
        "socks5://127.0.0.1:1080",
        None,
    )
    assert net.client_proxy("http://h/v1", {}, "127.0.0.1:3128").scheme == ""


def test_a_value_without_scheme_is_shown_without_its_credentials(monkeypatch):
    from lmdoctor import net

    (finding,) = _proxy_findings(monkeypatch, "user:pw@127.0.0.1:3128")
    assert finding.severity is Severity.WARN and "'127.0.0.1:3128' is not usable" in finding.summary
    plain = net.client_proxy("http://127.0.0.1:9/v1", {}, "127.0.0.1:3128", "e")
    assert plain.display == "127.0.0.1:3128" and plain.problem
    secret = net.client_proxy("http://127.0.0.1:9/v1", {}, "user:pw@127.0.0.1:3128", "e")
    assert secret.display == "127.0.0.1:3128"


def test_no_proxy_cidr_with_host_bits_still_bypasses():
    # Go's net.ParseCIDR accepts "192.168.1.5/16" (host bits set) as 192.168.0.0/16
    from lmdoctor import net

    env = {"HTTP_PROXY": "http://p:1", "NO_PROXY": "192.168.1.5/16"}
    assert net.client_proxy("http://192.168.1.20:1234/v1", env) is None


def test_a_proxy_variable_with_another_scheme_is_taken_as_http():
    # golang.org/x/net/http/httpproxy proxy.go parseProxy: a scheme other than http, https,
    # socks5 is "bogus" and "http://" is prepended
    from lmdoctor import net

    route = net.client_proxy("http://192.168.1.20:1234/v1", {"HTTP_PROXY": "ftp://p:21"})
    assert route.url == "http://ftp://p:21" and route.source == "HTTP_PROXY"


def test_an_entry_proxy_with_an_unsupported_scheme_is_a_warning_not_a_route(monkeypatch):
    from lmdoctor import net

    route = net.client_proxy("http://127.0.0.1:9/v1", {}, "ftp://127.0.0.1:21", "e")
    assert route.problem == "unsupported proxy scheme 'ftp'"
    (finding,) = _proxy_findings(monkeypatch, "ftp://127.0.0.1:21")
    assert finding.severity is Severity.WARN and "unsupported proxy scheme" in finding.summary


@pytest.mark.parametrize(
    "no_proxy",
    [
        " , 192.168.1.20",  # an empty entry
        "300.0.0.0/8,192.168.1.20",  # a CIDR that does not parse
        "10.0.0.0/8,192.168.1.20",  # a CIDR that does not match
        ":80,192.168.1.20",  # a port without host
        "192.168.1.21,192.168.1.20",  # another IP
        "[fd00::1]:1234,192.168.1.20",  # another v6 host
    ],
)
def test_every_no_proxy_entry_counts_not_only_those_before_a_miss(no_proxy):
    from lmdoctor import net

    env = {"HTTP_PROXY": "http://p:1", "NO_PROXY": no_proxy}
    assert net.client_proxy("http://192.168.1.20:1234/v1", env) is None


def test_an_unparsable_proxy_variable_is_ignored():
    # golang.org/x/net/http/httpproxy proxy.go: config.init keeps a proxy only when parseProxy
    # returns no error; "http://p:abc" has an invalid port
    from lmdoctor import net

    assert net.client_proxy("http://192.168.1.20:1234/v1", {"HTTP_PROXY": "p:abc"}) is None


NAMED_DENIAL = (  # a made-up answer of a proxy that names itself in Server only (no Via)
    b"HTTP/1.1 403 Forbidden\r\nServer: acme-gateway/2.0\r\nContent-Length: 6\r\n"
    b"Connection: close\r\n\r\ndenied"
)


def _deny_named(conn) -> None:
    data = b""
    while b"\r\n\r\n" not in data and (chunk := conn.recv(4096)):
        data += chunk
    conn.sendall(NAMED_DENIAL)


def test_the_error_names_the_proxy_by_its_server_header(monkeypatch):
    for name in ("HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    models = Reply(200, {"object": "list", "data": [{"id": "m", "object": "model"}]})
    with Server({"/v1/models": models}) as llm, RawServer(_deny_named) as proxy:
        t = Target(
            name="t",
            api_base=f"{llm.url}/v1",
            model="m",
            model_id="m",
            proxy=proxy.url,
            entry="model_list[0]",
        )
        (finding,) = [f for f in diagnose(t, only=["proxy"]) if f.code == "net.proxy"]
    assert finding.severity is Severity.ERROR
    assert "requests reach acme-gateway/2.0, not the LLM server" in finding.detail


def test_a_star_dot_no_proxy_entry_matches_subdomains_only():
    # golang.org/x/net/http/httpproxy proxy.go: "*.example.com" becomes ".example.com", which
    # matches subdomains but not example.com itself
    from lmdoctor import net

    env = {"HTTP_PROXY": "http://p:1", "NO_PROXY": "*.example.com"}
    assert net.client_proxy("http://example.com/v1", env) is not None
    assert net.client_proxy("http://gpu.example.com/v1", env) is None
