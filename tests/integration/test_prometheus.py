"""A real Prometheus scrapes `lmdoctor serve`, which probes a real llama.cpp server
(llama-cpp-python + SmolLM2-135M) and a dead loopback endpoint.

Everything listens on 127.0.0.1; Prometheus keeps its data in a temporary folder. The test waits
for two scrapes of each target, then asks Prometheus' HTTP API for lmdoctor_probe_success: 1 for
the live server, 0 for the dead one. Time-bounded (DEADLINE_S).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from integration.realserver import ALIAS, Servers
from loopback import free_port
from prom import promtool_check, tool

pytestmark = pytest.mark.integration

DEADLINE_S = 120.0
SCRAPE_INTERVAL = "2s"  # scrape_timeout = interval: the probe deadline is 1.5 s


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def _get(url: str, timeout: float = 5) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as answer:
        return answer.read().decode()


def _until(what: str, deadline: float, probe: Any) -> Any:
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = probe()
        except (OSError, ValueError) as exc:
            last = exc
        if last and not isinstance(last, Exception):
            return last
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


@pytest.fixture
def exporter(servers: Servers, tmp_path: Path) -> Iterator[str]:
    dead = free_port()
    doc = {
        "version": 3,
        "agents": {"defaults": {"model_name": "smol"}},
        "model_list": [
            {"model_name": "smol", "model": f"openai/{ALIAS}", "api_base": servers.open.base},
            {"model_name": "dead", "model": "openai/x", "api_base": f"http://127.0.0.1:{dead}/v1"},
        ],
    }
    config = tmp_path / "config.json"
    config.write_text(json.dumps(doc), encoding="utf-8")
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "lmdoctor", "serve", "--config", str(config),
         "--listen", f"127.0.0.1:{port}"],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    log.close()
    url = f"http://127.0.0.1:{port}"
    try:
        _until("lmdoctor serve", time.monotonic() + 30, lambda: _get(url + "/"))
        yield url
    finally:
        _stop(proc)


@pytest.fixture
def prometheus(exporter: str, tmp_path: Path) -> Iterator[str]:
    binary = tool("prometheus")
    target = exporter.split("://", 1)[1]
    config = tmp_path / "prometheus.yml"
    # The README's scrape config, with a short interval: relabelling as blackbox_exporter's.
    config.write_text(
        f"""global:
  scrape_interval: {SCRAPE_INTERVAL}
  scrape_timeout: {SCRAPE_INTERVAL}
scrape_configs:
  - job_name: lmdoctor
    metrics_path: /probe
    static_configs:
      - targets: [smol, dead]
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: {target}
  - job_name: lmdoctor_exporter
    static_configs:
      - targets: ['{target}']
"""
    )
    port = free_port()
    log = (tmp_path / "prometheus.log").open("wb")
    proc = subprocess.Popen(
        [binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path,
    )  # fmt: skip
    log.close()
    url = f"http://127.0.0.1:{port}"
    try:
        _until("Prometheus to be ready", time.monotonic() + 30, lambda: _get(url + "/-/ready"))
        yield url
    except AssertionError:
        raise AssertionError(
            (tmp_path / "prometheus.log").read_text(encoding="utf-8")[-3000:]
        ) from None
    finally:
        _stop(proc)


def _query(prometheus: str, expr: str) -> dict[str, float]:
    """instance -> value of an instant query (the `target` label where there is no instance)."""
    url = f"{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    data = json.loads(_get(url))
    assert data["status"] == "success", data
    return {
        r["metric"].get("target") or r["metric"].get("instance", ""): float(r["value"][1])
        for r in data["data"]["result"]
    }


def test_prometheus_scrapes_probe_success(exporter: str, prometheus: str) -> None:
    deadline = time.monotonic() + DEADLINE_S

    def two_scrapes() -> dict[str, float] | None:
        counts = _query(prometheus, 'count_over_time(lmdoctor_probe_success{job="lmdoctor"}[5m])')
        return counts if counts.get("smol", 0) >= 2 and counts.get("dead", 0) >= 2 else None

    _until("two scrapes of each target", deadline, two_scrapes)
    success = _query(prometheus, 'lmdoctor_probe_success{job="lmdoctor"}')
    assert success == {"smol": 1.0, "dead": 0.0}, success
    assert _query(prometheus, 'lmdoctor_model_loaded{job="lmdoctor"}') == {"smol": 1.0}
    up = _query(prometheus, "up")
    assert set(up.values()) == {1.0}, up  # every scrape answered in time, the exporter's too
    served = _query(prometheus, "sum(lmdoctor_exporter_probes_total)")
    assert sum(served.values()) >= 1, served  # (its own scrape may precede some probes)

    # What Prometheus scraped also passes promtool, in both formats it can ask for.
    for accept in ("application/openmetrics-text; version=1.0.0", "text/plain"):
        request = urllib.request.Request(
            f"{exporter}/probe?target=smol", headers={"Accept": accept}
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            promtool_check(answer.read().decode())
    assert re.search(r"lmdoctor_config_last_reload_successful 1", _get(f"{exporter}/metrics"))
