"""`lmdoctor` end to end against real llama.cpp servers (llama-cpp-python + SmolLM2-135M).

Each case writes a PicoClaw config.json, runs `python -m lmdoctor --config ... --format json` in
a subprocess exactly as a user would, and asserts the root-cause finding and the exit code.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from integration.drive import Run, config, lmdoctor
from integration.realserver import ALIAS, KEY, SERVER_ADDR, SLASH_ALIAS, Lab, Servers
from loopback import free_port

pytestmark = pytest.mark.integration


def check(tmp_path: Path, entry: dict[str, object], *extra: str, **kw: object) -> Run:
    keys = kw.pop("keys", None)
    path = config(tmp_path, entry, keys)  # type: ignore[arg-type]
    return lmdoctor("--config", str(path), *extra, home=tmp_path, **kw)  # type: ignore[arg-type]


def errors(run: Run) -> list[str]:
    return [f["code"] for f in run.findings if f["severity"] == "error"]


def mentions(finding: dict[str, object], text: str) -> bool:
    return text in json.dumps(finding)


def test_healthy_server_passes(servers: Servers, tmp_path: Path) -> None:
    run = check(tmp_path, {"model": f"openai/{ALIAS}", "api_base": servers.open.base})
    assert run.rc == 0, run.explain()
    assert "model.ok" in run.codes, run.explain()
    assert not errors(run), run.explain()


def test_adhoc_url_without_config(servers: Servers, tmp_path: Path) -> None:
    run = lmdoctor("check", servers.open.base, "--model", ALIAS, home=tmp_path)
    assert run.rc == 0, run.explain()
    assert "model.ok" in run.codes, run.explain()


def test_model_alias_with_a_slash_after_the_provider_prefix(
    servers: Servers, tmp_path: Path
) -> None:
    # openai/HuggingFaceTB/smollm2-135m: PicoClaw strips "openai/" only and sends the rest.
    run = check(tmp_path, {"model": f"openai/{SLASH_ALIAS}", "api_base": servers.slash.base})
    assert run.rc == 0, run.explain()
    assert "model.ok" in run.codes, run.explain()


def test_key_required_but_none_configured(servers: Servers, tmp_path: Path) -> None:
    run = check(tmp_path, {"model": f"openai/{ALIAS}", "api_base": servers.keyed.base})
    assert run.rc == 1, run.explain()
    assert "auth.missing_key" in run.codes, run.explain()
    assert "model.not_found" not in run.codes, "root cause first: models must be skipped"


def test_wrong_key_is_rejected_and_never_printed(servers: Servers, tmp_path: Path) -> None:
    wrong = "sk-wrong-key-abcdef0123456789"
    run = check(
        tmp_path, {"model": f"openai/{ALIAS}", "api_base": servers.keyed.base}, keys=[wrong]
    )
    assert run.rc == 1, run.explain()
    assert "auth.invalid_key" in run.codes, run.explain()
    assert wrong not in run.stdout + run.stderr


def test_right_key_passes_and_is_never_printed(servers: Servers, tmp_path: Path) -> None:
    run = check(tmp_path, {"model": f"openai/{ALIAS}", "api_base": servers.keyed.base}, keys=[KEY])
    assert run.rc == 0, run.explain()
    assert "model.ok" in run.codes, run.explain()
    assert KEY not in run.stdout + run.stderr


def test_model_typo_names_the_served_id(servers: Servers, tmp_path: Path) -> None:
    # llama-cpp-python answers completions for any id: the typo "works" but a different model
    # answers than the one named, so it is a warning that names the served id (the listing).
    run = check(tmp_path, {"model": "openai/smollm2-135n", "api_base": servers.open.base})
    assert run.rc == 0, run.explain()
    assert mentions(run.finding("model.mismatch"), ALIAS), run.explain()


def test_missing_v1_names_the_working_base(servers: Servers, tmp_path: Path) -> None:
    base = servers.open.base.removesuffix("/v1")
    run = check(tmp_path, {"model": f"openai/{ALIAS}", "api_base": base})
    assert run.rc == 1, run.explain()
    assert mentions(run.finding("http.missing_v1"), servers.open.base), run.explain()


def test_wrong_port_names_the_real_port(servers: Servers, tmp_path: Path) -> None:
    base = f"http://127.0.0.1:{free_port()}/v1"
    run = check(tmp_path, {"model": f"openai/{ALIAS}", "api_base": base})
    assert run.rc == 1, run.explain()
    finding = run.finding("net.wrong_port")
    assert any(mentions(finding, str(port)) for port in servers.ports), run.explain()


def test_bench_measures_a_real_completion(servers: Servers, tmp_path: Path) -> None:
    run = check(tmp_path, {"model": f"openai/{ALIAS}", "api_base": servers.open.base}, "--bench")
    assert run.rc == 0, run.explain()
    evidence = run.finding("bench.result")["evidence"]
    assert evidence, run.explain()
    # a healthy local server is not "far below the estimate" (issue 12): the estimate it is
    # compared with is in the evidence, and no warning fires
    assert evidence["expected_decode_tps"], run.explain()
    assert "bench.below_estimate" not in run.codes, run.explain()


# -- network namespaces (root): addresses exist only inside namespaces made by the fixture ----


@pytest.mark.netns
def test_server_bound_to_loopback_only(lab: Lab, tmp_path: Path) -> None:
    # The server listens on 127.0.0.1:P inside `srv`; the config names srv's veth address.
    base = f"http://{SERVER_ADDR}:{lab.loopback.port}/v1"
    path = config(tmp_path, {"model": f"openai/{ALIAS}", "api_base": base})
    run = lmdoctor("--config", str(path), netns=lab.srv, home=tmp_path)
    assert run.rc == 1, run.explain()
    finding = run.finding("net.loopback_only")
    assert mentions(finding, str(lab.loopback.port)), run.explain()


@pytest.mark.netns
def test_firewall_drop_is_a_timeout(lab: Lab, tmp_path: Path) -> None:
    # From `cli`, the server's port is behind an iptables DROP in `srv`.
    base = f"http://{SERVER_ADDR}:{lab.walled.port}/v1"
    path = config(tmp_path, {"model": f"openai/{ALIAS}", "api_base": base})
    started = time.monotonic()
    run = lmdoctor("--config", str(path), "--timeout", "1", netns=lab.cli, home=tmp_path)
    elapsed = time.monotonic() - started
    assert run.rc == 1, run.explain()
    assert "net.timeout" in run.codes, run.explain()
    assert elapsed < 15, f"a dropped port must cost about one timeout, took {elapsed:.1f} s"
