"""Will the model fit this machine, and will it answer in time? (models served from here)

The estimate (lmdoctor/fit.py, shared with the bench check, once per target):
the server's facts about the model over the id's name; hardware: the run's one snapshot
(prefetched while the network checks run); the arithmetic: lmdoctor/estimate.py.
"""

from __future__ import annotations

from typing import Any

from lmdoctor import estimate, fit, hardware
from lmdoctor.context import Ctx
from lmdoctor.findings import Finding, error, info, warn
from lmdoctor.parse import ModelFacts
from lmdoctor.registry import Check

REMOTE = "{host} is another machine: this machine's hardware says nothing about its speed"
REMOTE_FIX = "Run lmdoctor on {host} itself, or `lmdoctor estimate {model} --gpu NAME`."
UNKNOWN = "Could not tell how big {model} is"
UNKNOWN_DETAIL = "The server reports no size and the id names no parameter count."
UNKNOWN_FIX = "For an estimate: lmdoctor estimate {model} --params B --quant Q"
NO_FIT = "{model} needs ~{need:.1f} GiB; this machine has {room}"
PARTIAL = "Only {pct:.0f} % of {model} fits in GPU memory: the rest runs on the CPU"
SLOW_TURN = "A first agent turn takes ~{turn:.0f} s here; PicoClaw gives up after {timeout:g} s"
SLOW_DECODE = "{model} generates ~{tps:.1f} tokens/s here: replies will crawl"
SLOW_TIMEOUT_FIX = "Set request_timeout to {suggest} (seconds) in {where}, or {smaller}."
SMALLER = "use a smaller model or quantization"


async def run(ctx: Ctx) -> list[Finding]:
    target, model = ctx.target, ctx.target.model_id
    est, facts = await fit.local_estimate(ctx)
    if "remote" in facts:
        host = facts["remote"]
        fix = REMOTE_FIX.format(host=host, model=model)
        return [info("capacity.remote", REMOTE.format(host=host), fix=fix, host=host)]
    if est is None:
        fix = UNKNOWN_FIX.format(model=model)
        return [info("capacity.unknown_size", UNKNOWN.format(model=model), UNKNOWN_DETAIL, fix)]
    evidence = est.as_dict()
    if facts.get("served"):
        evidence["served_model"] = facts["served"]
    found: list[Finding] = []
    vram_share = _measured_share(facts.get("details"))
    if vram_share is not None:
        evidence["gpu_share_reported"] = round(vram_share, 2)
    # GPUs this OS would not list (no NVML, unreadable adapters) are unknown, not absent, and
    # a server's own measurement that the model sits in VRAM beats any estimate: no error then.
    blind = (facts.get("snapshot") or {}).get("gpus_known") is False and est.fits != "gpu"
    in_vram = vram_share is not None and vram_share >= 0.98
    if blind:
        evidence["gpus_known"] = False
    if est.fits == "no" and not blind and not in_vram:
        found.append(_no_fit(est, evidence))
    elif _already_measured(ctx) or blind:
        pass  # the models check reported the server's own measurement (Ollama /api/ps)
    elif (vram_share is not None and vram_share < 0.98) or (
        vram_share is None and est.fits == "partial"
    ):
        found.append(_partial(est, vram_share, evidence, _processes(facts)))
    where = target.where if target.config_path else "this model's config.json entry"
    if not blind:
        found += _slow(est, target.request_timeout, where, evidence)
    named = f"{facts['served']} (served instead of {model})" if facts.get("served") else model
    summary = (
        f"{named}: ~{_n(est.decode_tps)} tokens/s, first token in ~{_n(est.ttft_s)} s for a "
        f"{est.prompt_tokens}-token prompt; needs {est.memory_needed_gib or 0:.1f} GiB "
        f"({_WHERE.get(est.fits or '', 'fit unknown')})"
    )
    if blind:
        summary = (
            f"{model}: needs {est.memory_needed_gib or 0:.1f} GiB; speed and fit unknown: "
            "this machine's GPUs could not be read"
        )
    detail = _assumptions(est) + _client_context(est, target.client_context)
    evidence["client_context"] = target.client_context
    found.append(info("capacity.estimate", summary, detail, **evidence))
    return found


def _client_context(est: estimate.Estimate, planned: int) -> str:
    room = est.max_context_gpu if est.machine.has_gpu else est.max_context
    if room is None or planned <= room:
        return ""
    where = "in GPU memory" if est.machine.has_gpu else "in RAM"
    return f". The client plans for {planned} tokens of context; at most {room} fit {where}"


def _processes(facts: dict[str, Any]) -> list[dict[str, Any]]:
    gpus = (facts.get("snapshot") or {}).get("gpus") or []
    return [p for g in gpus for p in g.get("processes") or []]


_WHERE = {"gpu": "fits in GPU memory", "partial": "GPU + CPU", "cpu": "CPU only", "no": "no fit"}


def _n(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:.{estimate.speed_digits(value)}f}"


def _assumptions(est: estimate.Estimate) -> str:
    spec = est.spec
    parts = [f"{spec.params_b} B params ({spec.params_source})"]
    parts.append(f"{spec.quant} {spec.bpw} bpw ({spec.quant_source})")
    bandwidth = est.machine.bandwidth_gbps
    speed = f"{bandwidth:g} GB/s" if bandwidth else "bandwidth unknown"
    parts.append(f"{est.machine.name}, {est.machine.backend}, {speed}")
    return "; ".join([*spec.notes, *parts, *est.assumptions])


def _already_measured(ctx: Ctx) -> bool:
    return any(f.code == "capacity.partial_offload" for f in ctx.earlier.get("models", []))


def _measured_share(details: ModelFacts | None) -> float | None:
    """Ollama /api/ps: size_vram / size of the loaded model (None when not reported)."""
    if details is None:
        return None
    vram, size = details.size_vram, details.size_loaded
    return vram / size if vram is not None and size else None


def _no_fit(est: estimate.Estimate, evidence: dict[str, Any]) -> Finding:
    m = est.machine
    room = f"{m.ram_free_gib or 0:.1f} GiB RAM free"
    if m.has_gpu and not m.unified:
        room = f"{m.vram_free_gib or 0:.1f} GiB GPU memory + " + room
    smaller = estimate.smaller_fit(est.spec, m, est.context, ("gpu", "partial", "cpu"))
    fix = (
        f"Use the {smaller[0]} quantization (~{smaller[1]:.1f} GiB) instead of {est.spec.quant}, "
        "or a smaller model; or close programs holding memory."
        if smaller
        else "Use a smaller model, or run it on a machine with more memory."
    )
    summary = NO_FIT.format(model=est.spec.id, need=est.memory_needed_gib or 0, room=room)
    return error("capacity.no_fit", summary, _assumptions(est), fix, **evidence)


def _partial(
    est: estimate.Estimate,
    share: float | None,
    evidence: dict[str, Any],
    processes: list[dict[str, Any]],
) -> Finding:
    pct = (share if share is not None else est.gpu_share or 0) * 100
    detail = (
        f"The server reports {pct:.0f} % of the model in GPU memory."
        if share is not None
        else f"It needs ~{est.memory_needed_gib or 0:.1f} GiB; "
        f"{est.machine.vram_free_gib or 0:.1f} GiB of GPU memory is free."
    )
    fixes = []
    smaller = estimate.smaller_fit(est.spec, est.machine, est.context)
    if smaller:
        fixes.append(f"use {smaller[0]} (~{smaller[1]:.1f} GiB) to fit the GPU entirely")
    if est.max_context_gpu and est.max_context_gpu < est.context:
        fixes.append(f"lower the context to {est.max_context_gpu} tokens")
    names = ", ".join(f"{p.get('name') or p.get('pid')}" for p in processes[:4])
    fixes.append(f"close other programs using GPU memory ({names})" if names else "free GPU memory")
    summary = PARTIAL.format(pct=pct, model=est.spec.id)
    text = "; or ".join(fixes)
    fix = text[:1].upper() + text[1:] + "."
    return warn("capacity.partial_offload", summary, detail, fix, **evidence)


def _slow(
    est: estimate.Estimate, timeout: float, where: str, evidence: dict[str, Any]
) -> list[Finding]:
    if est.decode_tps is None or est.ttft_s is None:
        return []
    turn = est.ttft_s + estimate.REPLY_TOKENS / est.decode_tps + (est.load_s or 0)
    evidence = {**evidence, "first_turn_s": round(turn, 1), "request_timeout_s": timeout}
    detail = (
        f"{est.prompt_tokens} prompt tokens at ~{_n(est.prefill_tps)} tokens/s, a "
        f"{estimate.REPLY_TOKENS}-token reply at ~{_n(est.decode_tps)} tokens/s"
        + (f", loading ~{est.load_s:.0f} s" if est.load_s else "")
    )
    if turn > timeout:
        suggest = int(-(-turn * 1.5 // 60) * 60)  # 1.5x, rounded up to a minute
        fix = SLOW_TIMEOUT_FIX.format(where=where, suggest=suggest, smaller=SMALLER)
        summary = SLOW_TURN.format(turn=turn, timeout=timeout)
        return [warn("capacity.slow", summary, detail, fix, **evidence)]
    if est.decode_tps < estimate.INTERACTIVE_MIN_TPS:
        summary = SLOW_DECODE.format(model=est.spec.id, tps=est.decode_tps)
        fix = "Use a smaller model or quantization, or one that fits the GPU."
        return [warn("capacity.slow", summary, detail, fix, **evidence)]
    return []


CHECK = Check(
    id="capacity",
    title="Fit and speed estimate",
    run=run,
    needs=("models",),
    codes=(
        "capacity.no_fit",
        "capacity.partial_offload",
        "capacity.slow",
        "capacity.estimate",
        "capacity.unknown_size",
        "capacity.remote",
    ),
    prefetch=hardware.prefetch,
)
