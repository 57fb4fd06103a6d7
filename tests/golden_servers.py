"""Golden outputs of `lmdoctor check URL --model ID --format json` (and `scan`) on every fake.

Guards refactors of the server knowledge (issue 14): the JSON reports must stay byte-identical.
Volatile parts are masked: loopback ports, durations and timings, pids. The capacity check is
skipped (it reads this machine's free memory, which changes between runs); tests/test_capacity.py
covers it with recorded hardware.

    python tests/golden_servers.py --write   # re-record tests/golden/servers/*.json
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import fakes
from loopback import Server

GOLDEN = Path(__file__).parent / "golden" / "servers"

# (name, fake, model id, key, path appended to the server's URL)
Case = tuple[str, Callable[[], Server], str, str | None, str]
CASES: list[Case] = [
    ("lmstudio-ok", fakes.lmstudio, "qwen/qwen3-8b", None, "/v1"),
    ("lmstudio-not-found", fakes.lmstudio, "qwen/qwen3-9b", None, "/v1"),
    (
        "lmstudio-missing-key",
        lambda: fakes.lmstudio(token="sk-lm-t0ken123"),
        "qwen/qwen3-8b",
        None,
        "/v1",
    ),
    (
        "lmstudio-wrong-key",
        lambda: fakes.lmstudio(token="sk-lm-t0ken123"),
        "qwen/qwen3-8b",
        "sk-lm-wrongwrong",
        "/v1",
    ),
    ("lmstudio-wrong-path", fakes.lmstudio, "qwen/qwen3-8b", None, ""),
    ("lmstudio-not-loaded", lambda: fakes.lmstudio(jit=False), "qwen/qwen3-8b", None, "/v1"),
    ("lmstudio-v0", lambda: fakes.lmstudio(api="0.3"), "qwen/qwen3-8b", None, "/v1"),
    ("ollama-ok", fakes.ollama, "llama3.2", None, "/v1"),
    (
        "ollama-running",
        lambda: fakes.ollama(running={"qwen3:8b": (2048, 6_000_000_000, 3_000_000_000)}),
        "qwen3:8b",
        None,
        "/v1",
    ),
    ("ollama-not-found", fakes.ollama, "llama3.3", None, "/v1"),
    ("ollama-missing-key", lambda: fakes.ollama(proxy_key="pk-1234"), "llama3.2", None, "/v1"),
    ("ollama-native-base", fakes.ollama, "llama3.2", None, "/api"),
    ("llamacpp-ok", fakes.llamacpp, "../models/SmolLM2-135M-Instruct-Q8_0.gguf", None, "/v1"),
    ("llamacpp-other-id", fakes.llamacpp, "smollm2", None, "/v1"),
    ("llamacpp-missing-key", lambda: fakes.llamacpp(api_key="k-llama"), "smollm2", None, "/v1"),
    ("llamacpp-loading", lambda: fakes.llamacpp(loading=True), "smollm2", None, "/v1"),
    (
        "llamacpp-router",
        lambda: fakes.llamacpp(router={"a-model": ("loaded", 4096), "b-model": ("unloaded", None)}),
        "b-model",
        None,
        "/v1",
    ),
    ("llamacpp-wrong-path", fakes.llamacpp, "smollm2", None, "/v1/v1"),
    ("llama-cpp-python-ok", fakes.llama_cpp_python, "smollm2", None, "/v1"),
    ("llama-cpp-python-other", fakes.llama_cpp_python, "other", None, "/v1"),
    (
        "llama-cpp-python-missing-key",
        lambda: fakes.llama_cpp_python(api_key="k-lcp"),
        "smollm2",
        None,
        "/v1",
    ),
    ("vllm-ok", fakes.vllm, "Qwen/Qwen2.5-7B-Instruct", None, "/v1"),
    ("vllm-not-found", fakes.vllm, "qwen/qwen2.5-7b-instruct", None, "/v1"),
    (
        "vllm-missing-key",
        lambda: fakes.vllm(api_key="k-vllm"),
        "Qwen/Qwen2.5-7B-Instruct",
        None,
        "/v1",
    ),
    (
        "vllm-wrong-key",
        lambda: fakes.vllm(api_key="k-vllm"),
        "Qwen/Qwen2.5-7B-Instruct",
        "k-wrongwrong",
        "/v1",
    ),
    ("sglang-ok", fakes.sglang, "meta-llama/Llama-3.1-8B-Instruct", None, "/v1"),
    (
        "sglang-missing-key",
        lambda: fakes.sglang(api_key="k-sgl"),
        "meta-llama/Llama-3.1-8B-Instruct",
        None,
        "/v1",
    ),
    ("litellm-ok", fakes.litellm, "gpt-4o-mini", None, "/v1"),
    ("litellm-not-found", fakes.litellm, "gpt-4o", None, "/v1"),
    (
        "litellm-missing-key",
        lambda: fakes.litellm(master_key="sk-1234"),
        "gpt-4o-mini",
        None,
        "/v1",
    ),
    (
        "litellm-wrong-key",
        lambda: fakes.litellm(master_key="sk-1234"),
        "gpt-4o-mini",
        "sk-wrongwrong",
        "/v1",
    ),
    ("tgi-ok", fakes.tgi, "HuggingFaceTB/SmolLM2-135M-Instruct", None, "/v1"),
    ("tgi-other", fakes.tgi, "other", None, "/v1"),
    (
        "tgi-missing-key",
        lambda: fakes.tgi(api_key="k-tgi"),
        "HuggingFaceTB/SmolLM2-135M-Instruct",
        None,
        "/v1",
    ),
    ("localai-ok", fakes.localai, "llama-3.2-1b-instruct:q4_k_m", None, "/v1"),
    ("localai-not-found", fakes.localai, "llama-3.2-1b-instruct", None, "/v1"),
    (
        "localai-missing-key",
        lambda: fakes.localai(api_key="k-local"),
        "llama-3.2-1b-instruct:q4_k_m",
        None,
        "/v1",
    ),
    (
        "localai-plain",
        lambda: fakes.localai(ollama_root=False),
        "llama-3.2-1b-instruct:q4_k_m",
        None,
        "/v1",
    ),
    ("jan-missing-key", fakes.jan, "Jan-nano-gguf", None, "/v1"),
    ("jan-ok", fakes.jan, "Jan-nano-gguf", "jan-secret", "/v1"),
    ("jan-not-found", fakes.jan, "Jan-nano", "jan-secret", "/v1"),
    ("koboldcpp-ok", fakes.koboldcpp, "koboldcpp/Mistral-7B-Q4", None, "/v1"),
    ("koboldcpp-other", fakes.koboldcpp, "mistral", None, "/v1"),
    (
        "koboldcpp-missing-key",
        lambda: fakes.koboldcpp(password="pw-kobold"),
        "koboldcpp/Mistral-7B-Q4",
        None,
        "/v1",
    ),
    ("koboldcpp-wrong-path", fakes.koboldcpp, "koboldcpp/Mistral-7B-Q4", None, "/api"),
    ("textgen-ok", fakes.textgen, "Qwen2.5-7B-Instruct-Q4_K_M.gguf", None, "/v1"),
    ("textgen-none", lambda: fakes.textgen(model=None), "x", None, "/v1"),
    (
        "textgen-missing-key",
        lambda: fakes.textgen(api_key="k-tg"),
        "Qwen2.5-7B-Instruct-Q4_K_M.gguf",
        None,
        "/v1",
    ),
    ("openai-missing-key", fakes.openai_cloud, "gpt-4o", None, "/v1"),
    ("openai-wrong-key", fakes.openai_cloud, "gpt-4o", "sk-proj-wrongwrongwrong", "/v1"),
    ("web-page", fakes.web_page, "x", None, "/v1"),
    ("generic-ok", fakes.generic_openai, "my-model", None, "/v1"),
    ("generic-not-found", fakes.generic_openai, "my-modl", None, "/v1"),
    ("generic-missing-key", lambda: fakes.generic_openai(api_key="k-gen"), "my-model", None, "/v1"),
    (
        "generic-guarded-completions",
        lambda: fakes.generic_openai(api_key="k-gen", guard_completions_only=True),
        "my-model",
        None,
        "/v1",
    ),
]

VOLATILE = re.compile(r"(?:^|_)(?:s|ms|duration|timings|elapsed|pid)$|^duration|^timings$")


def _mask(value: Any, key: str = "") -> Any:
    if VOLATILE.search(key):
        return "MASKED"
    if key == "port" and isinstance(value, int) and value >= 32768:
        return "PORT"  # an ephemeral port: one of this run's fakes
    if isinstance(value, dict):
        return {k: _mask(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    if isinstance(value, str):
        return re.sub(r"(127\.0\.0\.1|localhost|\[::1\]):\d+", r"\1:PORT", value)
    return value


def _invoke(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    from click.testing import CliRunner

    from lmdoctor.cli import main

    result = CliRunner().invoke(main, args, env=env or {}, catch_exceptions=False)
    return result.exit_code, result.output


def check_output(case: Case) -> str:
    _, make, model, key, path = case
    server = make()
    with server:
        args = [
            "check",
            server.url + path,
            "--model",
            model,
            "--format",
            "json",
            "--skip",
            "capacity",
            "-v",
            "--timeout",
            "2",
        ]
        env = {"LMDOCTOR_API_KEY": key} if key else {}
        code, out = _invoke(args, env)
    data = _mask(json.loads(out))
    return json.dumps({"exit": code, "report": data}, indent=2, ensure_ascii=False) + "\n"


def scan_output() -> str:
    """`scan --format json` restricted to this test's own fakes (others may run servers)."""
    servers = [fakes.ollama(), fakes.koboldcpp(), fakes.vllm()]
    for s in servers:
        s.__enter__()
    try:
        code, out = _invoke(["scan", "--format", "json", "--timeout", "2"])
        ports = {s.port for s in servers}
    finally:
        for s in servers:
            s.__exit__(None, None, None)
    data = json.loads(out)
    entries = data if isinstance(data, list) else data.get("servers", data)
    mine = sorted(
        (e for e in entries if isinstance(e, dict) and e.get("port") in ports),
        key=lambda e: str(e.get("server")),
    )
    masked = [_mask({k: v for k, v in e.items() if k != "port"}) for e in mine]
    return json.dumps({"exit": code, "servers": masked}, indent=2, ensure_ascii=False) + "\n"


def outputs() -> dict[str, str]:
    found = {case[0]: check_output(case) for case in CASES}
    found["scan"] = scan_output()
    return found


def main() -> int:
    write = "--write" in sys.argv
    GOLDEN.mkdir(parents=True, exist_ok=True)
    differ = []
    for name, text in outputs().items():
        path = GOLDEN / f"{name}.json"
        if write:
            path.write_text(text, encoding="utf-8")
        elif not path.exists() or path.read_text(encoding="utf-8") != text:
            differ.append(name)
    print("differ:", differ or "none")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
