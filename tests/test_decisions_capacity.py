"""Verdicts of the capacity check (checks/capacity.py) that mutation testing found unpinned
(issue 17): the check run by the runner against real loopback servers (llama.cpp's listing
with its `meta`, Ollama's /api/tags, /api/ps and /api/show, as in test_capacity.py), on
recorded-style hardware snapshots. Sizes and speeds come from the estimator; what is pinned
here is what the check makes of them: which finding, its severity, its numbers and its fix.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import re
from pathlib import Path
from typing import Any

import pytest
from test_capacity import (
    LAPTOP,
    RTX4090,
    SMOL,
    SMOL_META,
    llamacpp,
    ollama,
    run_checks,
    target,
)

from conftest import by_code, codes
from lmdoctor.findings import Finding, Severity

L70 = ("Meta-Llama-3.1-70B-Instruct-Q4_K_M.gguf", {"n_params": 70553706496, "size": 42520395776})
L8 = ("Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf", {"n_params": 8030261248, "size": 4920733696})
L8_Q8 = ("Meta-Llama-3.1-8B-Instruct-Q8_0.gguf", {"n_params": 8030261248, "size": 8540770304})
L405 = ("Meta-Llama-3.1-405B-Instruct-Q4_K_M.gguf", {"n_params": 405 * 10**9, "size": 243 * 10**9})
Q32 = ("Qwen2.5-32B-Instruct-Q4_K_M.gguf", {"n_params": 32763876352, "size": 19851336384})
Q32_Q8 = ("Qwen2.5-32B-Instruct-Q8_0.gguf", {"n_params": 32763876352, "size": 34820000000})
# weights just over what a 4090 holds with a 4096-token KV cache: the context decides
Q32_TIGHT = ("Qwen2.5-32B-Instruct-Q4_K_M.gguf", {"n_params": 32763876352, "size": 23800000000})


def _llamacpp(model: tuple[str, dict[str, Any]], snapshot: dict[str, Any], **kw: Any) -> list:
    name, meta = model
    with llamacpp(name, meta) as server:
        return run_checks(target(server.url, name, **kw), snapshot)


def _ollama(size: int, vram: int | None, snapshot: dict[str, Any], ids=("capacity",)) -> list:
    """Ollama with llama3.1:70b; `vram` None: downloaded but not loaded (empty /api/ps)."""
    name = "llama3.1:70b"
    loaded = [(size, vram)] if vram is not None else []
    with ollama(name, 70553706496, 42520395776, loaded) as server:
        return run_checks(target(server.url, name, provider="ollama"), snapshot, ids=ids)


def _need(found: list) -> str:
    """The memory need as the estimate line shows it (the evidence rounds it differently)."""
    return re.search(r"needs ([0-9.]+) GiB", by_code(found, "capacity.estimate").summary)[1]


def _ceil_minute(seconds: float) -> int:
    return math.ceil(seconds / 60) * 60


# --- does it fit ---------------------------------------------------------------------------------


def test_no_fit_on_a_gpu_machine_counts_gpu_memory_and_ram():
    found = _llamacpp(L405, RTX4090)
    no_fit = by_code(found, "capacity.no_fit")
    assert no_fit.severity is Severity.ERROR
    assert no_fit.summary == (
        f"{L405[0]} needs ~{_need(found)} GiB; this machine has 22.5 GiB GPU memory + 55.0 GiB RAM "
        "free"
    )
    assert no_fit.fix == "Use a smaller model, or run it on a machine with more memory."
    assert no_fit.detail == by_code(found, "capacity.estimate").detail.split(". The client")[0]


def test_no_fit_on_a_cpu_machine_counts_ram_only_and_names_a_quant_that_fits():
    found = _llamacpp(L8_Q8, LAPTOP)
    no_fit = by_code(found, "capacity.no_fit")
    assert no_fit.summary == (
        f"{L8_Q8[0]} needs ~{_need(found)} GiB; this machine has "
        "4.1 GiB RAM free"
    )
    assert no_fit.fix.startswith("Use the Q2_K quantization (~")
    assert no_fit.fix.endswith(
        " GiB) instead of Q8_0, or a smaller model; or close programs holding memory."
    )
    # no speed, no time: a model that does not fit is not timed
    assert "capacity.slow" not in codes(found)
    assert "~? tokens/s, first token in ~? s" in by_code(found, "capacity.estimate").summary


def test_partial_offload_estimated_names_the_gap_a_smaller_quant_and_the_gpu_processes():
    found = _llamacpp(Q32_Q8, RTX4090)
    partial = by_code(found, "capacity.partial_offload")
    e = partial.evidence
    assert partial.severity is Severity.WARN
    assert partial.summary == (
        f"Only {e['gpu_share'] * 100:.0f} % of {Q32_Q8[0]} fits in GPU memory: the rest runs on "
        "the CPU"
    )
    assert partial.detail == (
        f"It needs ~{e['memory_needed_gib']:.1f} GiB; 22.5 GiB of GPU memory is free."
    )
    assert partial.fix.startswith("Use Q4_K_M (~")
    assert partial.fix.endswith(
        " GiB) to fit the GPU entirely; or close other programs using GPU memory (Xorg)."
    )
    assert "lower the context" not in partial.fix  # not even the weights fit: context won't help


def test_partial_offload_by_the_kv_cache_advises_a_smaller_context():
    partial = by_code(_llamacpp(Q32_TIGHT, RTX4090), "capacity.partial_offload")
    room = partial.evidence["max_context_gpu"]
    assert 0 < room < partial.evidence["context"] == 4096
    assert f"; or lower the context to {room} tokens; or close other programs" in partial.fix


def _gpu_processes(names: list[str | None]) -> dict[str, Any]:
    snap = copy.deepcopy(RTX4090)
    snap["gpus"][0]["processes"] = [
        {"pid": 100 + n, "name": name, "used_gib": 0.1} for n, name in enumerate(names)
    ]
    return snap


def test_partial_offload_names_four_gpu_processes_at_most_by_name_else_pid():
    snap = _gpu_processes(["Xorg", None, "firefox", "code", "steam"])
    partial = by_code(_llamacpp(Q32_Q8, snap), "capacity.partial_offload")
    assert partial.fix.endswith("; or close other programs using GPU memory (Xorg, 101, firefox, "
                                "code).")


def test_partial_offload_without_gpu_processes_says_free_gpu_memory():
    partial = by_code(_llamacpp(L70, _gpu_processes([])), "capacity.partial_offload")
    assert partial.fix == "Free GPU memory."  # no smaller quant fits a 4090 either


# --- Ollama's own measurement (/api/ps) against the estimate ------------------------------------


def test_ollama_with_98_percent_in_vram_is_not_a_partial_offload():
    found = _ollama(50 * 10**9, 49 * 10**9, RTX4090)
    assert "capacity.partial_offload" not in codes(found)
    assert by_code(found, "capacity.estimate").evidence["gpu_share_reported"] == 0.98


def test_ollama_with_97_percent_in_vram_is_a_partial_offload_by_its_measurement():
    found = _ollama(50 * 10**9, 48_500_000_000, RTX4090)
    partial = by_code(found, "capacity.partial_offload")
    assert partial.summary.startswith("Only 97 % of llama3.1:70b fits in GPU memory")
    assert partial.detail == "The server reports 97 % of the model in GPU memory."
    assert partial.evidence["gpu_share_reported"] == 0.97


def test_ollama_with_98_percent_in_vram_beats_a_no_fit_estimate():
    found = _ollama(50 * 10**9, 49 * 10**9, LAPTOP)
    assert codes(found, Severity.WARN) == []
    assert by_code(found, "capacity.estimate").evidence["fits"] == "no"


def test_ollama_with_a_size_of_zero_reports_no_share():
    found = _ollama(0, 0, RTX4090)
    assert "gpu_share_reported" not in by_code(found, "capacity.estimate").evidence


def test_a_partial_offload_the_models_check_measured_is_not_reported_twice():
    found = _ollama(50 * 10**9, 20 * 10**9, RTX4090, ids=("models", "capacity"))
    [partial] = [f for f in found if f.code == "capacity.partial_offload"]
    assert partial.check == "models"
    assert "capacity.slow" in codes(found)  # the rest of the capacity verdict stands


# --- will it answer in time ----------------------------------------------------------------------


def _turn(slow: Finding) -> float:
    e = slow.evidence
    return e["ttft_s"] + 400 / e["decode_tps"] + (e["load_s"] or 0)


def _turn_fits(slow: Finding) -> bool:
    """first_turn_s = ttft + a 400-token reply + loading, within the rounding of the evidence
    (ttft to 0.01 s, decode to 0.1 tokens/s, load to 0.1 s)."""
    e = slow.evidence
    load = e["load_s"] or 0
    low = e["ttft_s"] - 0.005 + 400 / (e["decode_tps"] + 0.05) + load - 0.05
    high = e["ttft_s"] + 0.005 + 400 / (e["decode_tps"] - 0.05) + load + 0.05
    return low - 0.05 <= e["first_turn_s"] <= high + 0.05


def test_a_first_turn_slower_than_the_timeout_suggests_one_and_a_half_times_it():
    found = _llamacpp(L70, RTX4090, timeout=120)
    slow = by_code(found, "capacity.slow")
    turn = slow.evidence["first_turn_s"]
    assert _turn_fits(slow)
    assert slow.summary == (
        f"A first agent turn takes ~{turn:.0f} s here; PicoClaw gives up after 120 s"
    )
    assert slow.detail == (
        f"4000 prompt tokens at ~{slow.evidence['prefill_tps']:.0f} tokens/s, a 400-token reply "
        f"at ~{slow.evidence['decode_tps']:.1f} tokens/s"
    )
    assert slow.fix == (
        f"Set request_timeout to {_ceil_minute(turn * 1.5)} (seconds) in this model's config.json "
        "entry, or use a smaller model or quantization."
    )
    assert slow.evidence["request_timeout_s"] == 120


def test_the_timeout_fix_names_the_config_entry_when_there_is_one():
    name, meta = L8
    with llamacpp(name, meta) as server:
        t = dataclasses.replace(
            target(server.url, name, timeout=120),
            config_path=Path("/somewhere/config.json"), entry="model_list[2]",
        )
        slow = by_code(run_checks(t, LAPTOP), "capacity.slow")
    assert " (seconds) in config.json model_list[2], or use a smaller" in slow.fix
    turn = slow.evidence["first_turn_s"]
    assert slow.fix.startswith(f"Set request_timeout to {_ceil_minute(turn * 1.5)} ")


def test_a_model_that_must_load_first_counts_the_load_in_the_first_turn():
    slow = by_code(_ollama(0, None, RTX4090), "capacity.slow")
    load = slow.evidence["load_s"]
    assert load > 1
    assert slow.detail.endswith(f", loading ~{load:.0f} s")
    assert _turn_fits(slow)
    assert slow.evidence["first_turn_s"] - load > 120 - 1  # slow even without the load


def test_a_turn_within_the_timeout_but_a_crawling_decode_is_slow_too():
    found = _llamacpp(Q32_Q8, RTX4090, timeout=600)
    slow = by_code(found, "capacity.slow")
    tps = slow.evidence["decode_tps"]
    assert slow.summary == f"{Q32_Q8[0]} generates ~{tps:.1f} tokens/s here: replies will crawl"
    assert slow.fix == "Use a smaller model or quantization, or one that fits the GPU."
    assert slow.evidence["first_turn_s"] < 600


def test_a_timeout_just_above_the_first_turn_is_not_slow():
    first = by_code(_llamacpp(Q32, RTX4090, timeout=1), "capacity.slow")
    turn = _turn(first)
    assert first.summary.startswith("A first agent turn takes")
    assert _turn_fits(first)  # a fast decode: the evidence pins the turn to ~0.1 s
    assert first.evidence["first_turn_s"] == round(first.evidence["first_turn_s"], 1)
    assert first.evidence["load_s"] is None  # served, loaded: no load time added
    assert "capacity.slow" not in codes(_llamacpp(Q32, RTX4090, timeout=math.ceil(turn) + 1))


# --- the estimate line ---------------------------------------------------------------------------


def _estimate(found: list) -> Finding:
    return by_code(found, "capacity.estimate")


def test_the_estimate_says_what_the_client_plans_beyond_what_fits_in_gpu_memory():
    est = _estimate(_llamacpp(Q32, RTX4090))
    room = est.evidence["max_context_gpu"]
    assert est.detail.endswith(
        f". The client plans for 131072 tokens of context; at most {room} fit in GPU memory"
    )
    assert est.evidence["client_context"] == 131072
    assert est.summary == (
        f"{Q32[0]}: ~{est.evidence['decode_tps']:.0f} tokens/s, first token in "
        f"~{est.evidence['ttft_s']:.1f} s for a 4000-token prompt; needs "
        f"{est.evidence['memory_needed_gib']:.1f} GiB (fits in GPU memory)"
    )


@pytest.mark.parametrize(("extra", "said"), [(0, False), (1, True)])
def test_a_client_context_that_fits_exactly_is_not_mentioned(extra, said):
    room = _estimate(_llamacpp(Q32, RTX4090)).evidence["max_context_gpu"]
    name, meta = Q32
    with llamacpp(name, meta) as server:
        t = dataclasses.replace(target(server.url, name), context_window=room + extra)
        est = _estimate(run_checks(t, RTX4090))
    assert ("The client plans for" in est.detail) is said
    assert est.evidence["client_context"] == room + extra


def test_on_a_cpu_machine_the_planned_context_is_compared_with_ram():
    est = _estimate(_llamacpp(L8, LAPTOP))
    room = est.evidence["max_context"]
    assert est.detail.endswith(
        f". The client plans for 131072 tokens of context; at most {room} fit in RAM"
    )
    assert "CPU only" in est.summary


def test_the_estimate_lists_the_assumptions_it_rests_on():
    est = _estimate(_llamacpp(L8, LAPTOP))
    assert est.detail.startswith(
        "8.03 B params (the server); Q4_K_M 4.89 bpw (from the name); Intel(R) Core(TM) "
        "i5-8250U CPU @ 1.60GHz, cpu, 30 GB/s; "
    )


def test_a_machine_without_a_known_bandwidth_says_so():
    snap = copy.deepcopy(LAPTOP)
    snap["cpu"].pop("ram_bandwidth_gbps", None)
    snap["cpu"].pop("ram_bandwidth_source", None)
    est = _estimate(_llamacpp(L8, snap))
    bandwidth = est.evidence["bandwidth_gbps"]
    shown = f"{bandwidth:g} GB/s" if bandwidth else "bandwidth unknown"
    assert f"Intel(R) Core(TM) i5-8250U CPU @ 1.60GHz, cpu, {shown}; " in est.detail


def test_the_small_model_is_neither_slow_nor_partial_and_names_no_planned_context_issue():
    name, meta = SMOL, SMOL_META
    with llamacpp(name, meta) as server:
        t = dataclasses.replace(target(server.url, name), context_window=4096)
        found = run_checks(t, RTX4090)
    assert codes(found) == ["capacity.estimate"]
    assert "The client plans" not in _estimate(found).detail


def test_other_findings_of_the_models_check_do_not_hide_an_estimated_partial_offload():
    name, meta = Q32_Q8
    with llamacpp(name, meta) as server:
        found = run_checks(target(server.url, name), RTX4090, ids=("models", "capacity"))
    assert "model.ok" in codes(found)
    partial = by_code(found, "capacity.partial_offload")
    assert partial.check == "capacity"


def test_a_measured_partial_offload_at_the_full_context_does_not_advise_that_context():
    """Ollama keeps 90 % in VRAM although the estimate fits the GPU with exactly the loaded
    context: lowering the context "to 4096" would change nothing."""
    name = "qwen2.5:32b"
    details = {"parameter_size": "32.8B", "quantization_level": "Q4_K_M"}
    loaded = [(25 * 10**9, 22_500_000_000)]
    with ollama(name, 32763876352, 23_600_000_000, loaded, details) as server:
        found = run_checks(target(server.url, name, provider="ollama"), RTX4090)
    partial = by_code(found, "capacity.partial_offload")
    assert partial.evidence["max_context_gpu"] == partial.evidence["context"] == 4096
    assert partial.detail == "The server reports 90 % of the model in GPU memory."
    assert "lower the context" not in partial.fix


def test_blind_to_the_gpus_the_estimate_still_names_the_memory_need():
    blind = {**LAPTOP, "gpus": [], "gpus_known": False}
    est = _estimate(_llamacpp(L70, blind))
    need = est.evidence["memory_needed_gib"]
    assert est.summary.startswith(f"{L70[0]}: needs ")
    assert est.summary.endswith(
        " GiB; speed and fit unknown: this machine's GPUs could not be read"
    )
    assert abs(float(re.search(r"needs ([0-9.]+) GiB", est.summary)[1]) - need) < 0.06


def test_the_reported_gpu_share_is_rounded_to_hundredths():
    found = _ollama(45 * 10**9, 20 * 10**9, RTX4090)
    assert by_code(found, "capacity.partial_offload").evidence["gpu_share_reported"] == 0.44


def test_ollama_with_the_model_in_ram_does_not_hide_a_no_fit_estimate():
    found = _ollama(50 * 10**9, 0, LAPTOP)
    assert by_code(found, "capacity.no_fit").severity is Severity.ERROR
    assert by_code(found, "capacity.estimate").evidence["gpu_share_reported"] == 0
