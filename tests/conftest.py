"""Hypothesis profiles for the whole test suite.

``ci`` (the default): derandomized (the same examples on every run, no
example database), bounded example counts so that the property suite
(tests/test_properties.py) runs in a few minutes on 2 cores. ``deep``: 20
times the examples, random, for a long run before a release::

    HYPOTHESIS_PROFILE=deep python -m pytest tests/test_properties.py

``dev``: a handful of examples, for a quick loop while editing rules.
Tests scale their own example counts by ``settings().max_examples / 100``
(see ``examples()`` in test_properties.py).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

settings.register_profile("ci", max_examples=100, derandomize=True, database=None, print_blob=True, **_COMMON)
settings.register_profile("deep", max_examples=2000, print_blob=True, **_COMMON)
settings.register_profile("dev", max_examples=20, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
