"""PicoClaw config resolution (lmdoctor/config/picoclaw.py): which endpoint, model id, key and
findings each agent model gets.

Verdicts asserted through public interfaces (config.load, Config.select, the targets' findings
and sources), each written to kill a mutant that survived tools/mutation.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lmdoctor.config import load
from lmdoctor.config.replay import NEWEST, version_rules
from lmdoctor.target import DEFAULT_MAX_TOKENS, DEFAULT_REQUEST_TIMEOUT_S


def _write(folder: Path, data: dict[str, Any], security: str | None = None) -> Path:
    path = folder / "config.json"
    path.write_text(json.dumps(data))
    if security is not None:
        (folder / ".security.yml").write_text(security)
    return path


def _entry(name: str, port: int, key: str = "", **extra: Any) -> dict[str, Any]:
    row = {"model_name": name, "model": f"openai/{name}-id", "api_base": f"http://127.0.0.1:{port}/v1"}
    if key:
        row["api_keys"] = [key]
    return {**row, **extra}


def test_the_environment_picks_the_primary_model_and_is_named_as_its_source(tmp_path):
    path = _write(tmp_path, {
        "version": 3,
        "agents": {"defaults": {"model_name": "a"}},
        "model_list": [_entry("a", 1, "sk-aaaaaaaaaaaa1"), _entry("b", 2, "sk-bbbbbbbbbbbb2")],
    })
    (target,) = load(path, env={"PICOCLAW_AGENTS_DEFAULTS_MODEL_NAME": "b"}).select()
    assert target.name == "b" and target.api_base == "http://127.0.0.1:2/v1"
    assert target.request.roles == (
        "agent main: primary (PICOCLAW_AGENTS_DEFAULTS_MODEL_NAME (environment))",
    )
    (target,) = load(path, env={}).select()
    assert target.request.roles == ("agent main: primary (agents.defaults.model_name)",)


# --- keys: config.json, .security.yml ------------------------------------------------------


def test_a_v2_file_keeps_its_singular_api_key_before_the_security_yml_keys(tmp_path):
    # the v0/v1 migration keeps api_key; .security.yml's keys replace api_keys and follow it
    path = _write(
        tmp_path,
        {"version": 2, "agents": {"defaults": {"model_name": "m"}},
         "model_list": [_entry("m", 1, "sk-plural-config-22", api_key="sk-singular-config-1")]},
        'model_list:\n  "m:0":\n    api_keys: ["sk-secured-yml-333"]\n',
    )
    (entry,) = load(path, env={}).entries
    assert entry.api_key.reveal() == "sk-singular-config-1"
    assert entry.sources["api_key"] == (
        "config.json model_list[0].api_key (first of 2; the others are failover keys)"
    )
    # the agent's lookup by model id finds the failover copy first (expandMultiKeyModels)
    (target,) = [t for t in load(path, env={}).select() if t.is_endpoint]
    assert target.api_key.reveal() == "sk-secured-yml-333"
    assert target.sources["api_key"] == ".security.yml model_list.m:0"


def test_each_failover_key_names_its_own_form_and_source(tmp_path):
    (tmp_path / "k2.key").write_text("sk-file-key-second-3\n")
    path = _write(tmp_path, {
        "version": 3, "agents": {"defaults": {"model_name": "m"}},
        "model_list": [
            {**_entry("m", 1), "api_keys": ["sk-plain-config-22", "file://k2.key"]}],
    })
    first, second = load(path, env={}).select(every=True)
    assert first.api_key.reveal() == "sk-plain-config-22"
    assert first.request.key_from == "model_list[0] (m): config.json model_list[0].api_keys"
    assert second.api_key.reveal() == "sk-file-key-second-3"
    assert second.sources["api_key"] == "file:// key in config.json model_list[0].api_keys"


# --- model resolution: --model lookup, api_base, sources -----------------------------------


def _three(tmp_path: Path):
    return load(_write(tmp_path, {"version": 3, "model_list": [
        {**_entry("a", 1, "sk-aaaaaaaaaa1"), "model": "openai/Alpha-1"},
        {**_entry("b", 2, "sk-bbbbbbbbbb2"), "model": "openai/Beta-2"},
        {"model_name": "z", "model": "azure/gpt-4o", "api_keys": ["sk-zzzzzzzzzz3"]},
    ]}), env={})


def test_model_picks_the_entry_whose_provider_and_id_match_in_any_case(tmp_path):
    # lookupModelConfigByRef: ModelKey("OpenAI", "beta-2") == ModelKey("openai", "Beta-2")
    config = _three(tmp_path)
    for ref in ("OpenAI/beta-2", "openai/Beta-2", "Beta-2"):
        (target,) = config.select([ref])
        assert (target.name, target.api_base) == ("b", "http://127.0.0.1:2/v1"), ref
    (unknown,) = config.select(["nothing/x"])
    assert [f.code for f in unknown.issues] == ["config.unknown_model_name"]


def test_an_azure_entry_without_api_base_is_invalid_and_says_what_to_add(tmp_path):
    (azure,) = [t for t in _three(tmp_path).entries if t.name == "z"]
    (finding,) = azure.issues
    assert finding.code == "config.invalid"
    assert finding.summary == "model_list[2]: the azure provider needs api_base"
    assert finding.fix.startswith('Add "api_base": "https://<your-resource>.openai.azure.com"')
    assert azure.api_base == ""
    assert azure.sources["api_base"] == "none (azure has no default api_base)"


def test_a_migrated_providers_entry_says_where_its_model_came_from(tmp_path):
    path = _write(tmp_path, {
        "agents": {"defaults": {"provider": "openai", "model": "gpt-x"}},
        "providers": {"openai": {"api_key": "sk-aaaaaaaaaaaa1", "api_base": "http://127.0.0.1:1/v1"},
                      "ollama": {"api_base": "http://127.0.0.1:11434/v1"}},
    })
    openai, ollama = load(path, env={}).entries
    assert openai.model == "openai/gpt-x"
    assert openai.sources["model"] == (
        "config.json providers.openai, migrated to model_list "
        "(model from agents.defaults.provider and model)"
    )
    assert ollama.model == "ollama/llama3"
    assert ollama.sources["model"] == (
        "config.json providers.ollama, migrated to model_list "
        "(model from PicoClaw's default model for this provider)"
    )


def test_before_v0_2_8_a_v3_files_agents_defaults_model_is_not_the_model_name(tmp_path):
    # PicoClaw < v0.2.8 ignores unknown fields: a v3 file's agents.defaults.model is no
    # model_name (only v0-v2 files migrate it), so the agent has no model
    path = _write(tmp_path, {"version": 3, "agents": {"defaults": {"model": "a"}},
                             "model_list": [_entry("a", 1, "sk-aaaaaaaaaa1")]})
    (target,) = load(path, env={}, version=version_rules("picoclaw 0.2.7", "test")).select()
    assert [f.code for f in target.issues] == ["config.unknown_model_name"]
    assert target.api_base == ""
    # v0.2.8+ stops at the unknown field, and lmdoctor still checks the intended model
    file, target = load(path, env={}, version=NEWEST).select()
    assert [f.code for f in file.issues] == ["config.unknown_field"]
    assert target.name == "a" and target.api_base == "http://127.0.0.1:1/v1"


def test_request_timeout_of_an_entry_without_a_client_is_kept_between_1_and_86400_s(tmp_path):
    # "elevenlabs" has no chat client in PicoClaw: the entry keeps its own timeout
    rows = [{"model_name": f"v{i}", "model": "elevenlabs/eleven_v3",
             "api_base": f"http://127.0.0.1:{i + 1}/v1", **extra}
            for i, extra in enumerate([{}, {"request_timeout": 86400},
                                       {"request_timeout": 86401}, {"request_timeout": 1}])]
    config = load(_write(tmp_path, {"version": 3, "model_list": rows}), env={})
    assert all(t.request is None for t in config.entries)
    assert [t.request_timeout for t in config.entries] == [
        DEFAULT_REQUEST_TIMEOUT_S, 86400.0, DEFAULT_REQUEST_TIMEOUT_S, 1.0
    ]
    assert [t.proxy for t in config.entries] == [None] * 4


def test_an_entry_without_a_client_keeps_its_own_proxy(tmp_path):
    row = {"model_name": "v", "model": "elevenlabs/eleven_v3", "api_base": "http://127.0.0.1:1/v1",
           "proxy": "http://127.0.0.1:3128"}
    (v,) = load(_write(tmp_path, {"version": 3, "model_list": [row]}), env={}).entries
    assert v.request is None and v.proxy == "http://127.0.0.1:3128"


_ROWS = [  # (entry, its api_base as probed, its findings' summaries, sources shown)
    ({"model": "Alpha-1", "provider": "openai", "api_base": "http://127.0.0.1:1/v1",
      "request_timeout": 30, "proxy": "http://127.0.0.1:3128"},
     "http://127.0.0.1:1/v1", [],
     {"provider": "{o}.provider", "api_base": "{o}.api_base", "model_id": "{o}.model",
      "request_timeout": "{o}.request_timeout", "proxy": "{o}.proxy"}),
    ({"model": "gpt-x", "api_base": "http://127.0.0.1:2/v1"}, "http://127.0.0.1:2/v1", [],
     {"provider": "default (no known provider prefix in model)", "api_base": "{o}.api_base",
      "model_id": "{o}.model"}),
    ({"model": "weird/gpt-x", "api_base": "http://127.0.0.1:3/v1"}, "http://127.0.0.1:3/v1",
     ['{w}.model "weird/gpt-x": "weird" is not a provider PicoClaw knows, so it sends the '
      "whole string to OpenAI"],
     {"provider": "default (no known provider prefix in model)", "model_id": "{o}.model"}),
    ({"model": "ollama/llama3", "api_keys": []}, "http://localhost:11434/v1", [],
     {"provider": "{o}.model prefix", "api_base": "default for ollama",
      "model_id": '{o}.model with "ollama/" stripped'}),
    ({"model": "openai/x", "api_base": "ftp://127.0.0.1/v1"}, "",
     ['{w}.api_base "ftp://127.0.0.1/v1" is not an http:// or https:// URL'], {}),
    ({"model": "openai/x", "api_base": "http:///v1"}, "",
     ['{w}.api_base "http:///v1" is not an http:// or https:// URL'], {}),
    ({"model": "openai/x", "api_base": "http://127.0.0.1:4/v 1"}, "",
     ['{w}.api_base "http://127.0.0.1:4/v 1" is not an http:// or https:// URL'], {}),
    ({"model": "openai/x", "api_base": "HTTP://127.0.0.1:5/v1/chat/completions"},
     "HTTP://127.0.0.1:5/v1/chat/completions",
     ['{w}.api_base "HTTP://127.0.0.1:5/v1/chat/completions" already ends in /chat/completions'],
     {}),
    # Gemini: the base is what precedes /models/<id>:generateContent
    ({"model": "gemini/gemini-2.5-flash", "api_base": "http://127.0.0.1:6/v1beta"},
     "http://127.0.0.1:6/v1beta", [], {"model_id": '{o}.model with "gemini/" stripped'}),
    ({"model": "claude-cli/x", "api_keys": []}, "", [],
     {"api_base": "none: claude-cli (cli-subprocess) is no HTTP endpoint lmdoctor can probe"}),
]


def test_each_entry_s_endpoint_findings_and_sources(tmp_path):
    rows = [{"model_name": f"e{i}", "api_keys": ["sk-aaaaaaaaaa1"], **row}
            for i, (row, _, _, _) in enumerate(_ROWS)]
    path = _write(tmp_path, {"version": 3, "model_list": rows})
    for i, target in enumerate(load(path, env={}).entries):
        _, base, summaries, sources = _ROWS[i]
        where, origin = f"model_list[{i}]", f"config.json model_list[{i}]"
        assert target.api_base == base, target.name
        assert [f.summary for f in target.issues] == [s.format(w=where) for s in summaries]
        for key, text in sources.items():
            assert target.sources[key] == text.format(o=origin), (target.name, key)
        if "proxy" not in sources:
            assert "proxy" not in target.sources and "request_timeout" not in target.sources


def _entries(tmp_path: Path, version: int, rows: list[dict[str, Any]], security: str | None = None):
    path = _write(tmp_path, {"version": version, "model_list": rows}, security)
    return load(path, env={}).entries


def _summary(target) -> list[tuple[str, str]]:
    return [(f.code, f.summary) for f in target.issues]


def test_api_key_then_api_keys_without_repeats_or_blanks(tmp_path):
    (m,) = _entries(tmp_path, 3, [_entry("m", 1, api_key="sk-k1aaaaaaaa",
                                         api_keys=["sk-k1aaaaaaaa", "sk-k2bbbbbbbb", ""])])
    assert m.api_key.reveal() == "sk-k1aaaaaaaa"
    assert m.sources["api_key"] == (
        "config.json model_list[0].api_key (first of 2; the others are failover keys)"
    )
    (one,) = _entries(tmp_path, 3, [_entry("m", 1, "sk-k1aaaaaaaa")])
    assert one.sources["api_key"] == "config.json model_list[0].api_keys"


def test_when_the_first_key_fails_an_entry_without_a_client_has_no_key(tmp_path):
    # the first key is the one PicoClaw sends; the second is only a failover copy
    (v,) = _entries(tmp_path, 3, [{"model_name": "v", "model": "elevenlabs/eleven_v3",
                                   "api_base": "http://127.0.0.1:1/v1",
                                   "api_keys": ["file://missing.key", "sk-k2bbbbbbbb"]}])
    assert v.request is None and v.api_key is None
    (problem,) = v.issues
    assert problem.code == "config.key_unresolved" and problem.summary.endswith("does not exist")
    assert problem.detail == "Key 1 of 2 comes from config.json model_list[0].api_keys."


def test_a_v3_files_singular_api_key_does_not_survive_a_security_yml_entry(tmp_path):
    # only the v0/v1 migration keeps api_key; in v3 .security.yml's keys replace it
    security = 'model_list:\n  "m:0":\n    api_keys: ["sk-secured-yml-333"]\n'
    (m,) = _entries(tmp_path, 3, [_entry("m", 1, api_key="sk-singular-config-1")], security)
    assert m.api_key.reveal() == "sk-secured-yml-333"
    assert m.sources["api_key"] == ".security.yml model_list.m:0"
    assert m.issues == ()  # replaced, not emptied


def test_a_plain_security_name_serves_every_same_named_v3_entry_but_only_the_first_before(
    tmp_path,
):
    rows = [_entry("m", 1, "sk-c1aaaaaaaaa"), _entry("m", 2, "sk-c2aaaaaaaaa")]
    security = 'model_list:\n  m:\n    api_keys: ["sk-secured-plain1"]\n'
    first, second = _entries(tmp_path, 2, rows, security)  # migration.go:490-533
    assert first.api_key.reveal() == "sk-secured-plain1"
    assert first.sources["api_key"] == ".security.yml model_list.m"
    assert second.api_key.reveal() == "sk-c2aaaaaaaaa"
    assert second.sources["api_key"] == "config.json model_list[1].api_keys"
    first, second = _entries(tmp_path, 3, rows, security)
    assert first.api_key.reveal() == second.api_key.reveal() == "sk-secured-plain1"


def test_a_security_entry_without_keys_empties_the_entry_and_blank_keys_are_skipped(tmp_path):
    rows = [_entry("m", 1, "sk-c1aaaaaaaaa"), _entry("n", 2), _entry("o", 3, "sk-o1aaaaaaaaa")]
    security = ('model_list:\n  "m:0": {}\n  n:\n    api_keys: ["", "sk-n-secured-11"]\n'
                '  other:\n    api_keys: ["sk-unused-aaaaa"]\n')
    m, n, o = _entries(tmp_path, 3, rows, security)
    assert m.api_key is None
    assert [f.code for f in m.issues] == ["config.security_no_keys"]
    assert m.issues[0].summary.startswith(
        "model_list[0]: .security.yml model_list.m:0 has no api_keys"
    )
    assert n.api_key.reveal() == "sk-n-secured-11" and n.issues == ()
    assert n.sources["api_key"] == ".security.yml model_list.n"
    assert o.api_key.reveal() == "sk-o1aaaaaaaaa"  # no .security.yml entry: config.json's


def test_a_wrong_type_is_reported_once_not_also_as_missing(tmp_path):
    named5, nomodel, model7 = _entries(tmp_path, 3, [
        {**_entry("x", 1, "sk-c1aaaaaaaaa"), "model_name": 5},
        {"model_name": "nomodel"},
        {"model_name": "x7", "model": 7},
    ])
    assert _summary(named5) == [
        ("config.invalid", "model_list[0].model_name must be a string, not a number")]
    assert named5.name == "model_list[0]"
    assert _summary(nomodel) == [("config.invalid", "model_list[1]: model is required")]
    assert nomodel.name == "nomodel" and nomodel.api_base == ""
    assert _summary(model7) == [
        ("config.invalid", "model_list[2].model must be a string, not a number")]


# --- agents.defaults, routing, agents.list ---------------------------------------------------


def _agents_config(tmp_path: Path, defaults: dict[str, Any], agents_list: list[Any] | None = None):
    agents: dict[str, Any] = {"defaults": defaults}
    if agents_list is not None:
        agents["list"] = agents_list
    return _write(tmp_path, {"version": 3, "agents": agents, "model_list": [
        _entry("a", 1, "sk-aaaaaaaaaa1"), _entry("b", 2, "sk-bbbbbbbbbb2")]})


def _roles(targets) -> dict[str, tuple[str, ...]]:
    return {t.name: t.request.roles for t in targets if t.is_endpoint}


def test_max_tokens_and_context_window_count_from_one(tmp_path):
    for value, max_tokens, context in ((0, DEFAULT_MAX_TOKENS, 0), (1, 1, 1)):
        path = _agents_config(
            tmp_path, {"model_name": "a", "max_tokens": value, "context_window": value})
        (target,) = load(path, env={}).select()
        assert (target.max_tokens, target.context_window) == (max_tokens, context), value


def test_an_environment_value_that_is_no_number_stops_picoclaw_and_the_rest_is_checked(
    tmp_path,
):
    path = _agents_config(tmp_path, {"model_name": "a"})
    file, target = load(path, env={"PICOCLAW_AGENTS_DEFAULTS_MAX_TOKENS": "abc"}).select()
    (finding,) = file.issues
    assert finding.code == "config.startup_failed"
    assert 'env: parse error on field "MaxTokens" of type "int"' in finding.summary
    assert target.name == "a" and target.max_tokens == DEFAULT_MAX_TOKENS


def test_the_light_model_is_used_only_when_routing_is_enabled_with_true(tmp_path):
    for enabled, roles in ((True, 2), ("true", 1), (False, 1)):
        routing = {"enabled": enabled, "light_model": "b"}
        path = _agents_config(tmp_path, {"model_name": "a", "routing": routing})
        found = _roles(load(path, env={}).select())
        assert len(found) == roles, enabled
    assert found["a"] == ("agent main: primary (agents.defaults.model_name)",)
    path = _agents_config(
        tmp_path, {"model_name": "a", "routing": {"enabled": True, "light_model": "b"}})
    assert _roles(load(path, env={}).select())["b"] == (
        "agent main: light model (agents.defaults.routing.light_model)",)


def test_agents_list_ids_models_and_fallbacks(tmp_path):
    path = _agents_config(tmp_path, {"model_name": "a"}, [
        {"id": "  Coder ", "model": {"primary": "b", "fallbacks": ["a", 5]}},
        "not an agent",
        {"model": 5},
        {"id": 7, "model": "b", "subagents": {"model": "a"}},
    ])
    config = load(path, env={})
    file, *targets = config.select()
    assert [(f.code, f.summary) for f in file.issues] == [
        ("config.invalid",
         "agents.list[0].model must be a model_name or {primary, fallbacks}, not an object"),
        ("config.invalid",
         "agents.list[2].model must be a model_name or {primary, fallbacks}, not a number"),
        ("config.model_ignored", "agents.list[3].subagents.model is not used by PicoClaw"),
    ]
    assert _roles(targets) == {
        # the id is trimmed and lower-cased; one that is no string is "main"
        "b": ("agent coder: primary (agents.list[0].model)",
              "agent main: primary (agents.list[3].model)"),
        "a": ("agent coder: fallback 1 (agents.list[0].model.fallbacks)",
              "agent main: primary (agents.defaults.model_name)"),
    }


# --- what the replayed request makes of a target -----------------------------------------------


def test_the_probed_base_key_and_model_id_follow_the_replayed_request(tmp_path):
    path = _write(tmp_path, {"version": 3, "agents": {"defaults": {"model_name": "a"}},
                             "model_list": [
        {**_entry("a", 1, "sk-aaaaaaaaaa1"),
         "custom_headers": {"Authorization": "Bearer sk-header-key-9"}},
        {**_entry("g", 6, "sk-aaaaaaaaaa1"), "model": "gemini/gemini-2.5-flash",
         "api_base": "http://127.0.0.1:6/v1beta/"},
        {**_entry("m", 7, "sk-aaaaaaaaaa1"), "model": "anthropic-messages/claude-x"},
        {**_entry("n", 8, "sk-aaaaaaaaaa1"), "model": "anthropic/claude-x",
         "api_base": "http://127.0.0.1:8"},
    ]})
    a, g, m, n = load(path, env={}).select(every=True)
    # a key in custom_headers replaces the configured one (no "endpoint: " prefix to drop)
    assert a.sources["api_key"] == "model_list[0] (a) custom_headers.Authorization"
    assert a.api_key.reveal() == "sk-header-key-9"
    assert a.sources["model_id"].startswith('replayed: model: "a-id" resolves to model_list[0]')
    assert (a.api_base, a.model_id) == ("http://127.0.0.1:1/v1", "a-id")
    # the base is the request URL without the route: /models/<id>:…, /messages, /chat/completions
    assert g.request.url == "http://127.0.0.1:6/v1beta/models/gemini-2.5-flash:generateContent"
    assert g.api_base == "http://127.0.0.1:6/v1beta"
    assert (m.request.url, m.api_base) == ("http://127.0.0.1:7/v1/messages", "http://127.0.0.1:7/v1")
    assert (n.request.url, n.api_base) == (
        "http://127.0.0.1:8/v1/chat/completions", "http://127.0.0.1:8/v1")
    assert g.sources["api_key"] == "config.json model_list[1].api_keys"  # the same key: kept
    assert "replayed" not in g.sources["model_id"]  # no steps: the entry's own model


def test_a_gemini_base_that_holds_models_keeps_it(tmp_path):
    # only the last "/models/" starts the route: a proxy path may hold one too
    path = _write(tmp_path, {"version": 3, "model_list": [
        {**_entry("g", 6, "sk-aaaaaaaaaa1"), "model": "gemini/gemini-2.5-flash",
         "api_base": "http://127.0.0.1:6/models/v1beta"}]})
    (g,) = load(path, env={}).entries
    assert g.request.url == (
        "http://127.0.0.1:6/models/v1beta/models/gemini-2.5-flash:generateContent")
    assert g.api_base == "http://127.0.0.1:6/models/v1beta"


def test_a_security_entry_without_keys_for_an_entry_without_keys_is_no_problem(tmp_path):
    # nothing was emptied: config.json had no key either (an api_base-only local server)
    (p,) = _entries(tmp_path, 3, [_entry("p", 3)], "model_list:\n  p: {}\n")
    assert p.issues == () and p.api_key is None


def test_a_fallback_that_is_no_entry_names_only_the_named_user_entries(tmp_path):
    path = _write(tmp_path, {
        "version": 3,
        "agents": {"defaults": {"model_name": "a", "model_fallbacks": ["b-idx"]}},
        "model_list": [_entry("a", 1, "sk-aaaaaaaaaa1"),
                       {"model": "openai/b-id", "api_base": "http://127.0.0.1:2/v1"},
                       _entry("p", 3)],
    })
    (finding,) = [f for t in load(path, env={}).select()
                  for f in t.issues if f.code == "config.model_not_an_entry"]
    assert finding.evidence["model_names"] == ["a", "p"]  # not the unnamed entry's ""
    # without a model_list the built-in entries are no names the user wrote: none suggested
    path = _write(tmp_path, {"version": 3, "model_list": [], "agents": {"defaults": {
        "model_name": "gpt-5.4", "model_fallbacks": ["gpt-5.4x"]}}})
    (finding,) = [f for t in load(path, env={}).select()
                  for f in t.issues if f.code == "config.model_not_an_entry"]
    assert finding.evidence["model_names"] == [] and "did you mean" not in finding.summary


def test_model_with_an_empty_id_after_the_provider_matches_no_entry_by_key(tmp_path):
    # lookupModelConfigByRef compares provider/id keys only when both parts are there
    path = _write(tmp_path, {"version": 3, "model_list": [
        {**_entry("d", 4, "sk-bbbbbbbbbb2"), "model": "openai/"},
        {**_entry("b", 2, "sk-bbbbbbbbbb2"), "model": "openai/Beta-2",
         "proxy": "http://127.0.0.1:3128"}]})
    config = load(path, env={})
    *_, unknown = config.select(["OpenAI/"])
    assert unknown.name == "OpenAI/"
    assert [f.code for f in unknown.issues] == ["config.unknown_model_name"]
    *_, d = config.select(["openai/"])  # the model string itself still matches
    assert d.name == "d"
    # the entry's proxy is what the request goes through; none when unset
    *_, b = config.select(["b"])
    assert b.proxy == "http://127.0.0.1:3128" and d.proxy is None
