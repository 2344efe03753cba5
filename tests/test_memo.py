"""The Diagnoser's inference memo: the same answers as the engine, bounded, thread-safe.

Every check compares with a Diagnoser whose memo is off (``memo_size=0``),
which runs the engine for every inference. Whether the engine ran is counted
by wrapping ``Engine.infer``; nothing here is timed.
"""

from __future__ import annotations

import copy
import json
import threading
from pathlib import Path

import pytest

from tmsrules import engine as engine_mod
from tmsrules import facts as factmod
from tmsrules.diagnose import MEMO_SIZE, Diagnoser
from tmsrules.errors import InferenceError
from tmsrules.memo import LRU
from tmsrules.model import Environment

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = [json.loads(p.read_text()) for p in sorted((ROOT / "examples").glob("*.json"))
            if not p.name.endswith(".expected.json")]

#: the contract's example input (the seed case), as shipped in examples/
SEED = json.loads((ROOT / "examples" / "11-contract-example.json").read_text())

FLEET = {
    "tms": {"version": "15.2.1", "communication_security": "medium", "windows": "2012 R2"},
    "endpoints": [
        {"name": "Room A", "software": "TC7.3.6", "management": "https", "status": "No HTTPS response"},
        {"name": "Room B", "software": "tc7.3.3.1c5b7d7", "management": "https", "status": "OK",
         "planned_software": "TC7.3.6"},
        {"name": "Room C", "software": "ce9.15.3.17", "management": "https"},
        {"name": "Lobby", "software": "Release - 3.1.10-51067", "management": "telnet"},
        {"software": "ce8.1.0", "management": "http"},
    ],
}


def _renamed(env: dict, suffix: str = " (other site)") -> dict:
    """The same endpoints under other names and in reverse order."""
    endpoints = [dict(e, name=e["name"] + suffix) if e.get("name") else e for e in env["endpoints"]]
    return dict(env, endpoints=endpoints[::-1])


@pytest.fixture(scope="module")
def fresh() -> Diagnoser:
    return Diagnoser(memo_size=0)


@pytest.fixture
def runs(monkeypatch) -> dict:
    """How many engine sessions ran (any Diagnoser) while the test runs."""
    count = {"n": 0}
    real = engine_mod.Engine.infer

    def counting(self, facts, on_quiet=None):
        count["n"] += 1
        return real(self, facts, on_quiet)

    monkeypatch.setattr(engine_mod.Engine, "infer", counting)
    return count


def _facts(d: Diagnoser, env: dict):
    return factmod.build(Environment.from_dict(env), d.rulebase.vocabulary, d._version_cuts)


# ---------------------------------------------------------------- same answers


@pytest.mark.parametrize("questions", [False, True])
def test_a_hit_gives_the_bytes_of_a_fresh_diagnoser(fresh, runs, questions):
    d = Diagnoser()
    for env in EXAMPLES + [SEED, FLEET, {}]:
        for lang in ("en", "pt-BR"):
            expected = fresh.diagnose(env, questions=questions, lang=lang).to_json()
            d.diagnose(env, questions=questions, lang=lang)
            before = runs["n"]
            again = d.diagnose(env, questions=questions, lang=lang)
            assert runs["n"] == before  # every inference of it came from the memo
            assert again.to_json() == expected
            assert again.to_json(indent=None) == json.dumps(again.to_dict(), ensure_ascii=False)
    assert d.memo.hits > 0


def test_other_names_same_engine_facts_is_a_hit_with_the_new_names(fresh, runs):
    d = Diagnoser()
    for env in (SEED, FLEET):
        other = _renamed(env)
        assert _facts(d, other).facts == _facts(d, env).facts
        first = d.diagnose(env)
        before = runs["n"]
        hit = d.diagnose(other)
        assert runs["n"] == before
        assert hit.to_json() == fresh.diagnose(other).to_json()
        names = [e.name for e in hit.endpoints]
        assert names == [e.get("name") or f"endpoints[{i}]" for i, e in enumerate(other["endpoints"])]
        assert names != [e.name for e in first.endpoints]
        traced = {n for t in hit.trace for f in t.facts.values() for n in f.get("endpoints", ())}
        assert traced and traced <= set(names)


def test_explanations_from_a_hit_are_those_of_a_fresh_run(fresh):
    d = Diagnoser()
    d.diagnose(FLEET)
    hit, alone = d.diagnose(FLEET), fresh.diagnose(FLEET)
    ids = hit.cause_ids + hit.step_ids + hit.warning_ids + ["patch-sql", "tms-tls12"]
    for id in ids:
        try:
            expected = alone.explain(id)
        except Exception as exc:  # an id unknown to the rules: the same error
            with pytest.raises(type(exc)):
                hit.explain(id)
            continue
        assert hit.explain(id) == expected
        assert hit.why_not(id) == alone.why_not(id)


def test_the_planned_profile_of_each_current_one_is_part_of_the_key(fresh):
    """Same engine facts, plans swapped between two kinds of endpoint: the
    verdicts differ (read between the stages), so the memo must not answer."""
    base = {"tms": {"version": "14.6.2", "communication_security": "medium"}}
    one = dict(base, endpoints=[
        {"name": "F", "software": "TC7.3.3", "management": "https", "status": "OK", "planned_software": "TC7.3.3"},
        {"name": "G", "software": "TC7.3.6", "management": "https", "status": "OK", "planned_software": "TC7.3.6"}])
    swapped = dict(base, endpoints=[
        {"name": "F", "software": "TC7.3.3", "management": "https", "status": "OK", "planned_software": "TC7.3.6"},
        {"name": "G", "software": "TC7.3.6", "management": "https", "status": "OK", "planned_software": "TC7.3.3"}])
    d = Diagnoser()
    assert _facts(d, one).facts == _facts(d, swapped).facts
    a, b = d.diagnose(one), d.diagnose(swapped)
    assert a.to_json() == fresh.diagnose(one).to_json()
    assert b.to_json() == fresh.diagnose(swapped).to_json()
    assert a.endpoint("F").verdict != b.endpoint("F").verdict


def test_changing_a_diagnosis_changes_no_later_one(fresh):
    d = Diagnoser()
    first = d.diagnose(FLEET)
    expected = fresh.diagnose(FLEET).to_json()
    for entry in first.trace:
        for fact in entry.facts.values():
            fact["injected"] = True
            fact.get("endpoints", []).append("intruder")
    first.to_dict()["trace"].clear()
    inference = d.infer(Environment.from_dict(FLEET))
    inference.profile_verdicts.clear()
    assert d.diagnose(FLEET).to_json() == expected


# ---------------------------------------------------------------- bounds


def test_the_memo_never_exceeds_its_size(fresh):
    d = Diagnoser(memo_size=4)
    envs = [{"tms": {"version": v, "communication_security": s}} for v in ("14.6.2", "15.2.1", "15.13")
            for s in ("low", "medium", "high")]
    for env in envs:
        d.diagnose(env, questions=False)
        assert len(d.memo) <= 4
    assert len(d.memo) == 4
    assert d.memo.weight <= d.memo.max_weight
    misses = d.memo.misses
    d.diagnose(envs[0], questions=False)  # the least recently used went first
    assert d.memo.misses == misses + 1
    assert d.diagnose(envs[0], questions=False).to_json() == fresh.diagnose(envs[0], questions=False).to_json()
    assert Diagnoser().memo.maxsize == MEMO_SIZE


def test_lru_bounds_entries_and_weight():
    memo = LRU(3, max_weight=10)
    for k in "abc":
        memo.put(k, k.upper(), weight=2)
    assert memo.get("a") == "A"  # now the most recently used
    memo.put("d", "D", weight=2)
    assert len(memo) == 3 and memo.get("b") is None  # b was the least recently used
    memo.put("e", "E", weight=7)  # 2 + 2 + 2 + 7 > 10: the oldest go until it fits
    assert memo.weight <= 10 and memo.get("e") == "E" and len(memo) <= 3
    memo.put("huge", "H", weight=11)  # heavier than the whole memo: not stored
    assert memo.get("huge") is None and memo.weight <= 10
    memo.put("e", "E2", weight=1)  # a key stored again replaces its weight
    assert memo.get("e") == "E2" and memo.weight == sum(w for _, w in memo._items.values())
    memo.clear()
    assert len(memo) == 0 and memo.weight == 0
    off = LRU(0, max_weight=10)
    off.put("a", "A")
    assert len(off) == 0


# ---------------------------------------------------------------- failures


def test_an_exception_mid_inference_is_not_memoized(fresh, monkeypatch, runs):
    d = Diagnoser()
    expected = fresh.diagnose(SEED, questions=False).to_json()
    real_act = engine_mod.Engine._act
    calls = {"n": 0}

    def exploding_act(self, message, firings):
        calls["n"] += 1
        if calls["n"] == 5:  # some rules fired, more pending
            raise RuntimeError("injected")
        return real_act(self, message, firings)

    monkeypatch.setattr(engine_mod.Engine, "_act", exploding_act)
    with pytest.raises(InferenceError):
        d.diagnose(SEED, questions=False)
    assert len(d.memo) == 0
    monkeypatch.setattr(engine_mod.Engine, "_act", real_act)
    before = runs["n"]
    assert d.diagnose(SEED, questions=False).to_json() == expected
    assert runs["n"] == before + 1  # the engine ran again: nothing half-done was kept
    assert d.diagnose(SEED, questions=False).to_json() == expected
    assert runs["n"] == before + 1


def test_an_interrupt_mid_inference_is_not_memoized(fresh, monkeypatch):
    d = Diagnoser()
    real_act = engine_mod.Engine._act

    def interrupted(self, message, firings):
        if len(firings) == 3:
            raise KeyboardInterrupt
        return real_act(self, message, firings)

    monkeypatch.setattr(engine_mod.Engine, "_act", interrupted)
    with pytest.raises(KeyboardInterrupt):
        d.diagnose(FLEET, questions=False)
    monkeypatch.setattr(engine_mod.Engine, "_act", real_act)
    assert len(d.memo) == 0
    assert d.diagnose(FLEET, questions=False).to_json() == fresh.diagnose(FLEET, questions=False).to_json()


# ---------------------------------------------------------------- threads, off switch


def test_sixteen_threads_with_the_memo_give_the_serial_results(fresh):
    envs = EXAMPLES + [SEED, FLEET, _renamed(FLEET), _renamed(SEED, " 2"), {}]
    envs += [{"tms": {"version": v, "communication_security": s}, "endpoints": copy.deepcopy(FLEET["endpoints"][:n])}
             for v in ("14.6.2", "15.2.1") for s in ("low", "high") for n in (1, 3)]
    jobs = [(env, q) for env in envs for q in (False, True)]
    serial = [fresh.diagnose(env, questions=q).to_json() for env, q in jobs]
    d = Diagnoser(memo_size=8)  # small: entries are evicted while other threads read
    results: list[list[tuple[int, str]]] = [[] for _ in range(16)]
    errors: list[BaseException] = []
    start = threading.Barrier(16)

    def work(k: int) -> None:
        try:
            start.wait()
            for i in range(20):
                j = (k * 5 + i * 3) % len(jobs)
                results[k].append((j, d.diagnose(jobs[j][0], questions=jobs[j][1]).to_json()))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    assert all(len(r) == 20 for r in results)
    for r in results:
        for j, got in r:
            assert got == serial[j], jobs[j]
    assert d.memo.hits > 0 and len(d.memo) <= 8


def test_memo_size_zero_switches_it_off(runs):
    d = Diagnoser(memo_size=0)
    assert d.memo is None
    for _ in range(3):
        d.diagnose(SEED, questions=False)
    assert runs["n"] == 3
    on = Diagnoser()
    for _ in range(3):
        on.diagnose(SEED, questions=False)
    assert runs["n"] == 4
