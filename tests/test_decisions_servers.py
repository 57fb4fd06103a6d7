"""Server identification and what each kind knows (lmdoctor/servers/) that no other test
pinned (issue 17: mutation testing). Each case runs lmdoctor against real loopback fakes
(tests/fakes/, each route citing its source) and asserts what the user sees: the kind, version
and signals of `server.identified`, ports in `scan` and fix texts."""

from __future__ import annotations

from decisions import check

import fakes
from lmdoctor.findings import Severity

# -- where each kind runs: scan order, refused-port hints, fix texts ---------------------------


def test_the_default_ports_each_kind_owns() -> None:
    from lmdoctor import servers
    from lmdoctor.render import scan

    # `scan` with nothing found names every port it tried, in the order it tries them
    # (llm-servers.md §0); LocalAI's 8080 is llama.cpp's too (one probe).
    assert scan.render([], "table") == (
        "No LLM server answers on this machine (looked at its listening sockets and ports 1234, "
        "11434, 8080, 9931, 8000, 4000, 1337, 3000, 5000, 5001, 30000, 8081, 8888, 4891)."
    )
    # a refused connection on a port only one server uses names that server (checks/network.py)
    named = {p: k.id for p in servers.WELL_KNOWN_PORTS if (k := servers.by_port(p))}
    assert named == {1234: "lmstudio", 11434: "ollama", 8080: "llamacpp", 9931: "llamacpp",
                     1337: "jan"}  # fmt: skip


def test_a_web_page_gets_the_usual_llm_ports_in_its_fix() -> None:
    (finding,) = [f for f in check(fakes.web_page(), only="server") if f.severity >= Severity.WARN]
    assert "1234 (LM Studio), 11434 (Ollama), 8080 (llama.cpp), 8000 (vLLM), 4000 (LiteLLM)" in (
        finding.fix
    )
