"""The output: a Diagnosis (contract v1, "Output"), frozen and typed.

``to_dict()`` gives exactly the contract's JSON object (with a few added
fields, never renamed ones); ``to_json()`` is deterministic: the same input
gives byte-identical output.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from typing import Any, Callable

import attrs

from tmsrules import jsontext

CONTRACT_VERSION = 1
VERDICTS = ("affected", "at-risk", "undetermined", "not-affected")  # precedence order


def worst(verdicts) -> str:
    """The overall verdict: affected > at-risk > undetermined > not-affected."""
    found = set(verdicts)
    for verdict in VERDICTS:
        if verdict in found:
            return verdict
    return "not-affected"


@attrs.frozen
class Cause:
    id: str
    summary: str
    detail: str
    endpoints: tuple[str, ...]
    sources: tuple[str, ...]
    because: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "summary": self.summary,
            "detail": self.detail,
            "endpoints": list(self.endpoints),
            "sources": list(self.sources),
            "because": list(self.because),
        }


@attrs.frozen
class Step:
    id: str
    title: str
    instructions: tuple[str, ...]
    why: str
    sources: tuple[str, ...]
    because: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "instructions": list(self.instructions),
            "why": self.why,
            "sources": list(self.sources),
            "because": list(self.because),
        }


@attrs.frozen
class Alternative:
    id: str
    title: str
    why: str
    plan: tuple[Step, ...]
    sources: tuple[str, ...]
    because: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "why": self.why,
            "plan": [s.to_dict() for s in self.plan],
            "sources": list(self.sources),
            "because": list(self.because),
        }


@attrs.frozen
class Warning:
    id: str
    text: str
    endpoints: tuple[str, ...]
    sources: tuple[str, ...]
    because: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "endpoints": list(self.endpoints),
            "sources": list(self.sources),
            "because": list(self.because),
        }


@attrs.frozen
class Question:
    fact: str
    ask: str
    choices: tuple[str, ...]
    #: rules whose firing depends on the answer (why the fact matters)
    because: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"fact": self.fact, "ask": self.ask, "choices": list(self.choices), "because": list(self.because)}


@attrs.frozen
class EndpointVerdict:
    name: str
    verdict: str
    causes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "verdict": self.verdict, "causes": list(self.causes)}


@attrs.frozen
class TraceEntry:
    rule: str
    facts: dict[str, Any]
    concluded: str

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "facts": self.facts, "concluded": self.concluded}


class Trace(Sequence):
    """The trace entries of a diagnosis, built on first use.

    Most callers (a chatbot reading the verdict and the plan) never read the
    trace, and building it is a third of assembling a diagnosis; so the
    Diagnosis holds the recipe and the entries are made the first time they
    are read (``to_dict``/``to_json`` read them). Otherwise a read-only
    sequence like a tuple: equal to a tuple or Trace with equal entries.
    """

    __slots__ = ("_build", "_entries", "_lock")

    def __init__(self, entries: "Sequence[TraceEntry] | Callable[[], Sequence[TraceEntry]]" = ()):
        self._lock = threading.Lock()
        if callable(entries):
            self._build, self._entries = entries, None
        else:
            self._build, self._entries = None, tuple(entries)

    def _get(self) -> tuple["TraceEntry", ...]:
        entries = self._entries
        if entries is None:
            with self._lock:  # built once, even when two threads read it first
                if self._entries is None:
                    self._entries = tuple(self._build())
                    self._build = None
                entries = self._entries
        return entries

    def __getitem__(self, index):
        return self._get()[index]

    def __len__(self) -> int:
        return len(self._get())

    def __iter__(self):
        return iter(self._get())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Trace):
            return self._get() == other._get()
        if isinstance(other, tuple):
            return self._get() == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._get())

    def __repr__(self) -> str:
        return f"Trace({self._get()!r})"


def _trace(value: Any) -> Trace:
    return value if isinstance(value, Trace) else Trace(value)


@attrs.frozen
class Diagnosis:
    verdict: str
    causes: tuple[Cause, ...] = ()
    plan: tuple[Step, ...] = ()
    alternatives: tuple[Alternative, ...] = ()
    warnings: tuple[Warning, ...] = ()
    questions: tuple[Question, ...] = ()
    endpoints: tuple[EndpointVerdict, ...] = ()
    #: every rule firing (a read-only sequence of TraceEntry, built on first read)
    trace: Trace = attrs.field(default=(), converter=_trace)
    #: (Diagnoser, Inference) behind this diagnosis, for explain()/why_not(); never serialised
    _explainer: Any = attrs.field(default=None, eq=False, repr=False)

    def explain(self, id: str, lang: str | None = None) -> dict[str, Any]:
        """HOW: the chain of rules and facts that led to cause/step/warning ``id``.
        ``lang`` defaults to the language this diagnosis was made in."""
        from tmsrules.explain import explain

        return explain(self, id, lang=lang)

    def why_not(self, id: str, lang: str | None = None) -> dict[str, Any]:
        """WHY NOT: for an ``id`` that did not come out, which conditions failed.
        ``lang`` defaults to the language this diagnosis was made in."""
        from tmsrules.explain import why_not

        return why_not(self, id, lang=lang)

    @property
    def cause_ids(self) -> list[str]:
        return [c.id for c in self.causes]

    @property
    def step_ids(self) -> list[str]:
        return [s.id for s in self.plan]

    @property
    def warning_ids(self) -> list[str]:
        return [w.id for w in self.warnings]

    @property
    def question_facts(self) -> list[str]:
        return [q.fact for q in self.questions]

    def endpoint(self, name: str) -> EndpointVerdict:
        for e in self.endpoints:
            if e.name == name:
                return e
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "contract": CONTRACT_VERSION,
            "verdict": self.verdict,
            "causes": [c.to_dict() for c in self.causes],
            "plan": [s.to_dict() for s in self.plan],
            "alternatives": [a.to_dict() for a in self.alternatives],
            "warnings": [w.to_dict() for w in self.warnings],
            "questions": [q.to_dict() for q in self.questions],
            "endpoints": [e.to_dict() for e in self.endpoints],
            "trace": [t.to_dict() for t in self.trace],
        }

    def to_json(self, indent: int | None = 2) -> str:
        if indent is None:  # json's C encoder
            return json.dumps(self.to_dict(), ensure_ascii=False)
        return jsontext.dumps(self.to_dict(), indent)  # json.dumps's bytes, faster
