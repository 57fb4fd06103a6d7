"""Network namespaces for the firewall and LAN cases of the network check.

`Netns()` creates a namespace joined to this one by a veth pair: this side gets 10.213.N.1/30,
the namespace 10.213.N.2/30 (N picked free); iptables rules and servers live inside it, so
the host's own firewall is never touched and every packet stays between the two ends.
`close()` deletes the namespace (and with it the veth pair) and its /etc/netns/NAME files.

Run as a script inside a namespace (`ip netns exec NAME python tests/netns.py ...`):
  serve HOST PORT                 an OpenAI-compatible stub on HOST:PORT until killed
  diagnose URL [--serve HOST:PORT] [--listen HOST:PORT]
                                  run the network check on URL (optionally with a stub server,
                                  or a bare listener that never answers, in the namespace) and
                                  print the findings as JSON lines
"""

from __future__ import annotations

import itertools
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REQUIRED = os.environ.get("LMDOCTOR_REQUIRE_INTEGRATION") == "1"
MODEL = "netns-model"
_count = itertools.count()


def unavailable() -> str | None:
    """None when this process can build namespaces (root, ip, iptables), else why not."""
    if sys.platform != "linux":
        return "network namespaces are Linux only"
    if os.geteuid() != 0:
        return "network namespaces need root (CI runs the netns tests as root)"
    for tool in ("ip", "iptables"):
        if shutil.which(tool) is None:
            return f"`{tool}` is not installed (apt-get install iproute2 iptables)"
    return None


def _run(*cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {done.stderr.strip() or done.returncode}")
    return done


def _free_subnet() -> int:
    used = _run("ip", "-4", "route", "show").stdout + _run("ip", "-4", "addr", "show").stdout
    for n in random.sample(range(256), 256):
        if f"10.213.{n}." not in used:
            return n
    raise RuntimeError("no free 10.213.N.0/30 subnet")


class Netns:
    """A namespace with lo up and a veth pair to this namespace; `hosts` becomes its
    /etc/hosts for processes started with `ip netns exec`."""

    def __init__(self, hosts: str | None = None) -> None:
        tag = f"{os.getpid() % 100000}x{next(_count)}"
        self.name = f"lmdns{tag}"
        self.etc = Path("/etc/netns") / self.name
        host_end, ns_end = f"lmd{tag}h"[:15], f"lmd{tag}n"[:15]
        n = _free_subnet()
        self.host_ip, self.ip = f"10.213.{n}.1", f"10.213.{n}.2"
        _run("ip", "netns", "add", self.name)
        try:
            if hosts is not None:
                self.etc.mkdir(parents=True, exist_ok=True)
                (self.etc / "hosts").write_text(hosts)
            self.exec_run("ip", "link", "set", "lo", "up")
            _run("ip", "link", "add", host_end, "type", "veth", "peer", "name", ns_end)
            _run("ip", "link", "set", ns_end, "netns", self.name)
            _run("ip", "addr", "add", f"{self.host_ip}/30", "dev", host_end)
            _run("ip", "link", "set", host_end, "up")
            self.exec_run("ip", "addr", "add", f"{self.ip}/30", "dev", ns_end)
            self.exec_run("ip", "link", "set", ns_end, "up")
        except BaseException:
            self.close()
            raise

    def prefix(self) -> list[str]:
        return ["ip", "netns", "exec", self.name]

    def exec_run(self, *cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return _run(*self.prefix(), *cmd, check=check)

    def iptables(self, *rule: str) -> None:
        self.exec_run("iptables", *rule)

    def serve(self, host: str, port: int) -> subprocess.Popen[bytes]:
        """The stub LLM server inside the namespace; returns once it accepts connections."""
        proc = subprocess.Popen(
            [*self.prefix(), sys.executable, __file__, "serve", host, str(port)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        reach = self.ip if host in ("0.0.0.0", self.ip) else host
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            probe = self.exec_run(
                sys.executable,
                "-c",
                f"import socket; socket.create_connection({(reach, port)!r}, 1)",
                check=False,
            )
            if probe.returncode == 0:
                return proc
            time.sleep(0.1)
        proc.kill()
        raise RuntimeError(f"the stub server on {host}:{port} in {self.name} never came up")

    def diagnose(self, url: str, *extra: str) -> list[dict[str, Any]]:
        """Run the network check inside the namespace; the findings as dicts."""
        done = self.exec_run(sys.executable, __file__, "diagnose", url, *extra)
        return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]

    def close(self) -> None:
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, timeout=30)
        shutil.rmtree(self.etc, ignore_errors=True)


# --- the script side ------------------------------------------------------------------------


def _stub(host: str, port: int) -> Any:
    sys.path.insert(0, str(Path(__file__).parent))
    from loopback import Reply, Server

    models = Reply(200, {"object": "list", "data": [{"id": MODEL, "object": "model"}]})
    return Server({"/v1/models": models}, host=host, port=port)


def _diagnose(url: str, serve: str | None, listen: str | None) -> None:
    import asyncio

    from lmdoctor.context import Session, Settings
    from lmdoctor.http import HttpClient
    from lmdoctor.registry import load_checks, select
    from lmdoctor.runner import run_target
    from lmdoctor.target import Target

    # a short connect timeout: a DROP rule is the subject of one test; a patient read timeout:
    # every server here answers at once, however loaded the machine (tests/conftest.py PATIENT)
    settings = Settings(connect_timeout=1.0, read_timeout=8.0)
    target = Target(name="netns", api_base=url, model=MODEL, model_id=MODEL, entry="model_list[0]")

    async def go() -> list[Any]:
        checks, _ = load_checks()
        http = HttpClient(settings)
        try:
            result = await run_target(Session(settings, http), target, select(checks, ["network"]))
        finally:
            await http.aclose()
        return result.findings

    server = None
    listener = None
    if serve:
        host, port = serve.rsplit(":", 1)
        server = _stub(host, int(port)).__enter__()
    if listen:
        host, port = listen.rsplit(":", 1)
        listener = socket.create_server((host, int(port)))
    try:
        for f in asyncio.run(go()):
            print(
                json.dumps(
                    {
                        "code": f.code,
                        "severity": f.severity.label,
                        "evidence": f.evidence,
                        "summary": f.summary,
                        "fix": f.fix,
                    },
                    default=str,
                )
            )
    finally:
        if server is not None:
            server.__exit__()
        if listener is not None:
            listener.close()


def main(argv: list[str]) -> None:
    if argv[0] == "serve":
        with _stub(argv[1], int(argv[2])):
            while True:
                time.sleep(3600)
    elif argv[0] == "diagnose":
        args = dict(zip(argv[2::2], argv[3::2], strict=False))
        _diagnose(argv[1], args.get("--serve"), args.get("--listen"))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
