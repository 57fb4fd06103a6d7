"""PicoClaw config loading: real example files in tests/fixtures/configs, bad input, the CLI."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from lmdoctor.cli import main
from lmdoctor.config import Config, ConfigError, adhoc_target, load, locate
from lmdoctor.config.reading import Positions
from lmdoctor.findings import Finding, Severity
from lmdoctor.redact import scrub
from lmdoctor.target import Target
from portable import is_root, need, need_posix_permissions, symlink, utf8

FIXTURES = Path(__file__).parent / "fixtures" / "configs"


def fixture(name: str) -> Path:
    return FIXTURES / name / "config.json"


def entry(config: Config, name: str, index: int = 0) -> Target:
    matches = [t for t in config.entries if t.name == name]
    assert matches, f"no entry {name} in {[t.name for t in config.entries]}"
    return matches[index]


def codes(findings: tuple[Finding, ...] | list[Finding]) -> list[str]:
    return [f.code for f in findings]


def one(findings: tuple[Finding, ...] | list[Finding], code: str) -> Finding:
    found = [f for f in findings if f.code == code]
    assert len(found) == 1, f"{code} in {codes(findings)}"
    return found[0]


def copy_fixture(name: str, tmp_path: Path) -> Path:
    folder = tmp_path / name
    shutil.copytree(FIXTURES / name, folder)
    return folder / "config.json"


# ----------------------------------------------------------------- the LM Studio guide (v0)


def test_lmstudio_guide_example_is_version_0_and_targets_the_agent_model():
    config = load(fixture("lmstudio-guide-v0"), env={})
    assert config.version == 0
    assert config.agent_models == ["lmstudio-local"]
    file_target, target = config.select()
    assert file_target.kind == "file" and file_target.name == "config.json"
    legacy = one(file_target.issues, "config.legacy")
    assert legacy.severity is Severity.INFO and legacy.check == "config"
    assert "rewrite" in legacy.summary and legacy.evidence["version"] == 0
    assert "model_name" in legacy.fix and "api_keys" in legacy.fix

    assert target.name == "lmstudio-local" and target.kind == "endpoint"
    assert target.provider == "lmstudio"
    assert target.api_base == "http://localhost:1234/v1"
    assert target.model == "lmstudio/openai/gpt-oss-20b"
    # Replayed: CreateProvider returns openai/gpt-oss-20b, the agent re-resolves it with the
    # default provider openai and sends gpt-oss-20b (tests/conformance/picoclaw case 01).
    assert target.model_id == "gpt-oss-20b"
    assert target.request is not None and target.request.model == "gpt-oss-20b"
    assert target.request.roles == ("agent main: primary (agents.defaults.model_name)",)
    assert target.chat_url == "http://localhost:1234/v1/chat/completions"
    assert target.api_key is None and target.issues == ()
    assert target.entry == "model_list[0]" and target.line == 3
    assert target.request_timeout == 120 and target.max_tokens == 32768
    assert target.context_window == 0 and target.client_context == 131072
    assert target.sources["api_base"] == "default for lmstudio"
    assert target.sources["provider"] == "config.json model_list[0].model prefix"
    assert target.sources["model_id"].startswith("replayed: ")
    assert 'parsed as openai / "gpt-oss-20b"' in target.sources["model_id"]
    assert target.where == "config.json model_list[0]"


def test_lmstudio_guide_all_entries():
    config = load(fixture("lmstudio-guide-v0"), env={})
    names = [t.name for t in config.select(every=True) if t.kind == "endpoint"]
    assert names == ["lmstudio-local", "lmstudio-lan"]
    lan = entry(config, "lmstudio-lan")
    assert lan.api_base == "http://10.20.30.40:1234/v1"
    assert lan.model_id == "deepseek-r1-distill-llama-8b"
    assert lan.sources["api_base"] == "config.json model_list[1].api_base"
    assert lan.line == 7


def test_version_0_is_not_strict():
    config = load(fixture("lmstudio-guide-v0"), env={})
    assert "config.unknown_field" not in codes(config.findings)


# ------------------------------------------------------------------ v3 + .security.yml


def test_security_yml_keys_win_and_say_where_they_came_from():
    config = load(fixture("v3-security"), env={})
    assert config.version == 3 and config.findings == []
    local = entry(config, "lmstudio-local")
    assert local.api_key is not None
    assert local.api_key.reveal() == "sk-lm-from-security-file-1"  # plain `name` spelling
    assert local.sources["api_key"] == ".security.yml model_list.lmstudio-local"
    cloud = entry(config, "cloud")
    assert cloud.api_key.reveal() == "sk-security-cloud-key-42"  # `name:index` spelling
    assert cloud.sources["api_key"] == ".security.yml model_list.cloud:0"
    direct = entry(config, "direct")
    assert direct.api_key.reveal() == "sk-config-only-deepseek-key"
    assert direct.sources["api_key"].startswith("config.json model_list[4].api_keys (first of 2")


def test_duplicate_model_names_round_robin_with_indexed_keys():
    config = load(fixture("v3-security"), env={})
    first, second = entry(config, "balanced", 0), entry(config, "balanced", 1)
    assert first.api_key is None and first.api_base == "http://127.0.0.1:11434/v1"
    assert second.api_key.reveal() == "sk-second-balanced-key"
    assert second.sources["api_key"] == ".security.yml model_list.balanced:1"
    assert second.request_timeout == 300
    assert (first.line, second.line) == (9, 14)


def test_agents_use_defaults_fallbacks_and_agent_list_in_order():
    config = load(fixture("v3-security"), env={})
    assert config.agent_models == [
        "lmstudio-local",
        "balanced",
        "cloud",
        "direct",
        "ollama/llama3.2",  # a raw provider/model reference
    ]
    chosen = config.select()
    # agents.list replaces the implicit main agent; writer and raw-ref inherit the defaults'
    # fallbacks; raw-ref's reference matches balanced's model, deduplicated with it.
    replayed = {t.entry: (t.model_id, t.request.roles) for t in chosen if t.request}
    assert replayed == {
        "model_list[3]": ("gpt-4o", ("agent coder: primary (agents.list[0].model)",)),
        "model_list[0]": (
            "openai/gpt-oss-20b",  # as a fallback the entry's own id goes out unchanged
            ("agent coder: fallback 1 (agents.list[0].model.fallbacks)",),
        ),
        "model_list[4]": ("deepseek-chat", ("agent writer: primary (agents.list[1].model)",)),
        "model_list[1]": (
            "llama3.2",
            (
                "agent writer: fallback 1 (agents.defaults.model_fallbacks)",
                "agent raw-ref: primary (agents.list[2].model)",
            ),
        ),
    }
    assert all(t.max_tokens == 8192 and t.context_window == 16384 for t in chosen)


def test_index_spelling_name_0_in_security_yml(tmp_path):
    path = copy_fixture("v3-security", tmp_path)
    (path.parent / ".security.yml").write_text(
        'model_list:\n  "lmstudio-local:0":\n    api_keys: ["sk-indexed-zero-key"]\n'
    )
    local = entry(load(path, env={}), "lmstudio-local")
    assert local.api_key.reveal() == "sk-indexed-zero-key"
    assert local.sources["api_key"] == ".security.yml model_list.lmstudio-local:0"


def test_keys_never_reach_sources_or_evidence_and_are_scrubbed():
    config = load(fixture("v3-security"), env={})
    for target in config.targets:
        if target.api_key:
            secret = target.api_key.reveal()
            assert secret not in repr(target)
            assert secret not in json.dumps(target.sources)
    # every key seen is registered, used or not (the config.json one was overridden)
    assert scrub("x sk-config-cloud-key-overridden y") == "x *** y"
    assert scrub("k=sk-second-balanced-key") == "k=***"


def test_overridden_and_unused_keys_are_registered_for_scrubbing(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(
        '{"version": 3, "model_list": [{"model_name": "m", "model": "ollama/m", '
        '"api_keys": ["overridden-plain-value-1"]}]}'
    )
    (tmp_path / ".security.yml").write_text(
        "model_list:\n  m:\n    api_keys: [used-plain-value-2]\n"
        "  nobody:\n    api_keys: [unused-plain-value-3]\n"
    )
    assert entry(load(path, env={}), "m").api_key.reveal() == "used-plain-value-2"
    text = "overridden-plain-value-1 used-plain-value-2 unused-plain-value-3"
    assert scrub(text) == "*** *** ***"


# ---------------------------------------------------------------------------- key forms


@pytest.fixture
def file_keys(tmp_path: Path) -> Config:
    path = copy_fixture("file-keys", tmp_path)
    outside = tmp_path / "outside-secret.key"
    outside.write_text("sk-outside-the-folder\n")
    symlink(path.parent / "link.key", outside)
    symlink(path.parent / "inner-link.key", path.parent / "inside.key")
    return load(path, env={})


def test_file_key_inside_the_folder(file_keys):
    inside = entry(file_keys, "inside")
    assert inside.issues == ()
    assert inside.api_key.reveal() == "sk-file-key-inside-123"
    assert inside.sources["api_key"] == "file:// key in config.json model_list[0].api_keys"


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("escape", "outside the config folder"),
        ("symlink", "outside the config folder"),
        ("missing", "does not exist"),
        ("empty", "is empty"),
    ],
)
def test_file_key_problems(file_keys, name, words):
    target = entry(file_keys, name)
    finding = one(target.issues, "config.key_unresolved")
    assert finding.severity is Severity.ERROR and words in finding.summary
    assert finding.evidence["key_form"] == "file://" and finding.evidence["line"] == target.line
    assert target.api_key is None
    assert "sk-outside-the-folder" not in repr(finding)


def test_a_symlink_inside_the_folder_is_fine(tmp_path):
    path = copy_fixture("file-keys", tmp_path)
    symlink(path.parent / "inner-link.key", path.parent / "inside.key")
    raw = json.loads(utf8(path))
    raw["model_list"][0]["api_keys"] = ["file://inner-link.key"]
    path.write_text(json.dumps(raw))
    assert entry(load(path, env={}), "inside").api_key.reveal() == "sk-file-key-inside-123"


def test_enc_key_without_passphrase_is_an_error(file_keys):
    finding = one(entry(file_keys, "encrypted").issues, "config.key_unresolved")
    assert finding.severity is Severity.ERROR
    assert "PICOCLAW_KEY_PASSPHRASE" in finding.summary and "PICOCLAW_KEY_PASSPHRASE" in finding.fix


def test_enc_key_with_passphrase_cannot_be_checked_but_is_not_an_error(tmp_path):
    path = copy_fixture("file-keys", tmp_path)
    config = load(path, env={"PICOCLAW_KEY_PASSPHRASE": "p4ss"})
    target = entry(config, "encrypted")
    finding = one(target.issues, "config.key_unresolved")
    assert finding.severity is Severity.INFO and "cannot be checked" in finding.summary
    assert target.api_key is None and target.sources["api_key"].startswith("enc://")


def test_problems_of_unchosen_entries_show_on_the_file_target(file_keys):
    chosen = file_keys.select()  # the agents use "inside" only
    assert [t.kind for t in chosen] == ["file", "endpoint"]
    fields = {f.evidence["field"] for f in chosen[0].issues}
    assert fields == {f"model_list[{i}]" for i in (1, 2, 3, 4, 5)}


# ------------------------------------------------------------------- legacy providers


def test_legacy_providers_are_migrated_as_picoclaw_does():
    config = load(fixture("legacy-providers"), env={})
    assert [t.entry for t in config.entries] == ["providers.zhipu", "providers.ollama"]
    zhipu = entry(config, "zhipu")
    assert zhipu.provider == "zhipu" and zhipu.model == "zhipu/glm-4.7"
    assert zhipu.model_id == "glm-4.7"
    assert zhipu.api_base == "https://open.bigmodel.cn/api/paas/v4"
    assert zhipu.api_key.reveal() == "sk-zhipu-legacy-key-123"
    assert "migrated" in zhipu.sources["model"]
    ollama = entry(config, "ollama")
    assert ollama.model == "ollama/llama3"  # PicoClaw's default for a provider not chosen
    # agents.defaults.model "glm-4.7" is a bare id: resolved through the migrated entry
    assert config.agent_models == ["glm-4.7"]
    # PicoClaw never deletes providers (strict decoding stops), and even without that the
    # migrated entry is named zhipu, not glm-4.7: CreateProvider fails.
    unknown = [f for f in config.findings if f.code == "config.unknown_field"]
    assert [f.evidence["field"] for f in unknown] == ["providers"]
    (missing,) = [t for t in config.select() if t.kind == "endpoint"]
    finding = one(missing.issues, "config.unknown_model_name")
    assert 'model "glm-4.7" not found in model_list' in finding.evidence["picoclaw_error"]


def test_legacy_lmstudio_provider_is_silently_dropped():
    config = load(fixture("legacy-providers"), env={})
    dropped = one(config.findings, "config.unknown_provider")
    assert dropped.severity is Severity.WARN
    assert "providers.lmstudio" in dropped.summary and "silently dropped" in dropped.summary
    assert '"model": "lmstudio/' in dropped.fix and dropped.evidence["line"] == 16
    assert "config.legacy" in codes(config.findings)


def test_providers_are_ignored_when_model_list_exists(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(
        json.dumps(
            {
                "providers": {"zhipu": {"api_key": "sk-ignored-zhipu-key"}},
                "model_list": [{"model_name": "a", "model": "ollama/a"}],
            }
        )
    )
    config = load(path, env={})
    assert [t.name for t in config.entries] == ["a"]
    assert any("ignored" in f.summary for f in config.findings if f.code == "config.legacy")


def test_version_2_merges_api_key_into_api_keys(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(
        json.dumps(
            {
                "version": 2,
                "model_list": [
                    {
                        "model_name": "m",
                        "model": "openai/gpt-4o",
                        "api_key": "sk-v2-singular-key",
                        "api_keys": ["sk-v2-list-key"],
                    }
                ],
                "agents": {"defaults": {"model": "m"}},
            }
        )
    )
    config = load(path, env={})
    # v2→v3 migration does not convert api_key (pkg/config/migration.go:347-401), so the
    # strict decode after it rejects the singular key; the key is still read for the probes.
    assert codes(config.findings) == ["config.legacy", "config.unknown_field"]
    assert config.findings[1].evidence["field"] == "model_list[0].api_key"
    target = entry(config, "m")
    assert target.api_key.reveal() == "sk-v2-singular-key"
    assert target.sources["api_key"] == (
        "config.json model_list[0].api_key (first of 2; the others are failover keys)"
    )
    assert config.targets == config.entries
    assert [t.entry for t in config.select() if t.kind != "file"] == ["model_list[0]"]


# ---------------------------------------------------------------------- prefix strips


STRIPS = [
    ("gpt-oss", "lmstudio", "openai/gpt-oss-20b", "http://localhost:1234/v1"),
    ("gemma", "lmstudio", "gemma-3-12b", "http://localhost:1234/v1"),
    ("gemma-explicit", "lmstudio", "gemma-3-12b", "http://localhost:1234/v1"),
    ("ollama-double", "ollama", "x", "http://localhost:11434/v1"),
    ("glm", "nvidia", "z-ai/glm-5.1", "https://integrate.api.nvidia.com/v1"),
    ("router", "openrouter", "google/gemini-2.5-pro", "https://openrouter.ai/api/v1"),
    ("router-explicit", "openai", "ollama/qwen3", "https://openrouter.ai/api/v1"),
    ("byteplus", "openai", "byteplus/seed-1.6", "http://127.0.0.1:9/v1"),
    ("slash", "vllm", "qwen3-8b", "http://127.0.0.1:8000/v1"),
    ("deepseek-local", "lmstudio", "deepseek-r1-0528-qwen3-8b", "http://localhost:1234/v1"),
    ("gemini", "gemini", "gemini-2.5-flash", "https://generativelanguage.googleapis.com/v1beta"),
    ("upper", "lmstudio", "gemma-3-12b", "http://localhost:1234/v1"),
]


@pytest.mark.parametrize(("name", "provider", "model_id", "api_base"), STRIPS)
def test_prefix_strips(name, provider, model_id, api_base):
    target = entry(load(fixture("prefix-strips"), env={}), name)
    assert (target.provider, target.model_id, target.api_base) == (provider, model_id, api_base)


def test_unknown_prefix_warns_and_names_the_url_it_will_hit():
    target = entry(load(fixture("prefix-strips"), env={}), "byteplus")
    finding = one(target.issues, "config.unknown_provider")
    assert finding.severity is Severity.WARN
    assert finding.evidence["request_url"] == "http://127.0.0.1:9/v1/chat/completions"
    assert finding.evidence["field"] == "model_list[7].model"
    assert "byteplus/seed-1.6" in finding.detail


def test_unknown_explicit_provider_is_an_error():
    target = entry(load(fixture("prefix-strips"), env={}), "llamacpp")
    finding = one(target.issues, "config.unknown_provider")
    assert finding.severity is Severity.ERROR and 'unknown protocol "llamacpp"' in finding.summary
    assert target.api_base == ""


def test_trailing_slash_is_trimmed_and_explicit_provider_is_recorded():
    config = load(fixture("prefix-strips"), env={})
    assert entry(config, "slash").issues == ()
    explicit = entry(config, "gemma-explicit")
    assert explicit.sources["provider"] == "config.json model_list[2].provider"
    assert '"google/" stripped' in explicit.sources["model_id"]


def test_no_key_and_no_api_base_for_a_cloud_provider():
    target = entry(load(fixture("prefix-strips"), env={}), "bare-openai")
    finding = one(target.issues, "config.invalid")
    assert "no API key and no api_base" in finding.summary and "api_base" in finding.fix


# ------------------------------------------------------------------------ v3 strictness


def test_v3_unknown_fields_name_exact_paths():
    config = load(fixture("v3-strict"), env={})
    unknown = {f.evidence["field"]: f for f in config.findings if f.code == "config.unknown_field"}
    assert set(unknown) == {
        "channels",
        "model_list[0].api_key",
        "model_list[1].api_bsae",
        "agents.defaults.model",
        "agents.defaults.max_tokns",
        "agents.defaults.some_future_field",  # PicoClaw rejects every unknown key
    }
    assert all(f.severity is Severity.ERROR for f in unknown.values())
    assert '"api_keys": ["..."]' in unknown["model_list[0].api_key"].fix
    assert '"model_name"' in unknown["agents.defaults.model"].fix
    assert "channel_list" in unknown["channels"].fix
    assert 'did you mean "api_base"' in unknown["model_list[1].api_bsae"].fix
    assert 'did you mean "max_tokens"' in unknown["agents.defaults.max_tokns"].fix
    assert unknown["model_list[0].api_key"].evidence["line"] == 8


def test_v3_unknown_fields_go_on_the_file_target_and_the_entry_is_still_checked():
    config = load(fixture("v3-strict"), env={})
    file_target, local = config.select()
    assert file_target.kind == "file" and "config.unknown_field" in codes(file_target.issues)
    assert local.name == "local" and local.issues == ()  # best effort: the intended key
    assert local.api_key.reveal() == "sk-singular-key-in-v3"


# ----------------------------------------------------------------------- invalid entries


def test_each_invalid_entry_is_reported_and_the_others_still_checked():
    config = load(fixture("invalid-entries"), env={})
    by_entry = {t.entry: t for t in config.entries}
    summaries = {
        e: [f.summary for f in t.issues if f.code == "config.invalid"] for e, t in by_entry.items()
    }
    assert summaries["model_list[0]"] == ["model_list[0] is a string, not an entry object"]
    assert summaries["model_list[1]"] == ["model_list[1]: model is required"]
    assert summaries["model_list[2]"] == ["model_list[2]: model_name is required"]
    assert summaries["model_list[3]"] == [
        "model_list[3].request_timeout must be a whole number, not a string",
        "model_list[3].api_keys must be a list of strings, not a string",
    ]
    assert "is not an http:// or https:// URL" in summaries["model_list[4]"][0]
    assert "already ends in /chat/completions" in summaries["model_list[5]"][0]
    assert "no API key and no api_base" in summaries["model_list[6]"][0]
    assert summaries["model_list[7]"] == []
    for unusable in ("model_list[0]", "model_list[1]", "model_list[4]"):
        assert by_entry[unusable].api_base == "" and not by_entry[unusable].is_endpoint
    assert by_entry["model_list[7]"].is_endpoint


def test_unknown_fallback_goes_to_the_primary_endpoint_with_close_names():
    config = load(fixture("invalid-entries"), env={})
    chosen = config.select()
    assert [t.name for t in chosen] == ["config.json", "good", "goood-typo"]
    primary, fallback = chosen[1], chosen[2]
    # PicoClaw sends an unknown fallback name as a model id to the primary's endpoint
    # (pkg/agent/pipeline_llm.go:693-709; corpus case 37).
    assert fallback.api_base == primary.api_base and fallback.model_id == "goood-typo"
    finding = one(fallback.issues, "config.model_not_an_entry")
    assert finding.severity is Severity.WARN
    assert finding.evidence["close"][0] == "good"
    assert 'add an entry named "goood-typo"' in finding.fix
    assert "agents.defaults.model_fallbacks (line 16)" in finding.fix
    assert "good" in finding.fix
    # entries the agents do not use can still stop PicoClaw loading: shown on the file target
    blocking = {f.evidence["field"] for f in chosen[0].issues}
    assert blocking == {
        "model_list[0]",
        "model_list[1]",
        "model_list[2]",
        "model_list[3].request_timeout",
        "model_list[3].api_keys",
    }


def test_unknown_primary_model_name(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(
        '{\n  "version": 3,\n  "model_list": [{"model_name": "llama3.2:latest", '
        '"model": "ollama/llama3.2:latest"}],\n'
        '  "agents": {"defaults": {"model_name": "llama3.2"}}\n}\n'
    )
    (missing,) = [t for t in load(path, env={}).select() if t.name == "llama3.2"]
    finding = one(missing.issues, "config.unknown_model_name")
    assert "agents.defaults.model_name" in finding.summary
    assert "llama3.2:latest" in finding.fix and missing.line == 4


# ------------------------------------------------------------------------------- select


def test_select_by_model_name_duplicates_and_unknown():
    config = load(fixture("v3-security"), env={})
    assert [t.entry for t in config.select(["balanced", "balanced"])] == [
        "model_list[1]",
        "model_list[2]",
    ]
    (unknown,) = config.select(["clod"])
    finding = one(unknown.issues, "config.unknown_model_name")
    assert finding.summary == "--model clod: no model_list entry has this model_name"
    assert finding.evidence["close"] == ["cloud"] and finding.fix.startswith("Use one of: cloud")


def test_select_every_entry():
    config = load(fixture("prefix-strips"), env={})
    chosen = config.select(every=True)
    assert [t.entry for t in chosen] == [f"model_list[{i}]" for i in range(14)]


def test_a_valid_tiny_file_is_picoclaws_default_config():
    # <= 10 bytes of valid JSON: DefaultConfig(), whose model_name is unset (config.go:1290-1293)
    file_target, missing = load(FIXTURES / "bad" / "tiny.json", env={}).select()
    assert one(file_target.issues, "config.builtin_models").severity is Severity.INFO
    finding = one(missing.issues, "config.unknown_model_name")
    assert 'model "" not found in model_list' in finding.evidence["picoclaw_error"]


def test_without_agent_models_every_entry_is_a_target(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(
        json.dumps(
            {
                "version": 3,
                "model_list": [
                    {"model_name": "a", "model": "ollama/a"},
                    {"model_name": "b", "model": "vllm/b"},
                ],
            }
        )
    )
    config = load(path, env={})
    # PicoClaw needs agents.defaults.model_name: `model "" not found in model_list`.
    assert config.agent_models == []
    (missing,) = config.select()
    finding = one(missing.issues, "config.unknown_model_name")
    assert finding.severity is Severity.ERROR and "(unset)" in finding.summary
    assert [t.name for t in config.select(every=True)][:2] == ["a", "b"]


def test_empty_model_list_means_the_builtin_entries(tmp_path):
    path = tmp_path / "config.json"
    path.write_text('{"version": 3, "model_list": []}')
    file_target, missing = load(path, env={}).select()
    assert one(file_target.issues, "config.builtin_models").severity is Severity.INFO
    assert one(missing.issues, "config.unknown_model_name").severity is Severity.ERROR


def test_bad_agents_types_are_file_findings(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(
        json.dumps(
            {
                "version": 3,
                "model_list": [{"model_name": "a", "model": "ollama/a"}],
                "agents": {
                    "defaults": {"model_name": 7, "max_tokens": "big"},
                    "list": [{"model": ["a"]}],
                },
            }
        )
    )
    config = load(path, env={})
    fields = [f.evidence["field"] for f in config.findings if f.code == "config.invalid"]
    assert fields == [
        "agents.defaults.model_name",
        "agents.defaults.max_tokens",
        "agents.list[0].model",
    ]


def test_unsupported_version(tmp_path):
    path = tmp_path / "config.json"
    path.write_text('{"version": 9, "model_list": [{"model_name": "a", "model": "ollama/a"}]}')
    finding = one(load(path, env={}).findings, "config.invalid")
    assert "version 9" in finding.summary and finding.fix.startswith('Set "version": 3')


# ------------------------------------------------------------------------------- lookup


def test_locate_order(tmp_path):
    home = tmp_path / "home"
    (home / ".picoclaw").mkdir(parents=True)
    default = home / ".picoclaw" / "config.json"
    default.write_text("{}")
    assert locate("/x/explicit.json", {"HOME": str(home)}) == (
        Path("/x/explicit.json"),
        [Path("/x/explicit.json")],
    )
    assert locate(None, {"HOME": str(home)}) == (default, [default])
    env = {"HOME": str(home), "PICOCLAW_HOME": str(tmp_path / "ph")}
    assert locate(None, env) == (None, [tmp_path / "ph" / "config.json"])
    env["PICOCLAW_CONFIG"] = str(default)
    assert locate(None, env) == (default, [default])
    env["PICOCLAW_CONFIG"] = ""  # empty means unset, as in Go
    assert locate(None, env)[1] == [tmp_path / "ph" / "config.json"]


# ---------------------------------------------------------------------------- bad input


WHERE = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<column>\d+): (?P<message>.+)$")


def assert_one_line(error: ConfigError, path: Path, line: int, column: int, words: str) -> None:
    text = str(error)
    assert "\n" not in text
    match = WHERE.match(text)
    assert match, text
    assert match["path"] == str(path)
    assert (int(match["line"]), int(match["column"])) == (line, column), text
    assert words in match["message"], text


BAD_FILES = [
    ("trailing-comma.json", 4, 3, "trailing comma before ']'"),
    ("top-level-list.json", 1, 1, "top level must be a JSON object"),
    ("model-list-object.json", 3, 3, "model_list must be a list"),
    ("latin1.json", 3, 24, "byte 0xe9 is not UTF-8"),
    ("empty.json", 1, 1, "the file is empty"),
    ("bom.json", 1, 1, "byte-order mark"),
    ("nan.json", 2, 42, "NaN is not a JSON value"),
]


@pytest.mark.parametrize(("name", "line", "column", "words"), BAD_FILES)
def test_bad_files(name, line, column, words):
    path = FIXTURES / "bad" / name
    with pytest.raises(ConfigError) as caught:
        load(path, env={})
    assert_one_line(caught.value, path, line, column, words)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load(tmp_path / "nope.json")
    assert_one_line(caught.value, tmp_path / "nope.json", 1, 1, "no such file")


def test_a_directory(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load(tmp_path)
    assert_one_line(caught.value, tmp_path, 1, 1, "is a directory")


def test_a_fifo_is_refused_without_blocking(tmp_path):
    need("mkfifo")
    fifo = tmp_path / "config.json"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError) as caught:
        load(fifo)
    assert_one_line(caught.value, fifo, 1, 1, "not a regular file")


def test_a_100_mb_file_is_refused_before_reading(tmp_path):
    big = tmp_path / "config.json"
    with open(big, "wb") as handle:
        handle.truncate(100 * 1024 * 1024)  # sparse: costs no disk
    with pytest.raises(ConfigError) as caught:
        load(big)
    assert_one_line(caught.value, big, 1, 1, "is 100.0 MB")


def _load_as_nobody(path: Path) -> str:
    """load() in a forked child that dropped root, so file permissions apply."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        message = "loaded"
        try:
            os.setgid(65534)
            os.setuid(65534)
        except OSError as exc:
            os.write(write_end, f"SKIP cannot drop root here: {exc}".encode())
            os._exit(0)
        try:
            load(path, env={})
        except ConfigError as exc:
            message = str(exc)
        except BaseException as exc:  # pragma: no cover - reported to the parent
            message = f"unexpected {type(exc).__name__}: {exc}"
        os.write(write_end, message.encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as reader:
        message = reader.read()
    os.waitpid(pid, 0)
    if message.startswith("SKIP"):
        pytest.skip(message)
    return message


def test_an_unreadable_file():
    need_posix_permissions()
    folder = Path(tempfile.mkdtemp(prefix="lmdoctor-unreadable-"))  # traversable by others
    try:
        folder.chmod(0o755)
        path = folder / "config.json"
        shutil.copy(fixture("lmstudio-guide-v0"), path)
        path.chmod(0)
        if is_root():
            need("fork", "setuid")
            message = _load_as_nobody(path)
        else:
            with pytest.raises(ConfigError) as caught:
                load(path)
            message = str(caught.value)
    finally:
        shutil.rmtree(folder)
    assert message.startswith(f"{path}:1:1: cannot read the config: permission denied"), message
    assert "\n" not in message


def test_bad_security_yml_names_its_line(tmp_path):
    path = FIXTURES / "bad-security" / "config.json"
    with pytest.raises(ConfigError) as caught:
        load(path, env={})
    assert_one_line(caught.value, path.parent / ".security.yml", 5, 1, "invalid YAML")


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("- just\n- a list\n", 1, "must be a mapping"),
        ("model_list:\n  - a\n", 1, "model_list must map model names"),
        ("model_list:\n  a:\n    api_keys: sk-not-a-list\n", 3, "api_keys must be a list"),
        ("model_list:\n  a: [1]\n", 2, "must be a mapping with api_keys"),
    ],
)
def test_security_yml_shapes(tmp_path, text, line, words):
    path = copy_fixture("lmstudio-guide-v0", tmp_path)
    security = path.parent / ".security.yml"
    security.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load(path, env={})
    assert_one_line(caught.value, security, line, 1, words)


def test_positions_of_nested_paths():
    text = '{\n "a": [\n  {"b": 1},\n  "s",\n  [2]\n ],\n "c": {"d": {"e": 1}}\n}'
    positions = Positions(text)
    assert positions.find(("a",)) == (2, 2)
    assert positions.find(("a", 0)) == (3, 3)
    assert positions.find(("a", 0, "b")) == (3, 4)
    assert positions.find(("a", 1)) == (4, 3)
    assert positions.find(("a", 2)) == (5, 3)
    assert positions.find(("c", "d", "e")) == (7, 14)
    assert positions.find(("c", "zz")) == (7, 2)  # the nearest recorded parent
    assert positions.find(("nope",)) is None


# ------------------------------------------------------------------------------ ad hoc


def test_adhoc_target():
    target = adhoc_target("http://127.0.0.1:1234/v1/", "openai/gpt-oss-20b", "sk-adhoc-key-1")
    assert target.api_base == "http://127.0.0.1:1234/v1" and target.provider == "openai"
    assert target.model_id == "openai/gpt-oss-20b" and target.api_key.reveal() == "sk-adhoc-key-1"
    assert target.sources["api_base"] == "command line" and target.sources["api_key"] == "--api-key"
    assert target.name == "http://127.0.0.1:1234/v1" and target.is_endpoint
    bare = adhoc_target("https://[::1]:8443", None, None)
    assert bare.model_id == "" and bare.api_key is None and "api_key" not in bare.sources


@pytest.mark.parametrize(
    "url",
    ["localhost:1234/v1", "ftp://h/", "http://", "http://h:0/", "http://h:99999/", "http://h:x/",
     "http://user:pw@h/v1", "http://h/v1?key=1", "http://h/v 1"],
)  # fmt: skip
def test_adhoc_target_refuses_bad_urls(url):
    with pytest.raises(ValueError):
        adhoc_target(url, "m", None)


# --------------------------------------------------------------------------------- CLI


def run_cli(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, list(args), env=env or {}, catch_exceptions=False)


@pytest.mark.parametrize(("name", "line", "column", "words"), BAD_FILES)
def test_cli_bad_config_is_one_line_and_exit_2(name, line, column, words):
    path = FIXTURES / "bad" / name
    result = run_cli("check", "--config", str(path), "--only", "config")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"lmdoctor: error: {path}:{line}:{column}: ")
    assert words in lines[0] and "Traceback" not in result.output


def test_cli_unreadable_and_missing_config(tmp_path):
    for path in (tmp_path, tmp_path / "missing.json"):
        result = run_cli("--config", str(path), "--only", "config")
        assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1


def test_cli_prints_the_table_for_a_good_config():
    result = run_cli("check", "--config", str(fixture("lmstudio-guide-v0")), "--only", "config")
    assert result.exit_code == 0, result.output
    assert "lmstudio-local" in result.stdout and "config.json" in result.stdout
    # 200 columns: the legacy note quotes the fixture's folder, and a long checkout path (the
    # mutation runner's scratch copy) would otherwise wrap the code cell to "config." "legacy"
    verbose = run_cli(
        "--config", str(fixture("lmstudio-guide-v0")), "--only", "config", "-v",
        env={"COLUMNS": "200"},
    )
    assert "config.legacy" in verbose.stdout and "config.ok" in verbose.stdout


def test_cli_finds_the_config_through_the_environment():
    env = {"PICOCLAW_CONFIG": str(fixture("v3-strict"))}
    result = run_cli("--only", "config", env=env)
    assert result.exit_code == 1  # config.unknown_field is an error
    assert "config.unknown_field" in result.stdout
    assert "sk-singular-key-in-v3" not in result.output


def test_cli_model_flag_and_json():
    result = run_cli(
        "--config", str(fixture("v3-security")), "--only", "config", "--model", "clod",
        "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    (target,) = report["targets"]
    assert target["name"] == "clod"
    assert target["findings"][0]["code"] == "config.unknown_model_name"
    assert "sk-" not in result.stdout
