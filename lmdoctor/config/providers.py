"""PicoClaw's provider table and its model-string resolution, as data plus one function.

Facts: ../shared/reference/picoclaw-config.md §2.3–2.5 (PicoClaw `pkg/providers`:
`provider_metadata.go`, `model_ref.go` NormalizeProvider, `provider_catalog.go`
SplitModelProviderAndID, `openai_compat/provider.go` normalizeModel, `config_old.go`).

Resolution, exactly as the client does it:
1. an explicit `provider` wins and `model` is not split;
2. else the first path segment, when it is a known provider id or alias, is cut off;
3. else the whole string goes to `openai`;
4. then the OpenAI-compatible client strips one more segment when it is in STRIP_PREFIXES
   (unless api_base contains openrouter.ai);
5. api_base: the configured one minus trailing "/", else the provider's default.
"""

from __future__ import annotations

from dataclasses import dataclass

# Protocols: how PicoClaw talks to a provider (factory_provider.go `switch protocol`).
OPENAI_COMPAT = "openai-compat"  # POST {api_base}/chat/completions, Bearer key
ANTHROPIC_MESSAGES = "anthropic-messages"  # POST {api_base}/messages, X-API-Key
GEMINI = "gemini"  # POST {api_base}/models/{model}:generateContent
AZURE = "azure"  # Responses API {api_base}/openai/v1/responses
AWS = "aws-sdk"  # Bedrock through the AWS SDK
COPILOT = "copilot-bridge"  # gRPC/stdio bridge to GitHub Copilot
OAUTH = "oauth"  # Codex / Claude / Google Code Assist OAuth, not a plain endpoint
CLI = "cli-subprocess"  # a local CLI (claude, codex) run as a subprocess
ASR = "asr"  # speech recognition only, not a chat model
UNKNOWN = "unknown"

# Protocols that POST to an HTTP(S) api_base we can probe.
HTTP_PROTOCOLS = frozenset({OPENAI_COMPAT, ANTHROPIC_MESSAGES, GEMINI, AZURE, ASR})


@dataclass(frozen=True)
class Provider:
    id: str
    api_base: str = ""  # default api_base; "" = none (must be configured, or not HTTP)
    protocol: str = OPENAI_COMPAT
    aliases: tuple[str, ...] = ()
    key_optional: bool = False  # EmptyAPIKeyAllowed: works without api_key and api_base
    local: bool = False  # runs on this machine by default


PROVIDERS: tuple[Provider, ...] = (
    Provider("openai", "https://api.openai.com/v1", aliases=("gpt",)),
    # `anthropic` uses the OpenAI-compatible client, not the Messages API.
    Provider("anthropic", "https://api.anthropic.com/v1", aliases=("claude",)),
    Provider("anthropic-messages", "https://api.anthropic.com/v1", ANTHROPIC_MESSAGES),
    Provider(
        "gemini",
        "https://generativelanguage.googleapis.com/v1beta",
        GEMINI,
        aliases=("google",),
    ),
    Provider("azure", "", AZURE, aliases=("azure-openai",)),
    Provider("bedrock", "", AWS, key_optional=True),
    Provider(
        "github-copilot",
        "localhost:4321",
        COPILOT,
        aliases=("copilot",),
        key_optional=True,
        local=True,
    ),
    Provider("antigravity", "", OAUTH, aliases=("google-antigravity",), key_optional=True),
    Provider("claude-cli", "", CLI, aliases=("claudecli",), key_optional=True, local=True),
    Provider("codex-cli", "", CLI, aliases=("codexcli",), key_optional=True, local=True),
    Provider("ollama", "http://localhost:11434/v1", key_optional=True, local=True),
    Provider("vllm", "http://localhost:8000/v1", key_optional=True, local=True),
    Provider("lmstudio", "http://localhost:1234/v1", key_optional=True, local=True),
    Provider(
        "gpt4free", "http://localhost:1337/v1", aliases=("g4f",), key_optional=True, local=True
    ),
    Provider("litellm", "http://localhost:4000/v1"),
    Provider("minimax", "https://api.minimaxi.com/v1"),
    Provider(
        "alibaba-coding-anthropic",
        "https://coding-intl.dashscope.aliyuncs.com/apps/anthropic",
        ANTHROPIC_MESSAGES,
        aliases=("coding-plan-anthropic",),
    ),
    Provider("elevenlabs", "https://api.elevenlabs.io", ASR),
    Provider("deepseek", "https://api.deepseek.com/v1"),
    Provider("openrouter", "https://openrouter.ai/api/v1"),
    Provider("qwen-portal", "https://dashscope.aliyuncs.com/compatible-mode/v1", aliases=("qwen",)),
    Provider(
        "qwen-intl",
        "https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
        aliases=("qwen-international", "dashscope-intl"),
    ),
    Provider(
        "qwen-us", "https://dashscope-us.aliyuncs.com/compatible-mode/v1", aliases=("dashscope-us",)
    ),
    Provider(
        "alibaba-coding",
        "https://coding-intl.dashscope.aliyuncs.com/v1",
        aliases=("coding-plan", "qwen-coding"),
    ),
    Provider("moonshot", "https://api.moonshot.cn/v1"),
    Provider("volcengine", "https://ark.cn-beijing.volces.com/api/v3"),
    Provider("zhipu", "https://open.bigmodel.cn/api/paas/v4", aliases=("glm",)),
    Provider("zai", "https://api.z.ai/api/coding/paas/v4", aliases=("z.ai", "z-ai")),
    Provider("groq", "https://api.groq.com/openai/v1"),
    Provider("mistral", "https://api.mistral.ai/v1"),
    Provider("nvidia", "https://integrate.api.nvidia.com/v1"),
    Provider("cerebras", "https://api.cerebras.ai/v1"),
    Provider("venice", "https://api.venice.ai/api/v1"),
    Provider("shengsuanyun", "https://router.shengsuanyun.com/api/v1"),
    Provider("siliconflow", "https://api.siliconflow.cn/v1"),
    Provider("vivgrid", "https://api.vivgrid.com/v1"),
    Provider("longcat", "https://api.longcat.chat/openai"),
    Provider("modelscope", "https://api-inference.modelscope.cn/v1"),
    Provider("mimo", "https://api.xiaomimimo.com/v1"),
    Provider("avian", "https://api.avian.io/v1"),
    Provider("novita", "https://api.novita.ai/openai"),
)

# The OpenAI-compatible client's second strip (openai_compat/provider.go normalizeModel).
STRIP_PREFIXES = frozenset(
    {
        "litellm",
        "venice",
        "moonshot",
        "nvidia",
        "groq",
        "ollama",
        "deepseek",
        "google",
        "openrouter",
        "siliconflow",
        "zhipu",
        "mistral",
        "vivgrid",
        "minimax",
        "novita",
        "lmstudio",
    }
)

# auth_method values that turn openai/anthropic into an OAuth client (no plain endpoint).
OAUTH_METHODS = frozenset({"oauth", "token"})

_BY_NAME: dict[str, Provider] = {name: p for p in PROVIDERS for name in (p.id, *p.aliases)}


@dataclass(frozen=True)
class LegacyProvider:
    """One row of the v0 `providers` migration (config_old.go v0ProvidersMapToModelList)."""

    keys: tuple[str, ...]  # JSON keys accepted under "providers"; keys[0] becomes model_name
    protocol: str
    default_model: str  # used when agents.defaults.provider names another provider
    fields: tuple[str, ...] = ("api_key", "api_base", "proxy", "request_timeout")


# Row order matters: migrated entries appear in this order.
LEGACY_PROVIDERS: tuple[LegacyProvider, ...] = (
    LegacyProvider(
        ("openai", "gpt"),
        "openai",
        "openai/gpt-5.4",
        ("api_key", "api_base", "proxy", "request_timeout", "auth_method", "web_search"),
    ),
    LegacyProvider(
        ("anthropic", "claude"),
        "anthropic",
        "anthropic/claude-sonnet-4.6",
        ("api_key", "api_base", "proxy", "request_timeout", "auth_method"),
    ),
    LegacyProvider(("litellm",), "litellm", "litellm/auto"),
    LegacyProvider(("openrouter",), "openrouter", "openrouter/auto"),
    LegacyProvider(("groq",), "groq", "groq/llama-3.1-70b-versatile"),
    LegacyProvider(("zhipu", "glm"), "zhipu", "zhipu/glm-4"),
    LegacyProvider(("vllm",), "vllm", "vllm/auto"),
    LegacyProvider(("gemini", "google"), "gemini", "gemini/gemini-pro"),
    LegacyProvider(("nvidia",), "nvidia", "nvidia/meta/llama-3.1-8b-instruct"),
    LegacyProvider(("ollama",), "ollama", "ollama/llama3"),
    LegacyProvider(("moonshot", "kimi"), "moonshot", "moonshot/kimi"),
    LegacyProvider(("shengsuanyun",), "shengsuanyun", "shengsuanyun/auto"),
    LegacyProvider(("deepseek",), "deepseek", "deepseek/deepseek-chat"),
    LegacyProvider(("cerebras",), "cerebras", "cerebras/llama-3.3-70b"),
    LegacyProvider(("vivgrid",), "vivgrid", "vivgrid/auto"),
    LegacyProvider(("volcengine", "doubao"), "volcengine", "volcengine/doubao-pro"),
    LegacyProvider(
        ("github_copilot", "copilot"),
        "github-copilot",
        "github-copilot/gpt-5.4",
        ("api_key", "api_base", "connect_mode"),
    ),
    LegacyProvider(
        ("antigravity",), "antigravity", "antigravity/gemini-2.0-flash", ("api_key", "auth_method")
    ),
    LegacyProvider(("qwen", "tongyi"), "qwen", "qwen/qwen-max"),
    LegacyProvider(("mistral",), "mistral", "mistral/mistral-small-latest"),
    LegacyProvider(("avian",), "avian", "avian/deepseek/deepseek-v3.2"),
    LegacyProvider(("minimax",), "minimax", "minimax/minimax"),
    LegacyProvider(("longcat",), "longcat", "longcat/LongCat-Flash-Thinking"),
    LegacyProvider(("modelscope",), "modelscope", "modelscope/Qwen/Qwen3-235B-A22B-Instruct-2507"),
    LegacyProvider(("novita",), "novita", "novita/auto"),
)

LEGACY_KEYS = frozenset(k for row in LEGACY_PROVIDERS for k in row.keys)


def model_string_problem(model: str) -> str | None:
    """Why PicoClaw refuses a `model` string (no whitespace, no leading "/", no empty
    segment), or None when it accepts it: the rules of problems.model_string_problems
    (ModelConfig.Validate, pkg/config/config.go:824-839), for fixes that name a value."""
    if any(c in " \t\n\r" for c in model):
        return "contains whitespace"
    if model.startswith("/"):
        return 'starts with "/"'
    if "//" in model:
        return 'contains "//"'
    return None


def normalize(name: str) -> str:
    """NormalizeProvider: lower-case, aliases to their canonical id (unknown names unchanged)."""
    key = name.strip().lower()
    provider = _BY_NAME.get(key)
    return provider.id if provider else key


def lookup(name: str) -> Provider | None:
    """The provider for an id or alias (case-insensitive), or None."""
    return _BY_NAME.get(name.strip().lower())


def split_known(model: str) -> tuple[str, str, str | None]:
    """The first split: (provider, id, unknown prefix or None).

    `lmstudio/openai/gpt-oss-20b` → ("lmstudio", "openai/gpt-oss-20b", None);
    `byteplus/x` → ("openai", "byteplus/x", "byteplus"); `gpt-4o` → ("openai", "gpt-4o", None).
    """
    model = model.strip()
    prefix, slash, rest = model.partition("/")
    if not slash:
        return "openai", model, None
    if lookup(prefix) is not None:
        return normalize(prefix), rest.strip(), None
    return "openai", model, prefix.strip() or None


def second_strip(model_id: str, api_base: str) -> tuple[str, str | None]:
    """The OpenAI-compatible client's normalizeModel: (id sent, prefix removed or None)."""
    prefix, slash, rest = model_id.partition("/")
    if not slash or "openrouter.ai" in api_base.lower():
        return model_id, None
    if prefix.lower() in STRIP_PREFIXES:
        return rest, prefix
    return model_id, None


@dataclass(frozen=True)
class Resolution:
    """How PicoClaw resolves one model_list entry."""

    provider: str  # canonical id (or the unknown explicit provider, lower-cased)
    protocol: str
    known: bool  # the provider is in PicoClaw's table
    split_id: str  # the id after the first split (what agent references are compared to)
    model_id: str  # the id really sent on the wire
    api_base: str  # resolved and trimmed; "" when there is none
    api_base_is_default: bool
    unknown_prefix: str | None  # the model's first segment when it is no provider
    stripped: tuple[str, ...]  # the prefixes removed, in order

    @property
    def probeable(self) -> bool:
        """An HTTP(S) endpoint that lmdoctor can talk to."""
        return self.protocol in HTTP_PROTOCOLS and self.api_base.lower().startswith(
            ("http://", "https://")
        )


def protocol_of(provider: str, auth_method: str = "") -> str:
    found = lookup(provider)
    if found is None:
        return UNKNOWN
    if found.id in ("openai", "anthropic") and auth_method.strip().lower() in OAUTH_METHODS:
        return OAUTH
    return found.protocol


def resolve(
    model: str, provider: str = "", api_base: str = "", auth_method: str = ""
) -> Resolution:
    """Resolve a model_list entry's provider, wire id and api_base as PicoClaw does."""
    model = model.strip()
    stripped: list[str] = []
    unknown_prefix = None
    if provider.strip():
        name, split_id = normalize(provider), model
    else:
        name, split_id, unknown_prefix = split_known(model)
        if split_id != model:
            stripped.append(model.partition("/")[0])
    found = lookup(name)
    protocol = protocol_of(name, auth_method)
    configured = api_base.rstrip("/")
    default = found.api_base if found else ""
    base = configured or default
    model_id = split_id
    if protocol == OPENAI_COMPAT:
        model_id, removed = second_strip(split_id, base)
        if removed:
            stripped.append(removed)
    return Resolution(
        provider=name,
        protocol=protocol,
        known=found is not None,
        split_id=split_id,
        model_id=model_id,
        api_base=base,
        api_base_is_default=not configured and bool(default),
        unknown_prefix=unknown_prefix,
        stripped=tuple(stripped),
    )


def model_key(provider: str, model: str) -> str:
    """ModelKey: the canonical "provider/model" used to match agent references."""
    return normalize(provider) + "/" + model.strip().lower()


def names() -> list[str]:
    """Every provider id and alias."""
    return sorted(_BY_NAME)
