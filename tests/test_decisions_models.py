"""Model verdicts (checks/models.py, lmdoctor/modelids.py) that no other test pinned (issue 17:
mutation testing). Each case runs the models check against a real loopback fake (tests/fakes/,
each route citing its source) and asserts the verdict: code, severity, fix, evidence."""

from __future__ import annotations

import threading

import pytest
from decisions import check, target

import fakes
from conftest import SHORT
from lmdoctor.findings import Severity
from loopback import Reply, Seen, Server

# -- checks/models.py --------------------------------------------------------------------------


def test_without_a_model_id_the_first_three_ids_are_named_and_the_rest_counted() -> None:
    ids = [f"pub/model-{n}" for n in range(5)]
    server = fakes.lmstudio(downloaded=ids)
    (finding,) = check(server, target(server, "", config=False, model=""))
    assert finding.code == "model.ok" and finding.severity is Severity.OK
    assert finding.summary == (
        "LM Studio serves `pub/model-0`, `pub/model-1`, `pub/model-2` and 2 more; give --model "
        "ID to check the id your client sends"
    )
    assert finding.evidence["listed"] == ids


def test_a_file_path_id_on_a_single_model_llamacpp_needs_an_alias() -> None:
    # llama-server without --alias lists -m's path as the id (tests/fakes/llamacpp.py, README
    # "GET /v1/models"); PicoClaw cannot send an id that starts with "/".
    server = fakes.llamacpp("/models/smol.gguf")
    (finding,) = [f for f in check(server, model_id="smollm2") if f.code == "model.mismatch"]
    assert finding.severity is Severity.WARN
    assert finding.fix == (
        'PicoClaw cannot send `/models/smol.gguf` (a `model` string may not start with "/" nor '
        'hold "//" or spaces), so serve the model under the id PicoClaw sends. Start llama-server '
        "with `--alias smollm2` (router mode: put the model in --models-dir or the preset file)."
    )
    assert finding.evidence["served"] == "/models/smol.gguf"


# -- checks/models.py: context and offload ---------------------------------------------------

QWEN = "qwen/qwen3-8b"


def test_a_context_the_model_cannot_hold_gets_both_remedies_in_whole_tokens() -> None:
    # LM Studio REST v1: loaded_instances[].config.context_length 4096, max_context_length
    # 40960 (tests/fakes/lmstudio.py, lmstudio-ai/docs list.md:62-98)
    server = fakes.lmstudio(loaded={QWEN: 4096})
    t = target(server, QWEN, provider="lmstudio", max_tokens=32768)
    (finding,) = [f for f in check(server, t) if f.code == "model.context_too_small"]
    assert finding.severity is Severity.WARN
    assert finding.fix == (
        f"Reload it with a larger context: Developer tab → model settings → Context Length ≥ "
        f"40960, or `lms load {QWEN} --context-length 40960`. The model supports at most 40,960 "
        "tokens, so also set agents.defaults.context_window to 40960 and max_tokens to at most "
        "10240 in config.json. To keep the current load instead, set agents.defaults.max_tokens "
        "to 1024 and agents.defaults.context_window to 4096 in config.json."
    )


def test_a_tiny_context_keeps_a_floor_of_256_new_tokens_in_the_keep_advice() -> None:
    # a 512-token load (lms load --context-length 512): a quarter would be 128 new tokens,
    # too few for any answer, so the keep-the-load advice never goes below 256
    server = fakes.lmstudio(loaded={QWEN: 512})
    t = target(server, QWEN, provider="lmstudio", max_tokens=8192, context_window=40960)
    (finding,) = [f for f in check(server, t) if f.code == "model.context_too_small"]
    assert finding.fix.endswith(
        "To keep the current load instead, set agents.defaults.max_tokens to 256 and "
        "agents.defaults.context_window to 512 in config.json."
    )
    assert finding.evidence["loaded_context"] == 512


def test_a_context_the_model_can_hold_names_only_the_reload() -> None:
    server = fakes.lmstudio(loaded={QWEN: 4096})
    t = target(server, QWEN, provider="lmstudio", max_tokens=8192, context_window=40960)
    (finding,) = [f for f in check(server, t) if f.code == "model.context_too_small"]
    assert finding.fix == (
        f"Reload it with a larger context: Developer tab → model settings → Context Length ≥ "
        f"40960, or `lms load {QWEN} --context-length 40960`. To keep the current load instead, "
        "set agents.defaults.max_tokens to 1024 and agents.defaults.context_window to 4096 in "
        "config.json."
    )
    assert finding.evidence["max_context_length"] == 40960


def test_a_model_loaded_with_all_it_holds_gets_only_the_config_remedy() -> None:
    # llama-server -c 8192 on SmolLM2 (meta.n_ctx_train 8192, tests/fakes/llamacpp.py): a restart
    # with -c 8192 would change nothing, so the fix names only PicoClaw's budget
    server = fakes.llamacpp(n_ctx=8192)
    t = target(server, "smollm2", provider="openai", max_tokens=32768)
    (finding,) = [f for f in check(server, t) if f.code == "model.context_too_small"]
    assert finding.fix == (
        "The model supports at most 8,192 tokens and is loaded with 8,192: set "
        "agents.defaults.max_tokens to 2048 and agents.defaults.context_window to 8192 in "
        "config.json."
    )


def test_a_model_wholly_on_the_cpu_is_no_partial_offload() -> None:
    # Ollama /api/ps size_vram 0: nothing in GPU memory (api/types.go ProcessModelResponse)
    server = fakes.ollama(running={"qwen3:8b": (6_000_000_000, 0, 40960)})
    found = check(server, model_id="qwen3:8b", provider="ollama")
    assert [f.code for f in found] == ["model.ok"]


def test_a_context_equal_to_max_tokens_leaves_no_room_for_the_prompt() -> None:
    server = fakes.lmstudio(loaded={QWEN: 8192})
    t = target(server, QWEN, provider="lmstudio", max_tokens=8192, context_window=8192)
    found = check(server, t)
    assert [f.code for f in found] == ["model.ok", "model.context_too_small"]
    assert found[1].summary == (
        f"`{QWEN}` is loaded with a 8,192-token context; PicoClaw asks for up to 8,192 new "
        "tokens and keeps 8,192 in history"
    )
    # the history fits the load; a larger context would not help while max_tokens fills it
    assert found[1].fix == (
        "The 8,192 tokens loaded hold the history PicoClaw keeps, but max_tokens leaves no room "
        "for the prompt: set agents.defaults.max_tokens to 2048 and "
        "agents.defaults.context_window to 8192 in config.json."
    )


def test_a_context_equal_to_the_client_window_and_above_max_tokens_is_enough() -> None:
    server = fakes.lmstudio(loaded={QWEN: 32768})
    t = target(server, QWEN, provider="lmstudio", max_tokens=8192, context_window=32768)
    found = check(server, t)
    assert [(f.code, f.summary) for f in found] == [("model.ok", f"`{QWEN}` is served")]
    assert found[0].evidence == {
        "listed_as": QWEN, "loaded": True, "context_tokens": 32768
    }  # fmt: skip


# -- checks/models.py: what is listed, loaded, and how long a load takes ----------------------


@pytest.mark.parametrize(
    ("count", "named"),
    [
        (3, "`p/m0`, `p/m1`, `p/m2`"),
        (4, "`p/m0`, `p/m1`, `p/m2` and 1 more"),
        (21, "`p/m0`, `p/m1`, `p/m2` and 18 more"),
    ],
)
def test_without_a_model_id_the_listing_is_summed_up(count: int, named: str) -> None:
    ids = [f"p/m{n}" for n in range(count)]
    server = fakes.lmstudio(downloaded=ids)
    (finding,) = check(server, target(server, "", config=False, model=""))
    assert finding.summary.startswith(f"LM Studio serves {named}; give --model ID")
    assert finding.evidence["listed"] == ids[:20]


def test_not_found_shows_twenty_listed_ids_each_cut_to_200_characters() -> None:
    ids = ["pub/" + "x" * 250] + [f"pub/model-{n}" for n in range(20)]
    server = fakes.lmstudio(downloaded=ids)
    (finding,) = check(server, model_id="pub/model-77", provider="lmstudio")
    assert (finding.code, finding.severity) == ("model.not_found", Severity.ERROR)
    assert finding.evidence["listed"] == [ids[0][:200], *ids[1:20]]
    assert finding.evidence["listed_count"] == 21
    assert finding.detail == (
        "PicoClaw sends `pub/model-77`: the configured model is `lmstudio/pub/model-77`, and it "
        "strips the provider prefix `lmstudio/`. LM Studio lists 21 model(s); closest: "
        "pub/model-7, pub/model-17, pub/model-9."
    )
    assert finding.fix == (
        'Set config.json model_list[0].model to "lmstudio/pub/model-7"; or: Download and load it '
        "in LM Studio (Developer tab → Load Model, or `lms load pub/model-77`), or re-copy the API "
        "Model Identifier from the right-hand panel and use it as `lmstudio/<identifier>`."
    )


# LM Studio REST v1: size_bytes 5_030_000_000 (tests/fakes/lmstudio.py): ~8 s at 0.6 GB/s
@pytest.mark.parametrize(
    ("timeout", "timing", "raise_"),
    [
        (8.0, " (roughly 8 s for 5.0 GB, beyond PicoClaw's request_timeout of 8 s)", True),
        (16.0, " (roughly 8 s for 5.0 GB)", True),
        (20.0, " (roughly 8 s for 5.0 GB)", False),
    ],
)
def test_a_load_that_outlasts_the_request_timeout_says_so(
    timeout: float, timing: str, raise_: bool
) -> None:
    server = fakes.lmstudio(loaded={}, jit=True)
    t = target(server, QWEN, provider="lmstudio", request_timeout=timeout)
    (finding,) = [f for f in check(server, t) if f.code == "model.not_loaded"]
    assert finding.severity is Severity.WARN
    assert finding.detail == (
        f"Just-in-Time loading is on, so the first request loads it and waits for the load{timing}."
    )
    fix = f"Load it in LM Studio's Developer tab, or run `lms load {QWEN}`."
    if raise_:
        fix += " Or raise config.json model_list[0].request_timeout above 16 s."
    assert finding.fix == fix
    assert (finding.evidence["estimated_load_s"], finding.evidence["jit"]) == (8, True)


def test_a_load_beyond_the_timeout_without_a_config_names_the_bare_setting() -> None:
    server = fakes.lmstudio(loaded={}, jit=True)
    t = target(server, QWEN, config=False, request_timeout=8.0)
    (finding,) = [f for f in check(server, t) if f.code == "model.not_loaded"]
    assert finding.fix.endswith(" Or raise request_timeout above 16 s.")


def test_jit_off_names_no_load_time_because_nothing_will_load() -> None:
    server = fakes.lmstudio(loaded={"google/gemma-3-12b": 8192}, jit=False)
    (finding,) = check(server, model_id=QWEN, provider="lmstudio", request_timeout=8.0)
    assert (finding.code, finding.severity) == ("model.not_loaded", Severity.ERROR)
    assert finding.detail == (
        "Just-in-Time loading is off, so requests for it fail until it is loaded."
    )
    assert finding.summary == f"`{QWEN}` is known to LM Studio but not loaded"


def test_any_id_server_without_a_config_says_which_model_answers() -> None:
    # TGI ignores the request's model (router/src/lib.rs:831-832 @db931fcf; tests/fakes/tgi.py)
    server = fakes.tgi()
    found = check(server, target(server, "whatever", config=False))
    finding = found[0]
    assert (finding.code, finding.severity) == ("model.mismatch", Severity.WARN)
    assert finding.fix == (
        "If `HuggingFaceTB/SmolLM2-135M-Instruct` is what you want, say so. Use --model "
        '"HuggingFaceTB/SmolLM2-135M-Instruct". TGI serves one model and ignores the id; set it '
        "to the id it lists."
    )
    assert finding.detail == (
        "PicoClaw sends `whatever`; Hugging Face TGI does not check the id, so requests work but "
        "`HuggingFaceTB/SmolLM2-135M-Instruct` answers them."
    )


def test_a_router_refuses_an_id_it_does_not_list() -> None:
    # llama-server router: unknown id → 400 "model 'x' not found" (server-models.cpp:1859-1876)
    server = fakes.llamacpp(router={"a-model": ("loaded", 4096)})
    found = check(server, model_id="b-model")
    assert [(f.code, f.severity) for f in found] == [("model.not_found", Severity.ERROR)]


def test_a_failed_router_load_tells_how_to_load_again() -> None:
    # server-models.cpp:2047-2050: a failed load is listed unloaded + failed + exit_code
    server = fakes.llamacpp(router={"b": ("unloaded", None)}, failed={"b": 3})
    (finding,) = [f for f in check(server, model_id="b") if f.code == "model.not_loaded"]
    assert finding.fix == (
        "Read the server's log for this model's load (a missing or broken GGUF file, not enough "
        "memory, a bad preset option), fix it, then Router mode loads it on the first request "
        'unless --no-models-autoload is set; load it now with POST /models/load {"model": "b"}.'
    )
    assert finding.detail == (
        "The model process exited with code 3 while loading `b`; requests for it fail until a "
        "load succeeds."
    )


def test_nothing_served_without_a_model_id_names_a_placeholder() -> None:
    # Ollama with nothing pulled: /api/tags and /v1/models empty (tests/fakes/ollama.py)
    server = fakes.ollama(downloaded=[])
    (finding,) = check(server, target(server, "", config=False, model=""))
    assert (finding.code, finding.severity) == ("model.none_loaded", Severity.ERROR)
    assert finding.fix == "Run `ollama pull MODEL_ID` on the Ollama machine."
    assert finding.evidence["server"] == "ollama"


def test_a_server_with_no_wording_of_its_own_serves_no_model() -> None:
    # text-generation-webui with no model loaded lists none (tests/fakes/textgen.py)
    (finding,) = check(fakes.textgen(model=None), model_id="x")
    assert finding.summary == "text-generation-webui serves no model"
    assert finding.fix == "Load it in the Model tab (the API serves the loaded model only)."


def test_partial_offload_share_is_rounded_from_the_measured_sizes() -> None:
    # Ollama /api/ps size and size_vram (api/types.go:843 @fb307609)
    server = fakes.ollama(running={"qwen3:8b": (10_000_000_000, 9_000_000_000, 40960)})
    found = check(server, model_id="qwen3:8b", provider="ollama")
    (finding,) = [f for f in found if f.code == "capacity.partial_offload"]
    assert finding.summary.startswith("Only 90% of `qwen3:8b` is in GPU memory")
    assert finding.evidence["measured"] is True


def test_a_size_vram_without_a_size_gives_no_offload_share() -> None:
    # Ollama always sends both (api/types.go ProcessModelResponse: Size, SizeVRAM without
    # omitempty, @fb307609); a look-alike or proxy that drops `size` leaves nothing to divide
    server = fakes.ollama(running={"qwen3:8b": (10_000_000_000, 9_000_000_000, 40960)})
    ps = server.routes["GET /api/ps"]
    assert callable(ps)

    def without_size(seen: Seen) -> Reply:
        reply = ps(seen)
        body = {
            "models": [{k: v for k, v in m.items() if k != "size"} for m in reply.body["models"]]
        }
        return Reply(200, body)

    server.routes["GET /api/ps"] = without_size
    found = check(server, model_id="qwen3:8b", provider="ollama")
    assert [f.code for f in found] == ["model.ok"]


def test_a_typo_answered_by_the_one_model_names_that_models_small_context() -> None:
    # KoboldCpp answers any id with its one model (LostRuins/koboldcpp@2da346a5, §11): the
    # context warning is about that model, not about the id PicoClaw sent
    found = check(fakes.koboldcpp(maxctx=2048), model_id="some-typo")
    assert [f.code for f in found] == ["model.mismatch", "model.context_too_small"]
    assert found[1].summary.startswith(
        "`koboldcpp/Mistral-7B-Q4` is loaded with a 2,048-token context;"
    )


# -- lmdoctor/modelids.py: which listed id is meant ------------------------------------------


def test_an_id_with_the_same_last_part_comes_before_a_merely_similar_one() -> None:
    ids = ["lmstudio-community/qwen2", "mlx-community/qwen3"]
    server = fakes.lmstudio(downloaded=ids)
    (finding,) = check(server, model_id="lmstudio-community/qwen3", provider="lmstudio")
    assert finding.evidence["closest"] == ["mlx-community/qwen3", "lmstudio-community/qwen2"]
    assert finding.evidence["meant"] == "mlx-community/qwen3"
    assert finding.summary.endswith(": no listed id matches it")


def test_ids_longer_than_300_characters_are_never_suggested() -> None:
    ids = ["a" * 294 + "/qwen3", "b" * 295 + "/qwen3"]  # 300 and 301 characters
    server = fakes.lmstudio(downloaded=ids)
    (finding,) = check(server, model_id="x/qwen3", provider="lmstudio")
    assert finding.evidence["closest"] == [ids[0]]


def test_letter_case_is_named_as_the_reason() -> None:
    server = fakes.lmstudio(downloaded=["qwen/qwen3-8b", "qwen/qwen3-4b"])
    (finding,) = check(server, model_id="Qwen/Qwen3-8B", provider="lmstudio")
    assert finding.summary == (
        "LM Studio does not serve `Qwen/Qwen3-8B`: ids are case-sensitive; the listed one "
        "differs in letter case"
    )
    assert finding.evidence["meant"] == "qwen/qwen3-8b"


def test_two_stripped_prefixes_are_named_in_the_plural() -> None:
    # PicoClaw strips up to two prefixes (picoclaw-config.md §2.4)
    server = fakes.lmstudio()
    t = target(server, "qwen3-9b", provider="lmstudio", model="lmstudio/qwen/qwen3-9b")
    assert check(server, t)[0].detail.startswith(
        "PicoClaw sends `qwen3-9b`: the configured model is `lmstudio/qwen/qwen3-9b`, and it "
        "strips the provider prefixes `lmstudio/qwen/`."
    )
    server = fakes.lmstudio()
    t = target(server, "qwen3-9b", provider="lmstudio", model="qwen3-9b")
    assert check(server, t)[0].detail.startswith("PicoClaw sends `qwen3-9b`. LM Studio lists")


@pytest.mark.parametrize(
    ("listed", "asked"),
    [
        ("myuser/mymodel:latest", "myuser/mymodel"),  # a namespaced name
        ("localhost:5000/ns/m:latest", "localhost:5000/ns/m"),  # a registry host with a port
    ],
)
def test_ollama_implies_latest_for_namespaced_and_registry_names(listed: str, asked: str) -> None:
    # ollama/ollama@fb307609 types/model/name.go:41: the tag defaults to "latest"; a host may
    # carry a port (ParseName)
    server = fakes.ollama(downloaded=[listed])
    finding = check(server, model_id=asked, provider="ollama")[0]
    assert (finding.code, finding.summary) == (
        "model.ok",
        f"`{asked}` is served (listed as `{listed}`)",
    )


def test_vllm_max_model_len_is_the_loaded_context() -> None:
    # vLLM /v1/models max_model_len (tests/fakes/vllm.py, §5)
    server = fakes.vllm("Qwen/Qwen2.5-7B-Instruct", max_model_len=4096)
    found = check(server, model_id="Qwen/Qwen2.5-7B-Instruct", provider="vllm")
    assert [f.code for f in found] == ["model.ok", "model.context_too_small"]
    assert found[0].evidence["loaded"] is True
    assert found[1].evidence["source"] == "/v1/models"


def test_a_model_a_server_lists_as_running_is_loaded() -> None:
    # text-generation-webui lists the loaded model only (tests/fakes/textgen.py, §12)
    found = check(
        fakes.textgen("Qwen2.5-7B-Instruct-Q4_K_M.gguf"), model_id="Qwen2.5-7B-Instruct-Q4_K_M.gguf"
    )
    assert [(f.code, f.evidence.get("loaded")) for f in found] == [("model.ok", True)]


def test_an_entry_with_its_own_provider_field_keeps_the_id_whole() -> None:
    # `provider: lmstudio` set: PicoClaw does not split the model on "qwen/" (picoclaw-config.md
    # §2.4), so the id to write is the listed one as it is
    server = fakes.lmstudio(downloaded=["qwen/qwen3-8b"])
    t = target(server, "qwen/qwen3-9b", provider="lmstudio", model="qwen/qwen3-9b")
    (finding,) = check(server, t)
    assert finding.fix.startswith('Set config.json model_list[0].model to "qwen/qwen3-8b"; or: ')


def test_the_users_own_provider_prefix_is_kept_in_the_suggested_model() -> None:
    server = fakes.lmstudio(downloaded=["qwen3-8b"])
    t = target(server, "qwen3-9b", provider="openai", model="openai/qwen3-9b")
    (finding,) = check(server, t)
    assert finding.fix.startswith('Set config.json model_list[0].model to "openai/qwen3-8b"; or: ')


def test_the_users_own_spelling_of_the_provider_is_kept_after_two_strips() -> None:
    # `OpenAI/lmstudio/qwen3-9b`: PicoClaw splits the provider case-insensitively (OpenAI ->
    # openai) and its OpenAI-compatible client strips `lmstudio/` too (picoclaw-config.md §2.4),
    # so it sends `qwen3-9b`; the suggestion keeps the user's own first prefix as written
    server = fakes.lmstudio(downloaded=["qwen3-8b"])
    t = target(server, "qwen3-9b", provider="openai", model="OpenAI/lmstudio/qwen3-9b")
    (finding,) = check(server, t)
    assert (finding.code, finding.severity) == ("model.not_found", Severity.ERROR)
    assert finding.fix.startswith('Set config.json model_list[0].model to "OpenAI/qwen3-8b"; or: ')


def test_a_key_guarded_router_refuses_an_id_it_does_not_list() -> None:
    # llama-server --api-key guards /v1/models (VENDORED server-http.cpp:251-258); the router
    # answers an unknown id 400 "model 'b' not found" (server-models.cpp:1859-1876). Its mode
    # shows only in the keyed list: without it the router was taken for a single-model server
    # that answers any id (model.mismatch).
    server = fakes.llamacpp(router={"a": ("loaded", 4096)}, api_key="k")
    found = check(server, target(server, "b", key="k"))
    assert [(f.code, f.severity) for f in found] == [("model.not_found", Severity.ERROR)]


ENTRY = "config.json model_list[0]"


def sleeping_6gb_router() -> Server:
    """A llama-server router whose 6 GB model sleeps (--sleep-idle-seconds; status "sleeping",
    server-models.cpp:1443-1445); meta.size as README "GET /v1/models" reports it."""
    server = fakes.llamacpp(router={"smol": ("sleeping", 2048)})
    listing = server.routes["GET /v1/models"]

    def models(seen: Seen) -> Reply:
        reply = listing(seen) if callable(listing) else listing
        reply.body["data"][0]["meta"]["size"] = 6_000_000_000
        return reply

    server.routes["GET /v1/models"] = models
    return server


@pytest.mark.parametrize(
    ("timeout", "config", "severity", "raise_"),
    [
        (
            20.0,
            True,
            Severity.WARN,
            " Or raise config.json model_list[0].request_timeout above 20 s.",
        ),
        (20.0, False, Severity.WARN, " Or raise request_timeout above 20 s."),
        (21.0, True, Severity.INFO, ""),
    ],
)
def test_a_sleeping_model_warns_only_when_its_reload_may_outlast_the_timeout(
    timeout: float, config: bool, severity: Severity, raise_: str
) -> None:
    server = sleeping_6gb_router()
    t = target(server, "smol", config=config, request_timeout=timeout)
    (finding,) = [f for f in check(server, t) if f.code == "model.sleeping"]
    assert finding.severity is severity
    assert "waits while it is loaded again (up to roughly 10 s for 6.0 GB)" in finding.detail
    assert finding.fix.endswith("(router mode: also in the model's preset)." + raise_)
    assert finding.evidence["estimated_load_s"] == 10


def test_a_model_list_larger_than_a_probe_answer_is_read_whole() -> None:
    # LM Studio lists every download (§1 GET /v1/models): ~3000 ids are ~300 KB, over the
    # 256 KB read for probes and well under the 4 MB read for model lists
    ids = [f"publisher-{n:04d}/some-model-name-{n:04d}-instruct-gguf" for n in range(3000)]
    server = fakes.lmstudio(downloaded=ids)
    found = check(server, model_id=ids[-1], provider="lmstudio")
    assert found[0].code == "model.ok"


def test_koboldcpp_context_comes_from_its_true_max_context_length() -> None:
    # /api/extra/true_max_context_length (LostRuins/koboldcpp@2da346a5 koboldcpp.py:1746)
    server = fakes.koboldcpp(maxctx=2048)
    found = check(server, model_id="koboldcpp/Mistral-7B-Q4")
    assert [f.code for f in found] == ["model.ok", "model.context_too_small"]
    assert found[1].evidence["loaded_context"] == 2048


def test_koboldcpp_answers_a_typo_with_its_one_model() -> None:
    # KoboldCpp serves one model whatever id is asked (LostRuins/koboldcpp@2da346a5, §11)
    found = check(fakes.koboldcpp(), model_id="some-typo")
    assert found[0].code == "model.mismatch"
    assert found[0].evidence["served"] == "koboldcpp/Mistral-7B-Q4"


def test_a_prefix_that_is_not_the_listed_publisher_is_not_called_stripped() -> None:
    # `lmstudio/qwen3-8b`: PicoClaw stripped `lmstudio/`, not the `qwen/` of the listed id
    server = fakes.lmstudio(downloaded=["qwen/qwen3-8b"])
    t = target(server, "qwen3-8b", provider="lmstudio", model="lmstudio/qwen3-8b")
    (finding,) = check(server, t)
    assert finding.summary == "LM Studio does not serve `qwen3-8b`: no listed id matches it"
    assert finding.evidence["meant"] == "qwen/qwen3-8b"


def test_a_router_without_autoload_fails_requests_for_an_unloaded_model() -> None:
    # --no-models-autoload: 400 "model is not loaded" (server-models.cpp:1932-1950); only LM
    # Studio's Just-in-Time loading, not the router, counts as loading on request here
    server = fakes.llamacpp(router={"a": ("loaded", 4096), "b": ("unloaded", None)}, autoload=False)
    (finding,) = [f for f in check(server, model_id="b") if f.code == "model.not_loaded"]
    assert (finding.severity, finding.evidence["jit"]) == (Severity.ERROR, False)


# -- lmdoctor/servers/answers.py: the model list as the client asks for it ----------------------


@pytest.mark.parametrize("key", ["right", None])
def test_a_model_list_without_an_answer_names_what_failed(key: str | None) -> None:
    # vLLM (tests/fakes/vllm.py) whose list answers the network check's probe (the first
    # request) and then, to the client's request (with its key, if any), nothing until the
    # test ends (far beyond SHORT's 1.5-s read timeout)
    server = fakes.vllm(api_key=key)
    listing = server.routes["GET /v1/models"]
    asked: list[str | None] = []
    done = threading.Event()

    def models(seen: Seen) -> Reply:
        asked.append(fakes.bearer(seen))
        if len(asked) > 1 and fakes.bearer(seen) == key:
            done.wait(60)
        return listing(seen) if callable(listing) else listing

    server.routes["GET /v1/models"] = models
    try:
        found = check(server, target(server, key=key), only="server", settings=SHORT)
    finally:
        done.set()
    (finding,) = [f for f in found if f.code == "http.no_answer"]
    assert finding.severity is Severity.ERROR
    assert finding.detail == "The request failed (ReadTimeout)."
    assert finding.evidence["failure"] == "ReadTimeout"


def test_a_300_with_a_model_list_body_is_no_model_list() -> None:
    # only a 2xx answer is a model list: a gateway's 300 Multiple Choices (RFC 9110 §15.4.1)
    # carrying a list-shaped body does not make the base serve one
    server = Server(
        {"GET /v1/models": Reply(300, {"object": "list", "data": [{"id": "m", "object": "model"}]})}
    )
    found = check(server, only="server")
    assert [f.code for f in found] == ["http.not_llm_server"]
    assert "HTTP 300" in found[0].detail


def test_without_a_key_the_model_list_is_asked_for_once_by_every_check() -> None:
    # identification, the auth probe and the models check share one keyless GET /v1/models
    # (servers/answers.py makes each distinct request once; "with the key" is no distinct
    # request when there is no key); the network check's own probe is the other one
    server = fakes.vllm()
    check(server, target(server))
    listings = [s for s in server.seen if s.method == "GET" and s.path == "/v1/models"]
    assert len(listings) == 2, [fakes.bearer(s) for s in listings]


def test_a_file_path_id_without_a_config_is_a_plain_model_option() -> None:
    # `check URL --model ID` sends any id, a path too: no PicoClaw rule applies
    server = fakes.llamacpp("/models/smol.gguf")
    found = check(server, target(server, "smollm2", config=False))
    (finding,) = [f for f in found if f.code == "model.mismatch"]
    assert finding.fix.startswith(
        'If `/models/smol.gguf` is what you want, say so. Use --model "/models/smol.gguf".'
    )


def test_lm_studio_03_unknown_context_says_how_to_set_it() -> None:
    # LM Studio 0.3's /api/v0/models gives no loaded context (tests/fakes/lmstudio.py api="0.3")
    server = fakes.lmstudio(loaded={"qwen/qwen3-8b": 4096}, api="0.3")
    found = check(server, model_id="qwen/qwen3-8b", context_window=8192)
    (finding,) = [f for f in found if f.code == "model.context_unknown"]
    assert finding.fix and "8192" in finding.fix.replace(",", "")
