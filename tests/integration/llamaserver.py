"""llama.cpp's own `llama-server` (built from the llama.cpp tree llama-cpp-python vendors) and a
LiteLLM proxy in front of it, for integration tests.

The binary comes from tests/integration/build_llama_server.sh (cached under
~/.cache/lmdoctor-ci/llama-server-<llama-cpp-python version>/); $LMDOCTOR_LLAMA_SERVER overrides
the path. A model load is held open deterministically by `LoadGate`: an LD_PRELOAD shim that
blocks opening any *.gguf while a gate file exists (the model "lives on a slow disk"), so the
server's loading state can be observed for as long as a test needs.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from integration.process import ServerProcess

HERE = Path(__file__).resolve().parent
BUILD_SCRIPT = HERE / "build_llama_server.sh"
READY_TIMEOUT_S = 60.0
MASTER_KEY = "sk-lmdoctor-master-0123456789"
ALIAS = "smollm2-135m"  # --alias of the single-model servers
PREFIX = "/llm"  # --api-prefix of the prefixed server


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(os.environ.get("LMDOCTOR_CI_CACHE") or Path(base) / "lmdoctor-ci")


def llama_server_binary() -> tuple[Path | None, str]:
    """(path, "") when a built llama-server is there, else (None, why not)."""
    given = os.environ.get("LMDOCTOR_LLAMA_SERVER")
    if given:
        path = Path(given)
        return (path, "") if os.access(path, os.X_OK) else (None, f"{given} is not executable")
    try:
        version = importlib.metadata.version("llama-cpp-python")
    except importlib.metadata.PackageNotFoundError:
        return None, "llama-cpp-python is not installed (pip install -e '.[integration]')"
    path = cache_root() / f"llama-server-{version}" / "llama-server"
    if os.access(path, os.X_OK):
        return path, ""
    return None, f"llama-server is not built: run {BUILD_SCRIPT.relative_to(HERE.parent.parent)}"


def litellm_available() -> str | None:
    if importlib.util.find_spec("litellm") is None:
        return "litellm is not installed (pip install -e '.[integration]')"
    for module in ("fastapi", "uvicorn", "yaml", "backoff"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is missing: litellm[proxy] is not fully installed"
    return None


def get(url: str, key: str | None = None, timeout: float = 30.0) -> tuple[int, bytes]:
    """(status, body) of a GET; status 0 when nothing answered."""
    return _send(urllib.request.Request(url), key, timeout)


def post(
    url: str, body: object, key: str | None = None, timeout: float = 30.0
) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    request.add_header("Content-Type", "application/json")
    return _send(request, key, timeout)


def _send(request: urllib.request.Request, key: str | None, timeout: float) -> tuple[int, bytes]:
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""


# -- the load gate ------------------------------------------------------------------------------

GATE_C = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Opening a *.gguf waits while the file named by $LMDOCTOR_LOAD_GATE exists. */
static void gate(const char *path) {
    const char *gate_file = getenv("LMDOCTOR_LOAD_GATE");
    struct stat st;
    size_t n;
    if (gate_file == NULL || path == NULL) return;
    n = strlen(path);
    if (n < 5 || strcmp(path + n - 5, ".gguf") != 0) return;
    while (stat(gate_file, &st) == 0) usleep(20000);
}

#define WRAP_FOPEN(name) \
FILE *name(const char *path, const char *mode) { \
    static FILE *(*real)(const char *, const char *); \
    if (real == NULL) real = (FILE *(*)(const char *, const char *))dlsym(RTLD_NEXT, #name); \
    gate(path); \
    return real(path, mode); \
}
WRAP_FOPEN(fopen)
WRAP_FOPEN(fopen64)

#define WRAP_OPEN(name) \
int name(const char *path, int flags, ...) { \
    static int (*real)(const char *, int, ...); \
    mode_t mode = 0; \
    if (flags & (O_CREAT | O_TMPFILE)) { \
        va_list ap; va_start(ap, flags); mode = (mode_t)va_arg(ap, int); va_end(ap); \
    } \
    if (real == NULL) real = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, #name); \
    gate(path); \
    return real(path, flags, mode); \
}
WRAP_OPEN(open)
WRAP_OPEN(open64)
"""


class LoadGate:
    """Holds every model load of the servers given `env()` until `release()`."""

    def __init__(self, folder: Path) -> None:
        self.library = build_gate(folder)
        self.file = folder / "load.gate"
        self.file.write_text("closed\n")

    def env(self) -> dict[str, str]:
        return {"LD_PRELOAD": str(self.library), "LMDOCTOR_LOAD_GATE": str(self.file)}

    def close(self) -> None:
        self.file.write_text("closed\n")

    def release(self) -> None:
        self.file.unlink(missing_ok=True)


def build_gate(folder: Path) -> Path:
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise RuntimeError("no C compiler (cc) to build the load gate")
    source, library = folder / "gate.c", folder / "gate.so"
    source.write_text(GATE_C)
    subprocess.run(
        [compiler, "-shared", "-fPIC", "-O1", "-o", str(library), str(source), "-ldl"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return library


# -- llama-server ---------------------------------------------------------------------------------


class LlamaCppServer(ServerProcess):
    """One `llama-server` process on 127.0.0.1:port. `args` are its own command-line options."""

    def __init__(
        self,
        binary: Path,
        port: int,
        args: Sequence[str],
        *,
        log: Path,
        env: dict[str, str] | None = None,
        prefix: str = "",
        key: str | None = None,
    ) -> None:
        self.binary, self.port, self.args, self.log = binary, port, list(args), log
        self.env, self.prefix = env or {}, prefix
        self.key = key  # under --api-prefix even /health wants the key (the full path is checked)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.prefix}"

    @property
    def base(self) -> str:
        return f"{self.root}/v1"

    def command(self) -> list[str]:
        # Small and polite on a shared 2-core machine: one thread, no web UI, no warm-up run.
        common = ["--host", "127.0.0.1", "--port", str(self.port), "-t", "1", "--no-webui"]
        common += ["--no-warmup"]
        return [str(self.binary), *common, *self.args]

    def start(self) -> LlamaCppServer:
        env = {**os.environ, **self.env}
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
            )
        return self

    def wait(self, *, ready: bool = True, timeout: float = READY_TIMEOUT_S) -> LlamaCppServer:
        """Until GET /health answers 200 (ready) or anything at all (ready=False)."""
        assert self.proc is not None, "start() first"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            status, _ = get(f"{self.root}/health", self.key, timeout=1)
            if (status == 200) if ready else status:
                return self
            time.sleep(0.1)
        raise RuntimeError(
            f"llama-server on port {self.port} not {'ready' if ready else 'up'} within "
            f"{timeout:g} s (exit {self.proc.poll()}):\n{self.log_tail()}"
        )


@dataclass
class NativeServers:
    open: LlamaCppServer  # -m SmolLM2 --alias smollm2-135m
    keyed: LlamaCppServer  # ... --api-key KEY
    prefixed: LlamaCppServer  # ... --api-key KEY --api-prefix /llm
    router: LlamaCppServer  # router mode: --models-preset (smol, smol-lazy, broken)
    router_manual: LlamaCppServer  # the same with --no-models-autoload

    def all(self) -> list[LlamaCppServer]:
        return [self.open, self.keyed, self.prefixed, self.router, self.router_manual]


def one_model_preset(path: Path, gguf: Path) -> Path:
    """A --models-preset INI with the one model `smol`, loaded at start."""
    path.write_text(
        f"version = 1\n\n[*]\nc = 2048\n\n[smol]\nmodel = {gguf}\nload-on-startup = true\n",
        encoding="utf-8",
    )
    return path


def router_preset(path: Path, gguf: Path, broken: Path) -> Path:
    """A --models-preset INI: `smol` (two aliases, loads at start), `smol-lazy` (loads on demand),
    `broken` (a file that is no GGUF: its load fails)."""
    path.write_text(
        "version = 1\n\n"
        "[*]\nc = 2048\n\n"
        f"[smol]\nmodel = {gguf}\nalias = smol-a,smol-b\nload-on-startup = true\n\n"
        f"[smol-lazy]\nmodel = {gguf}\n\n"
        f"[broken]\nmodel = {broken}\n",
        encoding="utf-8",
    )
    return path


# -- LiteLLM proxy --------------------------------------------------------------------------------


class LiteLLMProxy(ServerProcess):
    """`litellm --config` with a master key and no database, routing `smollm2` to `upstream`."""

    def __init__(self, port: int, upstream: str, folder: Path, model: str = "smollm2") -> None:
        self.port, self.upstream, self.folder, self.model = port, upstream, folder, model
        self.log = folder / "litellm.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def config(self) -> Path:
        path = self.folder / "litellm.yaml"
        path.write_text(
            "model_list:\n"
            f"  - model_name: {self.model}\n"
            "    litellm_params:\n"
            "      model: openai/smollm2-135m\n"
            f"      api_base: {self.upstream}\n"
            "      api_key: none\n"
            "general_settings:\n"
            f"  master_key: {MASTER_KEY}\n",
            encoding="utf-8",
        )
        return path

    def start(self) -> LiteLLMProxy:
        env = {
            **os.environ,
            # Offline: the bundled model-cost map, no telemetry, no database.
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "LITELLM_TELEMETRY": "False",
            "DISABLE_SCHEMA_UPDATE": "True",
        }
        env.pop("DATABASE_URL", None)
        cmd = [sys.executable, "-m", "litellm.proxy.proxy_cli"]
        cmd += ["--config", str(self.config()), "--host", "127.0.0.1", "--port", str(self.port)]
        cmd += ["--num_workers", "1"]
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.folder,
            )
        return self

    def wait(self, timeout: float = 420.0) -> LiteLLMProxy:
        """Its imports take a while: ~30 s on an idle 2-core machine, minutes on a busy one."""
        assert self.proc is not None, "start() first"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            status, _ = get(f"http://127.0.0.1:{self.port}/health/liveliness", timeout=1)
            if status == 200:
                return self
            time.sleep(0.25)
        raise RuntimeError(
            f"LiteLLM on port {self.port} not up within {timeout:g} s "
            f"(exit {self.proc.poll()}):\n{self.log_tail()}"
        )
