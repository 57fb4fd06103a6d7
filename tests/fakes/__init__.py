"""Loopback fakes of the LLM servers people run, each answering in its documented shapes.

One module per server kind, named like its lmdoctor/servers/ module (lmstudio.py, ollama.py,
…, generic.py); common.py holds what they share. Tests use them as `fakes.<factory>()`.

Every factory returns an unstarted `loopback.Server` (use it as a context manager). Each route
names the section of ../shared/reference/llm-servers.md whose shape it reproduces. The fakes
only answer what lmdoctor may ask; generation routes are there so that tests can assert that
lmdoctor never called them (`generated(server)`).
"""

from fakes.common import GENERATION, bearer, generated, header
from fakes.generic import generic_openai, web_page
from fakes.jan import jan
from fakes.koboldcpp import koboldcpp
from fakes.litellm import LITELLM_NO_KEY, litellm, litellm_wrong_key
from fakes.llama_cpp_python import llama_cpp_python
from fakes.llamacpp import LLAMACPP_DENY, LLAMACPP_LOADING, llamacpp
from fakes.lmstudio import LMSTUDIO_NO_TOKEN, lmstudio
from fakes.localai import localai
from fakes.ollama import ollama
from fakes.openai import OPENAI_NO_KEY, OPENAI_WRONG_KEY, openai_cloud
from fakes.sglang import sglang
from fakes.textgen import textgen
from fakes.tgi import tgi
from fakes.vllm import vllm

__all__ = [
    "GENERATION",
    "LITELLM_NO_KEY",
    "LLAMACPP_DENY",
    "LLAMACPP_LOADING",
    "LMSTUDIO_NO_TOKEN",
    "OPENAI_NO_KEY",
    "OPENAI_WRONG_KEY",
    "bearer",
    "generated",
    "generic_openai",
    "header",
    "jan",
    "koboldcpp",
    "litellm",
    "litellm_wrong_key",
    "llama_cpp_python",
    "llamacpp",
    "lmstudio",
    "localai",
    "ollama",
    "openai_cloud",
    "sglang",
    "textgen",
    "tgi",
    "vllm",
    "web_page",
]
