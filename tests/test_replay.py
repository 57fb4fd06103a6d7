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


# ------------------------------------------------------------------------------------- voice


@pytest.mark.parametrize(
    ("base", "url"),
    [
        # pkg/audio/tts/openai_tts.go:63-104 NewOpenAITTSProviderWithOptions
        ("", "https://api.openai.com/v1/audio/speech"),
        ("https://api.openai.com", "https://api.openai.com/v1/audio/speech"),
        ("https://api.openai.com/v1", "https://api.openai.com/v1/audio/speech"),
        ("https://api.openai.com/openai/", "https://api.openai.com/v1/openai/audio/speech"),
        ("http://127.0.0.1:8880/v1", "http://127.0.0.1:8880/v1/audio/speech"),
        ("http://127.0.0.1:8880/v1/audio/speech", "http://127.0.0.1:8880/v1/audio/speech"),
        ("localhost:8880/v1", "localhost:8880/v1/audio/speech"),  # no host: string fallback
    ],
)
def test_openai_tts_url(base: str, url: str) -> None:
    default = "https://api.openai.com/v1/audio/speech"
    assert replay.tts_url(base, "api.openai.com", "/audio/speech", default) == url


def test_mimo_tts_url() -> None:
    """mimo_tts.go:28-61: the same rules with /chat/completions."""
    default = "https://api.xiaomimimo.com/v1/chat/completions"
    for base in ("https://api.xiaomimimo.com", "https://api.xiaomimimo.com/v1/"):
        assert replay.tts_url(base, "api.xiaomimimo.com", "/chat/completions", default) == default


def _entry(
    name: str, model: str, key: str = "", base: str = "", provider: str = ""
) -> replay.Entry:
    keys = ((Secret(key), "api_keys[0]"),) if key else ()
    return replay.Entry(f"model_list.{name}", name, model, provider, base, keys)


def test_voice_needs_keys_and_the_right_model() -> None:
    """asr.go:65-121 and tts.go:26-86: whisper, ElevenLabs and TTS need a key; only ids with
    "whisper" / models with "tts" are auto-detected; named whisper without a key but on an
    audio protocol is asked through its chat client."""
    entries = [
        _entry("w", "groq/whisper-large-v3"),  # no key: not auto-detected
        _entry("t", "openai/tts-1"),  # no key: no TTS
        _entry("chat", "ollama/llama3"),  # not whisper: never auto-detected
    ]
    assert replay.voice_plans(entries, replay.Voice()) == []
    (plan,) = replay.voice_plans(entries, replay.Voice(model_name="chat"))
    assert plan.request is not None
    assert (plan.request.url, plan.request.wire) == (
        "http://localhost:11434/v1/chat/completions",
        "openai-compat",
    )
    keyed = [_entry("w", "groq/whisper-large-v3", "k1"), _entry("t", "openai/tts-1", "k2")]
    asr, tts = replay.voice_plans(keyed, replay.Voice())
    assert asr.request is not None and tts.request is not None
    assert (asr.role, asr.where, asr.request.model) == (
        "voice: transcription",
        "auto-detected",
        "whisper-large-v3",
    )
    assert (tts.request.url, tts.request.model, tts.request.auth_header) == (
        "https://api.openai.com/v1/audio/speech",
        "tts-1",
        "Authorization",
    )


def test_voice_model_that_cannot_be_built_stops_the_fallback() -> None:
    """asr.go:102-103: NewAudioModelTranscriber's nil pointer is a non-nil Transcriber, so the
    scan for a whisper entry never runs; the gateway says transcription is enabled."""
    entries = [_entry("gpt-audio", "openai/gpt-4o-audio-preview"), _entry("w", "whisper-1", "k")]
    (plan,) = replay.voice_plans(entries, replay.Voice(model_name="gpt-audio"))
    assert plan.request is None
    assert "api_key or api_base is required" in plan.problem
    assert "nil transcriber" in plan.problem
    missing = replay.voice_plans(entries, replay.Voice(model_name="nope"))
    assert [p.request is None for p in missing] == [True, False]  # skipped, then the scan


def test_voice_env_overrides_the_voice_block(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    shutil.copytree(CORPUS / "63-voice-tts-named", folder)
    env = {"PATH": str(tmp_path), "PICOCLAW_VOICE_TTS_MODEL_NAME": "lmstudio-local"}
    targets = picoclaw.load(folder / "config.json", env, version=replay.NEWEST).select()
    disabled = [f for t in targets for f in t.issues if f.code == "config.model_disabled"]
    assert disabled and "voice.tts_model_name" in disabled[0].summary  # no key: skipped


@pytest.mark.parametrize("case", ["59-voice-whisper-named", "64-voice-tts-auto-detected-mimo"])
def test_voice_models_are_described_never_probed(case: str, tmp_path: Path) -> None:
    """Transcription and TTS would upload audio or make speech: config.not_probed, no traffic."""
    with Server() as server:
        folder = tmp_path / case
        shutil.copytree(CORPUS / case, folder)
        config_file = folder / "config.json"
        text = config_file.read_text(encoding="utf-8")
        if "8178" in text:
            text = text.replace("127.0.0.1:8178", f"127.0.0.1:{server.port}")
        else:  # send mimo to loopback too, in case it were probed
            text = text.replace(
                '"mimo/mimo-v2-tts"',
                f'"mimo/mimo-v2-tts", "api_base": "http://127.0.0.1:{server.port}/v1"',
            )
        config_file.write_text(text, encoding="utf-8")
        targets = picoclaw.load(config_file, {"PATH": str(tmp_path)}, version=replay.NEWEST)
        (voice,) = [
            t for t in targets.select() if t.request and t.request.roles[0].startswith("voice")
        ]
        assert voice.is_endpoint and not voice.probeable
        findings = diagnose(voice)
    assert [f.code for f in findings] == ["config.not_probed"]
    assert "uploads audio or synthesizes speech" in findings[0].detail
    assert voice.request is not None and voice.request.url in findings[0].detail
    assert f"127.0.0.1:{server.port}" in voice.request.url
    assert server.seen == []
