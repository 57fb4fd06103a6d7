"""The models check: is the id the client sends served, loaded, with enough context? (§14 E)"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest

import fakes
from conftest import PATIENT, by_code, codes, diagnose
from lmdoctor.context import Ctx, Session
from lmdoctor.findings import Finding, Severity
from lmdoctor.http import HttpClient
from lmdoctor.parse import ModelFacts
from lmdoctor.redact import Secret
from lmdoctor.target import Target
from loopback import Server

CONFIG = Path("/home/user/.picoclaw/config.json")
QWEN, GEMMA = "qwen/qwen3-8b", "google/gemma-3-12b"


def target(
    server: Server,
    model_id: str,
    provider: str = "lmstudio",
    model: str | None = None,
    max_tokens: int = 8192,
    context_window: int = 32768,
) -> Target:
    return Target(
        name="local",
        provider=provider,
        api_base=server.url + "/v1",
        model=model or f"{provider}/{model_id}",
        model_id=model_id,
        config_path=CONFIG,
        entry="model_list[0]",
        max_tokens=max_tokens,
        context_window=context_window,
        sources={"model": "config.json model_list[0].model"},
    )


def run(server: Server, t: Target | None = None, **kw: object) -> list[Finding]:
    with server:
        found = diagnose(t or target(server, **kw), only=["models"])  # type: ignore[arg-type]
    assert fakes.generated(server) == []
    return [f for f in found if f.check == "models"]


def details(server: Server, t: Target) -> ModelFacts | None:
    async def go() -> ModelFacts | None:
        http = HttpClient(PATIENT)
        try:
            return await Ctx(Session(PATIENT, http), t).model()
        finally:
            await http.aclose()

    with server:
        return asyncio.run(go())


# -- LM Studio (§1) --------------------------------------------------------------------------


def test_lmstudio_loaded_with_enough_context_is_ok() -> None:
    found = run(fakes.lmstudio(loaded={QWEN: 32768}), model_id=QWEN)
    assert codes(found) == ["model.ok"]


def test_lmstudio_jit_on_not_loaded_warns_about_the_first_request() -> None:
    found = run(fakes.lmstudio(loaded={}, jit=True), model_id=QWEN)
    assert codes(found) == ["model.ok", "model.not_loaded"]
    finding = by_code(found, "model.not_loaded")
    assert finding.severity is Severity.WARN and finding.evidence["jit"] is True
    assert "first request loads it" in finding.detail and "5.0 GB" in finding.detail
    assert f"lms load {QWEN}" in finding.fix


def test_lmstudio_jit_off_and_not_loaded_will_fail() -> None:
    found = run(fakes.lmstudio(loaded={GEMMA: 8192}, jit=False), model_id=QWEN)
    finding = by_code(found, "model.not_loaded")
    assert finding.severity is Severity.ERROR and finding.evidence["jit"] is False
    assert "fail" in finding.detail and "Developer tab" in finding.fix


def test_lmstudio_nothing_loaded_and_jit_off() -> None:
    found = run(fakes.lmstudio(downloaded=[GEMMA], loaded={}, jit=False), model_id=QWEN)
    finding = by_code(found, "model.none_loaded")
    assert "nothing is loaded" in finding.summary and f"lms load {QWEN}" in finding.fix


def test_lmstudio_03_reads_the_v0_state() -> None:
    found = run(fakes.lmstudio(api="0.3", loaded={}), model_id=QWEN)
    assert codes(found) == ["model.ok", "model.not_loaded"]


def test_lmstudio_loaded_context_too_small() -> None:
    server = fakes.lmstudio(loaded={QWEN: 4096})
    found = run(server, target(server, QWEN, max_tokens=32768, context_window=0))
    finding = by_code(found, "model.context_too_small")
    assert finding.evidence["loaded_context"] == 4096
    assert (finding.evidence["max_tokens"], finding.evidence["client_context"]) == (32768, 131072)
    assert f"lms load {QWEN} --context-length 40960" in finding.fix
    assert "agents.defaults.max_tokens to 1024" in finding.fix


def test_lmstudio_the_second_strip_explained() -> None:
    # lmstudio/google/gemma-3-12b: PicoClaw cuts "lmstudio/", then "google/" (§2.4)
    server = fakes.lmstudio()
    t = target(server, "gemma-3-12b", model="lmstudio/google/gemma-3-12b")
    finding = by_code(run(server, t), "model.not_found")
    assert "stripped `google/`" in finding.summary and GEMMA in finding.summary
    assert "PicoClaw sends `gemma-3-12b`" in finding.detail
    assert finding.evidence["meant"] == GEMMA
    assert 'model_list[0].model to "lmstudio/google/google/gemma-3-12b"' in finding.fix


def test_lmstudio_quant_suffix_appended_by_mistake() -> None:
    finding = by_code(run(fakes.lmstudio(), model_id=f"{QWEN}@q4_k_m"), "model.not_found")
    assert "`@q4_k_m`" in finding.summary
    assert f'model_list[0].model to "lmstudio/{QWEN}"' in finding.fix


def test_not_found_lists_the_closest_ids() -> None:
    finding = by_code(run(fakes.lmstudio(), model_id="qwen3-8b"), "model.not_found")
    assert finding.evidence["closest"][0] == QWEN
    assert finding.evidence["listed"] == [QWEN, GEMMA]
    assert "Load Model" in finding.fix and "lmstudio/<identifier>" in finding.fix
    assert finding.evidence["model_source"] == "config.json model_list[0].model"


def test_lmstudio_instance_id_is_served() -> None:
    server = fakes.lmstudio(loaded={QWEN: 32768}, instance_ids={QWEN: "qwen/qwen3-8b:2"})
    assert codes(run(server, model_id="qwen/qwen3-8b:2")) == ["model.ok"]


# -- Ollama (§2) -------------------------------------------------------------------------------


def test_ollama_latest_is_implied() -> None:
    found = run(fakes.ollama(), model_id="llama3.2", provider="ollama")
    assert codes(found) == ["model.ok", "model.not_loaded"]
    assert by_code(found, "model.ok").evidence["listed_as"] == "llama3.2:latest"
    assert "OLLAMA_KEEP_ALIVE" in by_code(found, "model.not_loaded").detail


def test_ollama_missing_model_says_pull() -> None:
    finding = by_code(
        run(fakes.ollama(), model_id="llama3.1:8b", provider="ollama"), "model.not_found"
    )
    assert "`ollama pull llama3.1:8b`" in finding.fix


def test_ollama_nothing_downloaded() -> None:
    finding = by_code(run(fakes.ollama(downloaded=[]), model_id="qwen3:8b", provider="ollama"),
                      "model.none_loaded")  # fmt: skip
    assert "no model downloaded" in finding.summary and "ollama pull qwen3:8b" in finding.fix


def test_ollama_measured_partial_offload_and_small_context() -> None:
    server = fakes.ollama(running={"qwen3:8b": (6_000_000_000, 4_500_000_000, 4096)})
    found = run(server, model_id="qwen3:8b", provider="ollama")
    assert codes(found) == ["model.ok", "model.context_too_small", "capacity.partial_offload"]
    offload = by_code(found, "capacity.partial_offload")
    assert offload.evidence == {"size": 6_000_000_000, "size_vram": 4_500_000_000,
                                "gpu_percent": 75, "measured": True}  # fmt: skip
    assert "OLLAMA_CONTEXT_LENGTH" in by_code(found, "model.context_too_small").fix


def test_ollama_fully_in_gpu_with_enough_context_is_ok() -> None:
    server = fakes.ollama(running={"qwen3:8b": (6_000_000_000, 6_000_000_000, 32768)})
    assert codes(run(server, model_id="qwen3:8b", provider="ollama")) == ["model.ok"]


def test_ollama_modelfile_num_ctx_counts_before_loading() -> None:
    server = fakes.ollama(num_ctx=2048)
    found = run(server, model_id="qwen3:8b", provider="ollama")
    assert by_code(found, "model.context_too_small").evidence["loaded_context"] == 2048


# -- llama.cpp (§3), vLLM (§5), TGI (§8), textgen (§12), Jan (§10) ------------------------------


def test_llamacpp_answers_any_id_the_listing_tells() -> None:
    server = fakes.llamacpp(model="smollm2", n_ctx=16384, slots=2)
    found = run(server, model_id="gpt-4o", provider="openai", model="gpt-4o")
    finding = by_code(found, "model.mismatch")
    assert finding.severity is Severity.WARN and finding.evidence["served"] == "smollm2"
    assert "--alias gpt-4o" in finding.fix


def test_llamacpp_slot_context_is_compared() -> None:
    server = fakes.llamacpp(model="smollm2", n_ctx=4096, slots=4)
    found = run(server, model_id="smollm2", provider="openai", model="smollm2")
    finding = by_code(found, "model.context_too_small")
    assert finding.evidence["loaded_context"] == 4096 and "--parallel" in finding.fix


def test_llamacpp_router_validates_and_reports_unloaded() -> None:
    server = fakes.llamacpp(router={"qwen": ("loaded", 32768), "gemma": ("unloaded", None)})
    found = run(server, model_id="gemma", provider="openai", model="gemma")
    assert codes(found) == ["model.ok", "model.not_loaded"]
    assert "--no-models-autoload" in by_code(found, "model.not_loaded").detail
    server = fakes.llamacpp(router={"qwen": ("loaded", 32768)})
    assert "model.not_found" in codes(run(server, model_id="nope", provider="openai", model="nope"))


def test_vllm_max_model_len() -> None:
    server = fakes.vllm(served="qwen", max_model_len=4096)
    finding = by_code(run(server, model_id="qwen", provider="vllm"), "model.context_too_small")
    assert "--max-model-len 32768" in finding.fix
    server = fakes.vllm(served="qwen", max_model_len=32768)
    assert codes(run(server, model_id="qwen", provider="vllm")) == ["model.ok"]


def test_vllm_unknown_id_is_not_found_with_the_served_name() -> None:
    finding = by_code(
        run(fakes.vllm(served="qwen"), model_id="Qwen", provider="vllm"), "model.not_found"
    )
    assert "letter case" in finding.summary and "--served-model-name" in finding.fix


def test_tgi_ignores_the_id() -> None:
    server = fakes.tgi(max_total_tokens=2048)
    found = run(server, model_id="whatever", provider="openai", model="whatever")
    assert codes(found) == ["model.mismatch", "model.context_too_small"]
    assert "--max-total-tokens" in by_code(found, "model.context_too_small").fix


def test_textgen_with_nothing_loaded() -> None:
    finding = by_code(
        run(fakes.textgen(model=None), model_id="x", provider="openai"), "model.none_loaded"
    )
    assert "Model tab" in finding.fix


def test_jan_lists_running_models() -> None:
    server = fakes.jan(models=["Jan-nano"])
    t = replace(target(server, "Jan-nano", provider="openai"), api_key=Secret("jan-secret"))
    assert codes(run(server, t)) == ["model.ok"]


# -- what the capacity check reads --------------------------------------------------------------


def test_model_details_from_lmstudio_and_ollama() -> None:
    server = fakes.lmstudio(loaded={QWEN: 8192})
    found = details(server, target(server, QWEN))
    assert found is not None
    assert (found.params_b, found.quant, found.bpw, found.size_bytes) == (
        8.0,
        "Q4_K_M",
        4.8,
        5_030_000_000,
    )
    assert (found.loaded, found.context_length, found.max_context_length) == (True, 8192, 40960)

    server = fakes.ollama(running={"llama3.2:latest": (3_000_000_000, 1_000_000_000, 8192)})
    found = details(server, target(server, "llama3.2", provider="ollama"))
    assert found is not None and found.id == "llama3.2:latest"
    assert found.params_b == pytest.approx(3.21, abs=0.01) and found.quant == "Q4_K_M"
    assert (found.size_loaded, found.size_vram, found.context_length) == (
        3_000_000_000,
        1_000_000_000,
        8192,
    )
    assert found.max_context_length == 131072 and found.source.startswith("Ollama")


def test_model_details_unknown_model_is_none() -> None:
    server = fakes.vllm(served="qwen")
    assert details(server, target(server, "other", provider="vllm")) is None


@pytest.mark.parametrize(
    ("provider", "model", "model_id", "wanted", "write"),
    [
        ("lmstudio", "lmstudio/google/gemma-3-12b", "gemma-3-12b", GEMMA,
         "lmstudio/google/google/gemma-3-12b"),
        ("lmstudio", "google/gemma-3-12b", "gemma-3-12b", GEMMA, "google/google/gemma-3-12b"),
        ("openai", "qwen3-8b", "qwen3-8b", QWEN, "openai/qwen/qwen3-8b"),
        ("ollama", "ollama/llama3.1:8b", "llama3.1:8b", "llama3.2:latest",
         "ollama/llama3.2:latest"),
        ("lmstudio", "lmstudio/openai/gpt-oss-20b", "openai/gpt-oss-20b", "openai/gpt-oss-120b",
         "lmstudio/openai/gpt-oss-120b"),
    ],
)  # fmt: skip
def test_model_value_survives_both_prefix_strips(
    provider: str, model: str, model_id: str, wanted: str, write: str
) -> None:
    from lmdoctor.config import providers
    from lmdoctor.modelids import model_value

    t = Target(name="x", provider=provider, api_base="http://h:1/v1", model=model,
               model_id=model_id, config_path=CONFIG, entry="model_list[0]")  # fmt: skip
    assert model_value(t, wanted) == write
    explicit = provider if model.partition("/")[0] != provider and provider != "openai" else ""
    assert providers.resolve(write, explicit, t.api_base).model_id == wanted


def test_measured_partial_offload_is_reported_once_not_again_by_capacity() -> None:
    server = fakes.ollama(running={"qwen3:8b": (6_000_000_000, 4_500_000_000, 32768)})
    with server:
        found = diagnose(target(server, model_id="qwen3:8b", provider="ollama"),
                         only=["capacity"])  # fmt: skip
    offloads = [f for f in found if f.code == "capacity.partial_offload"]
    assert [f.check for f in offloads] == ["models"]
