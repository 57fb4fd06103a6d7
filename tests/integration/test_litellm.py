"""`lmdoctor` against a real LiteLLM proxy (`litellm[proxy]` from PyPI) started the way most
people start it: a config with `general_settings.master_key` and no database, routing the model
`smollm2` to llama.cpp's llama-server with SmolLM2-135M.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from integration.drive import Run, config, lmdoctor
from integration.llamaserver import MASTER_KEY, LiteLLMProxy, get

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]
MODEL = "smollm2"
WRONG = "sk-not-the-master-key-0123456789"


def check(tmp_path: Path, proxy: LiteLLMProxy, model: str, keys: list[str] | None) -> Run:
    path = config(tmp_path, {"model": f"openai/{model}", "api_base": proxy.base}, keys)
    # A generous per-phase timeout: the proxy's keyless 500 goes through a failing error
    # handler (tracebacks, an import attempt) and is slow on a busy machine.
    return lmdoctor("--config", str(path), "--timeout", "20", home=tmp_path, timeout=300)


def errors(run: Run) -> list[str]:
    return [f["code"] for f in run.findings if f["severity"] == "error"]


def test_real_proxy_shapes(litellm_proxy: LiteLLMProxy) -> None:
    """What this LiteLLM version answers (the fakes mirror it)."""
    status, body = get(litellm_proxy.base + "/models", MASTER_KEY)
    assert status == 200, body
    assert [m["id"] for m in json.loads(body)["data"]] == [MODEL]
    status, body = get(litellm_proxy.base + "/models", WRONG)
    assert status in (400, 401), body
    status, body = get(litellm_proxy.base + "/models")
    assert status >= 400, body


def test_master_key_is_healthy(litellm_proxy: LiteLLMProxy, tmp_path: Path) -> None:
    run = check(tmp_path, litellm_proxy, MODEL, [MASTER_KEY])
    assert run.rc == 0, run.explain()
    assert run.finding("server.identified")["evidence"]["kind"] == "litellm", run.explain()
    assert "auth.ok" in run.codes and "model.ok" in run.codes, run.explain()
    assert not errors(run), run.explain()
    assert MASTER_KEY not in run.stdout + run.stderr


def test_no_key(litellm_proxy: LiteLLMProxy, tmp_path: Path) -> None:
    run = check(tmp_path, litellm_proxy, MODEL, None)
    assert run.rc == 1, run.explain()
    assert "auth.missing_key" in run.codes, run.explain()
    assert "http.server_error" not in run.codes, run.explain()


def test_wrong_key_is_not_the_master_key(litellm_proxy: LiteLLMProxy, tmp_path: Path) -> None:
    run = check(tmp_path, litellm_proxy, MODEL, [WRONG])
    assert run.rc == 1, run.explain()
    finding = run.finding("auth.invalid_key")
    said = json.dumps(finding).lower()
    assert "master key" in said and "database" in said, run.explain()
    assert "http.bad_response" not in run.codes, run.explain()
    assert WRONG not in run.stdout + run.stderr


def test_unknown_model(litellm_proxy: LiteLLMProxy, tmp_path: Path) -> None:
    run = check(tmp_path, litellm_proxy, MODEL + "-typo", [MASTER_KEY])
    assert run.rc == 1, run.explain()
    assert MODEL in json.dumps(run.finding("model.not_found")), run.explain()
