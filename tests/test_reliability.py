"""Reliability under load (issue #4): threads, no leaks, exceptions mid-inference.

durable_rules 2.0.28 is not thread-safe. Measured with this suite's
environments and the engine lock replaced by a no-op: 16 threads give wrong
diagnoses within their first 2 iterations each (32 diagnoses) and the process
dies with SIGSEGV before 160 diagnoses. The thread test below runs 16 threads
x 24 iterations (384 diagnoses, plus the counterfactual inferences of the
questions), several times what crashed the unguarded engine.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import tmsrules
from tmsrules import engine as engine_mod
from tmsrules.diagnose import Diagnoser
from tmsrules.errors import InferenceError, InputError

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.json") if not p.name.endswith(".expected.json"))

SEED = {
    "tms": {
        "version": "15.2.1",
        "communication_security": "medium",
        "windows": "Windows Server 2012 R2",
        "schannel": {
            "TLS 1.0": {"client": "default", "server": "disabled"},
            "TLS 1.2": {"client": "enabled", "server": "enabled"},
        },
        "reboot_pending": False,
        "sql": {"version": "11.0.5058.0", "local": True},
    },
    "endpoints": [
        {"name": "Boardroom", "software": "ce9.15.3.17", "management": "https",
         "status": "No HTTPS response", "planned_software": None}
    ],
    "observations": {"client_hello": "TLS 1.0", "sql_event_ids": [26011, 17182]},
}


def _environments() -> list[dict]:
    envs = [json.loads(p.read_text()) for p in EXAMPLES]
    envs += [
        SEED,
        {},
        {"tms": {"version": "14.6.2"}, "endpoints": [{"name": "A", "software": "TC7.3.6", "management": "https"}]},
        {"tms": {"version": "15.13", "communication_security": "high", "windows": "2016"},
         "endpoints": [{"name": "P", "software": "Release - 3.1.10-51067", "management": "telnet"}]},
        {"tms": {"version": "15.2", "communication_security": "low"},
         "endpoints": [{"name": f"e{i}", "software": s, "management": "https"}
                       for i, s in enumerate(["TC7.3.3", "TC7.3.4", "ce8.1.0", "RoomOS 11.5.2.4"])]},
        {"endpoints": [{"name": "x", "planned_software": "ce9.1", "software": "TC7.3.3", "management": "https"}]},
    ]
    return envs


ENVS = _environments()


def _key(d: tmsrules.Diagnosis) -> str:
    return d.to_json(indent=None)


def _live_states(engine) -> int:
    """How many sessions the engine's ruleset holds: count sids that answer."""
    return sum(1 for sid in range(1, next(_peek(engine)) + 1) if _has_state(engine, str(sid)))


def _peek(engine):
    current = next(engine._sids)
    engine._sids = iter(range(current + 1, 1 << 62))  # keep counting after the peek
    yield current


def _has_state(engine, sid: str) -> bool:
    with engine_mod._ENGINE_LOCK:
        try:
            engine_mod._dre.get_state(engine._handle, sid)
        except Exception:
            return False
        return True


def _rss_kib() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")  # pragma: no cover


# ---------------------------------------------------------------- threads


def test_sixteen_threads_give_the_serial_results():
    jobs = [(env, questions) for env in ENVS for questions in (False, True)]
    serial = [_key(tmsrules.diagnose(env, questions=q)) for env, q in jobs]
    iterations = 24
    results: list[list[tuple[int, str]]] = [[] for _ in range(16)]
    errors: list[BaseException] = []
    start = threading.Barrier(16)

    def work(k: int) -> None:
        try:
            start.wait()
            for i in range(iterations):
                # mostly questions off (fast), every 8th with questions: the
                # counterfactual inferences interleave with other threads too
                j = ((k * 7 + i * 2) % len(jobs)) & ~1  # jobs alternate questions off/on
                j += 1 if (i + k) % 8 == 0 else 0
                env, q = jobs[j]
                results[k].append((j, _key(tmsrules.diagnose(env, questions=q))))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    assert all(len(r) == iterations for r in results)
    assert len({j // 2 for r in results for j, _ in r}) == len(ENVS)  # every env ran
    for r in results:
        for j, got in r:
            assert got == serial[j]


def test_threads_creating_diagnosers_concurrently():
    """Registering rulesets (a new Diagnoser) while other threads infer."""
    expected = _key(tmsrules.diagnose(SEED, questions=False))
    out: list[str] = []
    errors: list[BaseException] = []

    def build_and_run() -> None:
        try:
            d = Diagnoser()
            for _ in range(3):
                out.append(_key(d.diagnose(SEED, questions=False)))
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    def run_default() -> None:
        try:
            for _ in range(10):
                out.append(_key(tmsrules.diagnose(SEED, questions=False)))
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=build_and_run) for _ in range(3)]
    threads += [threading.Thread(target=run_default) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    assert len(out) == 3 * 3 + 5 * 10 and set(out) == {expected}


# ---------------------------------------------------------------- exceptions mid-inference


class _Boom(RuntimeError):
    pass


def test_exception_in_a_rule_action_leaves_the_engine_usable(monkeypatch):
    d = Diagnoser(memo_size=0)  # no memo: every call runs the engine and meets the fault
    before = _key(d.diagnose(SEED, questions=False))
    calls = {"n": 0}
    real_act = engine_mod.Engine._act

    def exploding_act(self, message, firings):
        calls["n"] += 1
        if calls["n"] == 5:  # mid-inference: some rules fired, more pending
            raise _Boom("injected")
        return real_act(self, message, firings)

    monkeypatch.setattr(engine_mod.Engine, "_act", exploding_act)
    with pytest.raises(InferenceError) as info:
        d.diagnose(SEED, questions=False)
    assert isinstance(info.value.__cause__, _Boom)
    monkeypatch.setattr(engine_mod.Engine, "_act", real_act)
    assert _key(d.diagnose(SEED, questions=False)) == before
    assert _live_states(d.engine) == 0


def test_exception_in_on_quiet_leaves_the_engine_usable():
    class Broken(Diagnoser):
        """A Diagnoser whose stage-2 callback raises (the engine's on_quiet)."""

        broken = True

        def infer(self, env):
            if not self.broken:
                return super().infer(env)
            real = self.engine.infer

            def infer_raising(facts, on_quiet=None):
                def quiet(firings):
                    raise _Boom("on_quiet")

                return real(facts, quiet)

            self.engine.infer = infer_raising
            try:
                return super().infer(env)
            finally:
                del self.engine.infer

    broken = Broken()
    for _ in range(3):
        with pytest.raises(InferenceError):
            broken.diagnose(SEED, questions=False)
    assert _live_states(broken.engine) == 0
    broken.broken = False
    assert broken.diagnose(SEED, questions=False).verdict == tmsrules.diagnose(SEED).verdict
    assert _live_states(broken.engine) == 0


def test_keyboard_interrupt_mid_inference_still_deletes_the_session(monkeypatch):
    d = Diagnoser()
    real_act = engine_mod.Engine._act

    def interrupted(self, message, firings):
        if len(firings) == 3:
            raise KeyboardInterrupt
        return real_act(self, message, firings)

    monkeypatch.setattr(engine_mod.Engine, "_act", interrupted)
    with pytest.raises(KeyboardInterrupt):
        d.diagnose(SEED, questions=False)
    monkeypatch.setattr(engine_mod.Engine, "_act", real_act)
    assert _live_states(d.engine) == 0
    assert d.diagnose(SEED, questions=False).verdict == "affected"


def test_an_inference_in_which_no_rule_fires_does_not_crash():
    """durable frees an uninitialised context when a session that never
    dispatched an action is deleted (the engine primes its state slots)."""
    code = (
        "from tmsrules.diagnose import Diagnoser\n"
        "d = Diagnoser()\n"
        "for _ in range(20):\n"
        "    assert d.engine.infer([{'t': 'nothing-matches-this'}]) == []\n"
        "print(d.diagnose({}).verdict)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr.decode()[-500:]
    assert r.stdout.strip() == b"not-affected"


# ---------------------------------------------------------------- no leaks, 100,000 diagnoses


def _bad_inputs() -> list:
    return [
        {"tms": {"version": 15}},
        {"tms": {"windows": "Windows 95"}},
        {"endpoints": [{"name": "a"}, {"name": "a"}]},
        {"endpoints": "all of them"},
        {"unknown": 1},
        {"tms": {"schannel": {"TLS 9.9": {"client": "enabled"}}}},
        {"tms": {"sql": {"version": "x" * 2000}}},
        [],
        "{}",
        {"observations": {"sql_event_ids": ["26011"]}},
    ]


def test_100k_diagnoses_keep_memory_flat_and_sessions_bounded(monkeypatch):
    """100,000 calls of diagnose() in one process: valid environments (some with
    questions), bad input, and an exception injected mid-inference every 97th
    valid call. Far beyond durable's 1,023 live sessions; RSS stays flat.
    No memo: every valid call runs the engine (tests/test_memo.py has the memo's)."""
    d = Diagnoser(memo_size=0)
    envs = ENVS
    bad = _bad_inputs()
    expected = {i: _key(d.diagnose(env, questions=False)) for i, env in enumerate(envs)}
    real_act = engine_mod.Engine._act
    state = {"explode_at": None}

    def maybe_explode(self, message, firings):
        if state["explode_at"] is not None and len(firings) == state["explode_at"]:
            raise _Boom("injected")
        return real_act(self, message, firings)

    monkeypatch.setattr(engine_mod.Engine, "_act", maybe_explode)
    total = 100_000
    counts = {"ok": 0, "input": 0, "inference": 0, "questions": 0}
    rss: list[int] = []
    started = time.monotonic()
    valid = 0
    for i in range(total):
        if i % 3:  # two in three are bad input: rejected before any inference
            with pytest.raises(InputError):
                d.diagnose(bad[i % len(bad)], questions=False)
            counts["input"] += 1
            continue
        valid += 1
        k = valid % len(envs)
        if valid % 97 == 0:
            state["explode_at"] = 1 + valid % 7
            with pytest.raises(InferenceError):
                d.diagnose(envs[k], questions=False)
            state["explode_at"] = None
            counts["inference"] += 1
            continue
        questions = valid % 500 == 0
        got = d.diagnose(envs[k], questions=questions)
        if questions:
            counts["questions"] += 1
        else:
            counts["ok"] += 1
            if valid % 1000 == 1:
                assert _key(got) == expected[k]
        if valid % 2000 == 0:
            gc.collect()
            rss.append(_rss_kib())
    elapsed = time.monotonic() - started
    assert sum(counts.values()) == total
    assert counts["inference"] > 300 and counts["questions"] > 50
    assert _live_states(d.engine) == 0
    # after warm-up, resident memory may wobble but must not grow with the count
    warm = rss[len(rss) // 4 :]
    growth = max(warm) - warm[0]
    assert growth < 16 * 1024, f"RSS grew by {growth} KiB over {len(warm)} samples: {warm}"
    print(f"\n100k diagnoses in {elapsed:.1f}s, {counts}, RSS {rss[0]}..{rss[-1]} KiB")


# ---------------------------------------------------------------- the parsed rule base cache


def test_rulebase_cache_gives_the_parsed_rulebase_and_survives_corruption(tmp_path, monkeypatch):
    diagnose_mod = sys.modules["tmsrules.diagnose"]
    from tmsrules.rulebase import load

    monkeypatch.setenv("TMSRULES_CACHE_DIR", str(tmp_path / "cache"))
    first = diagnose_mod._load_rulebase(None)  # parses, writes the cache
    (cached,) = (tmp_path / "cache").glob("rulebase-*.pickle")
    second = diagnose_mod._load_rulebase(None)  # reads it back
    assert first == second == load(None)
    cached.write_bytes(b"not a pickle")
    assert diagnose_mod._load_rulebase(None) == first  # corrupt: parsed again
    assert cached.read_bytes() != b"not a pickle"  # and rewritten
    monkeypatch.setenv("TMSRULES_CACHE_DIR", "")
    assert diagnose_mod._load_rulebase(None) == first  # no cache at all


def test_rulebase_cache_follows_the_rule_files(tmp_path, monkeypatch):
    import shutil

    diagnose_mod = sys.modules["tmsrules.diagnose"]
    from tmsrules.errors import RuleError
    from tmsrules.rulebase import default_rules_dir

    monkeypatch.setenv("TMSRULES_CACHE_DIR", str(tmp_path / "cache"))
    rules = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), rules)
    before = diagnose_mod._load_rulebase(rules)
    plan = rules / "plan.toml"
    plan.write_text(plan.read_text() + "\n[[broken\n")
    with pytest.raises(RuleError):
        diagnose_mod._load_rulebase(rules)
    assert before.rules
