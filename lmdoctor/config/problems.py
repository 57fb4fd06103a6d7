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
        **_evidence(doc, where, missing=key, blocks_load=True),
    )


def model_string_problems(doc: Where, where: JsonPath, model: str) -> list[Finding]:
    if any(c.isspace() for c in model):
        problem = "contains whitespace"
    elif model.startswith("/"):
        problem = 'starts with "/"'
    elif "//" in model:
        problem = 'contains "//"'
    else:
        return []
    path = (*where, "model")
    return [
        _config(
            error,
            "config.invalid",
            f'{dotted(path)} "{model}" {problem}',
            "PicoClaw validates model strings: no whitespace, no leading '/', no empty segment.",
            f"Write {dotted(path)} ({doc.at(path)}) as provider/model-id with no spaces or "
            'empty parts, e.g. "lmstudio/openai/gpt-oss-20b".',
            **_evidence(doc, path, model=model, blocks_load=True),
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
                **_evidence(doc, path, provider=explicit),
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
            **_evidence(doc, where),
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
            **_evidence(doc, where, provider=res.provider),
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


def unknown_field(doc: Where, path: JsonPath, known: frozenset[str]) -> Finding:
    key = str(path[-1])
    if key in RENAMED_FIELDS and not (key == "model" and path[:2] != ("agents", "defaults")):
        how = RENAMED_FIELDS[key]
    else:
        how = f'remove "{key}" or correct its spelling{_near(key, known)}'
    detail = (
        "Version 3 files are decoded strictly: PicoClaw stops with "
        f"'{doc.name} contains unknown field(s): {dotted(path)}'."
    )
    if key in ("api_key", "model", "channels", "providers"):
        detail += " Versions 0 to 2 were migrated; version 3 keeps only the new names."
    where = dotted(path[:-1]) or "the top level"
    return _config(
        error,
        "config.unknown_field",
        f"{dotted(path)}: PicoClaw rejects this field and refuses to load {doc.name}",
        detail,
        f"In {where} ({doc.at(path)}) {how}.",
        **_evidence(doc, path, blocks_load=True),
    )


def legacy(doc: Where, migrated: bool) -> Finding:
    folder = doc.path.parent
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


def empty_model_list(doc: Where) -> Finding:
    return _config(
        error,
        "config.invalid",
        "model_list is empty: PicoClaw has no model to use",
        "PicoClaw stops with 'no providers configured. Please add entries to model_list in "
        "your config'.",
        'Add an entry, e.g. {"model_name": "lmstudio-local", "model": "lmstudio/<model id>"}, '
        "and set agents.defaults.model_name to its model_name.",
        **_evidence(doc, ("model_list",)),
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
