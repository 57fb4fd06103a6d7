"""How the id the client sends relates to the ids a server lists.

PicoClaw strips up to two prefixes from `model` before sending it (picoclaw-config.md §2.4), so
a listed id like `google/gemma-3-12b` can be unreachable as `lmstudio/google/gemma-3-12b`; ids
pick up quantization suffixes (`@q4_k_m`) by mistake; case matters. These helpers explain a miss
and say what to write instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from lmdoctor.target import Target

QUANT_SUFFIX = re.compile(r"^(.+)@([A-Za-z0-9_.\-]+)$")


def same_model(a: str, b: str, default_tag: str | None = None) -> bool:
    """Ids the server treats as one: equal, or equal once its `default_tag` is implied
    (Ollama and LocalAI: `llama3.2` is `llama3.2:latest`)."""
    if a == b:
        return True
    if default_tag:
        return _tagged(a, default_tag) == _tagged(b, default_tag)
    return False


def _tagged(name: str, tag: str) -> str:
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:{tag}"


def find(model_id: str, names: Iterable[str], default_tag: str | None = None) -> str | None:
    """The listed name the server will resolve model_id to, or None."""
    names = list(names)
    if model_id in names:
        return model_id
    return next((n for n in names if same_model(model_id, n, default_tag)), None)


def model_value(target: Target, wanted: str) -> str | None:
    """What to write as `model` so that PicoClaw sends `wanted` (after both prefix strips)
    to the same provider as now; None when no `model` string PicoClaw accepts does (an id
    that is a file path: "openai//models/x.gguf" would be refused)."""
    from lmdoctor.config import providers  # PicoClaw's resolution: only for a fix that needs it

    explicit = providers.resolve(target.model, target.provider, target.api_base)
    split = providers.resolve(target.model, "", target.api_base)
    use_provider = target.provider if explicit.model_id == target.model_id != split.model_id else ""
    now = (explicit if use_provider else split).provider
    first = target.model.partition("/")[0]
    kept = [f"{first}/"] if split.stripped[:1] == (first,) else []  # the user's own prefix
    prefixes = [""] if use_provider else [*kept, "", f"{now}/"]
    for prefix in dict.fromkeys(prefixes):
        for candidate in (prefix + wanted, f"{prefix}{wanted.partition('/')[0]}/{wanted}"):
            if providers.model_string_problem(candidate):
                continue
            found = providers.resolve(candidate, use_provider, target.api_base)
            if found.model_id == wanted and found.provider == now:
                return candidate
    return None if providers.model_string_problem(wanted) else wanted


def set_model(target: Target, wanted: str) -> str:
    """The instruction that makes the client send `wanted`."""
    if target.config_path is None:
        return f'Use --model "{wanted}"'
    value = model_value(target, wanted)
    if value is None:
        return (
            f'PicoClaw cannot send `{wanted}` (a `model` string may not start with "/" nor '
            'hold "//" or spaces), so serve the model under the id PicoClaw sends'
        )
    return f'Set {target.where}.model to "{value}"'


def sent_because(target: Target) -> str:
    """Which id the client sends, and why it differs from the configured model."""
    if target.model == target.model_id or not target.model.endswith(target.model_id):
        return f"PicoClaw sends `{target.model_id}`"
    removed = target.model[: -len(target.model_id)].strip("/")
    return (
        f"PicoClaw sends `{target.model_id}`: the configured model is `{target.model}`, and it "
        f"strips the provider prefix{'es' if '/' in removed else ''} `{removed}/`"
    )


def closest(model_id: str, ids: list[str]) -> list[str]:
    import difflib  # only when an id is missing

    want = model_id.lower()
    short = [i for i in ids[:5000] if len(i) <= 300]
    by_lower = {i.lower(): i for i in short}
    exact_tail = [i for i in short if i.lower().rsplit("/", 1)[-1] == want.rsplit("/", 1)[-1]]
    fuzzy = [by_lower[m] for m in difflib.get_close_matches(want, by_lower, n=5, cutoff=0.5)]
    return list(dict.fromkeys(exact_tail + fuzzy))[:3]


def why_missing(
    target: Target, ids: list[str], default_tag: str | None = None
) -> tuple[str, str | None]:
    """(reason, the listed id the user most likely meant)."""
    model_id = target.model_id
    suffix = QUANT_SUFFIX.match(model_id)
    if suffix and find(suffix.group(1), ids, default_tag):
        base = find(suffix.group(1), ids, default_tag)
        return f"the id ends in the quantization suffix `@{suffix.group(2)}`", base
    for listed in ids:
        if listed.endswith("/" + model_id) and target.model.endswith(listed):
            return (
                f"PicoClaw stripped `{listed[: -len(model_id)]}` from `{target.model}`, but the "
                f"server lists the model as `{listed}`"
            ), listed
    near = closest(model_id, ids)
    if near and near[0].lower() == model_id.lower():
        return "ids are case-sensitive; the listed one differs in letter case", near[0]
    return "no listed id matches it", near[0] if near else None
