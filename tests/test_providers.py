"""The provider table and PicoClaw's model-string resolution (reference §2.4–2.5)."""

from __future__ import annotations

import pytest

from lmdoctor.config import providers
from lmdoctor.config.providers import resolve

# model, explicit provider, api_base  →  provider, id sent, api_base ("-" = empty; bases
# abbreviated: LMS, OLLAMA, OPENAI, ROUTER, NVIDIA, GEMINI are the providers' defaults).
RESOLUTION = """
lmstudio/openai/gpt-oss-20b       -         -                            lmstudio    openai/gpt-oss-20b     LMS
lmstudio/google/gemma-3-12b       -         -                            lmstudio    gemma-3-12b            LMS
google/gemma-3-12b                lmstudio  -                            lmstudio    gemma-3-12b            LMS
lmstudio/deepseek/deepseek-r1-8b  -         -                            lmstudio    deepseek-r1-8b         LMS
ollama/ollama/x                   -         -                            ollama      x                      OLLAMA
nvidia/z-ai/glm-5.1               -         -                            nvidia      z-ai/glm-5.1           NVIDIA
openai/gpt-4o                     -         -                            openai      gpt-4o                 OPENAI
gpt-4o                            -         -                            openai      gpt-4o                 OPENAI
byteplus/seed-1.6                 -         -                            openai      byteplus/seed-1.6      OPENAI
openrouter/google/gemini-2.5-pro  -         -                            openrouter  google/gemini-2.5-pro  ROUTER
ollama/qwen3                      openai    https://OpenRouter.ai/v1     openai      ollama/qwen3           https://OpenRouter.ai/v1
ollama/qwen3                      openai    http://127.0.0.1:4000/v1     openai      qwen3                  http://127.0.0.1:4000/v1
vllm/qwen3-8b                     -         http://127.0.0.1:8000/v1///  vllm        qwen3-8b               http://127.0.0.1:8000/v1
LMStudio/Google/gemma-3-12b       -         -                            lmstudio    gemma-3-12b            LMS
glm/glm-4.7                       -         -                            zhipu       glm-4.7                https://open.bigmodel.cn/api/paas/v4
x                                 Claude    -                            anthropic   x                      https://api.anthropic.com/v1
google/gemini/x                   -         -                            gemini      gemini/x               GEMINI
"""  # noqa: E501 - a table reads better than wrapped tuples
BASES = {
    "LMS": "http://localhost:1234/v1",
    "OLLAMA": "http://localhost:11434/v1",
    "OPENAI": "https://api.openai.com/v1",
    "ROUTER": "https://openrouter.ai/api/v1",
    "NVIDIA": "https://integrate.api.nvidia.com/v1",
    "GEMINI": "https://generativelanguage.googleapis.com/v1beta",
}


def _rows() -> list[tuple[str, ...]]:
    rows = []
    for line in RESOLUTION.strip().splitlines():
        cells = ["" if c == "-" else BASES.get(c, c) for c in line.split()]
        rows.append(tuple(cells))
    return rows


@pytest.mark.parametrize(("model", "explicit", "base", "provider", "model_id", "api_base"), _rows())
def test_resolution_matches_the_client(model, explicit, base, provider, model_id, api_base):
    res = resolve(model, explicit, base)
    assert (res.provider, res.model_id, res.api_base) == (provider, model_id, api_base)


def test_an_explicit_provider_does_not_split_the_model():
    res = resolve("openai/gpt-oss-20b", "lmstudio")
    assert res.split_id == "openai/gpt-oss-20b"
    assert res.model_id == "openai/gpt-oss-20b"
    assert res.stripped == ()


def test_strips_are_recorded_in_order():
    assert resolve("lmstudio/google/gemma-3-12b").stripped == ("lmstudio", "google")
    assert resolve("google/gemma-3-12b", "lmstudio").stripped == ("google",)


def test_unknown_prefix_is_reported():
    res = resolve("byteplus/seed-1.6")
    assert res.unknown_prefix == "byteplus" and res.known and res.provider == "openai"
    assert resolve("lmstudio/x").unknown_prefix is None


def test_unknown_explicit_provider_has_no_protocol():
    res = resolve("qwen3", "llamacpp", "http://127.0.0.1:8080/v1")
    assert not res.known and res.protocol == providers.UNKNOWN and res.provider == "llamacpp"
    assert res.model_id == "qwen3"


def test_default_api_base_is_marked():
    assert resolve("ollama/x").api_base_is_default
    assert not resolve("ollama/x", api_base="http://h:1/v1").api_base_is_default
    assert not resolve("x", "azure").api_base_is_default and resolve("x", "azure").api_base == ""


def test_protocols():
    assert resolve("openai/gpt-4o").protocol == providers.OPENAI_COMPAT
    assert resolve("anthropic/claude").protocol == providers.OPENAI_COMPAT  # the compat client
    assert resolve("x", "anthropic-messages").protocol == providers.ANTHROPIC_MESSAGES
    assert resolve("openai/gpt-5", auth_method="oauth").protocol == providers.OAUTH
    assert resolve("claude-cli/sonnet").protocol == providers.CLI
    assert resolve("ollama/x").probeable and not resolve("claude-cli/x").probeable


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("gpt", "openai"),
        ("GOOGLE", "gemini"),
        ("z.ai", "zai"),
        ("z-ai", "zai"),
        ("g4f", "gpt4free"),
        ("copilot", "github-copilot"),
        ("dashscope-intl", "qwen-intl"),
        ("coding-plan", "alibaba-coding"),
        ("nonsense", "nonsense"),
    ],
)
def test_normalize(name, canonical):
    assert providers.normalize(name) == canonical


def test_the_table_is_consistent():
    ids = [p.id for p in providers.PROVIDERS]
    assert len(ids) == len(set(ids))
    names = providers.names()
    assert len(names) == len(set(names)), "an alias is listed twice"
    for p in providers.PROVIDERS:
        if p.protocol == providers.OPENAI_COMPAT:
            assert p.api_base.startswith(("http://", "https://")), p.id
            assert not p.api_base.endswith("/"), p.id
    local = {p.id for p in providers.PROVIDERS if p.local and p.key_optional}
    assert {"ollama", "vllm", "lmstudio", "gpt4free"} <= local


def test_second_strip_list_is_the_clients():
    assert "lmstudio" in providers.STRIP_PREFIXES
    assert "openai" not in providers.STRIP_PREFIXES  # so openai/gpt-oss-20b reaches LM Studio
    assert providers.second_strip("lmstudio/x", "https://openrouter.ai/api/v1") == (
        "lmstudio/x",
        None,
    )


def test_legacy_keys_do_not_include_lmstudio():
    assert "lmstudio" not in providers.LEGACY_KEYS
    assert {"openai", "gpt", "zhipu", "glm", "copilot", "tongyi"} <= providers.LEGACY_KEYS


def test_model_key_is_case_insensitive_and_normalised():
    assert providers.model_key("GLM", " GLM-4.7 ") == "zhipu/glm-4.7"
