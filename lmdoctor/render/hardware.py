"""`lmdoctor hardware` as text: the snapshot (hardware.snapshot()) and what it can run
(estimate.capabilities()), as a table or JSON. Formats only: the CLI samples and estimates."""

from __future__ import annotations

import json
from typing import Any

from lmdoctor.estimate import MEASURED_TO_SPEC, speed_digits
from lmdoctor.render.layout import plain_table, terminal_columns, wrap_labelled


def _fmt(value: Any, unit: str = "", digits: int = 1) -> str:
    if value is None:
        return "unknown"
    if isinstance(value, float):
        return f"{value:.{digits}f}{unit}"
    return f"{value}{unit}"


def _spec_equivalent(measured: float | None) -> str:
    """How the memcpy figure maps to the spec DRAM bandwidth the estimates use (the same
    division as estimate.machine_from_snapshot), so the two numbers visibly agree."""
    if not measured:
        return ""
    spec = measured / MEASURED_TO_SPEC
    return f" (memcpy, read + write; ≈ {spec:.0f} GB/s of spec DRAM bandwidth, as estimates use)"


def render(snap: dict[str, Any], can_run: dict[str, Any], fmt: str = "table") -> str:
    """`lmdoctor hardware`: the snapshot and what it can run (`estimate.capabilities(snap)`)."""
    if fmt == "json":
        return json.dumps({**snap, "can_run": can_run}, indent=2, default=str) + "\n"
    cpu, mem = snap.get("cpu", {}), snap.get("memory", {})
    isa = ", ".join(k.upper().replace("_", "-") for k, v in (cpu.get("isa") or {}).items() if v)
    lines = [
        f"CPU     {cpu.get('model') or 'unknown'}",
        f"        {_fmt(cpu.get('physical_cores'))} cores / {_fmt(cpu.get('logical_cores'))} "
        f"threads, load {_fmt(cpu.get('load_1m'), digits=2)}; ISA: {isa or 'unknown'}",
        f"        RAM bandwidth {_fmt(cpu.get('ram_bandwidth_gbps'), ' GB/s')}"
        + _spec_equivalent(cpu.get("ram_bandwidth_gbps")),
        f"Memory  {_fmt(mem.get('total_gib'), ' GiB')} total, "
        f"{_fmt(mem.get('available_gib'), ' GiB')} available; swap "
        f"{_fmt(mem.get('swap_used_gib'), ' GiB')} used of "
        f"{_fmt(mem.get('swap_total_gib'), ' GiB')}",
    ]
    gpus = snap.get("gpus") or []
    if not gpus:
        why = "; ".join(f"{k}: {v}" for k, v in (snap.get("probes") or {}).items())
        found = "unknown" if snap.get("gpus_known") is False else "none found"
        lines.append(f"GPUs    {found} ({why})" if why else f"GPUs    {found}")
    for g in gpus:
        free = g.get("vram_free_gib")
        memory = f"{_fmt(g.get('vram_total_gib'), ' GiB')}" + (
            f" ({_fmt(free, ' GiB')} free)" if free is not None else ""
        )
        if g.get("unified"):
            memory += " unified"
        extra = [f"{_fmt(g.get('bandwidth_gbps'), ' GB/s', 0)}"]
        if g.get("compute_capability"):
            extra.append(f"compute {g['compute_capability']}")
        if g.get("utilization_pct") is not None:
            extra.append(f"{g['utilization_pct']} % busy")
        lines.append(f"GPU {g.get('index', 0)}   {g.get('name')}: {memory}, {', '.join(extra)}")
        for p in g.get("processes") or []:
            lines.append(
                f"        pid {p.get('pid')} {p.get('name') or '?'} uses "
                f"{_fmt(p.get('used_gib'), ' GiB')}"
            )
    lines += ["", f"What it can run ({can_run['device']}):"]
    rows = [
        [
            r["model"],
            _fmt(r["memory_gib"], " GiB"),
            r["where"],
            _fmt(r["decode_tps"], " tok/s", speed_digits(r["decode_tps"])),
            _fmt(r["ttft_s"], " s", 1),
        ]
        for r in can_run["models"]
    ]
    header = ["model (Q4_K_M)", "needs", "fits", "decode", f"TTFT {can_run['prompt_tokens']} tok"]
    columns = terminal_columns()
    lines.append(plain_table(header, rows, columns))
    largest = can_run.get("largest_dense_q4_k_m_b") or {}
    total = _fmt(largest.get("total"), " B params", 0)
    if largest.get("gpu") is not None:
        where = f"{_fmt(largest['gpu'], ' B params', 0)} in GPU memory, {total} with CPU offload"
    else:
        where = f"{total} in RAM"
    lines.append(f"Largest dense model at Q4_K_M ({can_run['context']}-token context): {where}")
    eight = can_run.get("decode_tps_8b_q4_k_m")
    lines.append(f"Est. 8B Q4_K_M decode: {_fmt(eight, ' tok/s', speed_digits(eight))}")
    # labelled lines wrap under their value; the table above already fits
    return "\n".join(wrap_labelled(line, columns) for line in lines) + "\n"
