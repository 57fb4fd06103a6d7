"""The target most check tests start from: one OpenAI-style `model_list` entry on a local server."""

from __future__ import annotations

from pathlib import Path

from lmdoctor.target import Target
from loopback import Reply

MODEL = "lmdoctor-test/model-7b"
MODELS = Reply(200, {"object": "list", "data": [{"id": MODEL, "object": "model"}]})


def target(url: str, **kw: object) -> Target:
    """A `model_list[0]` entry for `url` asking for MODEL; keywords override any field."""
    values: dict = dict(
        name="local",
        provider="openai",
        api_base=url,
        model=MODEL,
        model_id=MODEL,
        config_path=Path("/home/u/.picoclaw/config.json"),
        entry="model_list[0]",
    )
    values.update(kw)
    return Target(**values)
