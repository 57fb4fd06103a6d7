"""Will the target's model fit this machine, and how fast will it run? (shared by checks)

The capacity check reports this estimate and the bench check compares its measurement with
it; both read it through `fit.local_estimate(ctx)`, computed once per target (in the target's
one cache, `ctx.client`). Size: the server's
facts (`Ctx.model()`) over what the id's name says; hardware: the run's one snapshot.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lmdoctor import estimate, hardware, modelids, modelname, net, urls

if TYPE_CHECKING:
    from lmdoctor.context import Ctx

# (estimate, facts): the estimate is None for remote endpoints and unknown sizes; facts say
# why ("remote": host, "unknown": True) and hold "details", "snapshot", "kind" otherwise.
LocalEstimate = tuple["estimate.Estimate | None", dict[str, Any]]


async def local_estimate(ctx: Ctx) -> LocalEstimate:
    """The fit and speed estimate for the target's model on this machine, once per target."""
    return await ctx.client.once(local_estimate, lambda: _local_estimate(ctx))


async def _local_estimate(ctx: Ctx) -> LocalEstimate:
    target = ctx.target
    host = urls.host_port(target.api_base)[0]
    if not await net.is_served_here(host, ctx.settings.connect_timeout):
        return None, {"remote": host}
    details = await ctx.model()
    found = await ctx.server()
    kind = found.kind if found else target.provider
    # A server that answers every id with its one model (llama.cpp, a single LM Studio model)
    # runs what it serves, not what the config names: estimate that one, and say so.
    served = await _served_instead(ctx)
    if served is not None:
        details = (await ctx.native()).find(served, (await ctx.server_kind()).default_tag)
    spec = estimate.merge_details(modelname.parse(served or target.model_id, kind), details)
    if served is not None:
        note = f"estimated for {served}, the model the server serves (the config names "
        spec = spec._replace(notes=(f"{note}{target.model_id})", *spec.notes))
    if not spec.known:
        return None, {"unknown": True, "details": details}
    snap = await hardware.sample(ctx.session)
    machine = estimate.machine_from_snapshot(snap)
    if not machine.has_gpu:
        pid, cmdline = await _server_process(ctx)
        competing = None
        if (snap.get("cpu") or {}).get("runnable_weight") is not None:
            # the snapshot found this machine busy: look again now, the server's own threads
            # (busy answering this run's probes) left out, in units of the server's nice level
            competing = await asyncio.to_thread(competing_threads, pid)
        machine = at_work(machine, snap, cmdline, competing)
    machine = with_server(machine, kind)
    loaded = details.loaded if details else None
    # the context the server allocates (loaded, or configured); else the servers' default
    context = (details.context_length if details else None) or estimate.DEFAULT_CONTEXT
    prompt = min(estimate.AGENT_PROMPT_TOKENS, context)
    est = estimate.estimate(spec, machine, context, prompt, loaded=loaded)
    facts: dict[str, Any] = {"details": details, "snapshot": snap, "kind": kind}
    if served is not None:
        facts["served"] = served
    return est, facts


def server_threads(cmdline: Sequence[str] | None) -> int | None:
    """The CPU threads a llama.cpp server decodes with, from its command line; None when the
    runtime's own default applies (llama-server and Ollama: the physical cores).

    llama-server: `-t N` / `--threads N` (common/arg.cpp; -1 = its default). llama-cpp-python
    (`python -m llama_cpp.server`): `--n_threads N`, default max(cpu_count() // 2, 1), -1 = all
    (llama_cpp/server/settings.py ModelSettings.n_threads, 0.3.36)."""
    if not cmdline:
        return None
    args = list(cmdline)
    python_server = any("llama_cpp.server" in a or "llama_cpp/server" in a for a in args)
    names = ("--n_threads",) if python_server else ("-t", "--threads")
    value: str | None = None
    for i, arg in enumerate(args):
        if arg in names and i + 1 < len(args):
            value = args[i + 1]
        elif any(arg.startswith(n + "=") for n in names if n.startswith("--")):
            value = arg.split("=", 1)[1]
    count = os.cpu_count() or 1
    if value is not None:
        try:
            n = int(value)
        except ValueError:
            return None
        if n > 0:
            return n
        return count if python_server else None
    return max(count // 2, 1) if python_server else None


def at_work(
    machine: estimate.Machine,
    snap: dict[str, Any],
    cmdline: Sequence[str] | None,
    competing: float | None = None,
) -> estimate.Machine:
    """The CPU as the running server gets it: its own thread count (from its command line) and
    the share of the cores other runnable work leaves it now: `competing` (competing_threads)
    where it was sampled, else the snapshot's load average."""
    cpu = snap.get("cpu") or {}
    threads = server_threads(cmdline) or machine.cpu_threads
    load = competing if competing is not None else cpu.get("load_1m")
    share = estimate.cpu_share(load, machine.cpu_cores, threads)
    notes = list(machine.notes)
    if threads and threads != machine.cpu_threads:
        notes.append(f"the server decodes with {threads} CPU thread(s) (its command line)")
    if share < 1:
        busy = (
            f"other runnable work worth {competing:.1f} threads at the server's priority"
            if competing is not None
            else f"load {cpu.get('load_1m'):g}"
        )
        notes.append(
            f"CPU shared: {busy} on {machine.cpu_cores} cores leaves each of "
            f"the server's threads ~{share * 100:.0f} % of a core now"
        )
    return machine._replace(cpu_threads=threads, cpu_share=share, notes=tuple(notes))


def with_server(machine: estimate.Machine, kind: str | None) -> estimate.Machine:
    """The machine with the per-token CPU cost the server kind adds (estimate.server_token_ms),
    and a note saying so."""
    extra = estimate.server_token_ms(kind, machine.backend)
    if not extra:
        return machine
    note = f"{kind} adds ~{extra:g} ms of CPU work per token (its Python side)"
    return machine._replace(server_token_ms=extra, notes=(*machine.notes, note))


async def _server_process(ctx: Ctx) -> tuple[int | None, list[str] | None]:
    """The pid and command line of the process listening on the target's port (None if unseen).
    Linux: that one port's socket in /proc (issue 13: psutil's table of every socket of every
    process cost ~7 % of a check); elsewhere, or when /proc cannot tell, psutil's table."""
    port = urls.host_port(ctx.target.api_base)[1]
    pids: set[int] | None = None
    if sys.platform.startswith("linux"):
        from lmdoctor import procfs

        pids = await asyncio.to_thread(procfs.listening_pids, port)
    if pids is None:
        found = await ctx.session.listeners()
        pids = {x.pid for x in found or () if x.port == port and x.pid is not None}
    if len(pids) != 1:
        return None, None
    pid = pids.pop()
    return pid, await asyncio.to_thread(_cmdline, pid)


def competing_threads(server_pid: int | None) -> float | None:
    """Linux: the runnable threads other than lmdoctor's and the server's, as threads at the
    server's nice level (hardware.runnable_weight in nice-0 threads × 1024 / the server's CFS
    weight: for a server under `nice -n 10` a nice-0 job counts 9, a nice-10 one 1). None
    elsewhere or when /proc cannot tell."""
    if not sys.platform.startswith("linux"):
        return None
    from lmdoctor import procfs

    weight = hardware.runnable_weight({server_pid} if server_pid else ())
    if weight is None:
        return None
    own = procfs.nice(server_pid) if server_pid else None
    return weight * 1024 / procfs.nice_weight(own or 0)


def _cmdline(pid: int) -> list[str] | None:
    if sys.platform.startswith("linux"):  # what psutil reads there, without importing it
        from lmdoctor import procfs

        return procfs.cmdline(pid)
    try:
        import psutil

        return list(psutil.Process(pid).cmdline())
    except Exception:  # gone, denied, or no psutil: the default thread count applies
        return None


async def _served_instead(ctx: Ctx) -> str | None:
    """The model a server that answers any id serves instead of the configured one, else None
    (the models check's model.mismatch rule)."""
    listing = await ctx.listing()
    ids = listing.ids if listing.models is not None else []
    server_kind = await ctx.server_kind()
    if not ids or modelids.find(ctx.target.model_id, ids, server_kind.default_tag) is not None:
        return None
    found = await ctx.server()
    router = bool(found and found.evidence.get("mode") == "router")
    return ids[0] if server_kind.accepts_any_id(router) else None
