""".security.yml: which key an entry sends.

Verdicts asserted through public interfaces, each written to kill a mutant that survived
tools/mutation.py: a wrong diagnosis must fail a test."""

from __future__ import annotations

from lmdoctor.config import load


def _two_same_names(tmp_path, security: str):
    (tmp_path / "config.json").write_text(
        '{"version": 3, "model_list": ['
        '{"model_name": "m", "model": "openai/m", "api_base": "http://127.0.0.1:1/v1"},'
        '{"model_name": "m", "model": "openai/m", "api_base": "http://127.0.0.1:2/v1"}]}'
    )
    (tmp_path / ".security.yml").write_text(security)
    return [t for t in load(tmp_path / "config.json", env={}).entries if t.name == "m"]


def test_security_yml_name_index_wins_over_the_plain_name(tmp_path):
    # PicoClaw writes "name:index"; the plain "name" is the fallback for every same-named entry
    first, second = _two_same_names(
        tmp_path,
        'model_list:\n  m:\n    api_keys: ["plain-name-key"]\n'
        '  "m:0":\n    api_keys: ["indexed-zero-key"]\n',
    )
    assert first.api_key.reveal() == "indexed-zero-key"
    assert first.sources["api_key"] == ".security.yml model_list.m:0"
    assert second.api_key.reveal() == "plain-name-key"
    assert second.sources["api_key"] == ".security.yml model_list.m"


def test_an_empty_indexed_entry_falls_back_to_the_plain_name(tmp_path):
    first, _ = _two_same_names(
        tmp_path,
        'model_list:\n  "m:0":\n    api_keys: []\n  m:\n    api_keys: ["plain-name-key"]\n',
    )
    assert first.api_key.reveal() == "plain-name-key"
