"""PicoClaw config.json (+ .security.yml) → Targets.

read (bounded, with positions) → parse → migrate/normalise (versions 0–3, legacy `providers`)
→ one Target per model_list entry (provider resolution, keys, findings) → the agents'
references resolved as PicoClaw does → Config.select() for the CLI.

Facts: ../shared/reference/picoclaw-config.md §1–2. File-level problems end up in
Config.findings; an entry's problems in its Target.issues; a file that cannot be read or
parsed at all raises ConfigError (one line: path:line:column: message).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lmdoctor import redact, urls
from lmdoctor.config import keys, problems, providers, schema
from lmdoctor.config.reading import (
    MAX_CONFIG_BYTES,
    PICOCLAW_SMALL_FILE,
    ConfigError,
    JsonPath,
    Positions,
    decode_utf8,
    describe,
    first_value_position,
    parse_json,
    read_bounded,
    read_security,
)
from lmdoctor.findings import Finding
from lmdoctor.secret import Secret
from lmdoctor.system import System
from lmdoctor.system import current as current_system
from lmdoctor.target import DEFAULT_MAX_TOKENS, DEFAULT_REQUEST_TIMEOUT_S, Target

__all__ = ["Config", "ConfigError", "adhoc_target", "load", "locate", "parse"]

# ------------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class _Entry:
    """A model_list entry as the agents' references see it."""

    model_name: str
    model: str
    provider: str
    split_id: str  # the id after the first split
    target: Target


@dataclass
class Config:
    path: Path
    version: int
    targets: list[Target]  # one per model_list entry (and per unresolved agent reference)
    agent_models: list[str]  # model_names the agents use, in order, deduplicated
    findings: list[Finding] = field(default_factory=list)  # file-level problems
    entries: list[Target] = field(default_factory=list)  # one per model_list entry
    agent_targets: list[Target] = field(default_factory=list)  # what the agents use
    _index: list[_Entry] = field(default_factory=list, repr=False)

    # select() returns the chosen endpoint targets, preceded by a Target(kind="file") that
    # carries `findings` when there are any, so the config check reports them like any other.

    def select(self, names: list[str] | None = None, every: bool = False) -> list[Target]:
        if names:
            chosen = [t for name in names for t in self._named(name)]
        elif every:
            chosen = self.entries + self.agent_targets  # unresolved agent references too
        else:
            chosen = self.agent_targets or list(self.entries)
        chosen = _unique(chosen)
        file_target = self._file_target(chosen)
        return [file_target, *chosen] if file_target else chosen

    def _named(self, name: str) -> list[Target]:
        found = [e.target for e in _lookup(name, self._index)]
        if found:
            return found
        names = [e.model_name for e in self._index if e.model_name]
        finding = problems.unknown_model_name(self.path, name, "--model", None, names)
        return [_unresolved_target(self.path, name, "", None, finding)]

    def _file_target(self, chosen: list[Target]) -> Target | None:
        """The file's own problems, plus the problems of entries not chosen that stop PicoClaw
        from loading the whole file (so they matter whichever model is checked)."""
        issues = list(self.findings)
        chosen_ids = {id(t) for t in chosen}
        for target in self.entries:
            if id(target) not in chosen_ids:
                issues += [f for f in target.issues if f.evidence.get("blocks_load")]
        if not issues:
            return None
        return Target(
            name=self.path.name,
            kind="file",
            config_path=self.path,
            issues=tuple(issues),
            sources={"config": str(self.path)},
        )


def _unique(targets: list[Target]) -> list[Target]:
    seen: set[int] = set()
    result = []
    for target in targets:
        if id(target) not in seen:
            seen.add(id(target))
            result.append(target)
    return result


# ---------------------------------------------------------------------------------- lookup


def locate(
    explicit: str | None = None,
    env: Mapping[str, str] = os.environ,
    system: System | None = None,
) -> tuple[Path | None, list[Path]]:
    """(the config file to use or None, every place looked at in order).

    Like PicoClaw's GetConfigPath, the first location that is *set* decides: with
    $PICOCLAW_HOME set, ~/.picoclaw is not consulted (PicoClaw would not read it either).
    An explicit path is returned even if missing, so that load() names the problem.
    The home folder follows `system`'s rule (Go's os.UserHomeDir: %USERPROFILE% on Windows).
    """
    system = system or current_system()
    if explicit:
        return Path(explicit), [Path(explicit)]
    looked: list[Path] = []
    if env.get("PICOCLAW_CONFIG"):
        candidate = Path(env["PICOCLAW_CONFIG"])
    elif env.get("PICOCLAW_HOME"):
        candidate = Path(system.path.join(env["PICOCLAW_HOME"], "config.json"))
    else:
        home = system.home(env) or (str(Path.home()) if not system.simulated else "~")
        candidate = Path(system.path.join(home, ".picoclaw", "config.json"))
    looked.append(candidate)
    try:
        candidate.stat()
    except PermissionError:
        return candidate, looked  # it may exist: load() says it cannot be read
    except OSError:
        return None, looked
    return candidate, looked


def load(
    path: Path | str, env: Mapping[str, str] = os.environ, system: System | None = None
) -> Config:
    """Read config.json and the .security.yml beside it. Raises ConfigError only."""
    path = Path(path)
    data = read_bounded(path, MAX_CONFIG_BYTES, "config")
    return parse(data, path, env, system)


def parse(
    data: bytes, path: Path, env: Mapping[str, str] = os.environ, system: System | None = None
) -> Config:
    """The config in `data` as if read from `path` (its folder holds .security.yml)."""
    if len(data.strip()) == 0 or len(data) <= PICOCLAW_SMALL_FILE:
        what = "empty" if not data.strip() else f"only {len(data)} bytes"
        raise ConfigError(
            path,
            f"the file is {what}: PicoClaw ignores a config of 10 bytes or less and runs on "
            "its built-in default config; write your model_list and agents.defaults.model_name "
            "into it (`picoclaw onboard` creates one)",
            1,
            1,
        )
    text = decode_utf8(path, data)
    document = parse_json(path, text)
    if not isinstance(document, dict):
        line, column = first_value_position(text)
        raise ConfigError(
            path,
            f"the top level must be a JSON object {{...}}, found {describe(document)}",
            line,
            column,
        )
    positions = Positions(text)
    models = document.get("model_list")
    if models is not None and not isinstance(models, list):
        line, column = positions.find(("model_list",)) or (1, 1)
        raise ConfigError(
            path,
            f"model_list must be a list of entries [{{...}}, ...], found {describe(models)}",
            line,
            column,
        )
    security = read_security(path.parent / schema.SECURITY_FILE)
    return _Doc(path, document, positions, security, env, system or current_system()).build()


# ----------------------------------------------------------------------------- the document


class _Doc:
    """One parse of one config file; collects file-level findings while it builds targets."""

    def __init__(
        self,
        path: Path,
        data: dict[str, Any],
        positions: Positions,
        security: dict[str, list[str]],
        env: Mapping[str, str],
        system: System,
    ) -> None:
        self.path, self.data, self.positions = path, data, positions
        self.security, self.env, self.system = security, env, system
        for secured in security.values():  # every key is a secret, used or not
            for value in secured:
                _remember(value)
        self.findings: list[Finding] = []
        self.version = self._version()
        self.max_tokens, self.context_window = DEFAULT_MAX_TOKENS, 0

    # -- helpers

    @property
    def name(self) -> str:
        return self.path.name

    def line(self, path: JsonPath) -> int | None:
        return self.positions.line(path)

    def at(self, path: JsonPath) -> str:
        line = self.line(path)
        return f"{self.name} line {line}" if line else self.name

    def file_finding(self, finding: Finding) -> None:
        self.findings.append(finding)

    # -- the steps

    def build(self) -> Config:
        defaults = self._agent_defaults()
        raw_entries, migrated = self._raw_entries(defaults)
        self._legacy_notes(migrated)
        if self.version == schema.CURRENT_VERSION:
            self._strict_fields()
        name_index = _name_index(raw_entries)
        index = [
            self._entry(raw, where, sec_name)
            for (raw, where), sec_name in zip(raw_entries, name_index, strict=True)
        ]
        if not index:
            self.file_finding(problems.empty_model_list(self))
        refs = self._agent_refs(defaults)
        agent_targets = self._resolve_refs(refs, index)
        entries = [e.target for e in index]
        entry_ids = {id(t) for t in entries}
        unresolved = [t for t in agent_targets if id(t) not in entry_ids]
        self.findings.sort(key=lambda f: f.evidence.get("line") or 0)
        return Config(
            path=self.path,
            version=self.version,
            targets=entries + unresolved,
            agent_models=list(dict.fromkeys(ref for ref, _ in refs)),
            findings=self.findings,
            entries=entries,
            agent_targets=agent_targets,
            _index=index,
        )

    def _version(self) -> int:
        version = self.data.get("version", 0)
        if schema.is_int(version) and 0 <= version <= schema.CURRENT_VERSION:
            return int(version)
        self.file_finding(problems.bad_version(self, version))
        return schema.CURRENT_VERSION + 1 if schema.is_int(version) and version > 0 else 0

    # -- agents.defaults

    def _agent_defaults(self) -> dict[str, Any]:
        agents = self.data.get("agents")
        if agents is None:
            return {}
        if not isinstance(agents, dict):
            self.file_finding(problems.wrong_type(self, ("agents",), agents, schema.OBJECT))
            return {}
        defaults = agents.get("defaults")
        if defaults is None:
            return {}
        if not isinstance(defaults, dict):
            self.file_finding(
                problems.wrong_type(self, ("agents", "defaults"), defaults, schema.OBJECT)
            )
            return {}
        valid = {}
        for key, value in defaults.items():
            spec = schema.AGENT_DEFAULTS_TYPES.get(key)
            if spec and value is not None and not spec[0](value):
                self.file_finding(
                    problems.wrong_type(self, ("agents", "defaults", key), value, spec)
                )
            else:
                valid[key] = value
        if schema.is_int(valid.get("max_tokens")) and valid["max_tokens"] > 0:
            self.max_tokens = valid["max_tokens"]
        if schema.is_int(valid.get("context_window")) and valid["context_window"] > 0:
            self.context_window = valid["context_window"]
        return valid

    # -- model_list, or the legacy providers block migrated

    def _raw_entries(self, defaults: dict[str, Any]) -> tuple[list[tuple[Any, JsonPath]], bool]:
        models = self.data.get("model_list") or []
        entries: list[tuple[Any, JsonPath]] = [(m, ("model_list", i)) for i, m in enumerate(models)]
        legacy = self.data.get("providers")
        if entries or self.version != 0 or legacy is None:
            return entries, False
        if not isinstance(legacy, dict):
            self.file_finding(problems.wrong_type(self, ("providers",), legacy, schema.OBJECT))
            return entries, False
        for key in legacy:
            if key not in providers.LEGACY_KEYS:
                self.file_finding(problems.dropped_provider(self, key))
        if _providers_empty(legacy):
            return entries, False
        user_provider = defaults.get("provider") or ""
        user_model = defaults.get("model_name") or defaults.get("model") or ""
        return _migrate_providers(legacy, user_provider, user_model), True

    def _legacy_notes(self, migrated: bool) -> None:
        if self.version < schema.CURRENT_VERSION:
            self.file_finding(problems.legacy(self, migrated))
        if "providers" in self.data and not migrated and self.version < schema.CURRENT_VERSION:
            self.file_finding(problems.providers_ignored(self))

    def _strict_fields(self) -> None:
        for key in self.data:
            if key.lower() not in schema.TOP_LEVEL_FIELDS:
                self.file_finding(problems.unknown_field(self, (key,), schema.TOP_LEVEL_FIELDS))
        for i, raw in enumerate(self.data.get("model_list") or []):
            if isinstance(raw, dict):
                for key in raw:
                    if key.lower() not in schema.MODEL_FIELDS:
                        self.file_finding(
                            problems.unknown_field(
                                self, ("model_list", i, key), schema.MODEL_FIELDS
                            )
                        )
        agents = self.data.get("agents")
        raw_defaults = agents.get("defaults") if isinstance(agents, dict) else None
        for key in raw_defaults if isinstance(raw_defaults, dict) else ():
            known = key.lower() in schema.AGENT_DEFAULTS_FIELDS
            typo = difflib.get_close_matches(key.lower(), schema.AGENT_DEFAULTS_FIELDS, 1, 0.8)
            if key == "model" or (not known and typo):
                path = ("agents", "defaults", key)
                self.file_finding(problems.unknown_field(self, path, schema.AGENT_DEFAULTS_FIELDS))

    # -- one entry → one Target

    def _entry(self, raw: Any, where: JsonPath, sec_name: str) -> _Entry:
        label = problems.dotted(where)
        line = self.line(where)
        base_target = Target(
            name=label,
            api_base="",
            config_path=self.path,
            entry=label,
            line=line,
            max_tokens=self.max_tokens,
            context_window=self.context_window,
        )
        if not isinstance(raw, dict):
            issue = problems.not_an_object(self, where, raw)
            return _Entry("", "", "", "", replace(base_target, issues=(issue,)))
        issues: list[Finding] = []
        values = {}
        for key, value in raw.items():
            spec = schema.MODEL_FIELD_TYPES.get(key)
            if spec and value is not None and not spec[0](value):
                issues.append(problems.wrong_type(self, (*where, key), value, spec))
            elif value is not None:
                values[key] = value
        return self._resolved_entry(values, where, sec_name, base_target, issues)

    def _resolved_entry(
        self,
        values: dict[str, Any],
        where: JsonPath,
        sec_name: str,
        base: Target,
        issues: list[Finding],
    ) -> _Entry:
        label, origin = problems.dotted(where), f"{self.name} {problems.dotted(where)}"
        model_name, model = values.get("model_name", ""), values.get("model", "").strip()
        explicit = values.get("provider", "").strip()
        configured_base = values.get("api_base", "")
        reported = {f.evidence.get("field") for f in issues}  # wrong types, said already
        if not model_name.strip() and f"{label}.model_name" not in reported:
            issues.append(problems.required(self, where, "model_name"))
        if not model and f"{label}.model" not in reported:
            issues.append(problems.required(self, where, "model"))
        if not model:
            target = replace(base, name=model_name or label, issues=tuple(issues))
            return _Entry(model_name, "", "", "", target)
        issues += problems.model_string_problems(self, where, model)
        res = providers.resolve(model, explicit, configured_base, values.get("auth_method", ""))
        issues += problems.provider_problems(self, where, model, explicit, res)
        usable_base, base_issues = _check_api_base(self, where, configured_base, res)
        issues += base_issues
        secret, key_source, key_issues = self._key(values, where, sec_name)
        issues += key_issues
        if not secret and not key_issues:
            issues += problems.key_or_base_required(self, where, res, configured_base)
        sources = _sources(origin, values, res, key_source)
        timeout = values.get("request_timeout", 0)
        target = replace(
            base,
            name=model_name or label,
            provider=res.provider,
            api_base=usable_base,
            model=model,
            model_id=res.model_id,
            api_key=secret,
            sources=sources,
            request_timeout=float(timeout) if 0 < timeout <= 86400 else DEFAULT_REQUEST_TIMEOUT_S,
            proxy=values.get("proxy") or None,
            issues=tuple(issues),
        )
        return _Entry(model_name, model, res.provider, res.split_id, target)

    # -- keys: config.json, then .security.yml wins

    def _key(
        self, values: dict[str, Any], where: JsonPath, sec_name: str
    ) -> tuple[Secret | None, str, list[Finding]]:
        """The key PicoClaw would send (the first one), where it came from, and problems."""
        candidates = self._key_candidates(values, where, sec_name)
        if not candidates:
            return None, "", []
        issues = []
        first: Secret | None = None
        for i, (value, source) in enumerate(candidates):
            folder = self.system.path.dirname(str(self.path))  # a UNC share's folder too
            result = keys.resolve(value, folder, self.env, self.system)
            if isinstance(result, keys.KeyProblem):
                issues.append(
                    problems.key_unresolved(self, where, source, i, len(candidates), result)
                )
            elif i == 0:
                first = result
        value, source = candidates[0]
        form = keys.form(value)
        described = source if form == "plain" else f"{form} key in {source}"
        if len(candidates) > 1:
            described += f" (first of {len(candidates)}; the others are failover keys)"
        return first, described, issues

    def _key_candidates(
        self, values: dict[str, Any], where: JsonPath, sec_name: str
    ) -> list[tuple[str, str]]:
        """(key, source) in PicoClaw's order: api_key then api_keys, deduplicated; a
        non-empty .security.yml entry ("name:index", else "name") replaces them."""
        label = f"{self.name} {problems.dotted(where)}"
        candidates: list[tuple[str, str]] = []
        for spelling in ("api_key", "api_keys"):
            found = values.get(spelling)
            for value in [found] if isinstance(found, str) else found or []:
                if value and value not in [v for v, _ in candidates]:
                    _remember(value)
                    candidates.append((value, f"{label}.{spelling}"))
        for name in (sec_name, values.get("model_name", "")):
            secured = [v for v in self.security.get(name, []) if v]
            if name and secured:
                source = f"{schema.SECURITY_FILE} model_list.{name}"
                return [(v, source) for v in secured]
        return candidates

    # -- what the agents use

    def _agent_refs(self, defaults: dict[str, Any]) -> list[tuple[str, JsonPath]]:
        refs: list[tuple[str, JsonPath]] = []
        primary_key = "model_name" if defaults.get("model_name") else "model"
        if defaults.get(primary_key):
            refs.append((defaults[primary_key], ("agents", "defaults", primary_key)))
        for fallback in defaults.get("model_fallbacks") or []:
            if fallback:
                refs.append((fallback, ("agents", "defaults", "model_fallbacks")))
        agents = self.data.get("agents")
        listed = agents.get("list") if isinstance(agents, dict) else None
        if listed is not None and not isinstance(listed, list):
            self.file_finding(
                problems.wrong_type(
                    self, ("agents", "list"), listed, (schema.is_str, "a list", "[]")
                )
            )
            return refs
        for i, agent in enumerate(listed or []):
            refs += self._agent_model(agent, ("agents", "list", i, "model"))
        return [(ref.strip(), path) for ref, path in refs if ref.strip()]

    def _agent_model(self, agent: Any, path: JsonPath) -> list[tuple[str, JsonPath]]:
        model = agent.get("model") if isinstance(agent, dict) else None
        if model is None:
            return []
        if isinstance(model, str):
            return [(model, path)]
        shape = model if isinstance(model, dict) else {}
        primary, fallbacks = shape.get("primary"), shape.get("fallbacks")
        if (
            not isinstance(model, dict)
            or not (primary is None or isinstance(primary, str))
            or not (fallbacks is None or schema.is_str_list(fallbacks))
        ):
            spec = (schema.is_str, "a model_name or {primary, fallbacks}", '"lmstudio-local"')
            self.file_finding(problems.wrong_type(self, path, model, spec))
            return []
        found = [(primary, path)] if primary else []
        return found + [(f, path) for f in fallbacks or [] if f]

    def _resolve_refs(self, refs: list[tuple[str, JsonPath]], index: list[_Entry]) -> list[Target]:
        names = [e.model_name for e in index if e.model_name]
        targets: list[Target] = []
        seen: set[str] = set()
        for ref, path in refs:
            if ref in seen:
                continue
            seen.add(ref)
            found = [e.target for e in _lookup(ref, index)]
            if not found:
                line = self.line(path)
                where = problems.dotted(path)
                finding = problems.unknown_model_name(self.path, ref, where, line, names)
                found = [_unresolved_target(self.path, ref, where, line, finding, self)]
            targets += found
        return _unique(targets)


def _remember(value: str) -> None:
    """Register a plain key for scrubbing (file:// and enc:// values are not secrets)."""
    if not value.startswith((keys.FILE_PREFIX, keys.ENC_PREFIX)):
        redact.remember(value)


def _unresolved_target(
    path: Path,
    ref: str,
    where: str,
    line: int | None,
    finding: Finding,
    doc: _Doc | None = None,
) -> Target:
    """A reference that matches no entry: no endpoint to probe, only the finding."""
    return Target(
        name=ref,
        api_base="",
        config_path=path,
        entry=where,
        line=line,
        issues=(finding,),
        sources={"name": where or "--model"},
        max_tokens=doc.max_tokens if doc else DEFAULT_MAX_TOKENS,
        context_window=doc.context_window if doc else 0,
    )


# ------------------------------------------------------------------------- resolution helpers


def _name_index(entries: list[tuple[Any, JsonPath]]) -> list[str]:
    """PicoClaw's toNameIndex: "name:0", "name:1", ... in order of appearance."""
    counts: dict[str, int] = {}
    result = []
    for raw, _ in entries:
        name = raw.get("model_name") if isinstance(raw, dict) else None
        name = name if isinstance(name, str) else ""
        result.append(f"{name}:{counts.get(name, 0)}")
        counts[name] = counts.get(name, 0) + 1
    return result


def _lookup(ref: str, index: list[_Entry]) -> list[_Entry]:
    """lookupModelConfigByRef: a model_name (all entries sharing it: round-robin), else the
    first entry whose model, first-split id, or provider/id key equals the reference."""
    ref = ref.strip()
    named = [e for e in index if e.model_name == ref]
    if named:  # an unusable entry too: its config.invalid is the root cause to show
        return named
    usable = [e for e in index if e.model]
    prefix, slash, rest = ref.partition("/")
    ref_key = providers.model_key(prefix, rest) if slash and prefix and rest.strip() else ""
    for e in usable:
        if e.model == ref or e.split_id == ref:
            return [e]
        if ref_key and providers.model_key(e.provider, e.split_id) == ref_key:
            return [e]
    return []


def _providers_empty(legacy: dict[str, Any]) -> bool:
    """isProvidersMapEmpty: migrated only if some provider sets one of these."""
    markers = ("api_key", "api_base", "connect_mode", "auth_method")
    return not any(
        isinstance(p, dict) and any(m in p and p[m] != "" for m in markers) for p in legacy.values()
    )


def _migrate_providers(
    legacy: dict[str, Any], user_provider: str, user_model: str
) -> list[tuple[Any, JsonPath]]:
    """v0ProvidersMapToModelList: one entry per legacy provider that sets something."""
    entries: list[tuple[Any, JsonPath]] = []
    for row in providers.LEGACY_PROVIDERS:
        key = next((k for k in row.keys if isinstance(legacy.get(k), dict)), None)
        if key is None:
            continue
        block = legacy[key]
        entry = {f: block[f] for f in row.fields if not _v0_zero(block.get(f))}
        if not entry:
            continue
        entry["model_name"] = row.keys[0]
        model = row.default_model
        if user_provider in row.keys and user_model:
            model = user_model if "/" in user_model else f"{row.protocol}/{user_model}"
        entry["model"] = model
        entry[_MIGRATED] = "agents.defaults" if model != row.default_model else "default"
        entries.append((entry, ("providers", key)))
    return entries


# Marks an entry made from the legacy providers block, and where its model came from.
_MIGRATED = "\0migrated"


def _v0_zero(value: Any) -> bool:
    """v0IsZero: nil, "" and false are not copied; numbers always are."""
    return value is None or value == "" or value is False


def _sources(
    origin: str, values: dict[str, Any], res: providers.Resolution, key_source: str
) -> dict[str, str]:
    if values.get("provider"):
        provider = f"{origin}.provider"
    elif res.unknown_prefix or "/" not in values["model"]:
        provider = "default (no known provider prefix in model)"
    else:
        provider = f"{origin}.model prefix"
    if res.protocol not in providers.HTTP_PROTOCOLS:
        base = f"none: {res.provider} ({res.protocol}) is no HTTP endpoint lmdoctor can probe"
    elif values.get("api_base"):
        base = f"{origin}.api_base"
    elif res.api_base_is_default:
        base = f"default for {res.provider}"
    else:
        base = f"none ({res.provider} has no default api_base)"
    model = f"{origin}.model"
    if values.get(_MIGRATED):  # made by the providers migration, as PicoClaw does
        made_from = (
            "agents.defaults.provider and model"
            if values[_MIGRATED] == "agents.defaults"
            else "PicoClaw's default model for this provider"
        )
        model = f"{origin}, migrated to model_list (model from {made_from})"
        provider = f"{origin} (migrated)"
    model_id = model
    if res.stripped:
        model_id += " with " + " and ".join(f'"{p}/"' for p in res.stripped) + " stripped"
    sources = {"provider": provider, "api_base": base, "model": model}
    sources["model_id"] = model_id
    if key_source:
        sources["api_key"] = key_source
    if values.get("request_timeout"):
        sources["request_timeout"] = f"{origin}.request_timeout"
    if values.get("proxy"):
        sources["proxy"] = f"{origin}.proxy"
    return sources


def _check_api_base(
    doc: _Doc, where: JsonPath, configured: str, res: providers.Resolution
) -> tuple[str, list[Finding]]:
    """The api_base lmdoctor may probe ("" when none), and what is wrong with it."""
    if res.protocol not in providers.HTTP_PROTOCOLS:
        return "", []
    base = res.api_base
    if not base:
        return "", problems.azure_needs_base(doc, where) if res.protocol == providers.AZURE else []
    parts = urlsplit(base)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or " " in base:
        return "", [problems.base_not_url(doc, where, configured)]
    if base.lower().endswith("/chat/completions"):
        return base, [problems.base_has_endpoint(doc, where, base)]
    return base, []


# ----------------------------------------------------------------------------------- ad hoc


def adhoc_target(url: str, model: str | None, api_key: str | None) -> Target:
    """A target from the command line: `lmdoctor check URL --model ID [--api-key KEY]`."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(
            "the URL must start with http:// or https://, e.g. http://localhost:1234/v1"
        )
    try:
        port = (
            parts.port if ":" in parts.netloc.rsplit("]", 1)[-1] else None
        )  # ValueError for a port that is no number or out of range
    except ValueError:
        port = 0
    if port == 0:
        raise ValueError("the port must be a number from 1 to 65535")
    if not parts.hostname or "@" in parts.netloc or parts.query or parts.fragment:
        raise ValueError("give the URL as http(s)://host[:port][/path], without user, query or #")
    if any(c.isspace() for c in url):
        raise ValueError("the URL contains whitespace")
    sources = {"api_base": "command line", "provider": "command line (OpenAI-compatible)"}
    if model:
        sources["model_id"] = "--model"
    if api_key:
        sources["api_key"] = "--api-key"
    return Target(
        name=urls.display(url.rstrip("/")),
        provider="openai",
        api_base=url.rstrip("/"),
        model=model or "",
        model_id=model or "",
        api_key=Secret(api_key) if api_key else None,
        sources=sources,
    )
