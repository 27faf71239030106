"""Hypothesis on a busy CI machine: no per-example deadline.

The properties here are checked for what they compute, not for how fast; a descheduled
example on a loaded 2-core runner must not fail as ``DeadlineExceeded``.
"""

from __future__ import annotations

from hypothesis import settings

settings.register_profile("relayer", deadline=None)
settings.load_profile("relayer")
