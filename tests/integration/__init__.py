"""End-to-end tests against real llama.cpp servers (see conftest.py)."""
