"""The proxy check: what the net.proxy finding shows.

Verdicts asserted through public interfaces, each written to kill a mutant that survived
tools/mutation.py: a wrong diagnosis must fail a test."""

from __future__ import annotations

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
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY",
                 "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    models = Reply(200, {"object": "list", "data": [{"id": "m", "object": "model"}]})
    with Server({"/v1/models": models}) as llm, RawServer(_answer_400) as proxy:
        t = Target(name="t", api_base=f"{llm.url}/v1", model="m", model_id="m",
                   proxy=proxy.url, entry="model_list[0]")
        found = [f for f in diagnose(t, only=["proxy"]) if f.code == "net.proxy"]
    assert len(found) == 1 and found[0].severity is Severity.ERROR
    finding = found[0]
    assert finding.summary.endswith("answers 400 (direct: 200)")
    assert "reach the proxy, not the LLM server" in finding.detail
    assert finding.evidence["via_proxy"] == {"status": 400, "body": BAD_BODY[:160] + "…"}
    assert "body" not in finding.evidence["direct"]  # a healthy answer is not quoted
