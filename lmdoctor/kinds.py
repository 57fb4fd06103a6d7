"""What lmdoctor knows about each server kind: its name and the fix texts tailored to it.

One row per `ServerInfo.kind`. Templates take `{id}` (the model id) and `{n}` (a context
length). Facts and their sources: ../shared/reference/llm-servers.md (section in `ref`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    id: str
    name: str
    ref: str  # llm-servers.md section
    get_key: str  # where the key this server expects comes from
    auth_off: str = ""  # how to stop it asking for a key, if the user prefers that
    add_model: str = "Use one of the ids the server lists."  # make {id} served
    load_model: str = ""  # load {id} now
    context: str = ""  # serve with a context of {n}
    forbidden: str = ""  # a 403 / host-header guard
    accepts_any_model: bool = False  # answers every model id with the one model it serves

    @property
    def title(self) -> str:
        """The name at the start of a sentence ("vLLM" stays; "an …" becomes "An …")."""
        if self.name.startswith(("an ", "the ")):
            return self.name[:1].upper() + self.name[1:]
        return self.name


GENERIC = Kind(
    id="openai-compatible",
    name="an OpenAI-compatible server",
    ref="§14",
    get_key="Use the key this server was configured with.",
    load_model="Load a model on the server: its model list is empty.",
    context="Serve the model with a context of at least {n} tokens.",
)

KINDS: dict[str, Kind] = {
    k.id: k
    for k in (
        Kind(
            id="lmstudio",
            name="LM Studio",
            ref="§1",
            get_key=(
                "Create a token in LM Studio: Developer → Server Settings → Manage Tokens "
                "(tokens look like sk-lm-…)."
            ),
            auth_off="Or switch off Developer → Server Settings → Require Authentication.",
            add_model=(
                "Download and load it in LM Studio (Developer tab → Load Model, or "
                "`lms load {id}`), or re-copy the API Model Identifier from the right-hand "
                "panel and use it as `lmstudio/<identifier>`."
            ),
            load_model="Load it in LM Studio's Developer tab, or run `lms load {id}`.",
            context=(
                "Reload it with a larger context: Developer tab → model settings → Context "
                "Length ≥ {n}, or `lms load {id} --context-length {n}`."
            ),
        ),
        Kind(
            id="ollama",
            name="Ollama",
            ref="§2",
            get_key=(
                "Ollama itself checks no keys: this 401 comes from a reverse proxy or gateway "
                "in front of it (or ollama.com for cloud models). Use that proxy's key, or "
                "point api_base at Ollama directly (http://localhost:11434/v1)."
            ),
            add_model="Run `ollama pull {id}` on the Ollama machine.",
            load_model=(
                "Ollama loads it on the first request; `ollama run {id} ''` loads it now, and "
                "OLLAMA_KEEP_ALIVE keeps it loaded."
            ),
            context=(
                "Start Ollama with OLLAMA_CONTEXT_LENGTH={n}, or put `PARAMETER num_ctx {n}` "
                "in a Modelfile and `ollama create` a variant."
            ),
        ),
        Kind(
            id="llamacpp",
            name="llama.cpp (llama-server)",
            ref="§3",
            get_key=(
                "The key is the value llama-server was started with: `--api-key` "
                "(or LLAMA_API_KEY, --api-key-file)."
            ),
            auth_off="Or restart llama-server without --api-key.",
            add_model=(
                "Start llama-server with `--alias {id}`, or use the id it lists "
                "(router mode: put the model in --models-dir or the preset file)."
            ),
            load_model=(
                "Router mode loads it on the first request unless --no-models-autoload is set; "
                'load it now with POST /models/load {{"model": "{id}"}}.'
            ),
            context=(
                "Restart llama-server with `-c {n}` per slot (the context is split across "
                "--parallel slots: use -c {n} × parallel)."
            ),
        ),
        Kind(
            id="llama-cpp-python",
            name="llama-cpp-python (llama_cpp.server)",
            ref="§4",
            get_key="The key is the `--api_key` given to `python -m llama_cpp.server`.",
            auth_off="Or restart it without --api_key.",
            add_model="Start it with `--model_alias {id}`, or use the id it lists.",
            context="Restart it with `--n_ctx {n}`.",
            accepts_any_model=True,
        ),
        Kind(
            id="vllm",
            name="vLLM",
            ref="§5",
            get_key="The key is the `--api-key` (or VLLM_API_KEY) given to `vllm serve`.",
            auth_off="Or restart vllm serve without --api-key / VLLM_API_KEY.",
            add_model=(
                "vLLM answers only to the name it serves: restart with "
                "`--served-model-name {id}`, or use the id it lists."
            ),
            context="Restart `vllm serve` with `--max-model-len {n}` (if memory allows).",
        ),
        Kind(
            id="sglang",
            name="SGLang",
            ref="§6",
            get_key="The key is the `--api-key` given to the SGLang server.",
            auth_off="Or restart it without --api-key.",
            add_model="Restart with `--served-model-name {id}`, or use the id it lists.",
            context="Restart it with `--context-length {n}`.",
        ),
        Kind(
            id="litellm",
            name="LiteLLM proxy",
            ref="§7",
            get_key=(
                "Use the proxy's general_settings.master_key, or a virtual key created with "
                "POST /key/generate."
            ),
            add_model=(
                "Add a model_list entry with `model_name: {id}` to the LiteLLM config, or give "
                "this key access to it."
            ),
            context="The context is the upstream model's; raise it on the upstream server.",
        ),
        Kind(
            id="tgi",
            name="Hugging Face TGI",
            ref="§8",
            get_key="The key is the `--api-key` given to text-generation-launcher.",
            auth_off="Or restart the launcher without --api-key.",
            add_model="TGI serves one model and ignores the id; set it to the id it lists.",
            context="Restart the launcher with `--max-total-tokens {n}` (and --max-input-tokens).",
            accepts_any_model=True,
        ),
        Kind(
            id="localai",
            name="LocalAI",
            ref="§9",
            get_key="The key is one of LOCALAI_API_KEY / --api-keys of the LocalAI server.",
            add_model=(
                "Install it (`local-ai models install {id}` or the gallery), or use a listed name."
            ),
            context="Set `context_size: {n}` in the model's YAML and restart LocalAI.",
        ),
        Kind(
            id="koboldcpp",
            name="KoboldCpp",
            ref="§11",
            get_key="The key is the `--password` KoboldCpp was started with.",
            auth_off="Or restart KoboldCpp without --password.",
            add_model="KoboldCpp serves one model; set the id to the one it lists.",
            context="Restart KoboldCpp with `--contextsize {n}`.",
            accepts_any_model=True,
        ),
        Kind(
            id="jan",
            name="Jan",
            ref="§10",
            get_key="Copy the key from Jan → Settings → Local API Server → API Key.",
            add_model=(
                "Start the model in Jan (its API lists running models only), or use a listed id."
            ),
            load_model="Start the model in Jan (its API serves running models only).",
            context="Raise Context Size in the model's settings in Jan and restart it.",
            forbidden=(
                "Add the host name you connect with to Jan → Settings → Local API Server → "
                "Trusted Hosts (Jan refuses other Host headers)."
            ),
        ),
        Kind(
            id="textgen",
            name="text-generation-webui",
            ref="§12",
            get_key="The key is the `--api-key` text-generation-webui was started with.",
            auth_off="Or restart it without --api-key.",
            add_model=(
                "Load it in the Model tab or start with `--model {id}` (the API lists the "
                "loaded model only)."
            ),
            load_model="Load it in the Model tab (the API serves the loaded model only).",
            context=(
                "Reload it with a context ≥ {n} (ctx-size / n_ctx / max_seq_len) in the Model tab."
            ),
            forbidden=(
                "Start it with `--listen` (without it the API accepts only Host: localhost or "
                "127.0.0.1)."
            ),
        ),
        Kind(
            id="openai",
            name="the OpenAI API",
            ref="§13",
            get_key="Create a key at https://platform.openai.com/api-keys.",
            add_model="Use a model id your OpenAI account can access.",
        ),
        GENERIC,
    )
}


def kind(kind_id: str | None) -> Kind:
    return KINDS.get(kind_id or "", GENERIC)


# PicoClaw providers that name the server software (for fix texts when the server hides
# behind a proxy that answers every request itself).
PROVIDER_KINDS = {"lmstudio": "lmstudio", "ollama": "ollama", "vllm": "vllm", "litellm": "litellm"}


def likely(kind_id: str | None, provider: str) -> Kind:
    """The identified kind; else the one the configured provider implies; else generic."""
    if kind_id and kind_id != GENERIC.id:
        return kind(kind_id)
    return kind(PROVIDER_KINDS.get(provider, kind_id))
