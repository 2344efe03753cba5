"""Benchmarks of tmsrules against the durable_rules engine floor (issue #4).

    python bench/bench.py            # markdown table on stdout
    python bench/bench.py --json     # the raw numbers as JSON as well
    python bench/bench.py --quick    # fewer repetitions (a smoke run)

What is measured, in one run on one machine:

* engine floor: durable_rules with one ruleset of one rule, one session, one
  fact, the session deleted. Two ways: through durable's public ``Host``
  (``post`` + ``delete_state``, the action dispatched by durable; timers off)
  -- the floor the targets use -- and through the lean loop tmsrules uses
  (``assert_facts`` / ``start_action_for_state`` /
  ``complete_and_start_action`` / ``delete_state`` on the C engine), shown
  for reference;
* the same lean loop on tmsrules' own ruleset (one fact that only our
  priming rule matches): what a bare session costs on these rules, before
  any of our facts or firings;
* one full diagnosis of the contract's example input (the seed case), with
  questions on and off, two ways: *first time*, a Diagnoser without memo
  (``memo_size=0``: the engine runs every call, as for an environment never
  seen; only the engine's cache of fact JSON text is warm), and *repeat*, the
  default Diagnoser diagnosing the same environment again (its memo answers
  the inference; input validation, facts and the Diagnosis are still built);
* fleets of 1,000 and 10,000 endpoints (a realistic mix of firmware,
  management protocols, statuses and planned upgrades), questions on, memo
  off;
* cold start: a new process importing tmsrules and making its first
  diagnosis (timed inside the child, median of several processes).

Each timing is the median of several rounds; a round times a batch of calls
and divides. The machine may be shared: run it on a quiet one.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

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

#: (software, management, status, planned software, weight): a fleet as TMS shows it
FLEET_MIX = [
    ("ce9.15.3.17", "https", "No HTTPS response", None, 30),
    ("CE9.14.5", "https", "No HTTPS response", None, 10),
    ("RoomOS 11.5.2.4", "https", "No HTTPS response", None, 10),
    ("TC7.3.6", "https", "No HTTPS response", None, 8),
    ("tc7.3.3.1c5b7d7", "https", "OK", "TC7.3.6", 8),
    ("TC7.3.3", "https", "OK", None, 6),
    ("ce8.1.0", "http", "OK", None, 6),
    ("TC7.3.4", "https", "OK", None, 3),
    ("Release - 3.1.10-51067", "telnet", "OK", None, 5),
    ("Release - 3.1.10-51067", "snmp", "OK", None, 3),
    ("ce9.15.3.17", None, None, None, 4),
    (None, "https", None, None, 4),
    ("RoomOS 11.5.2.4", "https", "OK", None, 3),
]


def fleet(n: int) -> dict:
    """A TMS 15 at medium with ``n`` endpoints in the proportions of FLEET_MIX."""
    weights = [m[-1] for m in FLEET_MIX]
    total = sum(weights)
    endpoints = []
    for i in range(n):
        slot = (i * 7919) % total  # deterministic spread over the mix
        for (software, management, status, planned, weight) in FLEET_MIX:
            if slot < weight:
                break
            slot -= weight
        ep = {"name": f"room-{i:05d}"}
        if software is not None:
            ep["software"] = software
        if management is not None:
            ep["management"] = management
        if status is not None:
            ep["status"] = status
        if planned is not None:
            ep["planned_software"] = planned
        endpoints.append(ep)
    return {
        "tms": {"version": "15.2.1", "communication_security": "medium", "windows": "2012 R2",
                "sql": {"version": "11.0.5058.0", "local": True}},
        "endpoints": endpoints,
    }


def rounds(fn, calls: int, repeat: int) -> float:
    """Median over ``repeat`` rounds of the mean seconds per call of ``fn``."""
    fn()  # warm up
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        samples.append((time.perf_counter() - start) / calls)
    return statistics.median(samples)


# ---------------------------------------------------------------- the floor


def floor_host(calls: int, repeat: int) -> float:
    from durable import engine as durable

    class QuietHost(durable.Host):
        def _run(self):  # no timer threads
            return None

    host = QuietHost()
    host.register_rulesets({"bench_floor_host": {"r": {"all": [{"m": {"t": "x"}}], "run": lambda c: None}}})
    counter = iter(range(1, 1 << 62))

    def one():
        sid = str(next(counter))
        host.post("bench_floor_host", {"t": "x", "sid": sid})
        host.delete_state("bench_floor_host", sid)

    return rounds(one, calls, repeat)


def floor_lean(calls: int, repeat: int) -> float:
    from durable import engine as durable

    import durable_rules_engine as dre

    class QuietHost(durable.Host):
        def _run(self):
            return None

    host = QuietHost()
    host.register_rulesets({"bench_floor_lean": {"r": {"all": [{"m": {"t": "x"}}], "run": lambda c: None}}})
    handle = host.get_ruleset("bench_floor_lean")._handle
    counter = iter(range(1, 1 << 62))

    def one():
        sid = str(next(counter))
        lean_session(dre, handle, {"t": "x", "id": "1", "sid": sid}, sid)

    return rounds(one, calls, repeat)


def lean_session(dre, handle, fact: dict, sid: str) -> None:
    """One session through the lean C loop: assert ``fact``, run every
    activation (decoding its message, as tmsrules does), delete the session."""
    state = dre.assert_facts(handle, json.dumps([fact]))[1]
    pending = dre.start_action_for_state(handle, state)
    message = pending[1] if pending else None
    while message:
        json.loads(message)
        message = dre.complete_and_start_action(handle, state)
    dre.delete_state(handle, sid)


# ---------------------------------------------------------------- tmsrules


def bare_session(calls: int, repeat: int) -> float:
    """The lean loop of floor_lean on tmsrules' ruleset: one fact, one firing
    of the engine's own priming rule, the session deleted."""
    from tmsrules import engine as engine_mod
    from tmsrules.diagnose import default_diagnoser

    engine = default_diagnoser().engine
    dre, handle = engine_mod._dre, engine._handle
    counter = iter(range(1, 1 << 62))

    def one():
        sid = f"bench-{next(counter)}"
        with engine_mod._ENGINE_LOCK:
            lean_session(dre, handle, {"t": engine_mod._PRIME, "id": "1", "sid": sid}, sid)

    return rounds(one, calls, repeat)


def diagnosis(questions: bool, calls: int, repeat: int, memo: bool) -> float:
    """The seed case: repeat (default Diagnoser, its memo on) or first time (memo off)."""
    from tmsrules.diagnose import Diagnoser, default_diagnoser

    d = default_diagnoser() if memo else Diagnoser(memo_size=0)
    return rounds(lambda: d.diagnose(SEED, questions=questions), calls, repeat)


def fleet_time(n: int, repeat: int) -> float:
    """One fleet diagnosis with questions, memo off (every inference runs the engine)."""
    from tmsrules.diagnose import Diagnoser

    d = Diagnoser(memo_size=0)
    env = fleet(n)
    return rounds(lambda: d.diagnose(env), 1, repeat)


def fleet_work(n: int) -> dict:
    """Work counts of one fleet diagnosis: engine firings and facts, not time."""
    from tmsrules import facts as factmod
    from tmsrules.diagnose import default_diagnoser
    from tmsrules.model import Environment

    d = default_diagnoser()
    env = Environment.from_dict(fleet(n))
    inference = d.infer(env)
    factset = factmod.build(env, d.rulebase.vocabulary)
    return {"firings": len(inference.firings), "facts": len(factset.facts), "profiles": len(factset.members)}


_CHILD = """
import json, sys, time
t0 = time.perf_counter()
import tmsrules
t1 = time.perf_counter()
tmsrules.diagnose(json.loads(sys.argv[1]))
t2 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "first": t2 - t1}))
"""


def cold_start(repeat: int) -> dict:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", _CHILD, json.dumps(SEED)], capture_output=True, check=True, cwd=ROOT,
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
        )
        wall = time.perf_counter() - start
        inner = json.loads(out.stdout)
        runs.append({**inner, "total": inner["import"] + inner["first"], "process": wall})
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


# ---------------------------------------------------------------- report


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:,.0f} µs"


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.1f} ms"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="also print the raw numbers as JSON")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args(argv)
    q = args.quick
    repeat = 3 if q else 7

    r: dict = {}
    r["floor_host"] = floor_host(500 if q else 2000, repeat)
    r["floor_lean"] = floor_lean(500 if q else 2000, repeat)
    r["bare_session"] = bare_session(500 if q else 2000, repeat)
    r["seed_first_questions"] = diagnosis(True, 20 if q else 100, repeat, memo=False)
    r["seed_first_no_questions"] = diagnosis(False, 20 if q else 100, repeat, memo=False)
    r["seed_repeat_questions"] = diagnosis(True, 100 if q else 500, repeat, memo=True)
    r["seed_repeat_no_questions"] = diagnosis(False, 100 if q else 500, repeat, memo=True)
    r["fleet_1k"] = fleet_time(1_000, repeat)
    r["fleet_10k"] = fleet_time(10_000, 3 if q else 5)
    r["work_1k"] = fleet_work(1_000)
    r["work_10k"] = fleet_work(10_000)
    r["cold"] = cold_start(3 if q else 7)

    floor = r["floor_host"]
    per_ep_10k = r["fleet_10k"] / 10_000
    per_ep_1k = r["fleet_1k"] / 1_000
    ratio = r["fleet_10k"] / r["fleet_1k"]
    rows = [
        ("engine floor, durable Host (post + delete_state)", _us(floor), "(the unit)", ""),
        ("engine floor, lean C loop (reference)", _us(r["floor_lean"]), "", ""),
        ("bare session on tmsrules' ruleset, lean C loop (reference)",
         f"{_us(r['bare_session'])} = {r['bare_session'] / floor:.1f}× floor", "", ""),
    ]
    for kind, label in (("first", "first time (memo off)"), ("repeat", "repeat (memo on, same environment)")):
        for questions in (True, False):
            key = f"seed_{kind}_{'questions' if questions else 'no_questions'}"
            rows.append((f"seed diagnosis, {label}, questions {'on' if questions else 'off'}",
                         f"{_us(r[key])} = {r[key] / floor:.1f}× floor", "≤ 10× floor", r[key] <= 10 * floor))
    rows += [
        ("fleet 1,000 endpoints (questions on, memo off)", f"{_ms(r['fleet_1k'])} = {per_ep_1k / floor:.2f}× floor per endpoint",
         "≤ 3× floor per endpoint", per_ep_1k <= 3 * floor),
        ("fleet 10,000 endpoints (questions on, memo off)", f"{_ms(r['fleet_10k'])} = {per_ep_10k / floor:.2f}× floor per endpoint",
         "≤ 3× floor per endpoint", per_ep_10k <= 3 * floor),
        ("fleet time ratio 10k / 1k", f"{ratio:.1f}", "≤ 12", ratio <= 12),
        ("engine firings 1k / 10k fleet", f"{r['work_1k']['firings']} / {r['work_10k']['firings']}", "equal", 
         r["work_1k"]["firings"] == r["work_10k"]["firings"]),
        ("cold start: import + first diagnosis", f"{_ms(r['cold']['total'])} (import {_ms(r['cold']['import'])}, "
         f"first {_ms(r['cold']['first'])}; whole process {_ms(r['cold']['process'])})", "≤ 0.3 s", r["cold"]["total"] <= 0.3),
    ]
    import durable  # noqa: F401

    print(f"tmsrules benchmark — Python {platform.python_version()}, {platform.machine()}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; median of {repeat} rounds\n")
    print("| measure | measured | target | pass |")
    print("|---|---|---|---|")
    for name, measured, target, ok in rows:
        verdict = "" if ok == "" else ("pass" if ok else "**FAIL**")
        print(f"| {name} | {measured} | {target} | {verdict} |")
    if args.json:
        print()
        print(json.dumps(r, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
