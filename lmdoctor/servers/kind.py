"""`ServerKind`: everything lmdoctor knows about one kind of LLM server, in one value.

Each module of this package (lmstudio.py, ollama.py, …) defines one `KIND`. Checks ask the
target's kind (its attributes and hooks); none branches on a kind id. Fix templates take `{id}`
(the model id) and `{n}` (a context length). Facts and their sources:
../shared/reference/llm-servers.md (section in `ref`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

if TYPE_CHECKING:
    from lmdoctor.http import Response
    from lmdoctor.parse import ListedModel
    from lmdoctor.servers.answers import Listing, Native, Probes, Requests
    from lmdoctor.target import Target

Stage = Literal["headers", "root", "model", "listing", "denial", "probe"]
DEFAULT_OPEN = "Restart the server with `--host 0.0.0.0` (vLLM, SGLang, llama-cpp-python, …)"
DEFAULT_LOADS = "The first request has to load it and waits for the load"
GENERIC_ID = "openai-compatible"


# NamedTuple, not a frozen dataclass: the same immutable value (eq, hash, repr by fields), defined
# without the ~3.5 M instructions of exec'd methods a dataclass costs every start-up (NOTES, 13).
class Signal(NamedTuple):
    """One fingerprint signal: `test` returns the evidence text when it matches, else None.

    Stages run in identify.py's order; within a stage, signals of all kinds run by `rank`
    (the §14 B order). `kind` overrides the owner for signals that name two kinds at once."""

    stage: Stage
    rank: int
    test: Callable[[Any], str | None]
    kind: str | None = None


class AuthProbe(NamedTuple):
    """A request the server guards with its key but that generates nothing (§14 D)."""

    method: str
    path: str  # at the server's root
    body: Any = None


NativeReader = Callable[["Requests", str, "Listing", str], Awaitable["Native"]]
BenchRequest = Callable[["Target", list[dict[str, str]], int], tuple[str, dict[str, Any]]]


def _no_version(probe: Probes) -> str | None:
    return None


def _no_mode(models: list[ListedModel]) -> str | None:
    return None


# An empty read-only mapping: the default of the per-OS texts below.
_NONE: Mapping[str, str] = MappingProxyType({})


class ServerKind(NamedTuple):
    """One kind of LLM server: how to recognise it, what to ask it, what to tell its user."""

    id: str  # stable id used in fix texts and JSON (`server.identified` evidence `kind`)
    name: str
    ref: str  # llm-servers.md section
    get_key: str  # where the key this server expects comes from
    auth_off: str = ""  # how to stop it asking for a key, if the user prefers that
    require_keys: str = ""  # how to make it ask for one (it checks none now)
    add_model: str = "Use one of the ids the server lists."  # make {id} served
    load_model: str = ""  # load {id} now
    context: str = ""  # serve with a context of {n}
    forbidden: str = ""  # a 403 / host-header guard
    start: str = "Start the LLM server"  # how to start it (PORT: the configured port)
    open_to_lan: str = DEFAULT_OPEN  # make it listen beyond loopback
    # the two above where an OS does them differently, keyed by platform.system() ("Windows",
    # "Darwin"); the plain texts are the Linux ones
    start_on: Mapping[str, str] = _NONE
    open_to_lan_on: Mapping[str, str] = _NONE
    none_loaded: str = ""  # summary when it lists no model ("" → "{title} serves no model")
    loads_on_request: str = DEFAULT_LOADS  # what happens to a request for an unloaded model
    # a model put to sleep when idle (llama-server --sleep-idle-seconds): what the next request
    # meets, and how to keep it awake ("" where the server has no such state)
    wakes_on_request: str = ""
    keep_awake: str = ""
    # LM Studio: Just-in-Time loading, read from whether downloaded models are listed
    jit_texts: Mapping[bool | None, str] | None = None
    accepts_any_model: bool = False  # answers every model id with the one model it serves
    single_model_unless_router: bool = False  # llama-server: one model, unless in router mode
    default_tag: str | None = None  # Ollama-style ids: `name` means `name:latest`
    # -- where it runs -------------------------------------------------------------------------
    ports: tuple[int, ...] = ()  # default ports, most usual first (scan order: KINDS order)
    names_port: bool = False  # a refused connection on one of `ports` suggests this server
    usual_port: int | None = None  # named in prose about where LLM servers usually listen
    short: str = ""  # short name for that prose
    processes: tuple[str, ...] = ()  # process-name fragments that name it
    providers: tuple[str, ...] = ()  # PicoClaw providers that name this server software
    # -- how to recognise it (identify.py) -------------------------------------------------------
    owned_by: str | None = None  # the `owned_by` its /v1/models entries carry
    signals: tuple[Signal, ...] = ()
    probes: tuple[str, ...] = ()  # GET paths that tell an unknown server apart (discriminators)
    follow_ups: tuple[str, ...] = ()  # once it is likely: what confirms it or gives its version
    version_probe: str = ""  # fetched when the kind was settled by other kinds' probes
    version: Callable[[Probes], str | None] = _no_version
    settle: Callable[[Probes, list[str]], str] | None = None  # confirm (or correct) the kind
    mode: Callable[[list[ListedModel]], str | None] = _no_mode  # e.g. llama.cpp "router"
    known: bool = True  # False for the generic fallback
    # its answer while it loads a model: (summary, detail, fix) of the finding, else None
    busy: Callable[[Response, str], tuple[str, str, str] | None] | None = None
    # why it refused a request, when its answer needs explaining: (refusal, note) where
    # refusal is denial()'s word ("key") and note is quoted in the finding, else None
    explain_refusal: Callable[[Response], tuple[str, str] | None] | None = None
    # -- what to ask it --------------------------------------------------------------------------
    native: NativeReader | None = None  # its own API: loaded state, context, sizes
    auth_probe: AuthProbe | None = None
    bench_request: BenchRequest | None = None  # its native streaming chat, if preferred

    @property
    def title(self) -> str:
        """The name at the start of a sentence ("vLLM" stays; "an …" becomes "An …")."""
        if self.name.startswith(("an ", "the ")):
            return self.name[:1].upper() + self.name[1:]
        return self.name

    @property
    def models_guarded(self) -> bool:
        """Whether its GET /v1/models is guarded whenever keys are on (§14 D)."""
        return self.known and self.auth_probe is None

    @property
    def jit(self) -> bool:
        return self.jit_texts is not None

    def accepts_any_id(self, router: bool) -> bool:
        """Whether it answers any model id with the model it serves."""
        return self.accepts_any_model or (self.single_model_unless_router and not router)

    def loading(self, jit: bool | None) -> str:
        """What a request for a known but unloaded model meets."""
        return self.jit_texts[jit] if self.jit_texts is not None else self.loads_on_request

    def start_for(self, system: str) -> str:
        """How to start it on that OS (platform.system() name)."""
        return self.start_on.get(system, self.start)

    def open_to_lan_for(self, system: str) -> str:
        """How to make it listen beyond loopback on that OS."""
        return self.open_to_lan_on.get(system, self.open_to_lan)

    def settled(self, probe: Probes, signals: list[str]) -> str:
        return self.settle(probe, signals) if self.settle else self.id
