"""Model identifiers → parameters (total / active), quantization and bits per weight.

Accepts what servers and people call models: LM Studio keys (`qwen/qwen3-8b@q4_k_m`), Ollama
tags (`llama3.1:8b-instruct-q4_K_M`, `gpt-oss:20b`), Hugging Face repos
(`unsloth/Qwen3-4B-GGUF`), GGUF file names and paths (`Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf`,
shards `-00001-of-00003.gguf`) and plain `name@quant`. A table of families whose names mislead
(or say nothing: `phi-3.5-mini`, `mistral-nemo`, `gpt-oss`) wins over the name's own figures.

Facts and sources: ../shared/reference/estimation.md §2 (bits per weight) and §3 (names).
"""

from __future__ import annotations

import functools
import math
import re
from typing import NamedTuple

# Effective whole-file bits per weight (type mixes, F32 norms, higher-precision embeddings and
# output included), measured on Llama-3.1-8B (8.03 B) in llama.cpp tools/quantize/README.md
# (estimation.md §2). Q3_K_M, Q4_0, Q4_1, Q5_0 and Q5_1 come from the Llama-3-8B sizes in
# quantize.cpp QUANT_OPTIONS (GiB × 8 / 8.03 B). Non-GGUF formats: block bpw plus the fp16
# embeddings/output they keep (⚠ second-hand, estimation.md §2).
QUANT_BPW: dict[str, float] = {
    "IQ1_S": 2.00, "IQ1_M": 2.15, "TQ1_0": 1.69, "TQ2_0": 2.06,
    "IQ2_XXS": 2.38, "IQ2_XS": 2.59, "IQ2_S": 2.74, "IQ2_M": 2.93,
    "Q2_K_S": 2.97, "Q2_K": 3.16,
    "IQ3_XXS": 3.25, "IQ3_XS": 3.50, "IQ3_S": 3.66, "IQ3_M": 3.76,
    "Q3_K_S": 3.64, "Q3_K_M": 4.00, "Q3_K_L": 4.30,
    "IQ4_XS": 4.46, "IQ4_NL": 4.68,
    "Q4_0": 4.64, "Q4_1": 5.11, "Q4_K_S": 4.67, "Q4_K_M": 4.89,
    "Q5_0": 5.57, "Q5_1": 6.04, "Q5_K_S": 5.57, "Q5_K_M": 5.70,
    "Q6_K": 6.56, "Q8_0": 8.50, "Q8_K_XL": 8.75,
    "F16": 16.0, "BF16": 16.0, "F32": 32.0,
    "MXFP4": 4.50,  # 4.25 block bpw; gpt-oss files: 4.34-4.63 whole-file (family table)
    "NVFP4": 4.75,  # 4.5 block bpw + higher-precision dense parts
    "FP8": 8.30,
    "AWQ-4BIT": 4.70, "GPTQ-4BIT": 4.70, "GPTQ-8BIT": 8.60, "INT4": 4.70, "INT8": 8.50,
    "MLX-2BIT": 2.50, "MLX-3BIT": 3.50, "MLX-4BIT": 4.50, "MLX-5BIT": 5.50,
    "MLX-6BIT": 6.50, "MLX-8BIT": 8.50,  # affine, group 64: + fp16 scale and bias = 0.5 bpw
}  # fmt: skip
# Shorthands and spellings seen in ids → the canonical name above.
QUANT_ALIASES = {
    "Q4_K": "Q4_K_M", "Q5_K": "Q5_K_M", "Q3_K": "Q3_K_M", "Q6_K_M": "Q6_K", "Q6_K_L": "Q6_K",
    "FP16": "F16", "FP32": "F32", "MXFP4_MOE": "MXFP4", "Q8": "Q8_0", "Q4": "Q4_0",
    "Q5": "Q5_0", "Q6": "Q6_K", "Q2": "Q2_K", "Q3": "Q3_K_M",
}  # fmt: skip
# Unsloth's dynamic "_XL" quants keep more tensors at higher precision than the _M mix.
XL_EXTRA_BPW = 0.12

# What a server holds when the id names no quantization.
LOCAL_DEFAULT_QUANT = "Q4_K_M"  # Ollama library tags, LM Studio's suggested downloads
SAFETENSORS_SERVERS = frozenset({"vllm", "sglang", "tgi"})  # serve HF checkpoints: BF16

_GGUF_QUANT = re.compile(
    r"(?<![a-z0-9])(?:ud-)?("
    r"i?q[1-8](?:_[0-9a-z]{1,3}){0,2}|tq[12]_0|mxfp4(?:_moe)?|nvfp4|bf16|fp16|f16|fp32|f32|fp8"
    r")(?![a-z0-9])",
    re.IGNORECASE,
)
_MLX_BITS = re.compile(r"(?<![a-z0-9])([2-8])[-_ ]?bits?(?![a-z])", re.IGNORECASE)
_OTHER_QUANT = re.compile(
    r"(?<![a-z0-9])(awq|gptq(?:-int(?:4|8))?|int4|int8|w4a16|w8a8)(?![a-z0-9])", re.IGNORECASE
)
_SHARD = re.compile(r"-\d{5}-of-\d{5}$", re.IGNORECASE)
_SIZE = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s*([bm])(?![a-z])")
_EXPERTS = re.compile(r"(?<![\w.])(\d+)x(\d+(?:\.\d+)?)b(?![a-z])")
_ACTIVE = re.compile(r"(?<![a-z0-9.])a(\d+(?:\.\d+)?)b(?![a-z])")
_EFFECTIVE = re.compile(r"(?<![a-z0-9.])e(\d+(?:\.\d+)?)b(?![a-z])")

# Mixtral-style "NxSb": experts share attention/embeddings (≈ 20 % of one expert-sized
# model) and two experts run per token: 8x7b → 46.2 B / 12.6 B (real 46.7 / 12.9),
# 8x22b → 145 / 39.6 (real 141 / 39).
_SHARED_SHARE = 0.2
_EXPERTS_PER_TOKEN = 2


# NamedTuple, not a frozen dataclass: the same immutable value (eq, hash, repr by fields), defined
# without the ~3.5 M instructions of exec'd methods a dataclass costs every start-up (NOTES, 13).
class Family(NamedTuple):
    """A model family whose real shape the name does not tell.

    `size` is the size its names carry, if any: the entry applies when the id names that size
    or none. KV cache shape: `layers` × (`kv_heads` × `head_dim`) keys and values; sliding-
    window models keep the whole context only in `full_layers`, the rest hold `window` tokens;
    `kv_dim` overrides 2 × kv_heads × head_dim (DeepSeek's compressed latent cache).
    """

    key: str
    pattern: str
    params_b: float
    active_b: float | None = None
    size: float | None = None
    default_quant: str | None = None
    file_bpw: float | None = None  # whole-file bpw at default_quant
    layers: int | None = None
    kv_heads: int | None = None
    head_dim: int | None = None
    full_layers: int | None = None
    window: int | None = None
    kv_dim: int | None = None
    effective: bool = False  # active_b is Google's "effective" size (gemma-3n)
    # the longest context the model was trained for (config.json max_position_embeddings)
    trained_context: int | None = None
    # config.json hidden_size, intermediate_size and vocab_size: set where the hidden size is not
    # a multiple of 256, so that K-quant files store most tensors in their fallback types
    # (kquant_fallback_bpw); None elsewhere (every other family here has a multiple of 256)
    hidden: int | None = None
    ffn: int | None = None
    vocab: int | None = None
    require_size: bool = False  # match only when the id names `size` (it has small cousins)

    def kv_bytes_per_token(self, context: int, bytes_per_elem: float = 2.0) -> float | None:
        """Average KV-cache bytes per token of context (f16 by default)."""
        if self.layers is None:
            return None
        per_layer = self.kv_dim or (2 * (self.kv_heads or 0) * (self.head_dim or 0))
        if not per_layer:
            return None
        full = self.full_layers if self.full_layers is not None else self.layers
        windowed = self.layers - full
        held = full * context + windowed * min(context, self.window or context)
        return per_layer * bytes_per_elem * held / max(context, 1)


def _f(key: str, pattern: str, params: float, size: float | None = None, **kw: object) -> Family:
    return Family(key, pattern, params, size=size, **kw)  # type: ignore[arg-type]


def _dense(
    key: str, pattern: str, size: float | None, params: float, shape: tuple[int, int, int]
) -> Family:
    layers, kv_heads, head_dim = shape
    return Family(
        key, pattern, params, size=size, layers=layers, kv_heads=kv_heads, head_dim=head_dim
    )


_B = r"(?<![a-z0-9])"  # a family name starts at a word boundary
_LLAMA3 = _B + r"(?:meta-)?llama-?3(?:\.[0-9])?(?![0-9])"
_QWEN25 = _B + r"qwen-?2\.5(?!-?vl)"
_QWEN3 = _B + r"qwen-?3(?![.0-9])"
_GEMMA3 = _B + r"gemma-?3(?![.0-9n])"
_DISTILL_LLAMA = r"distill-llama"
_DISTILL_QWEN = r"distill-qwen"

# Shapes (layers, KV heads, head dim) from the models' config.json; sizes as llama.cpp prints
# them ("model params = 8.03 B") or the model cards (estimation.md §3). Order matters: the
# first entry that matches wins, so specific names come before the families they contain.
FAMILIES: tuple[Family, ...] = (
    _f("gpt-oss-20b", _B + r"gpt-?oss", 20.91, 20, active_b=3.61, default_quant="MXFP4",
       file_bpw=4.63, layers=24, kv_heads=8, head_dim=64, full_layers=12, window=128),
    _f("gpt-oss-120b", _B + r"gpt-?oss", 116.83, 120, active_b=5.13, default_quant="MXFP4",
       file_bpw=4.34, layers=36, kv_heads=8, head_dim=64, full_layers=18, window=128),
    _f("Mixtral-8x7B", _B + r"mixtral.*8x7b", 46.7, active_b=12.9, layers=32, kv_heads=8,
       head_dim=128),
    _f("Mixtral-8x22B", _B + r"mixtral.*8x22b", 141.0, active_b=39.0, layers=56, kv_heads=8,
       head_dim=128),
    _f("Qwen3-Next-80B-A3B", _B + r"qwen-?3-?next", 79.67, 80, active_b=3.0),
    _f("Qwen3-30B-A3B", _QWEN3 + r".*30b", 30.53, 30, active_b=3.3, layers=48, kv_heads=4,
       head_dim=128),
    _f("Qwen3-235B-A22B", _QWEN3 + r".*235b", 235.1, 235, active_b=22.0, layers=94,
       kv_heads=4, head_dim=128),
    _f("Nemotron-3-Nano-30B-A3B", _B + r"nemotron-?3-?nano", 32.0, 30, active_b=3.0),
    # Ollama's bare "deepseek-r1" is an 8B distill: only an explicit 671b means the real one
    _f("DeepSeek-V3/R1", _B + r"deepseek-?(?:v3|r1)(?!.*distill)", 671.0, 671, active_b=37.0,
       layers=61, kv_dim=576, require_size=True),
    _f("DeepSeek-V2-Lite", _B + r"deepseek(?:-coder)?-?v2-?lite", 15.7, 16, active_b=2.4),
    _f("Llama-4-Scout", _B + r"llama-?4-?scout", 109.0, active_b=17.0),
    _f("Llama-4-Maverick", _B + r"llama-?4-?maverick", 402.0, active_b=17.0),
    _f("OLMoE-1B-7B", _B + r"olmoe", 6.9, active_b=1.3),
    _f("Qwen1.5-MoE-A2.7B", _B + r"qwen-?1\.5-?moe", 14.3, active_b=2.7),
    _f("GLM-4.5-Air", _B + r"glm-?4\.5-?air", 106.0, active_b=12.0),
    _f("Phi-3.5-MoE", _B + r"phi-?3\.5-?moe", 41.9, active_b=6.6),
    _f("gemma-3n-E2B", _B + r"gemma-?3n.*e2b", 5.4, active_b=2.0, effective=True),
    _f("gemma-3n-E4B", _B + r"gemma-?3n.*e4b", 7.9, active_b=4.0, effective=True),
    _dense("DeepSeek-R1-Distill-Llama-8B", _DISTILL_LLAMA, 8, 8.03, (32, 8, 128)),
    _dense("DeepSeek-R1-Distill-Llama-70B", _DISTILL_LLAMA, 70, 70.55, (80, 8, 128)),
    _dense("DeepSeek-R1-Distill-Qwen-1.5B", _DISTILL_QWEN, 1.5, 1.78, (28, 2, 128)),
    _dense("DeepSeek-R1-Distill-Qwen-7B", _DISTILL_QWEN, 7, 7.62, (28, 4, 128)),
    _dense("DeepSeek-R1-Distill-Qwen-14B", _DISTILL_QWEN, 14, 14.77, (48, 8, 128)),
    _dense("DeepSeek-R1-Distill-Qwen-32B", _DISTILL_QWEN, 32, 32.76, (64, 8, 128)),
    _dense("Llama-3.2-1B", _LLAMA3, 1, 1.24, (16, 8, 64)),
    _dense("Llama-3.2-3B", _LLAMA3, 3, 3.21, (28, 8, 128)),
    _dense("Llama-3.x-8B", _LLAMA3, 8, 8.03, (32, 8, 128)),
    _dense("Llama-3.x-70B", _LLAMA3, 70, 70.55, (80, 8, 128)),
    _dense("Llama-3.1-405B", _LLAMA3, 405, 405.85, (126, 8, 128)),
    _dense("Llama-2-7B", _B + r"llama-?2(?![0-9])", 7, 6.74, (32, 32, 128)),
    _dense("Llama-2-13B", _B + r"llama-?2(?![0-9])", 13, 13.02, (40, 40, 128)),
    _dense("Llama-2-70B", _B + r"llama-?2(?![0-9])", 70, 68.98, (80, 8, 128)),
    _dense("TinyLlama-1.1B", _B + r"tinyllama", None, 1.10, (22, 4, 64)),
    _dense("Qwen2.5-0.5B", _QWEN25, 0.5, 0.49, (24, 2, 64))._replace(hidden=896, ffn=4864,
            vocab=151936),
    _dense("Qwen2.5-1.5B", _QWEN25, 1.5, 1.54, (28, 2, 128)),
    _dense("Qwen2.5-3B", _QWEN25, 3, 3.09, (36, 2, 128)),
    _dense("Qwen2.5-7B", _QWEN25, 7, 7.62, (28, 4, 128)),
    _dense("Qwen2.5-14B", _QWEN25, 14, 14.77, (48, 8, 128)),
    _dense("Qwen2.5-32B", _QWEN25, 32, 32.76, (64, 8, 128)),
    _dense("Qwen2.5-72B", _QWEN25, 72, 72.71, (80, 8, 128)),
    _dense("Qwen3-0.6B", _QWEN3, 0.6, 0.6, (28, 8, 128)),
    _dense("Qwen3-1.7B", _QWEN3, 1.7, 1.7, (28, 8, 128)),
    _dense("Qwen3-4B", _QWEN3, 4, 4.02, (36, 8, 128)),
    _dense("Qwen3-8B", _QWEN3, 8, 8.19, (36, 8, 128)),
    _dense("Qwen3-14B", _QWEN3, 14, 14.77, (40, 8, 128)),
    _dense("Qwen3-32B", _QWEN3, 32, 32.76, (64, 8, 128)),
    _dense("Mistral-7B", _B + r"mistral-?7b", 7, 7.24, (32, 8, 128)),
    _dense("Mistral-Nemo-12B", _B + r"mistral-?nemo", None, 12.25, (40, 8, 128)),
    _dense("Mistral-Small-24B", _B + r"mistral-?small(?!.*22b)", None, 23.57, (40, 8, 128)),
    _dense("Phi-3/3.5-mini", _B + r"phi-?3(?:\.5)?-?mini", None, 3.82, (32, 32, 96)),
    _dense("Phi-3-medium", _B + r"phi-?3-?medium", None, 13.96, (40, 10, 128)),
    _dense("Phi-4-mini", _B + r"phi-?4-?mini", None, 3.84, (32, 8, 128)),
    _dense("Phi-4", _B + r"phi-?4(?![0-9.])(?!-?mini)", None, 14.66, (40, 10, 128)),
    _f("Gemma-3-1B", _GEMMA3, 1.0, 1, layers=26, kv_heads=1, head_dim=256, full_layers=4,
       window=512, hidden=1152, ffn=6912, vocab=262144),
    _f("Gemma-3-4B", _GEMMA3, 3.88, 4, layers=34, kv_heads=4, head_dim=256, full_layers=5,
       window=1024),
    _f("Gemma-3-12B", _GEMMA3, 11.77, 12, layers=48, kv_heads=8, head_dim=256, full_layers=8,
       window=1024),
    _f("Gemma-3-27B", _GEMMA3, 27.01, 27, layers=62, kv_heads=16, head_dim=128,
       full_layers=10, window=1024),
    _dense("SmolLM2-135M", _B + r"smollm-?2", 0.135, 0.135, (30, 3, 64))._replace(hidden=576,
            ffn=1536, vocab=49152),
    _dense("SmolLM2-360M", _B + r"smollm-?2", 0.36, 0.362, (32, 5, 64))._replace(hidden=960,
            ffn=2560, vocab=49152),
    _dense("SmolLM2-1.7B", _B + r"smollm-?2", 1.7, 1.71, (24, 32, 64)),
)  # fmt: skip


# Trained context (config.json `max_position_embeddings` of the models' Hugging Face repos);
# families not listed: unknown, and "max context" is what memory allows.
TRAINED_CONTEXT = {
    "Llama-3.2-1B": 131072, "Llama-3.2-3B": 131072, "Llama-3.x-8B": 131072,
    "Llama-3.x-70B": 131072, "Llama-3.1-405B": 131072, "Llama-2-7B": 4096, "Llama-2-13B": 4096,
    "Llama-2-70B": 4096, "TinyLlama-1.1B": 2048, "gpt-oss-20b": 131072, "gpt-oss-120b": 131072,
    "Qwen2.5-0.5B": 32768, "Qwen2.5-1.5B": 32768, "Qwen2.5-3B": 32768, "Qwen2.5-7B": 32768,
    "Qwen2.5-14B": 32768, "Qwen2.5-32B": 32768, "Qwen2.5-72B": 32768, "Qwen3-0.6B": 40960,
    "Qwen3-1.7B": 40960, "Qwen3-4B": 40960, "Qwen3-8B": 40960, "Qwen3-14B": 40960,
    "Qwen3-32B": 40960, "Qwen3-30B-A3B": 40960, "Mistral-7B": 32768, "Phi-4": 16384,
    "Gemma-3-1B": 32768, "Gemma-3-4B": 131072, "Gemma-3-12B": 131072, "Gemma-3-27B": 131072,
    "SmolLM2-135M": 8192, "SmolLM2-360M": 8192, "SmolLM2-1.7B": 8192,
}  # fmt: skip
FAMILIES = tuple(f._replace(trained_context=TRAINED_CONTEXT.get(f.key)) for f in FAMILIES)


class ModelSpec(NamedTuple):
    """What we believe about one model, and where each belief came from."""

    id: str
    name: str  # normalized base name the patterns ran on
    params_b: float | None = None
    active_params_b: float | None = None  # == params_b for dense models
    quant: str | None = None
    bpw: float | None = None
    size_bytes: int | None = None  # the weights file, when a server or file says so
    family: Family | None = None
    params_source: str = ""
    quant_source: str = ""
    notes: tuple[str, ...] = ()

    @property
    def known(self) -> bool:
        return self.size_bytes is not None or (self.params_b is not None and self.bpw is not None)

    @property
    def is_moe(self) -> bool:
        return (
            self.params_b is not None
            and self.active_params_b is not None
            and self.active_params_b < self.params_b * 0.95
            and not (self.family is not None and self.family.effective)
        )

    def with_quant(self, quant: str, source: str = "given") -> ModelSpec:
        canon = canonical_quant(quant) or quant.upper()
        return self._replace(
            quant=canon, bpw=bpw_for(canon, self.family), quant_source=source,
            size_bytes=None,
        )  # fmt: skip

    def with_params(self, params_b: float, active_b: float | None = None) -> ModelSpec:
        return self._replace(
            params_b=params_b,
            active_params_b=active_b if active_b is not None else params_b,
            params_source="given",
            family=None if self.family and self.family.params_b != params_b else self.family,
            size_bytes=None,
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "family": self.family.key if self.family else None,
            "params_b": self.params_b,
            "active_params_b": self.active_params_b,
            "quant": self.quant,
            "bpw": self.bpw,
            "size_bytes": self.size_bytes,
            "params_source": self.params_source,
            "quant_source": self.quant_source,
        }


def canonical_quant(text: str) -> str | None:
    """'q4_k_m' → 'Q4_K_M', 'UD-Q4_K_XL' → 'Q4_K_XL', '4bit' → 'MLX-4BIT'; None if unknown."""
    text = text.strip()
    if not text:
        return None
    found = _find_quant(text)
    return found[0] if found else None


def bpw_for(quant: str | None, family: Family | None = None) -> float | None:
    """Effective whole-file bits per weight for a canonical quant name."""
    if quant is None:
        return None
    if family is not None and family.default_quant == quant and family.file_bpw:
        return family.file_bpw
    extra = kquant_fallback_bpw(quant, family)
    if quant in QUANT_BPW:
        return round(QUANT_BPW[quant] + extra, 2)
    if quant.endswith("_XL"):  # Unsloth dynamic: the _M mix plus a little
        base = QUANT_BPW.get(quant[:-3] + "_M") or QUANT_BPW.get(quant[:-3])
        return round(base + XL_EXTRA_BPW + extra, 2) if base else None
    return None


# K-quants pack 256 weights of a row per super-block. llama.cpp's quantizer stores a tensor whose
# rows (ne[0]) are not a multiple of 256 in a 32-block fallback type instead (ggml-org/llama.cpp
# 007dbbf3 src/llama-quant.cpp, tensor_type_fallback: Q2_K/Q3_K → Q4_0, Q4_K → Q5_0, Q5_K →
# Q5_1, Q6_K → Q8_0; before 2026 Q2_K/Q3_K went to IQ4_NL, the same 4.5 bpw). Extra bits per
# weight of each fallback (block bpw: Q4_0 4.5, Q5_0 5.5, Q5_1 6.0, Q8_0 8.5; Q2_K 2.625,
# Q3_K 3.4375, Q4_K 4.5, Q5_K 5.5, Q6_K 6.5625), by the mix's base type:
_KQUANT_FALLBACK_EXTRA = {"Q2_K": 1.875, "Q3_K": 1.0625, "Q4_K": 1.0, "Q5_K": 0.5, "Q6_K": 1.9375}
_OUTPUT_FALLBACK_EXTRA = 1.9375  # the output matrix is Q6_K in every K-quant mix → Q8_0


def kquant_fallback_bpw(quant: str | None, family: Family | None) -> float:
    """Extra whole-file bits per weight of a K-quant file of a model whose hidden size is not a
    multiple of 256 (SmolLM2-135M/360M, Qwen2.5-0.5B, Gemma-3-1B): every matrix that reads the
    residual stream (q, k, v, gate, up; the attention output when heads × head_dim is the hidden
    size) has rows that wide and falls back; ffn_down (rows of the FFN width) does not. The tied
    embedding is stored as the output (Q6_K → Q8_0). Files measured by size are not affected
    (weights_bytes); ⚠ Gemma-3-1B's attention output (1024-wide rows, 3 % of it) is counted."""
    if quant is None or family is None or not family.hidden or family.hidden % 256 == 0:
        return 0.0
    base = re.sub(r"_(?:S|M|L|XL)$", "", quant)
    if base not in _KQUANT_FALLBACK_EXTRA or not (family.ffn and family.vocab):
        return 0.0
    params = family.params_b * 1e9
    embedding = family.vocab * family.hidden / params
    ffn_down = (family.layers or 0) * family.ffn * family.hidden / params
    rest = max(0.0, 1.0 - embedding - ffn_down)
    return rest * _KQUANT_FALLBACK_EXTRA[base] + embedding * _OUTPUT_FALLBACK_EXTRA


def _find_quant(text: str) -> tuple[str, tuple[int, int]] | None:
    """The quantization named in `text` (canonical) and its span."""
    # the last one: "…-Q8_0-Q4_K_M.gguf" style names end with the file's quant
    match = next(reversed(list(_GGUF_QUANT.finditer(text))), None)
    if match is not None:
        name = match.group(1).upper()
        name = QUANT_ALIASES.get(name, name)
        return name, match.span()
    mlx = _MLX_BITS.search(text)
    if mlx:
        return f"MLX-{mlx.group(1)}BIT", mlx.span()
    other = _OTHER_QUANT.search(text)
    if other:
        word = other.group(1).upper()
        name = {
            "AWQ": "AWQ-4BIT",
            "GPTQ": "GPTQ-4BIT",
            "GPTQ-INT4": "GPTQ-4BIT",
            "GPTQ-INT8": "GPTQ-8BIT",
            "W4A16": "INT4",
            "W8A8": "INT8",
        }.get(word, word)
        return name, other.span()
    return None


def _normalize(text: str) -> str:
    text = text.lower().replace("_", "-").replace(" ", "-")
    return re.sub(r"-{2,}", "-", text).strip("-")


class _Parts(NamedTuple):
    """A model id split into its parts."""

    base: str  # file or model name without path, tag, quant suffix, extension
    tag: str  # Ollama tag
    at: str  # LM Studio @quant
    org: str


def split_id(model_id: str) -> _Parts:
    text = model_id.strip().replace("\\", "/")
    at = ""
    if "@" in text.rsplit("/", 1)[-1]:
        text, at = text.rsplit("@", 1)
    org, _, last = text.rpartition("/")
    tag = ""
    if ":" in last:
        last, tag = last.split(":", 1)
    base = re.sub(r"\.gguf$", "", last, flags=re.IGNORECASE)
    base = _SHARD.sub("", base)
    return _Parts(base=base, tag=tag, at=at, org=org.rsplit("/", 1)[-1])


def _sizes(text: str) -> dict[str, float | None]:
    """Sizes the name states, in billions: total, active, effective."""
    found: dict[str, float | None] = {"total": None, "active": None, "effective": None}
    experts = _EXPERTS.search(text)
    if experts:
        n, size = int(experts.group(1)), float(experts.group(2))
        shared = _SHARED_SHARE * size
        found["total"] = round(n * size - (n - 1) * shared, 2)
        found["active"] = round(_EXPERTS_PER_TOKEN * size - shared, 2)
    active = _ACTIVE.search(text)
    if active:
        found["active"] = float(active.group(1))
    effective = _EFFECTIVE.search(text)
    if effective:
        found["effective"] = float(effective.group(1))
    if found["total"] is None:
        billions = [float(m.group(1)) for m in _SIZE.finditer(text) if m.group(2) == "b"]
        millions = [float(m.group(1)) / 1000 for m in _SIZE.finditer(text) if m.group(2) == "m"]
        # "…-7b-instruct-1m": a "1m" context suffix must not beat the real size
        sizes = billions or millions
        if sizes:
            found["total"] = max(sizes)
    return found


@functools.cache
def _families_in() -> tuple[re.Pattern[str], tuple[str, ...]]:
    """One pattern that tells which family patterns occur in an id: a lookahead per pattern,
    each capturing when that pattern matches anywhere (as re.search would). Compiling the ~40
    patterns one by one cost more than all the rest of a parse."""
    unique = tuple(dict.fromkeys(f.pattern for f in FAMILIES))
    found = "".join(f"(?=(?:(?s:.*?)(?P<f{i}>{p}))?)" for i, p in enumerate(unique))
    return re.compile(r"\A" + found), unique


def _present(text: str) -> set[str]:
    """The family patterns that occur in `text`."""
    pattern, unique = _families_in()
    found = pattern.match(text)  # always matches: every lookahead is optional
    named = found.groupdict() if found else {}
    return {p for i, p in enumerate(unique) if named.get(f"f{i}") is not None}


def _family(text: str, size: float | None) -> Family | None:
    present = _present(text)
    for family in FAMILIES:
        if family.pattern not in present:
            continue
        if family.size is not None and size is None:
            if family.require_size or _has_sized_sibling(family):
                continue  # "qwen3" alone: which one?
            return family
        if family.size is None or math.isclose(family.size, size or 0, rel_tol=0.02):
            return family
    return None


def _has_sized_sibling(family: Family) -> bool:
    return sum(1 for f in FAMILIES if f.pattern == family.pattern) > 1


# What a bare Ollama library name pulls: the size of its default ("latest") tag, from the
# ollama.com/library pages. `llama3.2` and `ollama/llama3.2` mean llama3.2:3b.
OLLAMA_DEFAULT_SIZE = {
    "llama3.2": "3b", "llama3.1": "8b", "llama3": "8b", "llama3.3": "70b", "llama2": "7b",
    "qwen3": "8b", "qwen2.5": "7b", "qwen2.5-coder": "7b", "qwen2": "7b", "gpt-oss": "20b",
    "gemma3": "4b", "gemma2": "9b", "mistral": "7b", "phi4": "14b", "phi3": "3.8b",
    "deepseek-r1": "8b", "smollm2": "1.7b", "tinyllama": "1.1b",
}  # fmt: skip


def _ollama_default(parts: _Parts) -> _Parts:
    """A bare Ollama name (no tag, no size) → the same name with its default tag's size."""
    base = parts.base.lower()
    if parts.tag or parts.at or parts.org not in ("", "ollama", "library"):
        return parts
    size = OLLAMA_DEFAULT_SIZE.get(base)
    return parts._replace(tag=size, org="") if size else parts


def parse(model_id: str, server: str | None = None) -> ModelSpec:
    """Everything the id tells about the model. `server` (a ServerInfo.kind or provider)
    decides what an id without a quantization most likely holds."""
    parts = _ollama_default(split_id(model_id))
    quant, quant_source = None, ""
    for where, text in (
        ("the @suffix", parts.at),
        ("the tag", parts.tag),
        ("the name", parts.base),
    ):
        found = _find_quant(text) if text else None
        if found:
            quant, quant_source = found[0], f"from {where}"
            break
    # strip the quant so "q4_k_m" or "8bit" can never read as a size
    clean_tag, clean_base = parts.tag, parts.base
    if quant:
        clean_tag = _strip_quant(clean_tag)
        clean_base = _strip_quant(clean_base)
    name = _normalize("-".join(p for p in (clean_base, clean_tag) if p))
    name = re.sub(r"-gguf$|-mlx$", "", name)
    sizes = _sizes(name)
    family = _family(name, sizes["total"])
    notes: list[str] = []

    params = active = None
    params_source = ""
    if family is not None:
        params, active = family.params_b, family.active_b or family.params_b
        params_source = f"known family {family.key}"
    elif sizes["total"] is not None:
        params = sizes["total"]
        active = sizes["active"] or sizes["effective"] or params
        params_source = "from the name"
    elif sizes["effective"] is not None:
        params = active = sizes["effective"]
        params_source = "from the name (effective size)"
        notes.append("'eNb' is an effective size; the file holds more parameters")

    if quant is None:
        quant, quant_source = _default_quant(family, server, parts)
    bpw = bpw_for(quant, family)
    if quant is not None and bpw is None:
        notes.append(f"no bits-per-weight figure for {quant}")
    return ModelSpec(
        id=model_id,
        name=name,
        params_b=params,
        active_params_b=active,
        quant=quant,
        bpw=bpw,
        family=family,
        params_source=params_source,
        quant_source=quant_source,
        notes=tuple(notes),
    )


def _strip_quant(text: str) -> str:
    found = _find_quant(text)
    if not found:
        return text
    start, end = found[1]
    return (text[:start] + text[end:]).strip("-_.@ ")


def _default_quant(family: Family | None, server: str | None, parts: _Parts) -> tuple[str, str]:
    if family is not None and family.default_quant:
        return family.default_quant, f"{family.key} ships as {family.default_quant}"
    if server in SAFETENSORS_SERVERS:
        return "BF16", f"assumed: {server} serves Hugging Face checkpoints"
    if server == "ollama" or parts.tag:
        return LOCAL_DEFAULT_QUANT, "Ollama's default for tags without a quantization"
    return LOCAL_DEFAULT_QUANT, "assumed: the usual local download"


def weights_bytes(spec: ModelSpec) -> float | None:
    """File bytes if known, else params × effective bpw / 8."""
    if spec.size_bytes:
        return float(spec.size_bytes)
    if spec.params_b is None or spec.bpw is None:
        return None
    return spec.params_b * 1e9 * spec.bpw / 8
