"""Verdicts of the table renderer that mutation testing found unpinned (issue 17)."""

from __future__ import annotations
