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


def _file_key(tmp_path, name: str):
    """The one entry of a config whose key is file://NAME: (target, its config.key_unresolved)."""
    (tmp_path / "config.json").write_text(
        '{"version": 3, "model_list": [{"model_name": "m", "model": "openai/m", '
        f'"api_base": "http://127.0.0.1:1/v1", "api_keys": ["file://{name}"]}}]}}'
    )
    (target,) = [t for t in load(tmp_path / "config.json", env={}).entries if t.name == "m"]
    problems = [f for f in target.issues if f.code == "config.key_unresolved"]
    return target, problems


def test_a_key_file_of_exactly_the_limit_is_read_and_one_byte_more_is_not_a_key(tmp_path):
    (tmp_path / "full.key").write_bytes(b"k" * (64 * 1024))
    target, problems = _file_key(tmp_path, "full.key")
    assert problems == [] and target.api_key is not None
    (tmp_path / "big.key").write_bytes(b"k" * (64 * 1024 + 1))
    target, (problem,) = _file_key(tmp_path, "big.key")
    assert problem.summary.endswith("is over 64 KB: not a key") and target.api_key is None


def test_a_key_file_that_is_a_directory_says_so(tmp_path):
    (tmp_path / "keys").mkdir()
    _, (problem,) = _file_key(tmp_path, "keys")
    assert problem.summary.endswith("keys is a directory")


def test_a_blank_key_file_name_is_no_file_name(tmp_path):
    _, (problem,) = _file_key(tmp_path, "  ")
    assert "no file name" in problem.summary


def test_a_key_file_is_trimmed(tmp_path):
    (tmp_path / "m.key").write_text("  sk-trimmed-key-77 \n")
    target, problems = _file_key(tmp_path, "m.key")
    assert problems == [] and target.api_key.reveal() == "sk-trimmed-key-77"
