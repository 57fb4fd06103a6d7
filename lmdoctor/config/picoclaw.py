"""PicoClaw config.json (+ .security.yml) → Targets.

read (bounded, with positions) → parse → migrate/normalise (versions 0–3, legacy `providers`)
→ one Target per model_list entry (provider resolution, keys, findings) → the agents'
references resolved as PicoClaw does → Config.select() for the CLI.

Facts: ../shared/reference/picoclaw-config.md §1–2. File-level problems end up in
Config.findings; an entry's problems in its Target.issues; a file that cannot be read or
parsed at all raises ConfigError (one line: path:line:column: message).
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lmdoctor import redact
from lmdoctor.config import keys, problems, providers, replay, schema, strict
from lmdoctor.config.adhoc import adhoc_target
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
from lmdoctor.target import (
    DEFAULT_MAX_TOKENS,
    DEFAULT_REQUEST_TIMEOUT_S,
    VOICE_WIRES,
    Request,
    Target,
)

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
    values: dict[str, Any] = field(default_factory=dict)
    keys: tuple[tuple[Secret, str], ...] = ()  # every resolved key, PicoClaw's order
    builtin: bool = False  # one of PicoClaw's DefaultConfig entries


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
    client: str = ""  # which PicoClaw rules were replayed (replay.Version.describe())

    # select() returns the chosen endpoint targets, preceded by a Target(kind="file") that
    # carries `findings` when there are any, so the config check reports them like any other.

    def select(self, names: list[str] | None = None, every: bool = False) -> list[Target]:
        if names:
            chosen = [t for name in names for t in self._named(name)]
        elif every:  # each entry, as the agents send to it when they do; then the rest
            replayed: dict[tuple[str, str], Target] = {}
            for t in self.agent_targets:
                if t.request is not None:
                    replayed.setdefault((t.request.endpoint_from, t.request.key_from), t)
            chosen = [
                replayed.get((t.request.endpoint_from, t.request.key_from), t) if t.request else t
                for t in self.entries
            ]
            chosen += self.agent_targets
        else:
            chosen = self.agent_targets or list(self.entries)
        chosen = _unique(chosen)
        file_target = self._file_target(chosen)
        return [file_target, *chosen] if file_target else chosen

    def _named(self, name: str) -> list[Target]:
        found = [e.target for e in _lookup(name, self._index)]
        if found:
            return found
        names = [e.model_name for e in self._index if e.model_name and not e.builtin]
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
    path: Path | str,
    env: Mapping[str, str] = os.environ,
    system: System | None = None,
    version: replay.Version | None = None,
) -> Config:
    """Read config.json and the .security.yml beside it. Raises ConfigError only.
    `version`: the PicoClaw rules to replay; by default `picoclaw version` if on PATH."""
    path = Path(path)
    data = read_bounded(path, MAX_CONFIG_BYTES, "config")
    return parse(data, path, env, system, version)


def missing(
    path: Path | str,
    env: Mapping[str, str] = os.environ,
    system: System | None = None,
    version: replay.Version | None = None,
) -> Config:
    """What PicoClaw runs on when the config file does not exist: DefaultConfig(), without
    .security.yml or env overrides (pkg/config/config.go:1269-1277)."""
    rules = version or replay.detect_version(env)
    return _Doc(Path(path), {}, Positions(), {}, {}, system or current_system(), rules, -1).build()


def parse(
    data: bytes,
    path: Path,
    env: Mapping[str, str] = os.environ,
    system: System | None = None,
    version: replay.Version | None = None,
) -> Config:
    """The config in `data` as if read from `path` (its folder holds .security.yml)."""
    text = decode_utf8(path, data)
    if not text.strip():
        # LoadConfig decodes before it looks at the size (config.go:1281-1292): an empty file
        # is a JSON error, not the default config.
        raise ConfigError(
            path,
            "invalid JSON: the file is empty; PicoClaw stops with 'config.json syntax error at "
            "line 1, column 1: unexpected end of JSON input' (`picoclaw onboard` writes one)",
            1,
            1,
        )
    document = parse_json(path, text)
    tiny = len(data) <= PICOCLAW_SMALL_FILE
    if document is None and tiny:
        document = {}  # `null` decodes; a file this small then means DefaultConfig()
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
    rules = version or replay.detect_version(env)
    system = system or current_system()
    if tiny:  # config.go:1291-1294: DefaultConfig(), no .security.yml, no env overrides
        return _Doc(path, {}, positions, {}, {}, system, rules, tiny=len(data)).build()
    security = read_security(path.parent / schema.SECURITY_FILE)
    return _Doc(path, document, positions, security, env, system, rules).build()


# ----------------------------------------------------------------------------- the document


class _Doc:
    """One parse of one config file; collects file-level findings while it builds targets."""

    def __init__(
        self,
        path: Path,
        data: dict[str, Any],
        positions: Positions,
        security: dict[str, list[str] | None],
        env: Mapping[str, str],
        system: System,
        rules: replay.Version,
        tiny: int = 0,
    ) -> None:
        self.path, self.data, self.positions = path, data, positions
        self.security, self.env, self.system = security, env, system
        self.rules, self.tiny = rules, tiny
        for secured in security.values():  # every key is a secret, used or not
            for value in secured or ():
                _remember(value)
        self.findings: list[Finding] = []
        self.version = self._version() if not tiny else schema.CURRENT_VERSION
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
        self._strict(raw_entries if migrated else None)
        builtin = not raw_entries
        if builtin:  # loadConfig keeps DefaultConfig's model_list (migration.go:84-111)
            raw_entries = [
                (dict(row), ("DefaultConfig", "model_list", i))
                for i, row in enumerate(replay.DEFAULT_MODEL_LIST)
            ]
            self.file_finding(problems.builtin_model_list(self, bool(self.tiny)))
        name_index = _name_index(raw_entries)
        index = [
            replace(self._entry(raw, where, sec_name), builtin=builtin)
            for (raw, where), sec_name in zip(raw_entries, name_index, strict=True)
        ]
        refs = self._agent_refs(defaults)
        index = [self._with_request(e) for e in index]
        agent_targets = self._replay(defaults, index)
        entries = [e.target for e in index if not e.builtin]
        entry_ids = {id(t) for t in entries}
        unresolved = [t for t in agent_targets if id(t) not in entry_ids and t.request is None]
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
            client=self.rules.describe(),
        )

    def _version(self) -> int:
        version = self.data.get("version", 0)
        if schema.is_int(version) and 0 <= version <= schema.CURRENT_VERSION:
            return int(version)
        self.file_finding(problems.bad_version(self, version))
        return schema.CURRENT_VERSION + 1 if schema.is_int(version) and version > 0 else 0

    # -- agents.defaults

    def _agent_defaults(self) -> dict[str, Any]:
        raw = self._raw_defaults()
        return self._defaults_with_env(raw)

    def _raw_defaults(self) -> dict[str, Any]:
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
        return valid

    def _defaults_with_env(self, valid: dict[str, Any]) -> dict[str, Any]:
        overrides, errors = replay.env_overrides(self.env)
        for message in errors:
            self.file_finding(problems.startup_failed(self, message, "environment", None))
        self.overridden = set(overrides)
        valid.update(overrides)
        if "model_name" not in valid and (
            self.version < schema.CURRENT_VERSION or self.rules.strict
        ):
            # migrateLegacyAgentDefaultsModel (migration.go:64-81): model → model_name. In a
            # strict v3 file `model` already stopped the load (config.unknown_field): the
            # intended model is still checked, as best effort.
            valid["model_name"] = valid.get("model", "")
        if schema.is_int(valid.get("max_tokens")) and valid["max_tokens"] > 0:
            self.max_tokens = valid["max_tokens"]
        if schema.is_int(valid.get("context_window")) and valid["context_window"] > 0:
            self.context_window = valid["context_window"]
        return valid

    # -- the replay: what each agent model really sends

    def _replay_entry(self, e: _Entry) -> replay.Entry:
        v = e.values
        headers = v.get("custom_headers") or {}
        for value in headers.values() if isinstance(headers, dict) else ():
            if isinstance(value, str) and value:
                redact.remember(value)  # a header may carry a key: never printed
        name = f" ({e.model_name})" if e.model_name else ""
        return replay.Entry(
            label=(e.target.entry or e.target.name) + name,
            model_name=e.model_name,
            model=e.model,
            provider=v.get("provider", ""),
            api_base=v.get("api_base", ""),
            keys=e.keys,
            auth_method=v.get("auth_method", ""),
            proxy=v.get("proxy", ""),
            request_timeout=v.get("request_timeout", 0)
            if schema.is_int(v.get("request_timeout", 0))
            else 0,
            custom_headers={str(k): str(x) for k, x in headers.items()}
            if isinstance(headers, dict)
            else {},
            ref=e,
        )

    def _with_request(self, e: _Entry) -> _Entry:
        """The entry's own request: what a fallback, light or image model sends through it."""
        if not e.model:
            return e
        client = replay.create_client(self._replay_entry(e))
        if isinstance(client, str):
            return e
        request = client.request(replay.extract_protocol(client.entry)[1])._replace(
            roles=("model_list entry (as a fallback, light or image model calls it)",),
            client=self.rules.describe(),
        )
        return replace(e, target=_apply_request(e.target, request))

    def _replay(self, defaults: dict[str, Any], index: list[_Entry]) -> list[Target]:
        entries = replay.expand_keys([self._replay_entry(e) for e in index])
        found_routing = defaults.get("routing")
        routing: dict[str, Any] = found_routing if isinstance(found_routing, dict) else {}
        from_env = "model_name" in self.overridden
        settings = replay.Defaults(
            model_name=_text(defaults.get("model_name")),
            model_name_from=(
                "PICOCLAW_AGENTS_DEFAULTS_MODEL_NAME (environment)"
                if from_env
                else "agents.defaults.model_name"
            ),
            provider=_text(defaults.get("provider")),
            fallbacks=_texts(defaults.get("model_fallbacks")),
            image_model=_text(defaults.get("image_model")),
            image_fallbacks=_texts(defaults.get("image_model_fallbacks")),
            light_model=_text(routing.get("light_model")) if routing.get("enabled") is True else "",
        )
        self._names = [e.model_name for e in index if e.model_name and not e.builtin]
        startup = replay.replay(entries, settings, self._agents(), self.rules, self._voice())
        targets: list[Target] = []
        if startup.failure is not None:
            targets += self._failed(startup.failure, settings, index)
        for note in startup.notes:  # logged by PicoClaw, which then carries on
            if note.startswith("agent "):
                agent, _, why = note.partition(": ")
                self.file_finding(problems.model_disabled(self, agent, "model", why))
        for plan in startup.plans:
            target = self._plan_target(plan)
            if target is not None:
                targets.append(target)
        return _merge_roles(targets)

    def _voice(self) -> replay.Voice:
        """The `voice` block, then its env overrides (config.go:738-743; empty values skip)."""
        block = self.data.get("voice")
        values = (
            {k: _text(block.get(k)) for k in ("model_name", "tts_model_name")}
            if isinstance(block, dict)
            else {}
        )
        for variable, key in replay.VOICE_ENV.items():
            if self.env.get(variable, ""):
                values[key] = self.env[variable]
        return replay.Voice(**values)

    def _agents(self) -> list[replay.Agent]:
        agents = self.data.get("agents")
        listed = agents.get("list") if isinstance(agents, dict) else None
        result = []
        for i, agent in enumerate(listed if isinstance(listed, list) else []):
            if not isinstance(agent, dict):
                continue
            model = agent.get("model")
            primary: str = ""
            fallbacks: list[str] | None = None
            if isinstance(model, str):
                primary = model
            elif isinstance(model, dict):
                found_primary = model.get("primary")
                primary = found_primary if isinstance(found_primary, str) else ""
                found = model.get("fallbacks")
                fallbacks = (
                    [f for f in found if isinstance(f, str)] if isinstance(found, list) else None
                )
            subagents = agent.get("subagents")
            if isinstance(subagents, dict) and subagents.get("model"):
                self.file_finding(
                    problems.model_ignored(self, ("agents", "list", i, "subagents", "model"))
                )
            found_id = agent.get("id")
            ident = found_id if isinstance(found_id, str) else ""
            result.append(
                replay.Agent(
                    ident.strip().lower() or "main", primary, fallbacks, f"agents.list[{i}]"
                )
            )
        return result

    def _failed(
        self, failure: replay.Failure, settings: replay.Defaults, index: list[_Entry]
    ) -> list[Target]:
        """PicoClaw does not start: the finding, plus the entry it failed on (still probed)."""
        if failure.cause == "model_not_found":
            where = failure.where
            path = ("agents", "defaults", "model_name")
            line = self.line(path) if where.startswith("agents.") else None
            names = [e.model_name for e in index if e.model_name and not e.builtin]
            finding = problems.model_not_in_list(
                self.path, settings.model_name, where, line, names, failure.message
            )
            return [
                _unresolved_target(
                    self.path, settings.model_name or where, where, line, finding, self
                )
            ]
        entry = failure.entry.ref if failure.entry is not None else None
        self.file_finding(
            problems.startup_failed(
                self, failure.message, failure.where, entry.target.line if entry else None
            )
        )
        if entry is None:
            return []
        kept = tuple(f for f in entry.target.issues if not f.evidence.get("startup_check"))
        target = replace(entry.target, issues=kept, name=settings.model_name or entry.target.name)
        if "unknown protocol" in failure.message:  # no chat client at all: nothing to probe
            target = replace(target, protocol=providers.UNKNOWN)
        return [target]

    def _plan_target(self, plan: replay.Plan) -> Target | None:
        request = plan.request
        if request is None:
            self.file_finding(
                problems.model_disabled(self, plan.where, plan.ref, plan.problem, plan.consequence)
            )
            return None
        source = plan.entry
        original = source.ref if source is not None else None
        if original is None:
            return None
        request = request._replace(
            roles=(
                f"agent {plan.agent}: {plan.role} ({plan.where})"
                if plan.agent
                else f"{plan.role} ({plan.where})",  # the gateway's voice models
            ),
            steps=plan.steps,
            client=self.rules.describe(),
        )
        target = _apply_request(original.target, request)
        if plan.redirected_from:  # the id lookup picked another entry than model_name named
            issue = problems.id_collision(self, plan.ref, plan.redirected_from, request)
            target = replace(target, issues=(*target.issues, issue))
        if not plan.matched:  # sent as a model id to another entry's endpoint
            line = self.line(_json_path(plan.where))
            issue = problems.not_an_entry(self, plan.where, line, plan.ref, request, self._names)
            target = replace(target, issues=(*target.issues, issue))
        return replace(target, name=plan.ref or original.target.name)

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

    def _strict(self, migrated: list[tuple[Any, JsonPath]] | None) -> None:
        """PicoClaw >= v0.2.8 decodes strictly: v0-v2 files against the legacy struct, then
        (migrated) against Config; v3 files against Config (config.go:1296-1449)."""
        if not self.rules.strict or self.tiny or self.version > schema.CURRENT_VERSION:
            return
        table = self.rules.table
        if self.version < schema.CURRENT_VERSION:
            paths = strict.unknown_fields(self.data, strict.LEGACY, table)
            if paths:
                self._unknown(paths)
                return
            paths = strict.unknown_fields(_migrated(self.data, self.version, migrated), table=table)
        else:
            paths = strict.unknown_fields(self.data, table=table)
        self._unknown(paths)

    def _unknown(self, paths: list[str]) -> None:
        message = f"config.json contains unknown field(s): {', '.join(paths)}"
        for text in paths:
            path = _json_path(text)
            if path and path[0] == "model_list" and self.line(path) is None:
                path = ("providers",)  # a field the providers migration copied
            known = strict.known_fields(_json_path(text)[:-1], table=self.rules.table)
            self.file_finding(problems.unknown_field(self, _json_path(text), message, path, known))

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
        if model_name == "" and f"{label}.model_name" not in reported:
            issues.append(problems.required(self, where, "model_name"))
        if not model and f"{label}.model" not in reported:
            issues.append(problems.required(self, where, "model"))
        if not model:
            target = replace(base, name=model_name or label, issues=tuple(issues))
            return _Entry(model_name, "", "", "", target, values)
        issues += problems.model_string_problems(self, where, model)
        issues += problems.tool_schema_problems(
            self, where, values.get("tool_schema_transform", "")
        )
        res = providers.resolve(model, explicit, configured_base, values.get("auth_method", ""))
        issues += problems.provider_problems(self, where, model, explicit, res)
        usable_base, base_issues = _check_api_base(self, where, configured_base, res)
        issues += base_issues
        secret, key_source, key_issues, all_keys = self._key(values, where, sec_name)
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
        return _Entry(model_name, model, res.provider, res.split_id, target, values, all_keys)

    # -- keys: config.json, then .security.yml wins

    def _key(
        self, values: dict[str, Any], where: JsonPath, sec_name: str
    ) -> tuple[Secret | None, str, list[Finding], tuple[tuple[Secret, str], ...]]:
        """The key PicoClaw would send (the first one), where it came from, problems, and
        every resolved key with its source (for the multi-key expansion)."""
        candidates, emptied = self._key_candidates(values, where, sec_name)
        issues = [problems.security_emptied(self, where, emptied)] if emptied else []
        if not candidates:
            return None, "", issues, ()
        first: Secret | None = None
        resolved: list[tuple[Secret, str]] = []
        for i, (value, source) in enumerate(candidates):
            folder = self.system.path.dirname(str(self.path))  # a UNC share's folder too
            result = keys.resolve(value, folder, self.env, self.system)
            if isinstance(result, keys.KeyProblem):
                issues.append(
                    problems.key_unresolved(self, where, source, i, len(candidates), result)
                )
            else:
                form = keys.form(value)
                resolved.append((result, source if form == "plain" else f"{form} key in {source}"))
                if i == 0:
                    first = result
        value, source = candidates[0]
        form = keys.form(value)
        described = source if form == "plain" else f"{form} key in {source}"
        if len(candidates) > 1:
            described += f" (first of {len(candidates)}; the others are failover keys)"
        return first, described, issues, tuple(resolved)

    def _key_candidates(
        self, values: dict[str, Any], where: JsonPath, sec_name: str
    ) -> tuple[list[tuple[str, str]], str]:
        """(key, source) in PicoClaw's order: api_key then api_keys, deduplicated; a
        .security.yml entry ("name:index", else "name") replaces them, even one without keys
        (config_struct.go:326-343: `name:0: {}` leaves the entry with no key). Also returns
        the .security.yml entry that emptied config.json's keys, if one did."""
        label = f"{self.name} {problems.dotted(where)}"
        candidates: list[tuple[str, str]] = []
        for spelling in ("api_key", "api_keys"):
            found = values.get(spelling)
            for value in [found] if isinstance(found, str) else found or []:
                if value and value not in [v for v, _ in candidates]:
                    _remember(value)
                    candidates.append((value, f"{label}.{spelling}"))
        model_name = values.get("model_name", "")
        # v0-v2 files merge a plain name into its first entry only (migration.go:490-533).
        plain = model_name if self.version >= 3 or sec_name.endswith(":0") else ""
        for name in (sec_name, plain):
            if not name or self.security.get(name) is None:
                continue
            source = f"{schema.SECURITY_FILE} model_list.{name}"
            secured = [(v, source) for v in self.security[name] or [] if v]
            if self.version < 3:  # the singular api_key survives the v0/v1 migration
                secured = [c for c in candidates if c[1].endswith(".api_key")] + secured
            emptied = source if candidates and not secured else ""
            return secured, emptied
        return candidates, ""

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


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _texts(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _apply_request(target: Target, request: Request) -> Target:
    """The target as the replayed request describes it: the checks use these fields only."""
    base = target.api_base
    if request.wire in VOICE_WIRES:
        base = request.url  # the voice clients post to a whole URL, never probed
    elif request.wire == providers.OPENAI_COMPAT and base and request.url:
        base = request.url.removesuffix("/chat/completions")  # e.g. anthropic's /v1 added
    elif base and request.url:
        base = request.url.rsplit("/models/", 1)[0].removesuffix("/messages")
    sources = dict(target.sources)
    if request.steps:
        sources["model_id"] = "replayed: " + request.steps[-1]
    if request.key != target.api_key:  # another key: an extra-key copy, or custom_headers
        if request.key_from:
            sources["api_key"] = request.key_from.removeprefix(request.endpoint_from + ": ")
        else:
            sources.pop("api_key", None)
    return replace(
        target,
        api_base=base,
        model_id=request.model,
        api_key=request.key,
        protocol=request.wire,
        request_timeout=float(request.timeout_s),
        proxy=request.proxy or None,
        sources=sources,
        request=request,
    )


def _request_key(target: Target) -> tuple[Any, ...]:
    r = target.request
    return (r.url, r.model, r.endpoint_from, r.key_from) if r is not None else (id(target),)


def _merge_roles(targets: list[Target]) -> list[Target]:
    """One target per distinct request; its roles list every agent model that makes it."""
    merged: dict[tuple[Any, ...], Target] = {}
    for target in targets:
        r = target.request
        key: tuple[Any, ...] = (
            (r.url, r.model, r.endpoint_from, r.key_from) if r is not None else (id(target),)
        )
        if key in merged and r is not None:
            old = merged[key]
            assert old.request is not None
            roles = (*old.request.roles, *r.roles)
            merged[key] = replace(old, request=old.request._replace(roles=roles))
        else:
            merged[key] = target
    return list(merged.values())


def _json_path(text: str) -> JsonPath:
    """'model_list[0].web_search' → ("model_list", 0, "web_search")."""
    path: list[str | int] = []
    for part in text.split("."):
        name, *indexes = re.split(r"\[(\d+)\]", part)
        if name:
            path.append(name)
        path += [int(i) for i in indexes if i]
    return tuple(path)


def _migrated(
    data: dict[str, Any], version: int, migrated: list[tuple[Any, JsonPath]] | None
) -> dict[str, Any]:
    """The map PicoClaw decodes after migrating a v0-v2 file (migration.go:178-401): only the
    renames that decide which keys exist are replayed."""
    m = copy.deepcopy(data)
    agents = m.get("agents")
    defaults = agents.get("defaults") if isinstance(agents, dict) else None
    if isinstance(defaults, dict) and "model" in defaults:  # v0→v1 and v2→v3
        defaults.setdefault("model_name", defaults["model"])
        del defaults["model"]
    if migrated:  # providers → model_list; "providers" itself is never deleted
        m["model_list"] = [{k: v for k, v in raw.items() if k != _MIGRATED} for raw, _ in migrated]
    models = m.get("model_list")
    for entry in models if isinstance(models, list) and version < 2 else []:
        if isinstance(entry, dict):  # toUniqueStrings: api_key → api_keys when any is set
            single = entry.get("api_key")
            many = entry.get("api_keys")
            found = [single] if isinstance(single, str) and single else []
            found += [k for k in many if isinstance(k, str) and k] if isinstance(many, list) else []
            if found:
                entry["api_keys"] = found
                entry.pop("api_key", None)
    m.pop("bindings", None)
    if "channels" in m:  # v2→v3 re-nests channels under channel_list (not checked here)
        m.pop("channels")
        m["channel_list"] = {}
    return m


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
