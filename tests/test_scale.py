"""Scale (issue #4): fleets cost the engine their distinct profiles, not their size.

Linearity is shown by counting work, not by timing: engine firings, facts
asserted and counterfactual inferences do not grow with the number of
endpoints that repeat known profiles; the per-endpoint work (validation,
profiling, the per-endpoint verdict list) is done once per endpoint.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import pytest

import tmsrules
from tmsrules import engine as engine_mod
from tmsrules import facts as factmod
from tmsrules.diagnose import Diagnoser, default_diagnoser
from tmsrules.model import Environment

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from bench import fleet  # noqa: E402  (the benchmark's realistic fleet mix)


class Counter:
    """Counts calls into the C engine and rule firings while installed."""

    def __init__(self, monkeypatch):
        self.asserts = 0
        self.facts = 0
        self.sessions = 0
        real_assert = engine_mod._dre.assert_facts
        real_infer = engine_mod.Engine.infer
        counter = self

        class Spy:
            def __getattr__(self, name):
                return getattr(real_dre, name)

            @staticmethod
            def assert_facts(handle, payload):
                counter.asserts += 1
                counter.facts += payload.count('"sid": ')
                return real_assert(handle, payload)

        real_dre = engine_mod._dre
        monkeypatch.setattr(engine_mod, "_dre", Spy())

        def counting_infer(self, facts, on_quiet=None):
            counter.sessions += 1
            return real_infer(self, facts, on_quiet)

        monkeypatch.setattr(engine_mod.Engine, "infer", counting_infer)


@functools.lru_cache(maxsize=None)
def _no_memo() -> Diagnoser:
    """A Diagnoser without memo: every inference is engine work to count."""
    return Diagnoser(memo_size=0)


def _work(monkeypatch, env, questions):
    counter = Counter(monkeypatch)
    d = _no_memo().diagnose(env, questions=questions)
    monkeypatch.undo()
    return d, counter


@pytest.mark.parametrize("questions", [False, True])
def test_engine_work_does_not_grow_with_repeated_profiles(monkeypatch, questions):
    small_env, big_env = fleet(100), fleet(10_000)
    small, small_work = _work(monkeypatch, small_env, questions)
    big, big_work = _work(monkeypatch, big_env, questions)
    assert len(big.endpoints) == 10_000
    assert len(big.trace) == len(small.trace)  # the same rule firings
    assert (big_work.asserts, big_work.facts, big_work.sessions) == (
        small_work.asserts, small_work.facts, small_work.sessions)
    assert big.verdict == small.verdict
    assert [c.id for c in big.causes] == [c.id for c in small.causes]
    assert [s.id for s in big.plan] == [s.id for s in small.plan]


def test_facts_are_per_profile_and_profiles_per_kind():
    d = default_diagnoser()
    for n in (10, 1_000, 10_000):
        env = Environment.from_dict(fleet(n))
        fs = factmod.build(env, d.rulebase.vocabulary)
        assert len(fs.endpoint_profiles) == n
        assert sum(len(v) for v in fs.members.values()) >= n
    small = factmod.build(Environment.from_dict(fleet(1_000)), d.rulebase.vocabulary)
    big = factmod.build(Environment.from_dict(fleet(10_000)), d.rulebase.vocabulary)
    assert small.facts == big.facts  # the engine sees the same facts


def test_per_endpoint_work_is_linear(monkeypatch):
    """Profiling is called once per endpoint (and planned software): no pair work."""
    calls = {"n": 0}
    real = factmod._profile

    def counting(*args, **kw):
        calls["n"] += 1
        return real(*args, **kw)

    monkeypatch.setattr(factmod, "_profile", counting)
    counts = {}
    for n in (1_000, 4_000):
        calls["n"] = 0
        env = fleet(n)
        tmsrules.diagnose(env, questions=False)
        planned = sum(1 for e in env["endpoints"] if e.get("planned_software"))
        counts[n] = calls["n"]
        assert calls["n"] == n + planned
    assert counts[4_000] == pytest.approx(4 * counts[1_000], rel=0.01)


def test_every_endpoint_gets_its_profile_verdict():
    env = fleet(10_000)
    d = tmsrules.diagnose(env, questions=False)
    by_kind: dict[tuple, set[str]] = {}
    for ep_in, ep_out in zip(env["endpoints"], d.endpoints):
        assert ep_in["name"] == ep_out.name
        kind = tuple(sorted((k, v) for k, v in ep_in.items() if k != "name"))
        by_kind.setdefault(kind, set()).add(ep_out.verdict)
    # endpoints of the same kind get the same verdict
    assert all(len(v) == 1 for v in by_kind.values())


def test_distinct_profiles_do_grow_the_work(monkeypatch):
    """The converse: new kinds of endpoint are new facts (the counting is real)."""
    base = {"tms": {"version": "15.2.1", "communication_security": "medium"}}
    one = dict(base, endpoints=[{"name": "a", "software": "TC7.3.6", "management": "https"}])
    two = dict(base, endpoints=[{"name": "a", "software": "TC7.3.6", "management": "https"},
                                {"name": "b", "software": "TC7.3.3", "management": "https"}])
    _, w1 = _work(monkeypatch, one, False)
    _, w2 = _work(monkeypatch, two, False)
    assert w2.facts > w1.facts
