"""The trace of a diagnosis is built on first read, and reads like a tuple."""

import threading

import tmsrules
from tmsrules.diagnosis import Diagnosis, Trace, TraceEntry

SEED = {
    "tms": {"version": "15.2.1", "communication_security": "medium", "windows": "2012 R2",
            "sql": {"version": "11.0.5058.0", "local": True}},
    "endpoints": [{"name": "Boardroom", "software": "ce9.15.3.17", "management": "https"}],
}


def test_built_once_on_first_read():
    calls = []
    entry = TraceEntry(rule="r", facts={}, concluded="x")

    def build():
        calls.append(1)
        return [entry]

    trace = Trace(build)
    assert calls == []
    assert len(trace) == 1 and trace[0] is entry and list(trace) == [entry] and trace[-1:] == (entry,)
    assert trace == (entry,) and trace == Trace([entry])
    assert calls == [1]


def test_one_build_when_threads_read_it_together():
    calls = []
    barrier = threading.Barrier(8)

    def build():
        calls.append(1)
        return [TraceEntry(rule="r", facts={}, concluded="x")]

    trace = Trace(build)
    seen = []

    def read():
        barrier.wait()
        seen.append(len(trace))

    threads = [threading.Thread(target=read) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == [1] * 8 and calls == [1]


def test_a_diagnosis_trace_names_the_rules_and_serialises():
    d = tmsrules.diagnose(SEED)
    assert isinstance(d.trace, Trace)
    rules = [t.rule for t in d.trace]
    assert "fw-ce-810-refuses" in rules and "mode-tls10-medium" in rules
    assert [t["rule"] for t in d.to_dict()["trace"]] == rules
    assert d == tmsrules.diagnose(SEED)  # equal diagnoses, traces compared entry by entry


def test_a_diagnosis_made_by_hand_takes_a_tuple():
    entry = TraceEntry(rule="r", facts={"a": {"t": "tms"}}, concluded="x")
    d = Diagnosis(verdict="not-affected", trace=(entry,))
    assert d.trace == (entry,) and d.to_dict()["trace"] == [entry.to_dict()]
    assert Diagnosis(verdict="not-affected").trace == ()
