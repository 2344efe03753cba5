"""Diagnosing an environment: facts in, rules fire, a Diagnosis out.

Inference runs in two stages inside one engine session:

1. the input facts go in; the rules derive what TMS offers, what each
   endpoint profile accepts, and the *possible* outcomes of managing it (one
   outcome per way the unknown facts could turn out);
2. when no rule is left to fire, each profile's verdict is read off its
   possible outcomes (all fail: affected; all succeed: not affected; both:
   undetermined; an observed failure wins) and asserted; the rules then
   conclude causes, plan steps, alternatives and warnings.

Questions come from counterfactuals: a missing fact is asked for only when
one of its representative answers (``rules/catalog.toml``) changes the
verdict or the plan. No domain decision is taken in this module.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping

import attrs

from tmsrules import facts as factmod
from tmsrules.diagnosis import (
    Alternative,
    Cause,
    Diagnosis,
    EndpointVerdict,
    Question,
    Step,
    Trace,
    TraceEntry,
    Warning,
    worst,
)
from tmsrules import i18n
from tmsrules.engine import Engine, Firing
from tmsrules.errors import InputError
from tmsrules.memo import LRU
from tmsrules.model import Environment
from tmsrules.paths import get_path, set_paths
from tmsrules.rulebase import Rule, RuleBase, load

_PLACEHOLDER = re.compile(r"\{([a-z0-9_]+)\.([a-z0-9_]+)\}")
_GLOBAL = "-"
#: The engine sees one fact per kind of endpoint (profile), so a fleet costs its
#: profiles: about 1 ms each without questions and 7 ms with them. Real fleets
#: have tens; hostile input could have 100,000 (minutes). Refused above this.
MAX_PROFILES = 1_000
LANGUAGES = ("en", "pt-BR")
#: Inferences a Diagnoser remembers (see Diagnoser.infer), and the most rule
#: firings they may hold together. Measured: ~1.9 KB a firing (its facts, the
#: views, the key), so the memo holds at most ~60 MB; 1,024 inferences of the
#: seed case's size (~30 firings) fit, fewer of bigger fleets.
MEMO_SIZE = 1_024
MEMO_FIRINGS = 32_768
#: canonical JSON text of the engine facts (the engine reads them as JSON too)
_memo_text = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode


class FiringViews:
    """Read-only views of one run's firings that the assembly needs, built once.

    They depend on the firings alone (profile ids, never endpoint names or
    input texts), so they are computed on first use and kept with the
    firings: every diagnosis assembled from the same firings (the memo's)
    reuses them. Two threads may both compute a view; they compute the same.
    """

    __slots__ = ("firings", "_by_kind", "_trace_plan")

    def __init__(self, firings: tuple[Firing, ...]):
        self.firings = firings
        self._by_kind: dict[str, tuple[tuple[Firing, dict[str, Any]], ...]] | None = None
        self._trace_plan: tuple | None = None

    def of_kind(self, kind: str) -> tuple[tuple[Firing, dict[str, Any]], ...]:
        """(firing, conclusion) for every conclusion of ``kind``, in firing order."""
        by_kind = self._by_kind
        if by_kind is None:
            found: dict[str, list[tuple[Firing, dict[str, Any]]]] = {}
            for f in self.firings:
                for c in f.conclusions:
                    found.setdefault(c["t"], []).append((f, c))
            by_kind = self._by_kind = {k: tuple(v) for k, v in found.items()}
        return by_kind.get(kind, ())

    def trace_plan(self) -> tuple:
        """Per firing: (rule id, its conclusions as text, per matched fact (alias,
        the fact without ``*_known`` fields, its id, the profile whose endpoint
        names it shows or None)). What is left for a trace entry is per
        environment: version texts (``FactSet.display``) and endpoint names."""
        plan = self._trace_plan
        if plan is None:
            entries = []
            seen: dict[int, tuple] = {}  # a fact matched by several firings is one object
            for firing in self.firings:
                facts = []
                for alias, fact in firing.facts.items():
                    shown = seen.get(id(fact))
                    if shown is None:
                        base = {k: v for k, v in fact.items() if not k.endswith("_known")}
                        if fact.get("t") == "ep":
                            profile = fact["id"]
                        elif "ep" in fact and fact["ep"] != _GLOBAL:
                            profile = fact["ep"]
                        else:
                            profile = None
                        shown = seen[id(fact)] = (base, fact.get("id", ""), profile)
                    facts.append((alias, *shown))
                concluded = "; ".join(
                    f"{c['t']}(" + ", ".join(f"{k}={v}" for k, v in c.items() if k != "t") + ")"
                    for c in firing.conclusions
                )
                entries.append((firing.rule.id, concluded, tuple(facts)))
            plan = self._trace_plan = tuple(entries)
        return plan


@attrs.frozen
class Inference:
    """What one engine session found, before it is turned into a Diagnosis.

    ``firings`` (and ``views``) may be shared with other inferences of the
    same engine facts through the Diagnoser's memo: read them, never change
    them. ``env``, ``factset`` and ``profile_verdicts`` are this inference's own.
    """

    env: Environment
    factset: factmod.FactSet
    firings: tuple[Firing, ...]
    profile_verdicts: dict[str, str]
    sql_verdict: str
    #: views of ``firings`` for the assembly (see FiringViews)
    views: FiringViews = attrs.field(eq=False, repr=False, default=None)

    def __attrs_post_init__(self) -> None:
        if self.views is None:
            object.__setattr__(self, "views", FiringViews(self.firings))

    def concluded(self, kind: str) -> tuple[tuple[Firing, dict[str, Any]], ...]:
        return self.views.of_kind(kind)

    def endpoint_verdicts(self) -> list[str]:
        return [self.profile_verdicts[cid] for cid, _ in self.factset.endpoint_profiles]

    @property
    def verdict(self) -> str:
        return worst(self.endpoint_verdicts() + [self.sql_verdict])


def _from_outcomes(results: set[str]) -> str:
    if results == {"fail"}:
        return "affected"
    if results == {"ok"}:
        return "not-affected"
    return "undetermined"


class Diagnoser:
    """A knowledge base compiled once, diagnosing any number of environments.

    Thread-safe: the engine serialises its own calls; the memo (see
    ``infer``) has its own lock; everything else here is per call.
    ``memo_size=0`` switches the memo off.
    """

    def __init__(self, rules_dir: Path | str | None = None, memo_size: int = MEMO_SIZE):
        #: the inference memo (engine facts -> what the engine concluded), or None when off
        self.memo: LRU | None = LRU(memo_size, MEMO_FIRINGS) if memo_size > 0 else None
        self.rulebase: RuleBase = _load_rulebase(rules_dir)
        self.engine = Engine(self.rulebase)
        self._order = {rule.id: i for i, rule in enumerate(self.rulebase.rules)}
        self._source_order = {label: i for i, label in enumerate(self.rulebase.sources)}
        self._version_cuts = _version_cuts(self.rulebase)
        #: plan step id -> its canonical position (the catalog's order)
        self._step_order = {e.id: e.order for e in self.rulebase.entries("step")}

    # ------------------------------------------------------------------ inference

    def infer(self, env: Environment) -> Inference:
        """Run the rules on ``env``'s engine facts, or reuse an earlier run on the same.

        Inference is a function of the engine facts (``FactSet.facts``,
        canonical: profile ids follow the profiles' order, not the input's)
        and of which planned profile goes with which current one (read
        between the stages). Endpoint names, input order and spellings are
        not in them: a memo hit is turned into this environment's Inference
        (its names, its version texts) by the assembly, as a fresh run would
        be. Only completed runs are remembered; a run that raised is not.
        """
        factset = factmod.build(env, self.rulebase.vocabulary, self._version_cuts)
        if len(factset.members) > MAX_PROFILES:
            raise InputError(
                "endpoints",
                f"{len(factset.members)} different kinds of endpoint are too many to diagnose in reasonable time",
                f"at most {MAX_PROFILES} distinct combinations of software, planned software, management, "
                "status and accepts",
            )
        memo = self.memo
        key = _memo_key(factset) if memo is not None else None
        found = memo.get(key) if key is not None else None
        if found is None:
            found = self._run(factset)
            if key is not None:
                memo.put(key, found, weight=len(found[0].firings) + 1)
        views, verdicts, sql_verdict = found
        return Inference(
            env=env,
            factset=factset,
            firings=views.firings,
            profile_verdicts=dict(verdicts),
            sql_verdict=sql_verdict,
            views=views,
        )

    def _run(self, factset: factmod.FactSet) -> tuple[FiringViews, dict[str, str], str]:
        """One engine session over ``factset``: the firings, profile verdicts, SQL verdict."""
        verdicts: dict[str, str] = {}
        sql_verdict = ["not-affected"]
        stage = [0]

        def on_quiet(firings: list[Firing]) -> list[dict[str, Any]]:
            stage[0] += 1
            if stage[0] > 1:
                return []
            outcomes: dict[str, set[str]] = {}
            observed: set[str] = set()
            sql_results: set[str] = set()
            sql_observed = False
            for firing in firings:
                for c in firing.conclusions:
                    if c["t"] == "outcome":
                        if c["observed"] == "yes":
                            observed.add(c["ep"]) if c["result"] == "fail" else None
                        else:
                            outcomes.setdefault(c["ep"], set()).add(c["result"])
                    elif c["t"] == "sql_outcome":
                        if c["observed"] == "yes":
                            sql_observed = sql_observed or c["result"] == "fail"
                        else:
                            sql_results.add(c["result"])
            new: list[dict[str, Any]] = []
            for cid, pid in sorted(set(factset.endpoint_profiles), key=str):
                if cid in verdicts:
                    continue
                inferred = _from_outcomes(outcomes.get(cid, set()))
                if inferred == "not-affected" and pid is not None:
                    planned = _from_outcomes(outcomes.get(pid, set()))
                    inferred = {"affected": "at-risk", "undetermined": "undetermined"}.get(planned, inferred)
                value = "affected" if cid in observed else inferred
                verdicts[cid] = value
                new.append({"t": "verdict", "id": f"verdict:{cid}", "ep": cid, "value": value, "inferred": inferred})
            sql_verdict[0] = "affected" if sql_observed else _from_outcomes(sql_results)
            new.append({"t": "sql_verdict", "id": "sql_verdict", "value": sql_verdict[0]})
            return new

        firings = self.engine.infer(factset.facts, on_quiet)
        return FiringViews(tuple(firings)), verdicts, sql_verdict[0]

    # ------------------------------------------------------------------ diagnosis

    def diagnose(
        self, environment: Mapping[str, Any] | Environment, questions: bool = True, lang: str = "en"
    ) -> Diagnosis:
        """Diagnose one environment. ``lang`` ("en" or "pt-BR") picks the human texts."""
        if lang not in LANGUAGES:
            raise InputError("lang", f"unknown language {lang!r:.20}", ", ".join(LANGUAGES))
        env = Environment.from_dict(environment)
        inference = self.infer(env)
        asked = self._questions(env, inference, lang=lang) if questions else ()
        return self._assemble(inference, asked, lang=lang)

    def _names(self, inference: Inference, profiles: Iterable[str]) -> tuple[str, ...]:
        env = inference.env
        indexes = {i for p in profiles if p != _GLOBAL for i in inference.factset.members.get(p, ())}
        return tuple(sorted({env.endpoint_name(i) for i in indexes}))

    def _because(self, firings: Iterable[Firing]) -> tuple[str, ...]:
        return tuple(sorted({f.rule.id for f in firings}, key=self._order.__getitem__))

    def _sources(self, catalog_sources: Iterable[str], firings: Iterable[Firing]) -> tuple[str, ...]:
        labels = set(catalog_sources) | {s for f in firings for s in f.rule.sources}
        return tuple(sorted(labels, key=self._source_order.__getitem__))

    @staticmethod
    def _text(entry: Any, key: str, english: Any, lang: str) -> Any:
        """``entry``'s text ``key`` in ``lang``: its ``pt`` table for pt-BR (English if missing)."""
        if lang == "pt-BR":
            translated = entry.pt.get(key)
            if translated:
                return tuple(translated) if isinstance(english, tuple) else str(translated).strip()
        return english

    @staticmethod
    def _rule_text(rule: Rule, lang: str) -> str:
        return (rule.pt or rule.text) if lang == "pt-BR" else rule.text

    def _context(self, inference: Inference, lang: str = "en") -> dict[str, dict[str, str]]:
        env = inference.env
        t = env.tms
        sql_version = t.sql.version if t.sql is not None else None
        context: dict[str, dict[str, str]] = {
            "env": {
                "tms_version": str(t.version) if t.version is not None else i18n.t("tms_version.unknown", lang),
                "windows": self.rulebase.windows_names.get(t.windows or "", i18n.t("windows.unknown", lang)),
                "sql_version": str(sql_version) if sql_version is not None else i18n.t("sql_version.unknown", lang),
            },
            "list": {},
        }
        for firing, c in inference.concluded("sql_tls12"):
            context.setdefault("sql_tls12", {k: i18n.derived_text(str(v), lang) for k, v in c.items() if k != "t"})
        refusing = {c["ep"] for _, c in inference.concluded("cause") if c["id"] in ("endpoint-refuses-tls10", "upgrade-will-break-https")}
        context["list"]["refusing"] = ", ".join(self._names(inference, refusing)) or i18n.t("list.refusing", lang)
        context["-"] = {"unknown": i18n.t("placeholder.unknown", lang)}
        return context

    @staticmethod
    def _fill(text: str, context: Mapping[str, Mapping[str, str]]) -> str:
        if "{" not in text:  # most texts have no placeholder
            return text
        unknown = context.get("-", {}).get("unknown", "(unknown)")

        def sub(match: re.Match) -> str:
            return context.get(match[1], {}).get(match[2], unknown)

        return _PLACEHOLDER.sub(sub, text)

    def _step(self, step_id: str, firings: Iterable[Firing], context, lang: str = "en") -> Step:
        firings = list(firings)
        entry = self.rulebase.entry("step", step_id)
        return Step(
            id=step_id,
            title=self._fill(self._text(entry, "title", entry.title, lang), context),
            instructions=tuple(self._fill(i, context) for i in self._text(entry, "instructions", entry.instructions, lang)),
            why=self._fill(self._text(entry, "why", entry.why, lang), context),
            sources=self._sources(entry.sources, firings),
            because=self._because(firings),
        )

    def _assemble(self, inference: Inference, questions: tuple[Question, ...], lang: str = "en") -> Diagnosis:
        rb = self.rulebase
        context = self._context(inference, lang)

        def grouped(kind: str) -> dict[str, tuple[list[Firing], set[str]]]:
            out: dict[str, tuple[list[Firing], set[str]]] = {}
            for firing, c in inference.concluded(kind):
                firings, eps = out.setdefault(c["id"], ([], set()))
                if firing not in firings:
                    firings.append(firing)
                if "ep" in c:
                    eps.add(c["ep"])
            return out

        def ordered(kind: str, found: Mapping[str, Any]) -> list[str]:
            return sorted(found, key=lambda i: (rb.entry(kind, i).order, i))

        causes_found = grouped("cause")
        causes = []
        for cid in ordered("cause", causes_found):
            firings, eps = causes_found[cid]
            entry = rb.entry("cause", cid)
            causes.append(
                Cause(
                    id=cid,
                    summary=self._fill(self._text(entry, "summary", entry.title, lang), context),
                    detail=self._fill(self._text(entry, "detail", entry.detail, lang), context),
                    endpoints=self._names(inference, eps),
                    sources=self._sources(entry.sources, firings),
                    because=self._because(firings),
                )
            )

        steps_found = grouped("step")
        plan = [self._step(sid, steps_found[sid][0], context, lang) for sid in ordered("step", steps_found)]

        alt_found = grouped("alternative")
        extra: dict[str, list[tuple[str, Firing]]] = {}
        for firing, c in inference.concluded("alt_step"):
            extra.setdefault(c["alt"], []).append((c["step"], firing))
        alternatives = []
        for aid in ordered("alternative", alt_found):
            firings, _ = alt_found[aid]
            entry = rb.entry("alternative", aid)
            step_firings: dict[str, list[Firing]] = {s: list(firings) for s in entry.plan}
            for step_id, firing in extra.get(aid, []):
                step_firings.setdefault(step_id, []).append(firing)
            alt_plan = tuple(
                self._step(s, step_firings[s], context, lang) for s in ordered("step", step_firings)
            )
            alternatives.append(
                Alternative(
                    id=aid,
                    title=self._fill(self._text(entry, "title", entry.title, lang), context),
                    why=self._fill(self._text(entry, "why", entry.why, lang), context),
                    plan=alt_plan,
                    sources=self._sources(entry.sources, firings),
                    because=self._because(firings),
                )
            )

        warn_found = grouped("warning")
        warnings = []
        for wid in ordered("warning", warn_found):
            firings, eps = warn_found[wid]
            entry = rb.entry("warning", wid)
            names = self._names(inference, eps)
            local = {
                **context,
                "list": {
                    **context["list"],
                    "warned": ", ".join(names) or i18n.t("list.warned", lang),
                    "unconfirmed": "; ".join(dict.fromkeys(self._rule_text(f.rule, lang) for f in firings)),
                    "conflicts": "; ".join(dict.fromkeys(self._rule_text(f.rule, lang) for f in firings)),
                },
            }
            warnings.append(
                Warning(
                    id=wid,
                    text=self._fill(self._text(entry, "text", entry.title, lang), local),
                    endpoints=names,
                    sources=self._sources(entry.sources, firings),
                    because=self._because(firings),
                )
            )

        per_profile_causes: dict[str, set[str]] = {}
        for cid, (_, eps) in causes_found.items():
            for ep in eps:
                per_profile_causes.setdefault(ep, set()).add(cid)
        endpoints = []
        profile_causes: dict[str, tuple[str, ...]] = {}  # per profile, not per endpoint of a fleet
        for index, (cid, _pid) in enumerate(inference.factset.endpoint_profiles):
            if cid not in profile_causes:
                profile_causes[cid] = tuple(ordered("cause", per_profile_causes.get(cid, set())))
            endpoints.append(
                EndpointVerdict(
                    name=inference.env.endpoint_name(index),
                    verdict=inference.profile_verdicts[cid],
                    causes=profile_causes[cid],
                )
            )

        return Diagnosis(
            verdict=inference.verdict,
            causes=tuple(causes),
            plan=tuple(plan),
            alternatives=tuple(alternatives),
            warnings=tuple(warnings),
            questions=questions,
            endpoints=tuple(endpoints),
            trace=Trace(lambda: self._trace(inference)),
            explainer=(self, inference, lang),
        )

    def _trace(self, inference: Inference) -> list[TraceEntry]:
        """Every firing with the facts it matched, as people read them: version
        texts instead of engine numbers, the endpoint names of each profile.
        Fresh dicts every time: a Diagnosis's trace is the caller's to keep."""
        display = inference.factset.display
        names: dict[str, tuple[str, ...]] = {}  # profile -> its endpoints' names, once per profile
        out = []
        for rule_id, concluded, facts in inference.views.trace_plan():
            shown: dict[str, Any] = {}
            for alias, base, fact_id, profile in facts:
                item = base.copy()
                texts = display.get(fact_id)
                if texts:
                    for field, text in texts.items():
                        if field in item:
                            item[field] = text
                if profile is not None:
                    if profile not in names:
                        names[profile] = self._names(inference, (profile,))
                    item["endpoints"] = list(names[profile])
                shown[alias] = item
            out.append(TraceEntry(rule=rule_id, facts=shown, concluded=concluded))
        return out

    # ------------------------------------------------------------------ questions

    def _outcome(self, inference: Inference) -> tuple[str, tuple[str, ...]]:
        steps = {c["id"] for _, c in inference.concluded("step")}
        return inference.verdict, tuple(sorted(steps, key=self._step_order.__getitem__))

    def _questions(self, env: Environment, base: Inference, lang: str = "en") -> tuple[Question, ...]:
        unknown = [
            (qi, question, item)
            for qi, question in enumerate(self.rulebase.questions)
            for item in self._unknown_facts(env, question.fact, base)
        ]
        if not unknown:  # every fact a question could ask is known
            return ()
        base_key = self._outcome(base)
        base_rules = {f.rule.id for f in base.firings}
        data, representative = _representatives(env.to_dict(), base.factset.endpoint_profiles)
        found: list[tuple[int, int, Question]] = []
        cache: dict[tuple, tuple[int, frozenset[str]]] = {}
        candidates: list[tuple[int, Any, str, str | None, str]] = []

        def make(qi: int, question, fact: str, name: str | None, changes: int, because) -> None:
            ask = self._text(question, "ask", question.ask, lang)
            ask = ask.replace("{name}", name or i18n.t("question.name", lang))
            choices = self._text(question, "choices", question.choices, lang)
            because_sorted = tuple(sorted(because, key=self._order.__getitem__))
            found.append((-changes, qi, Question(fact=fact, ask=ask, choices=choices, because=because_sorted)))

        for qi, question, (fact, name, index) in unknown:
            there = fact
            if index is not None:
                key = (question.fact, base.factset.endpoint_profiles[index])
                there = f"endpoints[{representative(index)}]" + fact[fact.index("]") + 1 :]
                if key in cache:
                    changes, because = cache[key]
                else:
                    changes, because = cache[key] = self._try_answers(data, there, question, base_key, base_rules, env)
            else:
                changes, because = self._try_answers(data, fact, question, base_key, base_rules, env)
            if changes:
                make(qi, question, fact, name, changes, because)
            else:
                candidates.append((qi, question, fact, name, there))
        if not found and base_key[0] == "undetermined" and candidates:
            # No single missing fact decides it, but the verdict is open: the
            # facts that decide it together are asked (contract: "undetermined:
            # the missing facts in questions decide it").
            for qi, question, fact, name, changes, because in self._pairs(data, candidates, base_key, base_rules):
                make(qi, question, fact, name, changes, because)
        found.sort(key=lambda item: (item[0], item[1]))
        return tuple(q for _, _, q in found)

    #: the most missing facts tried two at a time when none decides alone
    MAX_PAIR_FACTS = 10

    def _pairs(self, data, candidates, base_key, base_rules):
        """Missing facts that change the verdict or the plan together with another."""
        distinct: dict[str, tuple] = {}
        for item in candidates:  # one fact per representative path
            distinct.setdefault(item[4], item)
        items = list(distinct.values())[: self.MAX_PAIR_FACTS]
        outcomes: dict[str, set] = {item[4]: set() for item in items}
        because: dict[str, set[str]] = {item[4]: set() for item in items}
        for i, first in enumerate(items):
            for second in items[i + 1 :]:
                for a in first[1].answers:
                    for b in second[1].answers:
                        try:
                            candidate = Environment.from_dict(set_paths(data, {first[4]: a, second[4]: b}))
                        except InputError:  # pragma: no cover - the catalog's answers are valid input
                            continue
                        inference = self.infer(candidate)
                        outcome = self._outcome(inference)
                        if outcome != base_key:
                            changed = {f.rule.id for f in inference.firings} ^ base_rules
                            for item in (first, second):
                                outcomes[item[4]].add(outcome)
                                because[item[4]] |= changed
        for qi, question, fact, name, there in candidates:
            if outcomes.get(there):
                yield qi, question, fact, name, len(outcomes[there]), because[there]

    @staticmethod
    def _unknown_facts(env: Environment, pattern: str, base: Inference):
        t = env.tms
        if pattern.startswith("endpoints[]."):
            field = pattern.split(".", 1)[1]
            for i, endpoint in enumerate(env.endpoints):
                if getattr(endpoint, field) is None:
                    yield f"endpoints[{i}].{field}", env.endpoint_name(i), i
            return
        value = {
            "tms.version": t.version,
            "tms.communication_security": t.communication_security,
            "tms.windows": t.windows,
            "tms.schannel": t.schannel,
            # a name without a build ("SQL Server 2012 SP2") is asked again when the
            # rules could not tell its TLS 1.2 support from it
            "tms.sql.version": None
            if t.sql is None or t.sql.version is None
            or any(c["support"] == "unknown" for _, c in base.concluded("sql_tls12"))
            else t.sql.version,
            "tms.sql.local": t.sql.local if t.sql else None,
        }[pattern]
        if value is None:
            yield pattern, None, None

    def _try_answers(self, data, fact, question, base_key, base_rules, env) -> tuple[int, frozenset[str]]:
        assume = {}
        for path, value in question.assume.items():
            if get_path(data, path) is None:
                assume[path] = value
        baseline_key, baseline_rules = base_key, base_rules
        if assume:
            assumed = set_paths(data, assume)
            inference = self.infer(Environment.from_dict(assumed))
            baseline_key, baseline_rules = self._outcome(inference), {f.rule.id for f in inference.firings}
        outcomes = set()
        changed = False
        because: set[str] = set()
        for answer in question.answers:
            try:
                candidate = Environment.from_dict(set_paths(data, {**assume, fact: answer}))
            except InputError:  # pragma: no cover - the catalog's answers are valid input
                continue
            inference = self.infer(candidate)
            outcome = self._outcome(inference)
            outcomes.add(outcome)
            if outcome != baseline_key:
                changed = True
                because |= {f.rule.id for f in inference.firings} ^ baseline_rules
        # decisiveness: how many different verdict/plan outcomes the answers lead to
        return (len(outcomes) if changed else 0), frozenset(because)


def _memo_key(factset: factmod.FactSet) -> str | None:
    """What an inference depends on, as text (see ``Diagnoser.infer``); None
    when the facts are not JSON (the engine would refuse them anyway)."""
    try:
        return _memo_text((factset.facts, sorted(set(factset.endpoint_profiles), key=str)))
    except (TypeError, ValueError):
        return None


def _representatives(data: dict[str, Any], profiles: tuple[tuple[str, str | None], ...]):
    """``data`` with at most two endpoints per (current, planned) profile pair.

    The engine sees endpoints only through their profiles, so a counterfactual
    that changes one endpoint of a pair gives the same facts on this reduced
    environment as on the whole fleet, provided a second member stays behind
    when the pair has one (hence two). Counterfactuals then cost the distinct
    profiles, not the fleet: no deep copy and validation of 10,000 endpoints
    per representative answer. Returns the data and a function from an
    endpoint index of ``data`` to the index of its stand-in.
    """
    endpoints = data.get("endpoints")
    if not isinstance(endpoints, list) or len(endpoints) != len(profiles):
        return data, lambda index: index
    kept: list[int] = []
    first: dict[tuple[str, str | None], int] = {}
    seen: dict[tuple[str, str | None], int] = {}
    position: dict[int, int] = {}
    for index, pair in enumerate(profiles):
        count = seen.get(pair, 0)
        if count < 2:
            position[index] = len(kept)
            kept.append(index)
            first.setdefault(pair, index)
        seen[pair] = count + 1
    if len(kept) == len(endpoints):
        return data, lambda index: index
    reduced = dict(data)
    reduced["endpoints"] = [endpoints[i] for i in kept]
    return reduced, lambda index: position.get(index, position[first[profiles[index]]])


def _version_cuts(rulebase: RuleBase) -> tuple:
    """Every version literal the rules compare an endpoint's firmware with."""
    cuts = set()
    for rule in rulebase.rules:
        for c in rule.conditions:
            if c.left.kind == "ep" and c.type.name == "version" and c.op not in ("known", "unknown"):
                if isinstance(c.right, tuple):
                    cuts.update(c.right)
                elif c.right is not None and not hasattr(c.right, "alias"):
                    cuts.add(c.right)
    return tuple(sorted(cuts))


def _cache_dir() -> Path | None:
    """Where parsed rule bases are kept: $TMSRULES_CACHE_DIR (empty: no cache),
    else $XDG_CACHE_HOME/tmsrules, else ~/.cache/tmsrules."""
    import os

    chosen = os.environ.get("TMSRULES_CACHE_DIR")
    if chosen is not None:
        return Path(chosen) if chosen else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "tmsrules"


def _load_rulebase(rules_dir: Path | str | None) -> RuleBase:
    """``rulebase.load(rules_dir)``, through a cache of the parsed rule base.

    Parsing the TOML rule files is most of a cold start (tomllib is pure
    Python). The cache key is a SHA-256 of every rule file and of the
    tmsrules sources that build a RuleBase, and of the Python version, so
    any edit means a fresh parse. The cache is written atomically in a
    private directory and only read back when it is ours; when anything
    fails the rules are simply parsed. Bad rules raise as always (and are
    never cached).
    """
    import hashlib
    import os
    import pickle
    import sys

    from tmsrules.rulebase import default_rules_dir

    directory = Path(rules_dir) if rules_dir is not None else default_rules_dir()
    where = _cache_dir()
    if where is None:
        return load(directory)
    try:
        digest = hashlib.sha256(sys.version.encode() + b"\0")
        package = Path(__file__).resolve().parent
        for path in sorted(package.glob("*.py")) + sorted(directory.glob("*.toml")):
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        cached = where / f"rulebase-{digest.hexdigest()[:40]}.pickle"
        with open(cached, "rb") as fh:
            if hasattr(os, "getuid") and os.fstat(fh.fileno()).st_uid != os.getuid():
                raise OSError("not ours")
            rulebase = pickle.load(fh)
        if isinstance(rulebase, RuleBase):
            return rulebase
    except Exception:  # no cache yet, or an unusable one: parse
        cached = None if "cached" not in locals() else cached
    rulebase = load(directory)
    if cached is not None:
        try:
            where.mkdir(parents=True, exist_ok=True, mode=0o700)
            import threading

            temporary = cached.with_name(f"{cached.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            with open(temporary, "wb") as fh:
                pickle.dump(rulebase, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, cached)
        except Exception:  # a read-only or full disk: no cache
            pass
    return rulebase


@lru_cache(maxsize=None)
def default_diagnoser() -> Diagnoser:
    """The process-wide Diagnoser over the shipped rules, built on first use.

    durable_rules hosts are meant to be created once per process; this is the
    only process-wide object of tmsrules. It holds no per-call state; its
    memo (``Diagnoser.infer``) keeps completed inferences, bounded.
    """
    return Diagnoser()


def diagnose(
    environment: Mapping[str, Any] | Environment, questions: bool = True, lang: str = "en"
) -> Diagnosis:
    """Diagnose one environment (a contract v1 dict or an Environment)."""
    return default_diagnoser().diagnose(environment, questions=questions, lang=lang)
