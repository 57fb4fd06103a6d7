"""`lmdoctor estimate` as text: one Estimate (estimate.from_cli()) as a table or JSON."""

from __future__ import annotations

import json

from lmdoctor.estimate import Estimate, band_text, speed_digits
from lmdoctor.hardware import WORKING_SET_LARGE, WORKING_SET_SMALL, WORKING_SET_STEP_GIB
from lmdoctor.render.layout import hanging, terminal_columns


def render(est: Estimate, fmt: str = "table") -> str:
    if fmt == "json":
        return json.dumps(est.as_dict(), indent=2) + "\n"
    return table(est)


def _num(value: float | None, unit: str, digits: int = 1) -> str:
    return "unknown" if value is None else f"{value:,.{digits}f} {unit}".strip()


def _speed(tps: float | None, band: tuple[float, float] | None, digits: int) -> str:
    """A speed and, when the data bounds it, where eight in ten measurements fell."""
    text = _num(tps, "tokens/s", digits)
    if band is None:
        return text
    return f"{text} ({band_text(band)})"


_FITS_TEXT = {
    "gpu": "yes, entirely in GPU memory",
    "partial": "partly: {pct:.0f} % of the weights in GPU memory, the rest on the CPU",
    "cpu": "in system RAM, on the CPU",
    "no": "no: more than this machine's memory",
    None: "unknown (memory size unknown)",
}


def table(est: Estimate) -> str:
    s, m = est.spec, est.machine
    size = f"{s.params_b:g} B params" if s.params_b else "size unknown"
    if s.is_moe:
        size += f" ({s.active_params_b:g} B active)"
    where = []
    if m.has_gpu:
        where.append(f"{_num(m.vram_free_gib, 'GiB')} GPU memory")
    if m.ram_free_gib is not None or not m.has_gpu:
        where.append(f"{_num(m.ram_free_gib, 'GiB')} RAM")
    pct = (est.gpu_share or 0) * 100
    fits = _FITS_TEXT.get(est.fits, _FITS_TEXT[None]).format(pct=pct)
    fits = f"{fits} ({', '.join(where)})"
    mac = est.unified_memory_needed_gib
    if mac is not None:
        fits = (
            f"on a Mac with at least {mac:g} GiB of unified memory (macOS lets the GPU use "
            f"{WORKING_SET_SMALL:.0%} of it up to {WORKING_SET_STEP_GIB:g} GiB, "
            f"{WORKING_SET_LARGE:.0%} above); --memory GIB checks one; speeds assume it fits"
        )
    elif est.fits is None and m.vram_free_gib is None and m.ram_free_gib is None:
        fits = "not checked: give --vram (GPU memory) or --memory (RAM); speeds assume it fits"
    memory = (
        f"{_num(est.memory_needed_gib, 'GiB')} = {_num(est.weights_gib, 'GiB')} weights + "
        f"{_num(est.kv_cache_gib, 'GiB', 2)} KV cache ({est.context} tokens) + "
        f"{_num(est.overhead_gib, 'GiB')} runtime"
    )
    ttft = _num(est.ttft_s, "s")
    if est.load_s is not None and est.ttft_s is not None:
        ttft += f" (+ {est.load_s:.0f} s to load it first)"
    rows = [
        ("model", f"{s.family.key if s.family else s.name}: {size}, {s.quant} ({s.bpw} bpw)"),
        ("device", f"{m.name} ({m.backend}, {_num(m.bandwidth_gbps, 'GB/s', 0)}; {m.source})"),
        ("memory", memory),
        ("fits", fits),
        ("decode", _speed(est.decode_tps, est.decode_band, max(1, speed_digits(est.decode_tps)))),
        ("prefill", _speed(est.prefill_tps, est.prefill_band, speed_digits(est.prefill_tps))),
        ("first token", f"{ttft} for a {est.prompt_tokens}-token prompt"),
    ]
    trained = getattr(s.family, "trained_context", None)
    limit = f" (trained for {trained})" if trained else ""
    if est.max_context_gpu and m.has_gpu:
        rows.append(("max context", f"{est.max_context_gpu} tokens in GPU memory{limit}"))
    elif est.max_context:
        rows.append(("max context", f"{est.max_context} tokens{limit}"))
    notes = [f"params {s.params_source}" if s.params_source else "", f"quant {s.quant_source}"]
    notes += est.assumptions + list(s.notes)
    rows.append(("assumed", "; ".join(n for n in notes if n)))
    width = max(len(k) for k, _ in rows)
    columns = terminal_columns()  # long values wrap under themselves, never past the width
    lines = [line for k, v in rows for line in hanging(f"{k.ljust(width)}  ", v, columns, 0)]
    return "\n".join(lines) + "\n"
