"""PicoClaw's startup and model resolution, replayed: which request each agent model really makes.

`picoclaw agent` and `picoclaw gateway` do not simply look up agents.defaults.model_name. They
(sipeed/picoclaw@cf67dd3, the newest modelled; paths are PicoClaw's):

1. load the config (pkg/config/config.go:1266-1524 LoadConfig): env overrides, multi-key
   expansion (:1753-1833), ValidateModelList (:1725-1732);
2. `providers.CreateProvider` (pkg/providers/legacy_provider.go:18-43): agents.defaults.model_name
   must name a model_list entry exactly, and that entry's provider must build
   (pkg/providers/factory_provider.go:91-369); it returns the entry's *model id*;
3. overwrite agents.defaults.model_name with that id (cmd/picoclaw/internal/agent/helpers.go:47-50,
   pkg/gateway/gateway.go:193-200);
4. per agent (pkg/agent/registry.go:33-56, instance.go:65-285): look the id up again to pick the
   endpoint (instance.go:327-362 resolvePrimaryProviderForAgent, lookupModelConfigByRef without
   a default provider), and resolve the candidates with agents.defaults.provider (default openai)
   (pkg/agent/model_resolution.go:84-186): that decides the model string;
5. the OpenAI-compatible client strips one known prefix more (pkg/providers/openai_compat/
   provider.go:798-814 normalizeModel) and posts to api_base + "/chat/completions" (:464).

Everything here is data in, data out: no I/O except `detect_version` (runs `picoclaw version`).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from lmdoctor.config import providers
from lmdoctor.secret import Secret
from lmdoctor.target import Request

PICOCLAW_COMMIT = "cf67dd3851e7926bf04ea9016c2e61248f9f614e"
DEFAULT_TIMEOUT_S = 120  # pkg/providers/common/common.go:39 DefaultRequestTimeout

# --------------------------------------------------------------------------------- versions


@dataclass(frozen=True)
class Version:
    """Which PicoClaw rules are replayed, and why."""

    label: str  # "v0.2.9", or "newest (cf67dd3)"
    source: str  # how lmdoctor knows
    strict: bool = True  # unknown fields stop the load (v0.2.8+, pkg/config/diagnostics.go)
    table: str = "cf67dd3"  # the strict field table (lmdoctor/config/picoclaw_fields/)
    # v0.2.9+: the agent re-resolves the endpoint for its model id (instance.go:154) and bare ids
    # match only entries of agents.defaults.provider (model_resolution.go:117-121).
    relookup: bool = True

    def describe(self) -> str:
        return f"PicoClaw {self.label} rules ({self.source})"


NEWEST = Version(
    "newest modelled (cf67dd3, after v0.2.9)",
    "no picoclaw on PATH: assumed newest",
)


def version_rules(text: str, source: str) -> Version:
    """The rules of the PicoClaw version named in `text` ("picoclaw 0.2.8 (git: ...)")."""
    found = re.search(r"(\d+)\.(\d+)\.(\d+)", text)
    if not found:
        return replace(NEWEST, source=f"{source}: version not recognised, assumed newest")
    number = tuple(int(part) for part in found.groups())
    label = "v{}.{}.{}".format(*number)
    if number < (0, 2, 8):
        # Before v0.2.8 unknown fields were ignored (diagnostics.go first appears in v0.2.8).
        return Version(label, source, strict=False, table="v0.2.8", relookup=False)
    if number < (0, 2, 9):
        return Version(label, source, table="v0.2.8", relookup=False)
    if number == (0, 2, 9):
        return Version(label, source, table="v0.2.9")
    return Version(label, source)


def detect_version(env: Mapping[str, str] = os.environ) -> Version:
    """`picoclaw version` when a picoclaw binary is on PATH, else the newest rules."""
    binary = shutil.which("picoclaw", path=env.get("PATH", os.defpath))
    if not binary:
        return NEWEST
    try:
        done = subprocess.run(
            [binary, "version"],
            capture_output=True,
            text=True,
            timeout=5,
            env=dict(env),
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return replace(NEWEST, source=f"{binary} version failed: assumed newest")
    return version_rules(done.stdout + done.stderr, f"`{binary} version`")


# ------------------------------------------------------------------------------ the entries


@dataclass(frozen=True)
class Entry:
    """A model_list entry as PicoClaw holds it after loading (security merged, keys resolved)."""

    label: str  # where it is: "model_list[2]", "DefaultConfig model_list[27]"
    model_name: str
    model: str
    provider: str = ""
    api_base: str = ""
    keys: tuple[tuple[Secret, str], ...] = ()  # (key, where it came from), PicoClaw's order
    auth_method: str = ""
    proxy: str = ""
    request_timeout: int = 0
    custom_headers: Mapping[str, str] = field(default_factory=dict)
    virtual_of: str = ""  # a `name__key_N` copy made for an extra key: the original's label
    ref: Any = None  # the caller's handle (lmdoctor keeps its Target here)

    @property
    def key(self) -> tuple[Secret, str] | None:
        return self.keys[0] if self.keys else None


# PicoClaw's built-in model_list, used when the file has none (pkg/config/defaults.go:66-299,
# kept by pkg/config/migration.go:84-111 loadConfig when the user gives no entry).
DEFAULT_MODEL_LIST: tuple[dict[str, str], ...] = tuple(
    dict(zip(("model_name", "provider", "model", "api_base", "auth_method"), row, strict=False))
    for row in (
        ("glm-4.7", "zhipu", "glm-4.7", "https://open.bigmodel.cn/api/paas/v4"),
        ("gpt-5.4", "openai", "gpt-5.4", "https://api.openai.com/v1"),
        ("claude-sonnet-4.6", "anthropic", "claude-sonnet-4-6", "https://api.anthropic.com/v1"),
        ("deepseek-chat", "deepseek", "deepseek-chat", "https://api.deepseek.com/v1"),
        ("venice-uncensored", "venice", "venice-uncensored", "https://api.venice.ai/api/v1"),
        (
            "gemini-2.0-flash",
            "gemini",
            "gemini-2.0-flash-exp",
            "https://generativelanguage.googleapis.com/v1beta",
        ),
        ("qwen-plus", "qwen", "qwen-plus", "https://dashscope.aliyuncs.com/compatible-mode/v1"),
        ("moonshot-v1-8k", "moonshot", "moonshot-v1-8k", "https://api.moonshot.cn/v1"),
        ("llama-3.3-70b", "groq", "llama-3.3-70b-versatile", "https://api.groq.com/openai/v1"),
        ("openrouter-auto", "openrouter", "auto", "https://openrouter.ai/api/v1"),
        ("openrouter-gpt-5.4", "openrouter", "openai/gpt-5.4", "https://openrouter.ai/api/v1"),
        (
            "nemotron-4-340b",
            "nvidia",
            "nemotron-4-340b-instruct",
            "https://integrate.api.nvidia.com/v1",
        ),
        ("cerebras-llama-3.3-70b", "cerebras", "llama-3.3-70b", "https://api.cerebras.ai/v1"),
        ("vivgrid-auto", "vivgrid", "auto", "https://api.vivgrid.com/v1"),
        (
            "ark-code-latest",
            "volcengine",
            "ark-code-latest",
            "https://ark.cn-beijing.volces.com/api/v3",
        ),
        ("doubao-pro", "volcengine", "doubao-pro-32k", "https://ark.cn-beijing.volces.com/api/v3"),
        ("deepseek-v3", "shengsuanyun", "deepseek-v3", "https://api.shengsuanyun.com/v1"),
        ("gemini-flash", "antigravity", "gemini-3-flash", "", "oauth"),
        ("copilot-gpt-5.4", "github-copilot", "gpt-5.4", "http://localhost:4321", "oauth"),
        ("llama3", "ollama", "llama3", "http://localhost:11434/v1"),
        ("mistral-small", "mistral", "mistral-small-latest", "https://api.mistral.ai/v1"),
        ("deepseek-v3.2", "avian", "deepseek/deepseek-v3.2", "https://api.avian.io/v1"),
        ("kimi-k2.5", "avian", "moonshotai/kimi-k2.5", "https://api.avian.io/v1"),
        ("MiniMax-M2.5", "minimax", "MiniMax-M2.5", "https://api.minimaxi.com/v1"),
        (
            "LongCat-Flash-Thinking",
            "longcat",
            "LongCat-Flash-Thinking",
            "https://api.longcat.chat/openai",
        ),
        (
            "modelscope-qwen",
            "modelscope",
            "Qwen/Qwen3-235B-A22B-Instruct-2507",
            "https://api-inference.modelscope.cn/v1",
        ),
        ("local-model", "vllm", "custom-model", "http://localhost:8000/v1"),
        ("lmstudio-local", "lmstudio", "openai/gpt-oss-20b", "http://localhost:1234/v1"),
        ("azure-gpt5", "azure", "my-gpt5-deployment", "https://your-resource.openai.azure.com"),
    )
)


def expand_keys(entries: Sequence[Entry]) -> list[Entry]:
    """expandMultiKeyModels (config.go:1753-1833): an entry with n > 1 distinct keys becomes
    n-1 copies named `name__key_1..` (one extra key each) followed by the entry with key 1.
    The copies come first, so a lookup by model id finds them before the original."""
    result: list[Entry] = []
    for entry in entries:
        unique: list[tuple[Secret, str]] = []
        for secret, source in entry.keys:
            if secret.reveal() not in [s.reveal() for s, _ in unique]:
                unique.append((secret, source))
        if len(unique) <= 1:
            result.append(entry)
            continue
        for i, key in enumerate(unique[1:], start=1):
            result.append(
                replace(
                    entry,
                    model_name=f"{entry.model_name}__key_{i}",
                    keys=(key,),
                    virtual_of=entry.label,
                    label=f"{entry.label} (key {i + 1}, as {entry.model_name}__key_{i})",
                )
            )
        result.append(replace(entry, keys=(unique[0],)))
    return result


# -------------------------------------------------------------------------------- resolution


def split_model(model: str, default: str) -> tuple[str, str]:
    """SplitModelProviderAndID (pkg/providers/provider_catalog.go:52-80)."""
    model = model.strip()
    if not model:
        return "", ""
    prefix, slash, rest = model.partition("/")
    if slash:
        prefix, rest = prefix.strip(), rest.strip()
        if not prefix:
            return "", rest
        if providers.lookup(prefix) is not None:
            return providers.normalize(prefix), rest
    return _normalize(default), model


def _normalize(name: str) -> str:
    """NormalizeProvider (pkg/providers/model_ref.go:31-40); "" stays ""."""
    return providers.normalize(name) if name.strip() else ""


def extract_protocol(entry: Entry) -> tuple[str, str]:
    """ExtractProtocol (pkg/providers/factory_provider.go:60-70): an explicit provider wins and
    the model is not split; otherwise split at the first known provider prefix."""
    if entry.provider.strip():
        return _normalize(entry.provider), entry.model.strip()
    return split_model(entry.model, "openai")


def model_key(provider: str, model: str) -> str:
    """ModelKey (pkg/providers/model_ref.go:43-45)."""
    return _normalize(provider) + "/" + model.strip().lower()


def by_name(entries: Sequence[Entry], name: str) -> Entry | None:
    """GetModelConfig (config.go:1697-1723): exact model_name; the first call of a round-robin
    over duplicates returns the first entry."""
    return next((e for e in entries if e.model_name == name), None)


def by_ref(entries: Sequence[Entry], raw: str, default_provider: str | None) -> Entry | None:
    """lookupModelConfigByRef (pkg/agent/model_resolution.go:84-128): a model_name, else the
    first entry whose model, id (of the default provider, when one is given) or provider/id key
    equals the reference."""
    raw = raw.strip()
    if not raw:
        return None
    named = by_name(entries, raw)
    if named is not None and named.model.strip():
        return named
    ref_provider, ref_model = split_model(raw, "")
    ref_key = model_key(ref_provider, ref_model) if ref_provider and ref_model.strip() else ""
    wanted = _effective_default(default_provider) if default_provider is not None else ""
    for entry in entries:
        if not entry.model.strip():
            continue
        protocol, model_id = extract_protocol(entry)
        if entry.model.strip() == raw:
            return entry
        if model_id == raw and (not wanted or _normalize(protocol) == wanted):
            return entry
        if ref_key and model_key(protocol, model_id) == ref_key:
            return entry
    return None


def _effective_default(provider: str) -> str:
    """effectiveDefaultProvider (model_resolution.go:32-38)."""
    return _normalize(provider) if provider.strip() else "openai"


@dataclass(frozen=True)
class Candidate:
    """providers.FallbackCandidate: what a model reference resolved to."""

    provider: str
    model: str
    entry: Entry | None  # the entry it matched, None when parsed from the string alone
    identity: str = ""

    @property
    def stable_key(self) -> str:
        return self.identity or model_key(self.provider, self.model)


def resolve_candidate(
    entries: Sequence[Entry], default_provider: str, raw: str, version: Version
) -> Candidate | None:
    """resolveModelCandidate (model_resolution.go:130-155)."""
    raw = raw.strip()
    if not raw:
        return None
    default = _effective_default(default_provider)
    entry = by_ref(entries, raw, default if version.relookup else None)
    if entry is not None:
        protocol, model_id = extract_protocol(entry)
        if not model_id.strip():
            return None
        identity = f"model_name:{entry.model_name.strip()}" if entry.model_name.strip() else ""
        return Candidate(protocol, model_id, entry, identity if version.relookup else "")
    provider, model = split_model(raw, default)
    return Candidate(provider, model, None) if model else None


def resolve_candidates(
    entries: Sequence[Entry],
    default_provider: str,
    primary: str,
    fallbacks: Sequence[str],
    version: Version,
) -> list[Candidate]:
    """resolveModelCandidates (model_resolution.go:157-186): deduplicated by StableKey."""
    seen: set[str] = set()
    result: list[Candidate] = []
    for raw in (primary, *fallbacks):
        candidate = resolve_candidate(entries, default_provider, raw, version)
        if candidate is not None and candidate.stable_key not in seen:
            seen.add(candidate.stable_key)
            result.append(candidate)
    return result


# ------------------------------------------------------------------------------ the provider


@dataclass(frozen=True)
class Client:
    """A provider PicoClaw built for one entry (CreateProviderFromConfig)."""

    entry: Entry
    protocol: str  # the provider id that picked the client (factory_provider.go switch)
    wire: str  # providers.OPENAI_COMPAT, GEMINI, ANTHROPIC_MESSAGES, or a non-HTTP protocol
    base: str  # the base URL the client joins paths to ("" when none)
    timeout_s: int

    def request(self, model: str) -> Request:
        """The request this client makes for `model` (what the agent passes to Chat)."""
        key = self.entry.key
        headers = {k for k in self.entry.custom_headers if k.strip()}
        auth = _AUTH_HEADER.get(self.wire, "")
        override = next((k for k in headers if auth and k.lower() == auth.lower()), "")
        if self.wire == providers.OPENAI_COMPAT:
            sent = normalize_model(model, self.base)
            url = self.base + "/chat/completions"  # openai_compat/provider.go:464
        elif self.wire == providers.GEMINI:
            sent = normalize_gemini_model(model)
            url = f"{self.base}/models/{sent}:generateContent"  # httpapi/gemini_provider.go:85
        elif self.wire == providers.ANTHROPIC_MESSAGES:
            sent = model
            url = self.base + "/messages"  # anthropic_messages/provider.go:96 url.JoinPath
        else:
            sent, url = model, ""
        secret = key[0] if key and not override else None
        if override and self.wire == providers.OPENAI_COMPAT:
            value = self.entry.custom_headers[override]
            # A custom Authorization replaces the Bearer key (applyCustomHeaders runs last).
            secret = Secret(value[7:]) if value[:7].lower() == "bearer " else None
        return Request(
            method="POST" if url else "",
            url=url,
            model=sent,
            protocol=self.protocol,
            wire=self.wire,
            auth_header=_AUTH_HEADER.get(self.wire, "") if key or override else "",
            key=secret,
            key_from=(
                f"{self.entry.label} custom_headers.{override}"
                if override
                else (f"{self.entry.label}: {key[1]}" if key else "")
            ),
            endpoint_from=self.entry.label,
            timeout_s=self.timeout_s,
            proxy=self.entry.proxy,
            extra_headers=tuple(sorted(headers - {override})),
        )


# The header each wire protocol carries the key in (only when the key is not empty).
_AUTH_HEADER = {
    providers.OPENAI_COMPAT: "Authorization",  # openai_compat/provider.go:473-475 Bearer
    providers.GEMINI: "X-Goog-Api-Key",  # httpapi/gemini_provider.go:212-216
    providers.ANTHROPIC_MESSAGES: "X-API-Key",  # anthropic_messages/provider.go:109
}
# OpenAI-compatible provider ids (factory_provider.go:108-137, 203-226, 246-300).
_OPENAI_COMPAT = frozenset(
    [
        "openai",
        "litellm",
        "lmstudio",
        "gpt4free",
        "openrouter",
        "groq",
        "zhipu",
        "nvidia",
        "venice",
        "ollama",
        "moonshot",
        "shengsuanyun",
        "siliconflow",
        "deepseek",
        "cerebras",
        "vivgrid",
        "volcengine",
        "vllm",
        "qwen-portal",
        "qwen-intl",
        "qwen-us",
        "mistral",
        "avian",
        "longcat",
        "modelscope",
        "novita",
        "alibaba-coding",
        "zai",
        "mimo",
        "minimax",
    ]
)
_NOT_HTTP = {
    "azure": providers.AZURE,
    "bedrock": providers.AWS,
    "antigravity": providers.OAUTH,
    "claude-cli": providers.CLI,
    "codex-cli": providers.CLI,
    "github-copilot": providers.COPILOT,
}


def normalize_base(base: str, default: str) -> str:
    """common.NormalizeBaseURL(base, default, true) (pkg/providers/common/anthropic_common.go:9-27):
    a trailing /v1 is cut and /v1 appended again, so a base without /v1 gains it."""
    base = base.strip()
    if not base:
        return default
    base = base.rstrip("/")
    base = base.removesuffix("/v1")
    return base + "/v1" if base else default


def normalize_model(model: str, base: str) -> str:
    """normalizeModel (pkg/providers/openai_compat/provider.go:798-814)."""
    prefix, slash, rest = model.partition("/")
    if not slash or "openrouter.ai" in base.lower():
        return model
    return rest if prefix.lower() in providers.STRIP_PREFIXES else model


def normalize_gemini_model(model: str) -> str:
    """normalizeGeminiModel (pkg/providers/httpapi/gemini_provider.go:361-374)."""
    model = model.strip().removeprefix("models/")
    if "/" in model:
        rest = model.partition("/")[2]
        if rest:
            return rest
    return model or "gemini-2.5-flash"


def create_client(entry: Entry) -> Client | str:
    """CreateProviderFromConfig (factory_provider.go:91-369): the client, or PicoClaw's error."""
    if not entry.model:
        return "model is required"
    protocol, _ = extract_protocol(entry)
    oauth = entry.auth_method.strip().lower() in ("oauth", "token")
    key = entry.key
    has_key = bool(key and key[0].reveal())
    timeout = entry.request_timeout if entry.request_timeout > 0 else DEFAULT_TIMEOUT_S
    default_base = (providers.lookup(protocol) or providers.Provider("")).api_base
    if protocol in ("openai", "anthropic") and oauth:
        return Client(entry, protocol, providers.OAUTH, "", timeout)
    if protocol == "anthropic":  # factory_provider.go:275-300: the OpenAI-compatible client
        if not has_key:
            return f"api_key is required for anthropic protocol (model: {entry.model})"
        base = normalize_base(entry.api_base, "https://api.anthropic.com/v1").rstrip("/")
        return Client(entry, protocol, providers.OPENAI_COMPAT, base, timeout)
    if protocol in _OPENAI_COMPAT:
        allowed = (providers.lookup(protocol) or providers.Provider("")).key_optional
        if protocol in ("openai", "minimax"):
            allowed = False
        if not has_key and not entry.api_base and not allowed:
            return f'api_key or api_base is required for HTTP-based protocol "{protocol}"'
        base = (entry.api_base or default_base).rstrip("/")  # openai_compat/provider.go:115
        return Client(entry, protocol, providers.OPENAI_COMPAT, base, timeout)
    if protocol == "gemini":  # factory_provider.go:228-244
        if not has_key and not entry.api_base:
            return f"api_key or api_base is required for gemini protocol (model: {entry.model})"
        base = (entry.api_base.strip() or default_base).rstrip("/")
        return Client(entry, protocol, providers.GEMINI, base, timeout)
    if protocol in ("anthropic-messages", "alibaba-coding-anthropic"):  # :302-332
        if not has_key:
            named = (
                "anthropic-messages protocol"
                if protocol == "anthropic-messages"
                else f'"{protocol}" protocol'
            )
            return f"api_key is required for {named} (model: {entry.model})"
        base = normalize_base(entry.api_base or default_base, "https://api.anthropic.com/v1")
        return Client(entry, protocol, providers.ANTHROPIC_MESSAGES, base, timeout)
    if protocol == "azure" and not entry.api_base:
        return (
            "api_base is required for azure protocol (e.g., https://your-resource.openai.azure.com)"
        )
    if protocol in _NOT_HTTP:
        return Client(entry, protocol, _NOT_HTTP[protocol], "", timeout)
    return f'unknown protocol "{protocol}" in model "{entry.model}"'  # factory_provider.go:367


# ---------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Plan:
    """What one agent model resolves to."""

    role: str  # "primary", "fallback 1", "light model", "image model", "voice: transcription"
    agent: str  # agent id ("main" when agents.list is empty); "" for the gateway's voice models
    ref: str  # the reference as configured
    where: str  # the config key it came from
    request: Request | None
    steps: tuple[str, ...]
    problem: str = ""  # set when the reference cannot be turned into a request
    entry: Entry | None = None  # the entry whose endpoint and key the request uses
    matched: bool = True  # False: the reference named no entry and was parsed as an id
    redirected_from: str = ""  # the entry model_name named, when the id lookup chose another
    consequence: str = ""  # what PicoClaw does when `problem` is set (default: the light model's)


@dataclass(frozen=True)
class Failure:
    """A startup failure: PicoClaw's own error text, and where it comes from."""

    message: str  # as PicoClaw prints it
    where: str  # config key or entry
    cause: str  # short code: model_not_found, provider, ...
    entry: Entry | None = None


@dataclass
class Agent:
    id: str
    primary: str  # "" = use agents.defaults.model_name
    fallbacks: list[str] | None  # None = use agents.defaults.model_fallbacks
    where: str


@dataclass
class Defaults:
    model_name: str = ""
    model_name_from: str = "agents.defaults.model_name"
    provider: str = ""
    fallbacks: list[str] = field(default_factory=list)
    image_model: str = ""
    image_fallbacks: list[str] = field(default_factory=list)
    light_model: str = ""  # only when routing.enabled


@dataclass(frozen=True)
class Voice:
    """The `voice` block (pkg/config/config.go:738-743), after its env overrides."""

    model_name: str = ""  # PICOCLAW_VOICE_MODEL_NAME: the transcription model
    tts_model_name: str = ""  # PICOCLAW_VOICE_TTS_MODEL_NAME: the text-to-speech model


@dataclass
class Startup:
    failure: Failure | None
    plans: list[Plan]
    notes: list[str]  # things PicoClaw logs and carries on with


def replay(
    entries: Sequence[Entry],
    defaults: Defaults,
    agents: Sequence[Agent],
    version: Version,
    voice: Voice = Voice(),
) -> Startup:
    """CreateProvider, the model-id overwrite, every agent's candidates, then the voice models
    the gateway detects (pkg/gateway/gateway.go:428-434)."""
    notes: list[str] = []
    name = defaults.model_name
    if not entries:
        message = "no providers configured. Please add entries to model_list in your config"
        return Startup(
            Failure(f"error creating provider: {message}", "model_list", "empty"), [], []
        )
    boot_entry = by_name(entries, name)
    if boot_entry is None:
        message = (
            f'error creating provider: model "{name}" not found in model_list: '
            f'model "{name}" not found in model_list or providers'
        )
        return Startup(Failure(message, defaults.model_name_from, "model_not_found"), [], [])
    boot = create_client(boot_entry)
    if isinstance(boot, str):
        message = f'error creating provider: failed to create provider for model "{name}": {boot}'
        return Startup(Failure(message, boot_entry.label, "provider", boot_entry), [], [])
    model_id = extract_protocol(boot_entry)[1]
    overwritten = model_id or name
    first_step = (
        f'agents.defaults.model_name "{name}" is {boot_entry.label}; CreateProvider returns its '
        f'model id "{model_id}", which replaces agents.defaults.model_name'
    )
    plans: list[Plan] = []
    listed = list(agents) or [Agent("main", "", None, "agents.defaults")]
    for agent in listed:
        plans += _agent_plans(
            entries, defaults, agent, overwritten, boot, version, first_step, notes
        )
    plans += voice_plans(entries, voice)
    return Startup(None, plans, notes)


def _agent_plans(
    entries: Sequence[Entry],
    defaults: Defaults,
    agent: Agent,
    overwritten: str,
    boot: Client,
    version: Version,
    first_step: str,
    notes: list[str],
) -> list[Plan]:
    model = agent.primary.strip() or overwritten
    where = f"{agent.where}.model" if agent.primary.strip() else defaults.model_name_from
    ref = agent.primary.strip() or defaults.model_name
    fallbacks = agent.fallbacks if agent.fallbacks is not None else defaults.fallbacks
    steps: list[str] = [] if agent.primary.strip() else [first_step]
    primary = boot
    redirected = ""
    if version.relookup:
        found = by_ref(entries, model, None)
        if found is None:
            steps.append(
                f'"{model}" matches no entry: the agent keeps the endpoint of '
                f"{boot.entry.label} (instance.go:339-342)"
            )
        else:
            built = create_client(found)
            if isinstance(built, str):
                notes.append(
                    f"agent {agent.id}: {found.label} cannot be built ({built}); PicoClaw "
                    f"sends through {boot.entry.label} instead (instance.go:348-357)"
                )
                steps.append(f"{found.label} cannot be built ({built}): using {boot.entry.label}")
            else:
                primary = built
                if found is not boot.entry and not agent.primary.strip():
                    redirected = boot.entry.label
                steps.append(
                    f'endpoint: "{model}" first matches {found.label} '
                    "(lookupModelConfigByRef, instance.go:327-361)"
                )
    candidates = resolve_candidates(entries, defaults.provider, model, fallbacks, version)
    own = _candidate_clients(entries, fallbacks)
    plans: list[Plan] = []
    for i, candidate in enumerate(candidates):
        client = own.get(model_key(candidate.provider, candidate.model), primary)
        if len(candidates) == 1:
            client = primary  # one candidate: exec.activeProvider.Chat (pipeline_llm.go:255)
        role = "primary" if i == 0 else f"fallback {i}"
        raw = model if i == 0 else (fallbacks[i - 1] if i - 1 < len(fallbacks) else "")
        how = _how(candidate, raw, defaults.provider)
        detail = [*steps, how] if i == 0 else [how]
        if i and candidate.entry is None:
            detail.append(
                "no model_list entry has this name: it goes to the primary's endpoint with the "
                "primary's key (pipeline_llm.go:693-709)"
            )
        plans.append(
            Plan(
                role,
                agent.id,
                ref if i == 0 else raw,
                where if i == 0 else _fallback_where(agent, defaults),
                client.request(candidate.model),
                tuple(detail),
                entry=client.entry,
                matched=candidate.entry is not None or i == 0,
                redirected_from=redirected if i == 0 else "",
            )
        )
    plans += _extra_plans(entries, defaults, agent, primary, own, version, notes)
    return plans


def _how(candidate: Candidate, raw: str, default_provider: str) -> str:
    if candidate.entry is not None:
        return (
            f'model: "{raw}" resolves to {candidate.entry.label} → id "{candidate.model}" '
            "(resolveModelCandidate, model_resolution.go:130-143)"
        )
    default = _effective_default(default_provider)
    return (
        f'model: "{raw}" matches no entry of provider {default} (agents.defaults.provider): '
        f'parsed as {candidate.provider} / "{candidate.model}" (model_resolution.go:145-154)'
    )


def _fallback_where(agent: Agent, defaults: Defaults) -> str:
    if agent.fallbacks is not None:
        return f"{agent.where}.model.fallbacks"
    return "agents.defaults.model_fallbacks"


def _candidate_clients(entries: Sequence[Entry], names: Sequence[str]) -> dict[str, Client]:
    """populateCandidateProvidersFromNames (instance.go:291-321): exact model_names only."""
    clients: dict[str, Client] = {}
    for raw in names:
        entry = by_name(entries, raw.strip())
        if entry is None:
            continue
        key = model_key(*extract_protocol(entry))
        if key in clients:
            continue
        built = create_client(entry)
        if not isinstance(built, str):
            clients[key] = built
    return clients


def _extra_plans(
    entries: Sequence[Entry],
    defaults: Defaults,
    agent: Agent,
    primary: Client,
    own: dict[str, Client],
    version: Version,
    notes: list[str],
) -> list[Plan]:
    plans: list[Plan] = []
    if defaults.light_model:  # instance.go:216-254
        light = defaults.light_model
        resolved = resolve_candidates(entries, defaults.provider, light, [], version)
        entry = by_name(entries, light)
        where = "agents.defaults.routing.light_model"
        built = create_client(entry) if entry is not None else "no model_list entry has this name"
        if not resolved or isinstance(built, str):
            why = built if isinstance(built, str) else "it resolves to nothing"
            notes.append(f"routing disabled: light model {light!r}: {why}")
            plans.append(
                Plan("light model", agent.id, light, where, None, (), f"routing is disabled: {why}")
            )
        else:
            plans.append(
                Plan(
                    "light model",
                    agent.id,
                    light,
                    where,
                    built.request(resolved[0].model),
                    (_how(resolved[0], light, defaults.provider),),
                    entry=built.entry,
                )
            )
    if defaults.image_model.strip():  # instance.go:202-214, llm_media.go:122-180
        images = resolve_candidates(
            entries, defaults.provider, defaults.image_model, defaults.image_fallbacks, version
        )
        clients = dict(own)
        clients.update(
            _candidate_clients(entries, [defaults.image_model, *defaults.image_fallbacks])
        )
        names = [defaults.image_model, *defaults.image_fallbacks]
        for i, candidate in enumerate(images):
            client = clients.get(model_key(candidate.provider, candidate.model), primary)
            raw = names[i] if i < len(names) else candidate.model
            role = "image model" if i == 0 else f"image fallback {i}"
            where = "agents.defaults.image_model" + ("" if i == 0 else "_fallbacks")
            plans.append(
                Plan(
                    role,
                    agent.id,
                    raw,
                    where,
                    client.request(candidate.model),
                    (_how(candidate, raw, defaults.provider),),
                    entry=client.entry,
                    matched=candidate.entry is not None,
                )
            )
    return plans


# ---------------------------------------------------------------------------------- voice

# Protocols whose chat client can take an audio payload (pkg/audio/asr/asr.go:28-48) and
# those that may serve a whisper model at /audio/transcriptions (asr.go:50-63).
_AUDIO_CHAT = frozenset(
    [
        "openai",
        "azure",
        "litellm",
        "openrouter",
        "groq",
        "zhipu",
        "gemini",
        "nvidia",
        "ollama",
        "moonshot",
        "shengsuanyun",
        "deepseek",
        "cerebras",
        "vivgrid",
        "volcengine",
        "vllm",
        "qwen-portal",
        "qwen-intl",
        "qwen-us",
        "mistral",
        "avian",
        "minimax",
        "longcat",
        "modelscope",
        "novita",
        "alibaba-coding",
        "zai",
    ]
)
_WHISPER = (_AUDIO_CHAT - {"azure"}) | {"mimo"}
_AUTO_ASR = "voice.model_name unset or unusable: first whisper or ElevenLabs entry (asr.go:139-145)"
_AUTO_TTS = (
    'voice.tts_model_name unset or unusable: first entry whose model has "tts" (tts.go:78-85)'
)


def _has_key(entry: Entry) -> bool:
    return bool(entry.key and entry.key[0].reveal())


def resolve_api_base(entry: Entry) -> str:
    """ResolveAPIBase (pkg/providers/factory_provider.go:72-83)."""
    if entry.api_base.strip():
        return entry.api_base.strip().rstrip("/")
    protocol, _ = extract_protocol(entry)
    return (providers.lookup(protocol) or providers.Provider("")).api_base.rstrip("/")


def _voice_request(
    entry: Entry,
    url: str,
    model: str,
    protocol: str,
    wire: str,
    header: str,
    timeout_s: int,
    proxy: str = "",
) -> Request:
    key = entry.key
    return Request(
        method="POST",
        url=url,
        model=model,
        protocol=protocol,
        wire=wire,
        auth_header=header if key else "",
        key=key[0] if key else None,
        key_from=f"{entry.label}: {key[1]}" if key else "",
        endpoint_from=entry.label,
        timeout_s=timeout_s,
        proxy=proxy,
    )


def transcriber(entry: Entry, named: bool) -> Request | str | None:
    """transcriberFromModelConfig (named: asr.go:90-106) or its auto-detecting variant
    (asr.go:108-121): the request that uploads the audio, PicoClaw's provider error for an
    audio chat model it cannot build, or None when the entry cannot transcribe."""
    protocol, model_id = extract_protocol(entry)
    if _has_key(entry) and protocol == "elevenlabs":  # elevenlabs_transcriber.go:27-45, 91-99
        base = entry.api_base or "https://api.elevenlabs.io"  # raw, not trimmed
        url = base + "/v1/speech-to-text"
        return _voice_request(
            entry, url, "scribe_v1", protocol, "elevenlabs-speech-to-text", "Xi-Api-Key", 120
        )
    if _has_key(entry) and protocol in _WHISPER and "whisper" in model_id.lower():
        # whisper_transcriber.go:30-87, 178-194: a plain http.Client (no entry proxy), 60 s.
        url = resolve_api_base(entry).rstrip("/")
        if not url.endswith("/audio/transcriptions"):
            url += "/audio/transcriptions"
        return _voice_request(
            entry, url, model_id, protocol, "openai-transcriptions", "Authorization", 60
        )
    if named and protocol in _AUDIO_CHAT:  # audio_model_transcriber.go:26-91: Chat with audio
        client = create_client(entry)
        return client if isinstance(client, str) else client.request(model_id)
    return None


def _deaf(entry: Entry) -> str:
    """Why a named entry cannot transcribe (asr.go:28-106)."""
    protocol, _ = extract_protocol(entry)
    if protocol in _WHISPER or protocol == "elevenlabs":
        return (
            f"{entry.label} has no key, which a whisper or ElevenLabs model needs, and "
            f'protocol "{protocol}" cannot take audio through its chat client'
        )
    return f'{entry.label} cannot transcribe: protocol "{protocol}" takes no audio in PicoClaw'


def tts_url(base: str, host: str, path_end: str, default: str) -> str:
    """The URL normalisation of NewOpenAITTSProviderWithOptions (openai_tts.go:63-104) and
    NewMimoTTSProvider (mimo_tts.go:28-61): `host` is the vendor whose path gains /v1."""
    if not base:
        return default
    parsed = urllib.parse.urlsplit(base)
    if not (parsed.scheme and parsed.netloc):
        if base == default.removesuffix(path_end):
            return default
        return base if base.endswith(path_end) else base.rstrip("/") + path_end
    path = parsed.path
    if parsed.hostname == host:
        if path in ("", "/", "/v1", "/v1/"):
            path = "/v1" + path_end
        else:
            path = path if path.startswith("/") else "/" + path
            if not path.startswith("/v1/"):
                path = "/v1" + path.rstrip("/")
            if not path.endswith(path_end):
                path = path.rstrip("/") + path_end
    elif not path.endswith(path_end):
        path = path.rstrip("/") + path_end
    return urllib.parse.urlunsplit(parsed._replace(path=path))


def speaker(entry: Entry) -> Request | None:
    """providerFromModelConfig (pkg/audio/tts/tts.go:26-48): needs a key."""
    if not _has_key(entry):
        return None
    protocol, model_id = extract_protocol(entry)
    model_id = model_id or entry.model.strip()
    base = resolve_api_base(entry)
    if protocol == "mimo":  # mimo_tts.go:27-88, 114-120
        url = tts_url(
            base,
            "api.xiaomimimo.com",
            "/chat/completions",
            "https://api.xiaomimimo.com/v1/chat/completions",
        )
        return _voice_request(
            entry,
            url,
            model_id or "mimo-v2-tts",
            protocol,
            "mimo-tts",
            "Api-Key",
            60,
            entry.proxy,
        )
    # openai_tts.go:56-132, 184-190: Bearer key, 60 s, through the entry's proxy.
    url = tts_url(base, "api.openai.com", "/audio/speech", "https://api.openai.com/v1/audio/speech")
    return _voice_request(
        entry,
        url,
        model_id or "tts-1",
        protocol,
        "openai-speech",
        "Authorization",
        60,
        entry.proxy,
    )


def voice_plans(entries: Sequence[Entry], voice: Voice) -> list[Plan]:
    """DetectTranscriber (asr.go:125-146) and DetectTTS (tts.go:65-86), as the gateway calls
    them at start (gateway.go:428-434). A named model that is missing or unusable is skipped
    silently and the model_list is scanned instead. GetModelConfig round-robins duplicate
    names with a counter shared by every lookup; the first entry is assumed here."""
    plans: list[Plan] = []
    chosen: Request | None = None
    name = voice.model_name.strip()
    fallback = "PicoClaw skips it silently and auto-detects a transcriber (asr.go:130-145)."
    if name:
        entry = by_name(entries, name)
        found = transcriber(entry, named=True) if entry is not None else None
        if isinstance(found, Request) and entry is not None:
            chosen = found
            plans.append(
                _voice_plan(
                    "voice: transcription",
                    name,
                    "voice.model_name",
                    entry,
                    found,
                    f"{entry.label} transcribes (asr.go:130-136)",
                )
            )
        elif isinstance(found, str):
            # NewAudioModelTranscriber returns a nil *AudioModelTranscriber, which is a non-nil
            # Transcriber (asr.go:102-103): no fallback, and the first voice message fails.
            why = (
                f"its provider cannot be built ({found}); PicoClaw still reports "
                "transcription enabled, and the first voice message reaches a nil transcriber"
            )
            plans.append(
                Plan(
                    "voice: transcription",
                    "",
                    name,
                    "voice.model_name",
                    None,
                    (),
                    why,
                    consequence="(audio_model_transcriber.go:37-41, asr.go:102-103)",
                )
            )
            return plans + _tts_plans(entries, voice)
        else:
            why = "no model_list entry has this name" if entry is None else _deaf(entry)
            plans.append(
                Plan(
                    "voice: transcription",
                    "",
                    name,
                    "voice.model_name",
                    None,
                    (),
                    why,
                    consequence=fallback,
                )
            )
    if chosen is None:
        for entry in entries:
            found = transcriber(entry, named=False)
            if isinstance(found, Request):
                plans.append(
                    _voice_plan(
                        "voice: transcription",
                        entry.model_name,
                        "auto-detected",
                        entry,
                        found,
                        _AUTO_ASR,
                    )
                )
                break
    return plans + _tts_plans(entries, voice)


def _tts_plans(entries: Sequence[Entry], voice: Voice) -> list[Plan]:
    plans: list[Plan] = []
    name = voice.tts_model_name.strip()
    if name:
        entry = by_name(entries, name)
        found = speaker(entry) if entry is not None else None
        if found is not None and entry is not None:
            return [
                _voice_plan(
                    "voice: text-to-speech",
                    name,
                    "voice.tts_model_name",
                    entry,
                    found,
                    f"{entry.label} speaks (tts.go:70-76)",
                )
            ]
        why = "no model_list entry has this name" if entry is None else f"{entry.label} has no key"
        plans.append(
            Plan(
                "voice: text-to-speech",
                "",
                name,
                "voice.tts_model_name",
                None,
                (),
                why,
                consequence="PicoClaw skips it silently and auto-detects a TTS "
                "model (tts.go:70-85).",
            )
        )
    for entry in entries:
        if "tts" in entry.model.lower() and _has_key(entry):
            found = speaker(entry)
            if found is not None:
                plans.append(
                    _voice_plan(
                        "voice: text-to-speech",
                        entry.model_name,
                        "auto-detected",
                        entry,
                        found,
                        _AUTO_TTS,
                    )
                )
                break
    return plans


def _voice_plan(role: str, ref: str, where: str, entry: Entry, request: Request, step: str) -> Plan:
    return Plan(role, "", ref, where, request, (step,), entry=entry)


# ----------------------------------------------------------------------- env (LoadConfig)

# caarlos0/env tags on AgentDefaults (pkg/config/config.go:423-452) that change what is sent.
ENV_OVERRIDES = {
    "PICOCLAW_AGENTS_DEFAULTS_MODEL_NAME": "model_name",
    "PICOCLAW_AGENTS_DEFAULTS_PROVIDER": "provider",
    "PICOCLAW_AGENTS_DEFAULTS_MAX_TOKENS": "max_tokens",
    "PICOCLAW_AGENTS_DEFAULTS_CONTEXT_WINDOW": "context_window",
    "PICOCLAW_AGENTS_DEFAULTS_IMAGE_MODEL": "image_model",
}
# VoiceConfig's env tags (config.go:738-743): they override the `voice` block.
VOICE_ENV = {
    "PICOCLAW_VOICE_MODEL_NAME": "model_name",
    "PICOCLAW_VOICE_TTS_MODEL_NAME": "tts_model_name",
}
_INT_FIELDS = {"max_tokens": "MaxTokens", "context_window": "ContextWindow"}


def env_overrides(env: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
    """The agents.defaults values env.Parse sets (config.go:1487), and its parse errors.
    An empty variable changes nothing (caarlos0/env skips empty values)."""
    values: dict[str, Any] = {}
    errors: list[str] = []
    for variable, key in ENV_OVERRIDES.items():
        value = env.get(variable, "")
        if value == "":
            continue
        if key in _INT_FIELDS:
            try:
                values[key] = int(value.strip(), 10)
            except ValueError:
                errors.append(
                    f'env: parse error on field "{_INT_FIELDS[key]}" of type "int": '
                    f'strconv.ParseInt: parsing "{value}": invalid syntax'
                )
            continue
        values[key] = value
    return values, errors
