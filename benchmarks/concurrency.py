"""N endpoints cost one timeout, not N: 1 black-holed endpoint against 12 mixed ones.

    python benchmarks/concurrency.py [--timeout 1.0] [--repeat 3]

The 12 are 4 black-holed (connect gets no answer), 4 hung (accept, never answer) and 4 healthy
(a stub OpenAI-compatible server), all diagnosed in one run with every installed check, as
`lmdoctor --all` would. Black holes are a network namespace with an iptables DROP rule when
this runs as root with `ip` and `iptables`; otherwise a loopback listener whose accept queue
is full (Linux then drops new SYNs). The output says which. Target (issue 7): the 12 mixed
endpoints take at most 1.3x the time of the single black-holed one.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import netns
from lmdoctor import runner
from lmdoctor.context import Session
from lmdoctor.findings import Severity
from lmdoctor.http import HttpClient
from lmdoctor.registry import load_checks, select
from lmdoctor.settings import Settings
from lmdoctor.target import Target
from loopback import RawServer, Reply, Server

TARGET_RATIO = 1.3
MODELS = Reply(200, {"object": "list", "data": [{"id": "bench-model", "object": "model"}]})


@contextmanager
def black_holes(count: int, stack: ExitStack, loopback: bool) -> Iterator[tuple[list[str], str]]:
    """`count` URLs whose connect() gets no answer, and how they were made."""
    if netns.unavailable() is None and not loopback:
        space = netns.Netns()
        stack.callback(space.close)
        space.iptables("-A", "INPUT", "-p", "tcp", "-j", "DROP")
        urls = [f"http://{space.ip}:{9000 + i}/v1" for i in range(count)]
        yield urls, f"network namespace {space.name} with iptables DROP on {space.ip}"
        return
    urls = []
    for i in range(count):
        hole = socket.socket()
        hole.bind((f"127.0.0.{90 + i}", 0))
        hole.listen(0)
        filler = socket.create_connection(hole.getsockname())  # fills the one-slot queue
        stack.callback(hole.close)
        stack.callback(filler.close)
        urls.append(f"http://{hole.getsockname()[0]}:{hole.getsockname()[1]}/v1")
    why = "asked for" if loopback else netns.unavailable()
    yield urls, f"loopback listeners with a full accept queue ({why})"


def _hang(conn: socket.socket) -> None:
    time.sleep(30)


def _targets(urls: list[str]) -> list[Target]:
    return [
        Target(name=f"t{i}", api_base=u, model="bench-model", model_id="bench-model")
        for i, u in enumerate(urls)
    ]


async def _diagnose(targets: list[Target], settings: Settings) -> tuple[float, list[str]]:
    checks, _ = load_checks()
    http = HttpClient(settings)
    started = time.perf_counter()
    try:
        report = await runner.run(Session(settings, http), targets, select(checks))
    finally:
        await http.aclose()
    elapsed = time.perf_counter() - started
    verdicts = []  # the network check's verdict: what this benchmark is about
    for result in report.results:
        network = [f.code for f in result.findings if f.check == "network"]
        errors = [f.code for f in result.findings if f.severity is Severity.ERROR]
        verdicts.append(next((c for c in network if c in errors), network[0] if network else "?"))
    return elapsed, verdicts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--timeout", type=float, default=1.0, help="per-phase timeout (s)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--loopback", action="store_true", help="full-queue black holes even when root"
    )
    parser.add_argument(
        "--defaults",
        action="store_true",
        help="lmdoctor's default timeouts (connect 3 s, read 3.5 s): a hung endpoint then costs "
        "one read timeout, longer than a black hole's one connect timeout",
    )
    args = parser.parse_args()
    settings = Settings() if args.defaults else Settings.with_timeout(args.timeout)

    with ExitStack() as stack, black_holes(5, stack, args.loopback) as (holes, how):
        hung = [stack.enter_context(RawServer(_hang, host=f"127.0.0.{110 + i}")) for i in range(4)]
        healthy = [
            stack.enter_context(Server({"/v1/models": MODELS}, host=f"127.0.0.{120 + i}"))
            for i in range(4)
        ]
        single = _targets(holes[:1])
        mixed = _targets(
            holes[1:5] + [h.url + "/v1" for h in hung] + [s.url + "/v1" for s in healthy]
        )
        print(f"black holes: {how}")
        print(
            f"timeouts: connect {settings.connect_timeout:g} s, read {settings.read_timeout:g} s"
            f" (per phase); runs: {args.repeat}"
        )
        one, many, verdicts = [], [], []
        for _ in range(args.repeat):
            elapsed, _ = asyncio.run(_diagnose(single, settings))
            one.append(elapsed)
            elapsed, verdicts = asyncio.run(_diagnose(mixed, settings))
            many.append(elapsed)

    t1, t12 = statistics.median(one), statistics.median(many)
    ratio = t12 / t1
    for label, median, runs in (("1 black-holed", t1, one), ("12 mixed", t12, many)):
        shown = ", ".join(f"{x:.2f}" for x in runs)
        print(f"{label + ' endpoints':24}: median {median:.2f} s  (runs: {shown})")
    print("  verdicts: " + ", ".join(f"{v} x{verdicts.count(v)}" for v in sorted(set(verdicts))))
    print(f"ratio 12 mixed / 1 black-holed: {ratio:.2f} (target <= {TARGET_RATIO})")
    print("PASS" if ratio <= TARGET_RATIO else "FAIL")


if __name__ == "__main__":
    main()
