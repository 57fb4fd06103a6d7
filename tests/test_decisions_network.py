"""Verdicts of the network decision code that mutation testing found unpinned (issue 17).

Through public interfaces only: net.classify on real exception types, net.listeners on the
recorded psutil fixtures, diagnose() against real loopback servers.
"""

from __future__ import annotations
