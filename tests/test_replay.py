"""The pieces of lmdoctor/config/replay.py and strict.py, each against the PicoClaw function it
reproduces (sipeed/picoclaw@cf67dd3; the end-to-end cases are tests/conformance/picoclaw/)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import diagnose
from lmdoctor.config import picoclaw, replay, strict
from lmdoctor.secret import Secret
from loopback import Server

CORPUS = Path(__file__).parent / "conformance" / "picoclaw" / "cases"


@pytest.mark.parametrize(
    ("model", "base", "sent"),
    [
        # pkg/providers/openai_compat/provider.go:798-814 normalizeModel
        ("openai/gpt-oss-20b", "http://localhost:1234/v1", "openai/gpt-oss-20b"),
        ("google/gemma-3-12b", "http://localhost:1234/v1", "gemma-3-12b"),
        ("LMStudio/qwen3-8b", "http://localhost:1234/v1", "qwen3-8b"),
        ("ollama/x", "https://openrouter.ai/api/v1", "ollama/x"),
        ("gpt-4o", "https://api.openai.com/v1", "gpt-4o"),
    ],
)
def test_normalize_model(model: str, base: str, sent: str) -> None:
    assert replay.normalize_model(model, base) == sent


@pytest.mark.parametrize(
    ("base", "normalized"),
    [
        # pkg/providers/common/anthropic_common.go:9-27 NormalizeBaseURL(..., true)
        ("", "https://api.anthropic.com/v1"),
        ("http://127.0.0.1:4000", "http://127.0.0.1:4000/v1"),
        ("http://127.0.0.1:4000/v1/", "http://127.0.0.1:4000/v1"),
        ("/v1", "https://api.anthropic.com/v1"),
    ],
)
def test_normalize_base(base: str, normalized: str) -> None:
    assert replay.normalize_base(base, "https://api.anthropic.com/v1") == normalized


@pytest.mark.parametrize(
    ("model", "split"),
    [
        # pkg/providers/provider_catalog.go:52-80 SplitModelProviderAndID(model, "openai")
        ("lmstudio/openai/gpt-oss-20b", ("lmstudio", "openai/gpt-oss-20b")),
        ("qwen/qwen3-8b", ("qwen-portal", "qwen3-8b")),
        ("byteplus/x", ("openai", "byteplus/x")),
        ("gpt-4o", ("openai", "gpt-4o")),
        ("", ("", "")),
    ],
)
def test_split_model(model: str, split: tuple[str, str]) -> None:
    assert replay.split_model(model, "openai") == split


def test_gemini_model_is_cut_after_its_prefix() -> None:
    # pkg/providers/httpapi/gemini_provider.go:361-374
    assert replay.normalize_gemini_model("models/gemini/gemini-2.5-pro") == "gemini-2.5-pro"
    assert replay.normalize_gemini_model("") == "gemini-2.5-flash"


def test_extra_keys_become_copies_ahead_of_the_entry() -> None:
    # pkg/config/config.go:1753-1833 expandMultiKeyModels
    keys = tuple((Secret(f"sk-replay-test-{i}"), "config.json") for i in range(3))
    entry = replay.Entry("model_list[0]", "m", "openai/gpt-4o", keys=keys)
    expanded = replay.expand_keys([entry])
    assert [e.model_name for e in expanded] == ["m__key_1", "m__key_2", "m"]
    assert [e.keys[0][0].reveal() for e in expanded] == [
        "sk-replay-test-1",
        "sk-replay-test-2",
        "sk-replay-test-0",
    ]


def test_version_rules() -> None:
    assert replay.version_rules("picoclaw 0.2.7", "t").strict is False
    assert replay.version_rules("picoclaw v0.2.8 (git: abc)", "t").relookup is False
    assert replay.version_rules("picoclaw 0.2.9", "t").table == "v0.2.9"
    newer = replay.version_rules("picoclaw 0.3.0", "t")
    assert (newer.strict, newer.relookup, newer.table) == (True, True, "cf67dd3")
    assert "assumed newest" in replay.version_rules("picoclaw dev", "t").source


def test_strict_walk_is_exact_case_and_nested() -> None:
    # pkg/config/diagnostics.go:338-421: maps and slices are walked, case matters
    data = {
        "Version": 3,
        "agents": {"list": [{"id": "a", "model": {"primary": "x", "fallback": []}}]},
        "channel_list": {"tg": {"type": "telegram", "settings": {"anything": 1}}},
    }
    assert strict.unknown_fields(data) == ["Version", "agents.list[0].model.fallback"]
    assert "api_base" in strict.known_fields(("model_list", 0))
    assert "model" in strict.known_fields(("agents", "defaults"), strict.LEGACY)


@pytest.mark.parametrize("case", ["24-anthropic-messages-local", "28-gemini-base-without-key"])
def test_other_protocols_are_described_never_probed(case: str, tmp_path: Path) -> None:
    """A Gemini / Anthropic Messages endpoint gets config.not_probed, and no request at all
    (a wrong 404 or "key rejected" is worse than none)."""
    with Server() as server:
        folder = tmp_path / case
        shutil.copytree(CORPUS / case, folder)
        config_file = folder / "config.json"
        host = "127.0.0.1:8082" if "anthropic" in case else "127.0.0.1:9000"
        text = config_file.read_text(encoding="utf-8")
        config_file.write_text(text.replace(host, f"127.0.0.1:{server.port}"), encoding="utf-8")
        (target,) = picoclaw.load(
            config_file, {"PATH": str(tmp_path)}, version=replay.NEWEST
        ).select()
        assert target.is_endpoint and not target.probeable
        findings = diagnose(target)
    assert [f.code for f in findings] == ["config.not_probed"]
    assert target.request is not None and target.request.url in findings[0].detail
    assert server.seen == []
