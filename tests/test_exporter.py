"""`lmdoctor serve`: the probe exporter, in process and as a subprocess, against loopback fakes.

Every exposition goes through `promtool check metrics` (the real engine's linter) and the strict
OpenMetrics parser. The SSRF guard (ad-hoc URLs only with --allow-url) and the no-secrets rule
(no key, no host beyond the target label, no free text) have their own tests.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

import fakes
from lmdoctor.exporter.prober import Prober
from lmdoctor.exporter.targets import TargetSet
from lmdoctor.exporter.web import Exporter, ServeOptions, make_server
from lmdoctor.findings import ok
from lmdoctor.registry import Check, load_checks
from lmdoctor.target import Target
from loopback import RawServer, Reply, Server, free_port
from prom import classic, openmetrics, promtool_check, value, write_config

KEY = "sk-lm-PLANTEDserve0123456789abcdef"
OM = "application/openmetrics-text; version=1.0.0"


@dataclass
class Running:
    url: str
    exporter: Exporter

    def get(self, path: str, **headers: str) -> tuple[int, str, str]:
        request = urllib.request.Request(self.url + path, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                body = answer.read().decode()
                return answer.status, answer.headers.get("Content-Type", ""), body
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers.get("Content-Type", ""), exc.read().decode()


@contextmanager
def exporter(config: Path, **options: object) -> Iterator[Running]:
    """The exporter in this process on a free loopback port (as `lmdoctor serve` runs it)."""
    opts = ServeOptions(config=config, host="127.0.0.1", port=0, **options)  # type: ignore[arg-type]
    targets = TargetSet(config, lambda line: None)
    checks, _ = load_checks()
    running = Exporter(opts, targets, checks)
    server = make_server(opts, running)
    stop = threading.Event()
    threads = [
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}),
        threading.Thread(target=targets.watch, args=(opts.watch_interval, stop)),
    ]
    for t in threads:
        t.daemon = True
        t.start()
    try:
        yield Running(f"http://127.0.0.1:{server.server_address[1]}", running)
    finally:
        stop.set()
        targets.wake.set()
        server.shutdown()
        server.server_close()
        running.prober.close()


@pytest.fixture
def llama() -> Iterator[Server]:
    with fakes.llamacpp(model="smol", n_ctx=4096) as server:
        yield server


@pytest.fixture
def config(tmp_path: Path, llama: Server) -> Path:
    dead = f"http://127.0.0.1:{free_port()}/v1"
    return write_config(tmp_path / "config.json", {"smol": f"{llama.url}/v1", "dead": dead})


def families_of(body: str) -> dict[str, list[object]]:
    promtool_check(body)
    return openmetrics(body)


# ------------------------------------------------------------------------------------- /probe


def test_a_healthy_and_a_dead_target(config: Path) -> None:
    with exporter(config) as running:
        status, content_type, body = running.get("/probe?target=smol", Accept=OM)
        assert status == 200 and content_type.startswith("application/openmetrics-text")
        found = families_of(body)
        assert value(found["lmdoctor_probe_success"], target="smol") == 1
        assert value(found["lmdoctor_model_served"], target="smol") == 1
        assert value(found["lmdoctor_model_loaded"], target="smol") == 1
        assert value(found["lmdoctor_model_context_tokens"], target="smol") == 4096
        assert value(found["lmdoctor_server_info"], kind="llamacpp") == 1
        phases = {s.labels["phase"] for s in found["lmdoctor_probe_phase_duration_seconds"]}
        assert {"resolve", "connect", "first_byte"} <= phases
        assert value(found["lmdoctor_findings"], target="smol", severity="error") == 0
        assert value(found["lmdoctor_finding_info"], code="model.ok", check="models") == 1
        assert value(found["lmdoctor_probe_duration_seconds"], target="smol") > 0

        status, content_type, body = running.get("/probe?target=dead")  # no Accept: classic
        assert status == 200 and content_type.startswith("text/plain; version=0.0.4")
        promtool_check(body)
        found = classic(body)
        assert value(found["lmdoctor_probe_success"], target="dead") == 0
        errors = {s.labels["code"] for s in found["lmdoctor_finding_info"]
                  if s.labels["severity"] == "error"}  # fmt: skip
        assert errors & {"net.refused", "net.wrong_port"}, errors  # the fake is on another port
        assert value(found["lmdoctor_findings"], target="dead", severity="error") >= 1
        assert "lmdoctor_model_loaded" not in {
            s.name for samples in found.values() for s in samples
        }  # unknown, not 0: the endpoint-down alert covers it

        status, _, page = running.get("/")
        assert status == 200
        assert 'href="/probe?target=smol"' in page and "success at" in page
        assert "failure at" in page and re.search(r"net\.(refused|wrong_port)", page)


def test_metrics_count_probes_errors_and_runs(config: Path) -> None:
    with exporter(config) as running:
        running.get("/probe?target=smol")
        assert running.get("/probe?target=nope")[0] == 404
        assert running.get("/probe")[0] == 400
        assert running.get("/probe?target=smol&module=nope")[0] == 400
        status, _, message = running.get("/probe?target=smol&module=bench")
        assert status == 403 and "--allow-bench" in message
        assert running.get("/nowhere")[0] == 404
        for accept in (OM, ""):
            status, _, body = running.get("/metrics", Accept=accept)
            assert status == 200
            if not accept:
                promtool_check(body)
        found = openmetrics(running.get("/metrics", Accept=OM)[2])
        probes = found["lmdoctor_exporter_probes"]
        assert value(probes, name="lmdoctor_exporter_probes_total", result="success") == 1
        errors = found["lmdoctor_exporter_probe_errors"]
        total = "lmdoctor_exporter_probe_errors_total"
        assert value(errors, name=total, reason="unknown_target") == 1
        assert value(errors, name=total, reason="bad_request") == 2
        assert value(errors, name=total, reason="forbidden") == 1
        assert value(found["lmdoctor_config_last_reload_successful"]) == 1
        assert value(found["lmdoctor_config_targets"]) == 2
        assert found["process_cpu_seconds"]  # the client library's process collector


# --------------------------------------------------------------------------- SSRF and secrets


def test_an_adhoc_url_is_refused_without_allow_url(config: Path) -> None:
    with Server({"/v1/models": Reply(200, {"object": "list", "data": []})}) as canary:
        url = f"{canary.url}/v1"
        with exporter(config) as running:
            for target in (url, url.replace("http://", "https://"), "http://localhost:1/v1"):
                status, _, message = running.get(
                    "/probe?target=" + urllib.request.quote(target, safe="")
                )
                assert status == 403, message
                assert "--allow-url" in message
        assert canary.seen == [], "the exporter must not even connect"
        with exporter(config, allow_url=True) as running:
            query = urllib.request.quote(url, safe="")
            status, _, body = running.get(f"/probe?target={query}&model=smol", Accept=OM)
            assert status == 200
            found = families_of(body)
            assert value(found["lmdoctor_probe_success"], target=url) is not None
            bad = urllib.request.quote("http://user:pw@127.0.0.1:1/v1", safe="")
            assert running.get(f"/probe?target={bad}")[0] == 400
        assert canary.seen, "with --allow-url the URL is probed"


def test_no_key_no_host_and_no_free_text_in_any_answer(tmp_path: Path) -> None:
    with fakes.llamacpp(model="smol", api_key=KEY) as keyed:
        base = f"{keyed.url}/v1"
        path = write_config(tmp_path / "config.json", {"keyed": base}, key=KEY)
        with exporter(path) as running:
            answers = [running.get("/probe?target=keyed", Accept=OM)[2]]
            answers += [running.get("/probe?target=keyed")[2], running.get("/")[2]]
            answers += [running.get("/metrics")[2]]
        assert any(KEY in (s.headers.get("Authorization") or "") for s in keyed.seen)
    found = openmetrics(answers[0])
    assert value(found["lmdoctor_probe_success"], target="keyed") == 1, answers[0]
    for text in answers:
        assert KEY not in text and KEY[:12] not in text
        assert "127.0.0.1" not in text and f":{keyed.port}" not in text
    allowed = {"target", "phase", "severity", "code", "check", "kind", "version"}
    for samples in found.values():
        for sample in samples:
            assert set(sample.labels) <= allowed, sample
            for name, label in sample.labels.items():
                assert re.fullmatch(r"[A-Za-z0-9_.:*+ -]{0,128}", label), (name, label)


# ----------------------------------------------------------------- shared runs and deadlines


def test_concurrent_probes_of_one_target_share_one_run(tmp_path: Path) -> None:
    def slow(seen: object) -> Reply:
        time.sleep(0.6)
        return Reply(200, {"object": "list", "data": [{"id": "smol", "object": "model"}]})

    with Server({"GET /v1/models": slow}) as server:
        path = write_config(tmp_path / "config.json", {"slow": f"{server.url}/v1"})
        with exporter(path) as running:
            bodies: list[str] = []
            probes = [
                threading.Thread(target=lambda: bodies.append(running.get("/probe?target=slow")[2]))
                for _ in range(3)
            ]
            for t in probes:
                t.start()
            for t in probes:
                t.join(30)
            assert len(bodies) == 3 and len(set(bodies)) == 1
            assert running.exporter.prober.runs == 1
            together = len(server.seen)
            server.seen.clear()
            running.get("/probe?target=slow")
            assert running.exporter.prober.runs == 2
            alone = len(server.seen)  # (a run's request count varies a little with timing)
            assert together < 2 * alone, (together, alone)  # three probes cost about one


def test_a_probe_answers_within_its_scrape_timeout(tmp_path: Path) -> None:
    def hang(sock: object) -> None:
        time.sleep(10)

    with RawServer(hang) as hung:  # accepts, never answers
        path = write_config(tmp_path / "config.json", {"hung": f"{hung.url}/v1"})
        with exporter(path) as running:
            started = time.monotonic()
            status, _, body = running.get(
                "/probe?target=hung", Accept=OM, **{"X-Prometheus-Scrape-Timeout-Seconds": "2"}
            )
            took = time.monotonic() - started
    assert status == 200 and took < 2.0, took  # the phases were cut to fit 1.5 s
    found = families_of(body)
    assert value(found["lmdoctor_probe_success"], target="hung") == 0
    assert value(found["lmdoctor_finding_info"], code="net.no_response") == 1


def test_the_deadline_ends_a_probe_whose_checks_overrun() -> None:
    async def stuck(ctx: object) -> list:
        await asyncio.sleep(5)
        return [ok("stuck.ok", "done")]

    never = Check(id="stuck", title="Never finishes in time", run=stuck, budget_s=30)
    prober = Prober([never], timeout=None)
    try:
        started = time.monotonic()
        report, in_time = prober.probe(
            "t", [Target(name="t", api_base="http://127.0.0.1:1/v1")], bench=False, deadline=0.5
        )
        took = time.monotonic() - started
    finally:
        prober.close()
    assert not in_time and 0.5 <= took < 1.5
    assert [f.code for f in report.findings] == ["internal.timeout"]
    from lmdoctor.render import RenderOptions
    from lmdoctor.render.openmetrics import render

    text = render(report, RenderOptions())
    promtool_check(text)
    assert value(openmetrics(text)["lmdoctor_probe_success"], target="t") == 0


# ------------------------------------------------------------------------------------ reloads


def test_a_changed_config_is_reloaded_and_a_bad_one_keeps_the_last_good(
    config: Path, llama: Server
) -> None:
    def gauge(running: Running) -> float | None:
        found = openmetrics(running.get("/metrics", Accept=OM)[2])
        return value(found["lmdoctor_config_last_reload_successful"])

    def until(condition: object, seconds: float = 10) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if condition():  # type: ignore[operator]
                return
            time.sleep(0.05)
        raise AssertionError("the exporter did not reload in time")

    with exporter(config, watch_interval=0.1) as running:
        write_config(config, {"smol": f"{llama.url}/v1", "added": f"{llama.url}/v1"})
        until(lambda: "added" in running.exporter.targets.names())
        assert running.get("/probe?target=added")[0] == 200

        config.write_text('{"version": 3, "model_list": [', encoding="utf-8")  # broken JSON
        until(lambda: gauge(running) == 0)
        assert running.get("/probe?target=added")[0] == 200  # the last good config serves
        assert "FAILED" in running.get("/")[2]

        write_config(config, {"smol": f"{llama.url}/v1"})
        until(lambda: gauge(running) == 1)
        assert running.get("/probe?target=added")[0] == 404
        found = openmetrics(running.get("/metrics", Accept=OM)[2])
        reloads = found["lmdoctor_config_reloads"]
        assert value(reloads, name="lmdoctor_config_reloads_total", result="failure") == 1
        assert value(reloads, name="lmdoctor_config_reloads_total", result="success") == 2


def _serve(config: Path, *args: str) -> tuple[subprocess.Popen[str], str]:
    """`python -m lmdoctor serve` on a free port; (process, base URL) once it listens."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "lmdoctor", "serve", "--config", str(config),
         "--listen", "127.0.0.1:0", *args],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=env,
    )  # fmt: skip
    assert proc.stderr is not None
    line = proc.stderr.readline()
    found = re.search(r"listening on (http://127\.0\.0\.1:\d+)/", line)
    if not found:
        proc.kill()
        raise AssertionError(f"lmdoctor serve did not start: {line}{proc.stderr.read()}")
    return proc, found.group(1)


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="SIGHUP is POSIX (Windows has none)")
def test_sighup_reloads_and_sigterm_stops(config: Path, llama: Server) -> None:
    stat = config.stat()
    proc, url = _serve(config, "--watch-interval", "0")  # no polling: only SIGHUP reloads
    try:
        page = urllib.request.urlopen(url + "/", timeout=10).read().decode()
        assert ">smol<" in page and ">dead<" in page
        text = config.read_text(encoding="utf-8").replace(
            '"dead"', '"gone"'
        )  # same size, same mtime below
        config.write_text(text, encoding="utf-8")
        os.utime(config, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        time.sleep(0.3)
        assert ">dead<" in urllib.request.urlopen(url + "/", timeout=10).read().decode()
        proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while ">gone<" not in urllib.request.urlopen(url + "/", timeout=10).read().decode():
            assert time.monotonic() < deadline, "SIGHUP did not reload the config"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "config reloaded" in err and "stopped" in err and "Traceback" not in err


# ---------------------------------------------------------------------------- command line


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--listen", "nonsense"], "--listen"),
        (["--listen", "127.0.0.1:99999"], "--listen"),
        (["--listen", "::1:9877"], "--listen"),
    ],
)
def test_usage_errors_are_one_line(config: Path, args: list[str], message: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "lmdoctor", "serve", "--config", str(config), *args],
        capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr


def test_a_bad_config_at_start_or_a_busy_port_is_a_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "config.json"
    bad.write_text("{ not json at all", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "lmdoctor", "serve", "--config", str(bad)],
        capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert (
        done.returncode == 2 and "config.json:1:" in done.stderr and "Traceback" not in done.stderr
    )
    with Server() as busy:
        good = write_config(tmp_path / "good.json", {"x": "http://127.0.0.1:1/v1"})
        done = subprocess.run(
            [sys.executable, "-m", "lmdoctor", "serve", "--config", str(good),
             "--listen", f"127.0.0.1:{busy.port}"],
            capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    assert done.returncode == 2 and "cannot listen" in done.stderr, done.stderr


def test_help_does_not_import_the_prometheus_client() -> None:
    code = (
        "import sys\n"
        "from lmdoctor.cli import main\n"
        "for args in (['--help'], ['serve', '--help'], ['check', '--help']):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "assert 'prometheus_client' not in sys.modules, 'imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert "--allow-url" in done.stdout and "openmetrics" in done.stdout


def test_module_bench_runs_the_bench_check_only_when_allowed(config: Path) -> None:
    with exporter(config, allow_bench=True) as running:
        status, _, body = running.get("/probe?target=smol&module=bench", Accept=OM)
        assert status == 200
        found = families_of(body)
        checks = {s.labels["check"] for s in found["lmdoctor_finding_info"]}
        assert "bench" in checks  # the fake refuses to generate: a bench finding all the same
        _, _, plain = running.get("/probe?target=smol", Accept=OM)
        assert 'check="bench"' not in plain
