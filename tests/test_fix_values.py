"""Issue 13, items 3 (property), 4 and 6: a fix that names a config value passes lmdoctor's own
config validation; a served id that is a path gets no invalid `model` suggestion; `check URL`
without --model never prints empty ids."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import fakes
from lmdoctor.cli import main
from lmdoctor.config import providers
from lmdoctor.modelids import set_model
from lmdoctor.target import Target

SET_MODEL = re.compile(r'Set (.+?)\.model to "([^"]*)"')

# served ids as servers list them: plain, org/name, quantized, file paths (llama_cpp.server
# without --model_alias lists the path it was given), odd characters
_segment = st.text("abcXYZ019._-:@", min_size=1, max_size=12)
SERVED = st.one_of(
    st.lists(_segment, min_size=1, max_size=4).map("/".join),
    st.lists(_segment, min_size=1, max_size=4).map(lambda parts: "/" + "/".join(parts)),
    st.lists(_segment, min_size=1, max_size=3).map(lambda parts: "./" + "/".join(parts)),
    st.text("ab/ .-", min_size=1, max_size=16),
)
ENTRIES = [
    ("openai/smollm2", "", "http://127.0.0.1:8080/v1"),
    ("lmstudio/openai/gpt-oss-20b", "", "http://localhost:1234/v1"),
    ("ollama/llama3.2", "", "http://localhost:11434/v1"),
    ("gpt-oss-20b", "", "http://localhost:8000/v1"),
    ("my-org/model", "", "http://localhost:8000/v1"),
    ("qwen3", "vllm", "http://localhost:8000/v1"),
]


def _target(model: str, provider: str, api_base: str) -> Target:
    res = providers.resolve(model, provider, api_base)
    return Target(
        name="m",
        provider=res.provider,
        api_base=api_base,
        model=model,
        model_id=res.model_id,
        config_path=Path("config.json"),
        entry="model_list[0]",
        line=2,
    )


def _config_check(tmp_path: Path, model: str, api_base: str, provider: str = "") -> list[str]:
    """Codes of lmdoctor's own config check for one entry with this `model`."""
    entry = {"model_name": "m", "model": model, "api_base": api_base}
    if provider:
        entry["provider"] = provider
    doc = {"version": 3, "model_list": [entry], "agents": {"defaults": {"model_name": "m"}}}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    result = CliRunner(env={"NO_COLOR": "1"}).invoke(
        main, ["check", "--config", str(path), "--all", "--only", "config.*", "--format", "json"]
    )
    data = json.loads(result.stdout)
    return [f["code"] for t in data["targets"] for f in t["findings"]]


@settings(max_examples=300, deadline=None)
@given(served=SERVED, entry=st.sampled_from(ENTRIES))
def test_every_suggested_model_value_is_valid_and_sends_the_id(
    served: str, entry: tuple[str, str, str]
) -> None:
    model, provider, api_base = entry
    fix = set_model(_target(model, provider, api_base), served)
    found = SET_MODEL.search(fix)
    if found is None:
        assert "cannot send" in fix
        assert providers.model_string_problem(served) or "/" in served
        return
    value = found.group(2)
    assert providers.model_string_problem(value) is None, fix
    assert providers.resolve(value, provider, api_base).model_id == served, fix


def test_suggested_values_pass_the_config_check(tmp_path: Path) -> None:
    """The same, end to end through lmdoctor's config check (one file per value)."""
    for model, provider, api_base in ENTRIES:
        for served in ("smollm2", "HuggingFaceTB/smollm2-135m", "qwen3:8b@q4_k_m"):
            fix = set_model(_target(model, provider, api_base), served)
            value = SET_MODEL.search(fix)
            assert value is not None, fix
            codes = _config_check(tmp_path, value.group(2), api_base, provider)
            assert "config.invalid" not in codes, (fix, codes)


def test_a_path_id_gets_no_invalid_model_suggestion(tmp_path: Path) -> None:
    """llama_cpp.server started without --model_alias lists the model's file path."""
    path_id = "/models/smollm2.gguf"
    with fakes.llama_cpp_python(alias=path_id) as server:
        doc = {
            "version": 3,
            "model_list": [
                {"model_name": "m", "model": "openai/smollm2", "api_base": f"{server.url}/v1"}
            ],
            "agents": {"defaults": {"model_name": "m"}},
        }
        config = tmp_path / "config.json"
        config.write_text(json.dumps(doc), encoding="utf-8")
        result = CliRunner(env={"NO_COLOR": "1"}).invoke(
            main, ["check", "--config", str(config), "--all", "--format", "json", "--timeout", "2"]
        )
    findings = [f for t in json.loads(result.stdout)["targets"] for f in t["findings"]]
    mismatch = next(f for f in findings if f["code"] == "model.mismatch")
    assert "openai//" not in mismatch["fix"]
    assert SET_MODEL.search(mismatch["fix"]) is None
    assert "cannot send" in mismatch["fix"] and "--model_alias smollm2" in mismatch["fix"]


def test_check_url_without_model_prints_no_empty_ids() -> None:
    with fakes.llama_cpp_python() as server:
        result = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "120"}).invoke(
            main, ["check", f"{server.url}/v1", "-v", "--timeout", "2"]
        )
    assert "``" not in result.output, result.output
    assert "--model_alias `" not in result.output
    assert "`smollm2`" in result.output
    assert result.exit_code == 0, result.output
