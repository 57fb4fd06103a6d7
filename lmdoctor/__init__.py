"""lmdoctor: a doctor for LLM endpoints."""

__version__ = "0.1.0"
