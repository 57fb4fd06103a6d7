"""Verdicts of the server check (checks/server.py) that mutation testing found unpinned
(issue 17)."""

from __future__ import annotations
