"""A safe wrapper around durable_rules.

What we measured on durable-rules 2.0.28 (see DEVELOPERS.md) shapes this:

* It is not thread-safe, and every ``engine.Host()`` starts timer threads that
  call into the C engine every ~0.2 s. ``_QuietHost`` switches those timers
  off; one process-wide lock guards every call into the C engine.
* A ruleset holds at most 1,023 live sessions: each inference uses a fresh
  session id and deletes its state in ``finally``.
* Errors raised in durable's own action dispatch are swallowed into the
  session state. We do not use that dispatch: the loop below takes each
  activation from the C engine, runs our action, and lets any exception
  propagate as ``InferenceError`` after abandoning the action.
* Facts are de-duplicated by content, and rule priority is no plan order: the
  conclusions are collected here and ordered later, explicitly.

The engine sees only what the compiler and ``tmsrules.facts`` hand it:
numbers, booleans and enumerated strings.
"""

from __future__ import annotations

import itertools
import json
import threading
import uuid
from typing import Any, Callable, Iterable

import attrs
from durable import engine as _durable

from tmsrules.compiler import IDENT, compile_rulebase
from tmsrules.errors import InferenceError
from tmsrules.rulebase import Ref, Rule, RuleBase

try:  # the C extension that durable.engine wraps
    import durable_rules_engine as _dre
except ImportError:  # pragma: no cover - durable-rules always ships it
    _dre = _durable.durable_rules_engine

#: One lock for every call into the C engine, whatever Engine instance makes it.
_ENGINE_LOCK = threading.RLock()

#: A bound on rule firings in one inference: the knowledge base derives facts
#: from finite sets, so reaching it means a broken rule set, not a big input.
MAX_FIRINGS = 200_000


#: A rule of our own, outside the knowledge base: it only ever sees the fact
#: ``Engine._end_session`` asserts. Appended last, it never changes the agenda order.
_PRIME = "__tmsrules_prime__"


class _QuietHost(_durable.Host):
    """A durable Host whose timer threads are never started."""

    def _run(self) -> None:  # noqa: D401 - overrides the timer start-up
        return None


def _never_called(_closure: Any) -> None:  # pragma: no cover - we run our own loop
    raise InferenceError("durable's own action dispatch must not run")


@attrs.frozen
class Firing:
    """One rule activation: the rule, the facts it matched, what it concluded."""

    rule: Rule
    facts: dict[str, dict[str, Any]]
    conclusions: tuple[dict[str, Any], ...]


def _public(fact: dict[str, Any]) -> dict[str, Any]:
    """An engine fact back in vocabulary form."""
    out = {k: v for k, v in fact.items() if k not in ("sid", "id")}
    if IDENT in out:
        out["id"] = out.pop(IDENT)
    return out


#: fact content -> (its engine JSON up to the id value, its canonical form).
#: Facts repeat across inferences (the same channel, tms and conclusion facts),
#: so their JSON text is built once.
_JSON_CACHE: dict[tuple, tuple[str, str]] = {}
_JSON_CACHE_MAX = 20_000


def _engine_json(facts: Iterable[dict[str, Any]], sid: str, identities: dict[str, int]) -> str:
    """The engine form of vocabulary facts, as the JSON list ``assert_facts`` takes.

    durable_rules identifies a fact by its ``id`` property and drops a second
    fact with the same id. A fact's engine id is the session id plus a number
    standing for its whole content (``identities``, one per session, maps the
    canonical JSON of a content to its number): equal facts collapse and
    different ones never do. A vocabulary field called ``id`` travels as
    ``IDENT``. Short ids keep the activation messages small.
    """
    esid = json.dumps(sid)[1:-1]
    parts = []
    for fact in facts:
        try:
            # the type too: True == 1 == 1.0 in Python, not in JSON
            key = tuple([(k, v, v.__class__) for k, v in fact.items()])
            cached = _JSON_CACHE.get(key)
        except TypeError:  # an unhashable value: no cache
            key, cached = None, None
        if cached is None:
            body = {k: v for k, v in fact.items() if k != "id"}
            if "id" in fact:
                body[IDENT] = fact["id"]
            head = json.dumps(body)[:-1] + ', "id": "' if body else '{"id": "'
            cached = (head, json.dumps(fact, sort_keys=True, separators=(",", ":")))
            if key is not None:
                if len(_JSON_CACHE) >= _JSON_CACHE_MAX:
                    _JSON_CACHE.clear()
                _JSON_CACHE[key] = cached
        number = identities.setdefault(cached[1], len(identities))
        parts.append(f'{cached[0]}{esid}|{number}", "sid": "{esid}"}}')
    return "[" + ", ".join(parts) + "]"


class Engine:
    """A compiled knowledge base, ready to infer; safe to share between threads."""

    def __init__(self, rulebase: RuleBase):
        self.rulebase = rulebase
        self._rules = {rule.id: rule for rule in rulebase.rules}
        #: rule id -> (rule, its conclusions as (kind, ((field, is a Ref, value or (alias, field)), ...)))
        self._plans = {
            rule.id: (
                rule,
                tuple(
                    (
                        c.kind,
                        tuple(
                            (name, True, (v.alias, v.field)) if isinstance(v, Ref) else (name, False, v)
                            for name, v in c.values.items()
                        ),
                    )
                    for c in rule.conclusions
                ),
            )
            for rule in rulebase.rules
        }
        definition = compile_rulebase(rulebase)
        self.definition = json.loads(json.dumps(definition))  # a plain-JSON copy, for inspection
        self._name = f"tmsrules_{uuid.uuid4().hex[:12]}"
        for rule in definition.values():
            rule["run"] = _never_called
        definition[_PRIME] = {"all": [{"m": {"t": _PRIME}}], "run": _never_called}
        with _ENGINE_LOCK:
            self._host = _QuietHost()
            self._host.register_rulesets({self._name: definition})
            self._handle = self._host.get_ruleset(self._name)._handle
        self._sids = itertools.count(1)
        #: engine fact id -> its vocabulary form, for the session running (ids
        #: stand for a content in a session): a fact matched by many firings is
        #: decoded once and shared by them (see Firing: read-only)
        self._decoded: dict[str, dict[str, Any]] = {}

    # ------------------------------------------------------------------ inference

    def infer(
        self,
        facts: Iterable[dict[str, Any]],
        on_quiet: Callable[[list[Firing]], list[dict[str, Any]]] | None = None,
    ) -> list[Firing]:
        """Assert ``facts`` in a fresh session and fire rules until quiet.

        Each time no rule is left to fire, ``on_quiet`` (if given) sees the
        firings so far and may return more facts to assert; inference ends
        when it returns none. The session is deleted whatever happens.
        """
        firings: list[Firing] = []
        with _ENGINE_LOCK:
            sid = str(next(self._sids))
            identities: dict[str, int] = {}
            try:
                batch = list(facts)
                while batch:
                    self._assert_and_fire(sid, batch, firings, identities)
                    batch = list(on_quiet(firings)) if on_quiet else []
            except InferenceError:
                raise
            except Exception as exc:  # an error in an action or in the C engine
                raise InferenceError(f"inference failed: {type(exc).__name__}: {exc}") from exc
            finally:
                self._decoded.clear()
                self._end_session(sid, dispatched=bool(firings))
        return firings

    def _end_session(self, sid: str, dispatched: bool) -> None:
        """Delete the session ``sid``, safely.

        durable 2.0.28 leaves a new state's action context uninitialised and
        frees it in ``delete_state``: deleting a state that never dispatched
        an action, in a state slot never used before, aborts the process
        (``munmap_chunk(): invalid pointer``) -- e.g. an inference in which
        no rule fired. Such a session first dispatches one action of our own
        rule ``_PRIME`` (abandoned), which initialises the context.
        """
        if not dispatched:
            try:
                state = _dre.assert_facts(self._handle, json.dumps([{"t": _PRIME, "id": _PRIME, "sid": sid}]))[1]
                if _dre.start_action_for_state(self._handle, state):
                    _dre.abandon_action(self._handle, state)
            except Exception:  # pragma: no cover - leaving one session beats freeing garbage
                return
        try:
            _dre.delete_state(self._handle, sid)
        except Exception:  # pragma: no cover - nothing left to clean
            pass

    def _assert_and_fire(
        self, sid: str, batch: list[dict[str, Any]], firings: list[Firing], identities: dict[str, int]
    ) -> None:
        # Forward chaining in waves: the conclusions of every activation of a
        # wave are asserted together when the wave is done (one engine call a
        # wave instead of one a firing; the rules are monotonic, so the
        # fixpoint is the same).
        while batch:
            result = _dre.assert_facts(self._handle, _engine_json(batch, sid, identities))
            state = result[1]
            pending = _dre.start_action_for_state(self._handle, state)
            batch = []
            while True:
                if pending:
                    batch.extend(self._drain(sid, state, pending[1], firings))
                # Activations the C engine did not hand out for this state (it leaves
                # some to durable's timer-driven dispatch, which we switched off).
                more = _dre.start_action(self._handle)
                if not more:
                    break
                state, pending = more[2], (more[0], more[1])

    def _drain(self, sid: str, state: Any, message: str | None, firings: list[Firing]) -> list[dict[str, Any]]:
        derived_all: list[dict[str, Any]] = []
        while message:
            if len(firings) >= MAX_FIRINGS:
                _dre.abandon_action(self._handle, state)
                raise InferenceError(f"more than {MAX_FIRINGS} rule firings: the rule set does not terminate")
            try:
                derived_all.extend(self._act(json.loads(message), firings))
            except BaseException:
                _dre.abandon_action(self._handle, state)
                raise
            message = _dre.complete_and_start_action(self._handle, state)
        return derived_all

    def _act(self, message: dict[str, Any], firings: list[Firing]) -> list[dict[str, Any]]:
        ((rule_id, matched),) = message.items()
        rule, plan = self._plans[rule_id]
        decoded = self._decoded
        facts = {}
        for alias, fact in matched.items():
            ident = fact.get("id")
            public = decoded.get(ident) if ident is not None else None
            if public is None:
                public = _public(fact)
                if ident is not None:
                    decoded[ident] = public
            facts[alias] = public
        out = []
        for kind, items in plan:
            values = {"t": kind}
            for name, is_ref, value in items:
                values[name] = facts[value[0]][value[1]] if is_ref else value
            out.append(values)
        firings.append(Firing(rule=rule, facts=facts, conclusions=tuple(out)))
        return out

