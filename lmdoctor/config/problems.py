"""The config.* findings: fixed texts here, per-file facts in evidence.

Each builder takes the place (a `Where`: file name, path, line lookup) and the facts, and
returns a Finding with check="config", a summary naming the field, a detail saying how
PicoClaw reacts, and a fix naming the exact key to change.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from lmdoctor import urls
from lmdoctor.config import keys, providers
from lmdoctor.config.reading import JsonPath, describe
from lmdoctor.config.schema import RENAMED_FIELDS, SECURITY_FILE, FieldType
from lmdoctor.findings import Finding, error, info, warn


class Where(Protocol):
    """The file a finding is about."""

    path: Path
    version: int

    @property
    def name(self) -> str: ...

    def line(self, path: JsonPath) -> int | None: ...

    def at(self, path: JsonPath) -> str: ...


def dotted(path: JsonPath) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _config(
    make: Callable[..., Finding], code: str, summary: str, detail: str, fix: str, **evidence: Any
) -> Finding:
    return replace(make(code, summary, detail, fix, **evidence), check="config")


def _evidence(doc: Where, path: JsonPath, **extra: Any) -> dict[str, Any]:
    """Where it is, plus facts. `blocks_load`: PicoClaw refuses the whole file for this, so
    it matters even when the entry is not among the models checked."""
    return {"path": str(doc.path), "field": dotted(path), "line": doc.line(path), **extra}


def _near(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word.lower(), list(choices), 1, 0.75)
    return f' (did you mean "{close[0]}"?)' if close else ""


def bad_version(doc: Where, version: Any) -> Finding:
    return _config(
        error,
        "config.invalid",
        f"version {version!r} is not a config version PicoClaw knows (0 to 3)",
        "PicoClaw stops with 'unsupported config version'. lmdoctor reads the file as "
        "version 3 (or 0 if unsure) to check the rest.",
        'Set "version": 3 (the current schema), or remove "version" for a version 0 file.',
        **_evidence(doc, ("version",), version=repr(version), blocks_load=True),
    )


def wrong_type(doc: Where, path: JsonPath, value: Any, spec: FieldType) -> Finding:
    _, expected, example = spec
    return _config(
        error,
        "config.invalid",
        f"{dotted(path)} must be {expected}, not {describe(value)}",
        f"PicoClaw decodes {doc.name} into typed fields and refuses to load it when a value "
        "has the wrong type.",
        f"Change {dotted(path)} ({doc.at(path)}) to {expected}, e.g. {example}.",
        **_evidence(doc, path, found=describe(value), blocks_load=True),
    )


def not_an_object(doc: Where, where: JsonPath, raw: Any) -> Finding:
    return _config(
        error,
        "config.invalid",
        f"{dotted(where)} is {describe(raw)}, not an entry object",
        "Each model_list entry is an object such as "
        '{"model_name": "lmstudio-local", "model": "lmstudio/<model id>"}; PicoClaw cannot '
        "decode this one and refuses to load the file.",
        f"Replace {dotted(where)} ({doc.at(where)}) with an entry object, or delete it.",
        **_evidence(doc, where, found=describe(raw), blocks_load=True),
    )


def required(doc: Where, where: JsonPath, key: str) -> Finding:
    example = '"lmstudio-local"' if key == "model_name" else '"lmstudio/openai/gpt-oss-20b"'
    why = (
        "agents refer to entries by model_name"
        if key == "model_name"
        else "model says which provider and model id to use"
    )
    return _config(
        error,
        "config.invalid",
        f"{dotted(where)}: {key} is required",
        f"PicoClaw stops with '{dotted(where)}: {key} is required': {why}.",
        f'Add "{key}": {example} to {dotted(where)} ({doc.at(where)}).',
        **_evidence(
            doc,
            where,
            missing=key,
            blocks_load=True,
            picoclaw_error=f"{dotted(where)}: {key} is required",
        ),
    )


def model_string_problems(doc: Where, where: JsonPath, model: str) -> list[Finding]:
    # ModelConfig.Validate (pkg/config/config.go:824-839) and its messages
    if any(c in " \t\n\r" for c in model):
        problem, said = "contains whitespace", "model identifier contains whitespace"
    elif model.startswith("/"):
        problem, said = 'starts with "/"', "model identifier must not start with /"
    elif "//" in model:
        problem, said = 'contains "//"', "model identifier must not contain //"
    else:
        return []
    message = f"{dotted(where)}: {said}"
    path = (*where, "model")
    return [
        _config(
            error,
            "config.invalid",
            f'{dotted(path)} "{model}" {problem}',
            f"PicoClaw validates every entry after loading and stops with '{message}'.",
            f"Write {dotted(path)} ({doc.at(path)}) as provider/model-id with no spaces or "
            'empty parts, e.g. "lmstudio/openai/gpt-oss-20b".',
            **_evidence(doc, path, model=model, blocks_load=True, picoclaw_error=message),
        )
    ]


def provider_problems(
    doc: Where, where: JsonPath, model: str, explicit: str, res: providers.Resolution
) -> list[Finding]:
    if explicit and not res.known:
        path = (*where, "provider")
        return [
            _config(
                error,
                "config.unknown_provider",
                f'{dotted(path)} "{explicit}" is not a provider PicoClaw knows: it fails '
                f'with unknown protocol "{res.provider}"',
                "An explicit provider must be one of PicoClaw's provider ids or aliases. There "
                "is no llamacpp provider: any OpenAI-compatible server works as openai, vllm "
                "or lmstudio with its api_base.",
                f"Set {dotted(path)} ({doc.at(path)}) to a known provider"
                f'{_near(explicit, providers.names())}, e.g. "openai" with "api_base" '
                "for any OpenAI-compatible server.",
                **_evidence(doc, path, provider=explicit, startup_check=True),
            )
        ]
    if res.unknown_prefix is None:
        return []
    path = (*where, "model")
    url = urls.join(res.api_base, "chat/completions") if res.api_base else "(no api_base)"
    rest = model.partition("/")[2]
    return [
        _config(
            warn,
            "config.unknown_provider",
            f'{dotted(path)} "{model}": "{res.unknown_prefix}" is not a provider PicoClaw '
            "knows, so it sends the whole string to OpenAI",
            "PicoClaw cuts the model at the first '/' only when the part before it is a known "
            f'provider; otherwise the provider is openai and the model id is "{model}" '
            f"unchanged. The request goes to {url}.",
            f'If "{res.unknown_prefix}" is meant as the provider, use a known one'
            f"{_near(res.unknown_prefix, providers.names())} "
            f'(e.g. "lmstudio/{rest}" or "ollama/{rest}"); if "{model}" is the id the server '
            'really serves, set "provider": "openai" and "api_base" to make that explicit.',
            **_evidence(doc, path, prefix=res.unknown_prefix, model_id=model, request_url=url),
        )
    ]


def base_not_url(doc: Where, where: JsonPath, base: str) -> Finding:
    path = (*where, "api_base")
    suggestion = "http://" + base.strip().split("://")[-1]
    return _config(
        error,
        "config.invalid",
        f'{dotted(path)} "{base}" is not an http:// or https:// URL',
        'PicoClaw posts to api_base + "/chat/completions"; without a scheme and host Go\'s '
        "HTTP client fails with 'unsupported protocol scheme'.",
        f'Set {dotted(path)} ({doc.at(path)}) to a full URL, e.g. "{suggestion}" '
        "(https:// for a TLS endpoint).",
        **_evidence(doc, path, api_base=base),
    )


def base_has_endpoint(doc: Where, where: JsonPath, base: str) -> Finding:
    path = (*where, "api_base")
    trimmed = base[: -len("/chat/completions")]
    return _config(
        error,
        "config.invalid",
        f'{dotted(path)} "{base}" already ends in /chat/completions',
        "PicoClaw appends /chat/completions itself, so it posts to "
        f"{base}/chat/completions, which no server serves.",
        f'Set {dotted(path)} ({doc.at(path)}) to "{trimmed}".',
        **_evidence(doc, path, api_base=base),
    )


def azure_needs_base(doc: Where, where: JsonPath) -> list[Finding]:
    return [
        _config(
            error,
            "config.invalid",
            f"{dotted(where)}: the azure provider needs api_base",
            "PicoClaw stops with 'api_base is required for azure protocol'.",
            f'Add "api_base": "https://<your-resource>.openai.azure.com" to {dotted(where)} '
            f"({doc.at(where)}).",
            **_evidence(doc, where, startup_check=True),
        )
    ]


def key_or_base_required(
    doc: Where, where: JsonPath, res: providers.Resolution, configured_base: str
) -> list[Finding]:
    provider = providers.lookup(res.provider)
    if provider is None or provider.key_optional:
        return []
    if res.protocol == providers.OPENAI_COMPAT and not configured_base:
        why = (
            f"PicoClaw fails with 'api_key or api_base is required for HTTP-based protocol "
            f'"{res.provider}"\' and never sends a request.'
        )
    elif res.protocol == providers.ANTHROPIC_MESSAGES:
        why = "PicoClaw fails with 'api_key is required for anthropic protocol'."
    else:
        return []
    return [
        _config(
            error,
            "config.invalid",
            f"{dotted(where)} ({res.provider}): no API key"
            + ("" if configured_base else " and no api_base"),
            why,
            f'For a local server add "api_base": "http://<host>:<port>/v1" to {dotted(where)} '
            f"({doc.at(where)}); for {res.provider}'s cloud put the key in {SECURITY_FILE}: "
            'model_list: {<model_name>: {api_keys: ["..."]}}.',
            **_evidence(doc, where, provider=res.provider, startup_check=True),
        )
    ]


def key_unresolved(
    doc: Where, where: JsonPath, source: str, index: int, count: int, problem: keys.KeyProblem
) -> Finding:
    which = f"key {index + 1} of {count}" if count > 1 else "the key"
    make = error if problem.fatal else info
    return _config(
        make,
        "config.key_unresolved",
        f"{dotted(where)}: {problem.summary}",
        f"{which.capitalize()} comes from {source}.",
        problem.fix,
        **_evidence(
            doc,
            where,
            key_source=source,
            key_index=index,
            blocks_load=problem.fatal,
            **(problem.evidence or {}),
        ),
    )


def unknown_field(
    doc: Where, path: JsonPath, message: str, at: JsonPath, known: list[str]
) -> Finding:
    """One path of PicoClaw's 'contains unknown field(s)' (pkg/config/diagnostics.go:15-34)."""
    key = str(path[-1]) if path else ""
    top = path[:1] == (key,)
    if key in RENAMED_FIELDS and (key != "model" or path[:2] == ("agents", "defaults")):
        how = RENAMED_FIELDS[key]
    elif key == "web_search" and path[:1] == ("model_list",):
        how = (
            'delete "web_search" from providers.openai (PicoClaw copies it into the migrated '
            "model_list entry, whose type has no such field)"
        )
    else:
        how = (
            f'remove "{key}" or correct its spelling{_near(key, known)} (names are case-sensitive)'
        )
    detail = f"PicoClaw (v0.2.8 and later) decodes the file strictly and stops with '{message}'."
    if key in ("api_key", "model", "channels", "providers"):
        detail += (
            " Migration renames these only in version 0-2 files and never deletes providers, "
            "so a leftover one stops the load."
        )
    where = dotted(path[:-1]) if not top else "the top level"
    return _config(
        error,
        "config.unknown_field",
        f"{dotted(path)}: PicoClaw rejects this field and refuses to load {doc.name}",
        detail,
        f"In {where} ({doc.at(at)}) {how}.",
        **{
            **_evidence(doc, at, blocks_load=True),
            "field": dotted(path),
            "picoclaw_error": message,
        },
    )


def legacy(doc: Where, migrated: bool) -> Finding:
    folder = doc.path.resolve().parent  # "config.json" has parent ".": name the real folder
    writable = os.access(folder, os.W_OK) and os.access(doc.path, os.W_OK)
    detail = (
        f"On start PicoClaw migrates version {doc.version} files to version 3 "
        "(agents.defaults.model → model_name, api_key → api_keys, channels → channel_list"
        + (", providers → model_list" if migrated else "")
        + f"), keeps the old file as {doc.name}.YYYYMMDD.bak, rewrites {doc.name} and moves "
        f"keys into {SECURITY_FILE}. That needs write access to {folder}"
        + ("." if writable else ", which this user does not have (a read-only mount?).")
    )
    return _config(
        info,
        "config.legacy",
        f"{doc.name} is a version {doc.version} config: PicoClaw will migrate and rewrite it",
        detail,
        "Nothing is required if PicoClaw may write the folder. To migrate by hand: set "
        '"version": 3, rename agents.defaults.model to model_name and every '
        'model_list[].api_key to "api_keys": ["..."].',
        path=str(doc.path),
        version=doc.version,
        writable=writable,
        line=doc.line(("version",)),
    )


def dropped_provider(doc: Where, key: str) -> Finding:
    path = ("providers", key)
    example = (
        '{"model_name": "lmstudio-local", "model": "lmstudio/<model id>", '
        '"api_base": "http://localhost:1234/v1"}'
        if key.lower() == "lmstudio"
        else f'{{"model_name": "{key}", "model": "<provider>/<model id>", "api_base": "..."}}'
    )
    return _config(
        warn,
        "config.unknown_provider",
        f"providers.{key} is not a legacy provider PicoClaw migrates: it is silently dropped",
        "When PicoClaw migrates a version 0 providers block into model_list it only knows "
        "openai, anthropic, litellm, openrouter, groq, zhipu, vllm, gemini, nvidia, ollama, "
        "moonshot, shengsuanyun, deepseek, cerebras, vivgrid, volcengine, github_copilot, "
        "antigravity, qwen, mistral, avian, minimax, longcat, modelscope and novita.",
        f"Replace providers.{key} ({doc.at(path)}) with a model_list entry: {example}.",
        **_evidence(doc, path, provider=key),
    )


def providers_ignored(doc: Where) -> Finding:
    return _config(
        info,
        "config.legacy",
        "the legacy providers block is ignored",
        "PicoClaw migrates providers only in a version 0 file without model_list in which "
        "some provider sets api_key, api_base, connect_mode or auth_method.",
        'Move what you need into model_list entries and delete "providers".',
        **_evidence(doc, ("providers",)),
    )


def unknown_model_name(
    path: Path, ref: str, referenced_at: str, line: int | None, names: list[str]
) -> Finding:
    """An agent reference (or --model NAME) that no model_list entry answers to."""
    close = difflib.get_close_matches(ref, names, 3, 0.5)
    choices = list(dict.fromkeys(close + names))[:8]
    listed = ", ".join(choices) if choices else "(model_list has no usable entry)"
    if referenced_at == "--model":
        summary = f"--model {ref}: no model_list entry has this model_name"
        fix = f"Use one of: {listed}."
    else:
        summary = f'{referenced_at} "{ref}" matches no model_list entry'
        fix = (
            f'Add a model_list entry with "model_name": "{ref}", or change {referenced_at}'
            f"{f' (line {line})' if line else ''} to one of: {listed}."
        )
    return _config(
        error,
        "config.unknown_model_name",
        summary,
        "PicoClaw looks the name up among model_list[].model_name, then as a raw "
        "provider/model or model id, finds nothing and fails with "
        f"'model \"{ref}\" not found in model_list'.",
        fix,
        path=str(path),
        reference=ref,
        referenced_at=referenced_at,
        line=line,
        close=close,
        model_names=names,
    )


def builtin_model_list(doc: Where, tiny: bool) -> Finding:
    why = (
        f"{doc.name} is missing or has 10 bytes or less: PicoClaw runs on DefaultConfig() "
        "(pkg/config/config.go:1269-1277, 1290-1293), without .security.yml or environment "
        "overrides, and agents.defaults.model_name is unset."
        if tiny
        else "The file gives no model_list entry, so PicoClaw keeps the 29 entries of its "
        "built-in DefaultConfig (pkg/config/defaults.go:66-299, migration.go:95-106): "
        "lmstudio-local (http://localhost:1234/v1), llama3 (Ollama), local-model (vLLM :8000) "
        "and cloud models."
    )
    return _config(
        info,
        "config.builtin_models",
        "no model_list: PicoClaw uses its built-in model list",
        why,
        "Nothing to change if a built-in entry fits (set agents.defaults.model_name to its "
        'model_name, e.g. "lmstudio-local"); otherwise add your own model_list entries.',
        path=str(doc.path),
        line=doc.line(("model_list",)),
    )


def tool_schema_problems(doc: Where, where: JsonPath, value: Any) -> list[Finding]:
    """ModelConfig.Validate → NormalizeToolSchemaTransform
    (pkg/providers/common/tool_schema_transform.go:16-25)."""
    if not isinstance(value, str) or value.strip().lower() in (
        "",
        "off",
        "none",
        "native",
        "simple",
        "basic",
        "strict",
        "flat",
    ):
        return []
    path = (*where, "tool_schema_transform")
    message = (
        f'{dotted(where)}: unsupported tool_schema_transform "{value}" (supported: off, simple)'
    )
    return [
        _config(
            error,
            "config.invalid",
            message,
            f"PicoClaw validates every entry after loading and stops with '{message}'.",
            f'Set {dotted(path)} ({doc.at(path)}) to "simple" or remove it.',
            **_evidence(doc, path, blocks_load=True, picoclaw_error=message),
        )
    ]


def security_emptied(doc: Where, where: JsonPath, source: str) -> Finding:
    return _config(
        warn,
        "config.security_no_keys",
        f"{dotted(where)}: {source} has no api_keys, so the entry is sent without a key",
        f"PicoClaw replaces an entry's keys with those of its {SECURITY_FILE} entry, even an "
        "empty one such as `name:0: {}` (which PicoClaw's own save writes); the api_keys in "
        f"{doc.name} are then not used (pkg/config/config_struct.go:326-343).",
        f'Put the key under {source}: api_keys: ["..."], or delete that empty entry.',
        **_evidence(doc, where, security_entry=source),
    )


def startup_failed(doc: Where, message: str, where: str, line: int | None) -> Finding:
    return _config(
        error,
        "config.startup_failed",
        f"PicoClaw will not start: {message.splitlines()[0]}",
        f"`picoclaw agent` and `picoclaw gateway` stop with: {message}",
        _startup_fix(message, where),
        path=str(doc.path),
        field=where,
        line=line,
        picoclaw_error=message,
        blocks_load=True,
    )


def _startup_fix(message: str, where: str) -> str:
    if "api_key is required" in message:
        return (
            f"Give {where} a key (api_keys, or {SECURITY_FILE}); this protocol needs one even "
            "with api_base."
        )
    if "api_key or api_base is required" in message:
        return f'Add "api_base" (a local server) or a key to {where}.'
    if "unknown protocol" in message:
        return (
            f"In {where} use a chat provider PicoClaw knows (elevenlabs is speech only); any "
            'OpenAI-compatible server works as "provider": "openai" with its api_base.'
        )
    if "api_base is required for azure" in message:
        return f'Add "api_base": "https://<resource>.openai.azure.com" to {where}.'
    if message.startswith("env:"):
        return "Set the variable to a whole number, or unset it."
    return f"Fix {where}."


def model_not_in_list(
    path: Path, ref: str, where: str, line: int | None, names: list[str], message: str
) -> Finding:
    """agents.defaults.model_name must name an entry exactly (legacy_provider.go:28-31)."""
    finding = unknown_model_name(path, ref, where, line, names)
    shown = f'"{ref}"' if ref.strip() else "(unset)" if not ref else f'"{ref}" (only spaces)'
    detail = (
        f"PicoClaw looks {where} up among model_list[].model_name only (no provider/model or "
        f"bare id here) and stops with: {message}"
    )
    fix = (
        finding.fix
        if ref.strip()
        else (
            f"Set {where} to one of: "
            + (", ".join(names[:8]) if names else "the model_name of a model_list entry")
            + "."
        )
    )
    return replace(
        finding,
        summary=f"{where} {shown} is not a model_name in model_list: PicoClaw will not start",
        detail=detail,
        fix=fix,
        evidence={**finding.evidence, "picoclaw_error": message, "blocks_load": True},
    )


def model_disabled(doc: Where, where: str, ref: str, why: str, consequence: str = "") -> Finding:
    return _config(
        warn,
        "config.model_disabled",
        f'{where} "{ref}": {why}',
        consequence
        or "PicoClaw logs a warning and carries on without it (pkg/agent/instance.go:216-254).",
        f"Set {where} to the model_name of a usable model_list entry.",
        path=str(doc.path),
        field=where,
        reference=ref,
    )


def model_ignored(doc: Where, path: JsonPath) -> Finding:
    return _config(
        info,
        "config.model_ignored",
        f"{dotted(path)} is not used by PicoClaw",
        "PicoClaw decodes agents.list[].subagents.model but never reads it: a subagent runs "
        "as the agent it targets, with that agent's model (pkg/agent/registry.go:120-135).",
        f"Set the model on the target agent (agents.list[].model) instead; {dotted(path)} "
        "can be removed.",
        **_evidence(doc, path),
    )


def not_an_entry(
    doc: Where, where: str, line: int | None, ref: str, request: Any, names: list[str]
) -> Finding:
    """A fallback (or image model) that names no entry: PicoClaw sends it as a model id to the
    primary's endpoint with the primary's key (pkg/agent/pipeline_llm.go:693-709)."""
    close = difflib.get_close_matches(ref, names, 3, 0.5)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    return _config(
        warn,
        "config.model_not_an_entry",
        f'{where} "{ref}" is not a model_name: PicoClaw sends it as model "{request.model}" '
        f"to {request.endpoint_from}'s endpoint",
        f"{request.sentence()}, with that entry's key. It works only if that server serves "
        f"a model with this id{hint}.",
        f"Set {where}{f' (line {line})' if line else ''} to a model_name of model_list{hint}, "
        f'or add an entry named "{ref}".',
        path=str(doc.path),
        field=where,
        line=line,
        reference=ref,
        close=close,
        model_names=names,
    )


def id_collision(doc: Where, name: str, named: str, request: Any) -> Finding:
    """CreateProvider's model id, looked up again by the agent, first matches another entry
    (pkg/agent/instance.go:327-361, model_resolution.go:84-128)."""
    return _config(
        warn,
        "config.id_collision",
        f'agents.defaults.model_name "{name}" is {named}, but PicoClaw sends through '
        f"{request.endpoint_from}",
        "PicoClaw replaces agents.defaults.model_name with the entry's model id, then looks "
        "that id up again: the first entry whose model_name, model or id matches wins. "
        f"{request.sentence()}, with {request.endpoint_from}'s key.",
        f"Give {named} a model id that no earlier entry uses (or move it before "
        f"{request.endpoint_from}), or rename the entry whose model_name equals the id.",
        path=str(doc.path),
        named=named,
        used=request.endpoint_from,
    )
