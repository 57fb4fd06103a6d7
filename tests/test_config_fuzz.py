"""Property: whatever bytes or JSON a config holds, load() gives a Config or a ConfigError."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lmdoctor.config import Config, ConfigError, load
from lmdoctor.config.picoclaw import parse
from lmdoctor.findings import Finding
from lmdoctor.target import Target

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=25,
)

# Values that look like what configs hold, and some that do not.
model_strings = st.sampled_from(
    [
        "lmstudio/openai/gpt-oss-20b",
        "ollama/ollama/x",
        "google/gemma-3-12b",
        "byteplus/x",
        "/lead",
        "a//b",
        "with space",
        "",
        "nvidia/z-ai/glm-5.1",
    ]
) | st.text(max_size=15)
keys = st.sampled_from(
    ["sk-plain-key-123", "file://k.key", "file://../x.key", "file://", "enc://abc", ""]
)
field_values = {
    "model_name": st.sampled_from(["a", "b", ""]) | json_values,
    "model": model_strings | json_values,
    "provider": st.sampled_from(["", "lmstudio", "LLAMACPP", "gpt", "azure"]) | json_values,
    "api_base": st.sampled_from(
        ["http://127.0.0.1:9/v1/", "localhost:1", "https://openrouter.ai/api/v1", "", "http://"]
    )
    | json_values,
    "api_keys": st.lists(keys | json_values, max_size=3) | json_values,
    "api_key": keys | json_values,
    "request_timeout": st.integers(-5, 500) | json_values,
    "auth_method": st.sampled_from(["oauth", "token", ""]) | json_values,
    "unknown": json_values,
}
entries = st.fixed_dictionaries({}, optional=field_values) | json_values
agent_model = st.sampled_from(["a", "b", "missing", "ollama/x"]) | json_values
configs = st.fixed_dictionaries(
    {},
    optional={
        "version": st.sampled_from([0, 1, 2, 3, 4, -1, "3", None]) | json_values,
        "model_list": st.lists(entries, max_size=5) | json_values,
        "agents": st.fixed_dictionaries(
            {},
            optional={
                "defaults": st.fixed_dictionaries(
                    {},
                    optional={
                        "model_name": agent_model,
                        "model": agent_model,
                        "model_fallbacks": st.lists(agent_model, max_size=3) | json_values,
                        "max_tokens": st.integers(-1, 10**6) | json_values,
                        "provider": st.sampled_from(["zhipu", "lmstudio"]) | json_values,
                    },
                )
                | json_values,
                "list": st.lists(
                    st.fixed_dictionaries({}, optional={"model": agent_model | json_values}),
                    max_size=3,
                )
                | json_values,
            },
        )
        | json_values,
        "providers": st.dictionaries(
            st.sampled_from(["zhipu", "lmstudio", "openai", "gpt", "ollama"]),
            st.fixed_dictionaries(
                {}, optional={"api_key": keys | json_values, "api_base": json_values}
            )
            | json_values,
            max_size=3,
        )
        | json_values,
        "channels": json_values,
    },
)


@pytest.fixture(scope="module")
def folder():
    path = Path(tempfile.mkdtemp(prefix="lmdoctor-fuzz-"))
    (path / "k.key").write_text("sk-fuzz-file-key\n")
    yield path
    shutil.rmtree(path)


def _check(config: Config) -> None:
    """What every caller relies on: targets to run, findings with texts, plain evidence."""
    for chosen in (config.select(), config.select(every=True), config.select(["a", "zz"])):
        assert all(isinstance(t, Target) for t in chosen)
        for target in chosen:
            assert isinstance(target.name, str) and isinstance(target.api_base, str)
            for finding in target.issues:
                assert isinstance(finding, Finding) and finding.summary and finding.fix
                assert finding.code.startswith("config.") and finding.check == "config"
                json.dumps(finding.evidence)


def _load_text(folder: Path, text: str | bytes) -> None:
    path = folder / "config.json"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    try:
        config = load(path, env={})
    except ConfigError as exc:
        assert "\n" not in str(exc) and str(exc).startswith(str(path))
        return
    _check(config)


@FAST
@given(document=json_values)
def test_any_json_document(folder, document):
    _load_text(folder, json.dumps(document))


@FAST
@given(document=configs)
def test_config_shaped_documents(folder, document):
    _load_text(folder, json.dumps(document, indent=1))


@FAST
@given(data=st.binary(max_size=200))
def test_any_bytes(folder, data):
    try:
        config = parse(data, folder / "config.json", env={})
    except ConfigError as exc:
        assert "\n" not in str(exc)
        return
    _check(config)


@FAST
@given(document=configs, cut=st.integers(min_value=1, max_value=400))
def test_truncated_documents(folder, document, cut):
    _load_text(folder, json.dumps(document)[:cut])
