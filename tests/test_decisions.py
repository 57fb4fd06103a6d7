"""Verdicts asserted through public interfaces (findings, CLI exit codes, rendered levels), each
written to kill a mutant that survived tools/mutation.py: a wrong diagnosis must fail a test."""

from __future__ import annotations
