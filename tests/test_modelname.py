"""Model ids → parameters, quantization, bits per weight (lmdoctor/modelname.py)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lmdoctor import modelname
from lmdoctor.modelname import parse

# id as a server or user writes it → (params_b, active_params_b, quant, family key or None)
REAL_IDS = [
    # LM Studio keys
    ("qwen/qwen3-8b@q4_k_m", 8.19, 8.19, "Q4_K_M", "Qwen3-8B"),
    ("openai/gpt-oss-20b", 20.91, 3.61, "MXFP4", "gpt-oss-20b"),
    ("openai/gpt-oss-120b", 116.83, 5.13, "MXFP4", "gpt-oss-120b"),
    ("google/gemma-3-12b", 11.77, 11.77, "Q4_K_M", "Gemma-3-12B"),
    ("mistralai/mistral-nemo-instruct-2407", 12.25, 12.25, "Q4_K_M", "Mistral-Nemo-12B"),
    ("mlx-community/Qwen3-8B-4bit", 8.19, 8.19, "MLX-4BIT", "Qwen3-8B"),
    # Ollama tags
    ("llama3.1:8b-instruct-q4_K_M", 8.03, 8.03, "Q4_K_M", "Llama-3.x-8B"),
    ("gpt-oss:20b", 20.91, 3.61, "MXFP4", "gpt-oss-20b"),
    ("qwen3:30b-a3b-q4_K_M", 30.53, 3.3, "Q4_K_M", "Qwen3-30B-A3B"),
    ("mixtral:8x7b", 46.7, 12.9, "Q4_K_M", "Mixtral-8x7B"),
    ("llama3.2:3b", 3.21, 3.21, "Q4_K_M", "Llama-3.2-3B"),
    ("gemma3n:e2b", 5.4, 2.0, "Q4_K_M", "gemma-3n-E2B"),
    ("phi4:14b", 14.66, 14.66, "Q4_K_M", "Phi-4"),
    ("deepseek-r1:8b", 8.0, 8.0, "Q4_K_M", None),  # bare deepseek-r1 tags are distills
    ("smollm2:135m", 0.135, 0.135, "Q4_K_M", "SmolLM2-135M"),
    ("hf.co/unsloth/Qwen3-4B-GGUF:Q4_K_M", 4.02, 4.02, "Q4_K_M", "Qwen3-4B"),
    # Hugging Face repos
    ("unsloth/Qwen3-4B-GGUF", 4.02, 4.02, "Q4_K_M", "Qwen3-4B"),
    ("Qwen/Qwen2.5-7B-Instruct-AWQ", 7.62, 7.62, "AWQ-4BIT", "Qwen2.5-7B"),
    ("meta-llama/Llama-4-Scout-17B-16E-Instruct", 109.0, 17.0, "Q4_K_M", "Llama-4-Scout"),
    ("bartowski/Qwen3.5-35B-A3B-GGUF", 35.0, 3.0, "Q4_K_M", None),
    # GGUF file names and paths
    ("Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf", 8.03, 8.03, "Q4_K_M", "Llama-3.x-8B"),
    ("../models/Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf", 8.03, 8.03, "Q4_K_M", "Llama-3.x-8B"),
    ("SmolLM2-135M-Instruct-Q8_0.gguf", 0.135, 0.135, "Q8_0", "SmolLM2-135M"),
    ("Qwen3-30B-A3B-Instruct-2507-UD-Q4_K_XL-00001-of-00002.gguf", 30.53, 3.3, "Q4_K_XL",
     "Qwen3-30B-A3B"),
    ("llama-2-7b.Q4_0.gguf", 6.74, 6.74, "Q4_0", "Llama-2-7B"),
    ("C:\\models\\tinyllama-1.1b-chat-v1.0.Q5_K_S.gguf", 1.10, 1.10, "Q5_K_S", "TinyLlama-1.1B"),
    # plain name@quant, and the traps
    ("llama-3-8b@q4_k_m", 8.03, 8.03, "Q4_K_M", "Llama-3.x-8B"),
    ("qwen2.5-7b", 7.62, 7.62, "Q4_K_M", "Qwen2.5-7B"),
    ("Llama-3.1-8B", 8.03, 8.03, "Q4_K_M", "Llama-3.x-8B"),
    ("phi-3.5-mini", 3.82, 3.82, "Q4_K_M", "Phi-3/3.5-mini"),
    ("qwen2.5-7b-instruct-1m", 7.62, 7.62, "Q4_K_M", "Qwen2.5-7B"),  # "1m" is a context
    ("deepseek-r1-distill-llama-8b", 8.03, 8.03, "Q4_K_M", "DeepSeek-R1-Distill-Llama-8B"),
    ("granite3.3:8b", 8.0, 8.0, "Q4_K_M", None),
    ("some-model-8x22b", 145.2, 39.6, "Q4_K_M", None),  # Mixtral-style estimate
]  # fmt: skip


@pytest.mark.parametrize(("model_id", "params", "active", "quant", "family"), REAL_IDS)
def test_real_ids(model_id: str, params: float, active: float, quant: str, family: str | None):
    spec = parse(model_id)
    assert spec.params_b == pytest.approx(params, rel=0.01)
    assert spec.active_params_b == pytest.approx(active, rel=0.01)
    assert spec.quant == quant
    assert (spec.family.key if spec.family else None) == family
    assert spec.bpw is not None and spec.known


@pytest.mark.parametrize("model_id", ["someorg/qwen3", "someorg/llama3.2", "my-finetune"])
def test_ids_without_a_size_stay_unknown(model_id: str):
    """Only a bare Ollama library name means its default tag (issue 12); elsewhere no size."""
    spec = parse(model_id)
    assert spec.params_b is None and not spec.known


def test_effective_bits_per_weight_not_block_bits():
    assert modelname.bpw_for("Q4_K_M") == 4.89  # not 4.5: type mixes and embeddings
    assert modelname.bpw_for("Q8_0") == 8.5
    assert modelname.bpw_for("MXFP4", parse("gpt-oss:20b").family) == 4.63
    assert modelname.bpw_for("Q4_K_XL") == pytest.approx(5.01)
    assert modelname.bpw_for("NOPE") is None


def test_k_quants_of_a_model_whose_hidden_size_is_not_a_multiple_of_256_fall_back():
    """llama.cpp stores such rows in 32-blocks (Q4_K → Q5_0, Q6_K → Q8_0): a SmolLM2-135M
    Q4_K_M file is ≈ 100 MB (tensor by tensor from its config.json shapes: 103.5), not
    135 M × 4.89 bits = 83 MB (issue 12)."""
    smol = parse("SmolLM2-135M-Instruct-Q4_K_M.gguf")
    assert smol.bpw == pytest.approx(5.89, abs=0.01)
    assert 95e6 < (modelname.weights_bytes(smol) or 0) < 110e6
    assert parse("qwen2.5:0.5b").bpw == pytest.approx(5.94, abs=0.01)
    # 32-block quants and models with 256-multiple hidden sizes are unchanged
    assert parse("smollm2-135m@q8_0").bpw == 8.5
    assert parse("qwen3:0.6b").bpw == 4.89
    assert modelname.kquant_fallback_bpw("Q4_K_M", parse("llama3.1:8b").family) == 0.0
    # a file whose size is known is taken as it is
    assert modelname.weights_bytes(smol._replace(size_bytes=105_000_000)) == 105e6


@pytest.mark.parametrize(
    ("text", "canonical"),
    [("q4_k_m", "Q4_K_M"), ("UD-Q4_K_XL", "Q4_K_XL"), ("fp16", "F16"), ("bf16", "BF16"),
     ("Q4_K", "Q4_K_M"), ("iq3_xxs", "IQ3_XXS"), ("mxfp4", "MXFP4"), ("8bit", "MLX-8BIT"),
     ("GPTQ-Int4", "GPTQ-4BIT"), ("awq", "AWQ-4BIT"), ("latest", None)],
)  # fmt: skip
def test_canonical_quant(text: str, canonical: str | None):
    assert modelname.canonical_quant(text) == canonical


def test_default_quant_depends_on_the_server():
    assert parse("meta-llama/Llama-3.1-8B-Instruct", server="vllm").quant == "BF16"
    assert parse("llama3.1:8b", server="ollama").quant == "Q4_K_M"
    assert "Ollama" in parse("llama3.1:8b").quant_source
    assert parse("gpt-oss-20b", server="vllm").quant == "MXFP4"  # the family's own format


def test_kv_cache_shape_of_known_families():
    llama = parse("llama3.1:8b").family
    assert llama is not None and llama.kv_bytes_per_token(8192) == 128 * 1024  # 1 GiB at 8K
    qwen_moe = parse("qwen3:30b-a3b").family
    assert qwen_moe is not None and qwen_moe.kv_bytes_per_token(4096) == 96 * 1024
    oss = parse("gpt-oss:20b").family  # half the layers keep a 128-token window
    assert oss is not None and oss.kv_bytes_per_token(128) == 48 * 1024
    assert oss.kv_bytes_per_token(65536) < 25 * 1024


def test_overrides():
    spec = parse("my-finetune").with_params(7.0)
    assert spec.params_b == 7.0 and spec.known
    assert parse("qwen/qwen3-8b").with_quant("q8_0").bpw == 8.5
    assert modelname.weights_bytes(parse("llama3.1:8b")) == pytest.approx(8.03e9 * 4.89 / 8)


_FRAGMENTS = sorted(
    {part for f in modelname.FAMILIES for part in f.key.lower().replace("/", "-").split("-")}
    | {"meta", "llama", "qwen", "distill", "next", "3n", "e2b", "vl", "2.5", "3.1", "8x7b"}
)


@given(
    st.lists(
        st.one_of(st.sampled_from(_FRAGMENTS), st.text("ab-._/:3", max_size=4)), max_size=6
    ).map("-".join)
)
@settings(max_examples=300, deadline=None)
def test_one_pattern_finds_the_families_re_search_finds(text: str) -> None:
    """_family's single lookahead pattern (start-up cost: no per-family compile) says the same
    as trying each family's own pattern with re.search."""
    _, unique = modelname._families_in()
    assert modelname._present(text) == {p for p in unique if re.search(p, text)}
