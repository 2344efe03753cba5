"""Plan simulation: apply each step's declared effect to the facts and diagnose again.

Every plan step in ``rules/catalog.toml`` declares ``effects``, its effect on
the input facts (``effects = []``: the step changes no fact, e.g. a backup or
a verification). An effect is one of::

    { set = "tms.version", value = "15.13" }
    { set = "tms.communication_security", value = "medium-high" }
    { set = "tms.reboot_pending", value = true }
    { set = "tms.schannel", protocol = "TLS 1.2", side = "client", value = "enabled" }
    { set = "tms.sql.version", value = "tls12-build" }
    { set = "endpoints.software", value = "TC7.3.3", where = "refusing" }
    { clear = "endpoints.planned_software", where = "refusing-planned" }

``value = "tls12-build"`` is the first build with TLS 1.2 of the branch the
SQL Server is on, from the ``[[tls12_build]]`` table of catalog.toml.
``where`` selects endpoints: ``refusing`` (managed over HTTPS, or unknown,
whose running firmware refuses TLS 1.0, as the rules judge it before the
step), ``refusing-planned`` (the same for the planned firmware); without
``where`` every endpoint.

Observations describe the system as it was: once a step changes a fact, the
captured ClientHello, the SQL events, the handshakes and the endpoint
statuses are dropped, and so is the live probe (``accepts``) of an endpoint
whose firmware a step installs (the same release installed again included:
its defaults replace whatever the probe saw). The simulation then diagnoses
the facts alone.

``tmsrules.simulate(environment, plan=None)`` returns a ``Simulation``: the
environment after the whole plan, and the sequence of one ``SimStep`` per
step (the step id, what changed, the environment and the diagnosis after
it). ``tmsrules simulate FILE [--alternative ID] [--json]`` shows the same.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import attrs
from packaging.version import Version

from tmsrules.diagnosis import Diagnosis
from tmsrules.errors import InputError, RuleError
from tmsrules.model import Environment
from tmsrules.rulebase import _read_toml

#: The effect targets a step may name, and whether ``where`` applies.
SET_PATHS = (
    "tms.version",
    "tms.communication_security",
    "tms.windows",
    "tms.reboot_pending",
    "tms.schannel",
    "tms.sql.version",
    "tms.sql.local",
    "endpoints.software",
    "endpoints.planned_software",
    "endpoints.management",
)
CLEAR_PATHS = ("endpoints.planned_software", "endpoints.accepts", "endpoints.status")
SELECTORS = ("refusing", "refusing-planned")
TLS12_BUILD = "tls12-build"


@attrs.frozen
class SimStep:
    """One simulated step: its id, what it changed, the facts and the diagnosis after it."""

    step: str
    changes: tuple[str, ...]
    environment: Environment
    diagnosis: Diagnosis

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "changes": list(self.changes),
            "environment": self.environment.to_dict(),
            "diagnosis": self.diagnosis.to_dict(),
        }


@attrs.frozen(eq=False)
class Simulation(Environment):
    """The result of ``simulate``: the environment after the last step, with every step.

    It *is* the final environment (an ``Environment``: ``tmsrules.diagnose``
    takes it, ``.tms`` and ``.endpoints`` are the facts after the plan), and
    it is also the sequence of ``SimStep`` (``len``, iteration, ``[i]``) that
    shows the environment and the diagnosis after each step. ``diagnosis``
    is the diagnosis after the last step (of the input itself for an empty
    plan); ``environment`` the final facts as a plain ``Environment``.
    """

    steps: tuple[SimStep, ...] = attrs.field(default=(), repr=False)
    before: Diagnosis | None = attrs.field(default=None, repr=False)

    @property
    def environment(self) -> Environment:
        return Environment(tms=self.tms, endpoints=self.endpoints, observations=self.observations)

    @property
    def diagnosis(self) -> Diagnosis | None:
        return self.steps[-1].diagnosis if self.steps else self.before

    @property
    def step_ids(self) -> tuple[str, ...]:
        return tuple(s.step for s in self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self):
        return iter(self.steps)

    def __getitem__(self, index):
        return self.steps[index]

    def __bool__(self) -> bool:
        return bool(self.steps)


# --------------------------------------------------------------------------- the TLS 1.2 build table


@attrs.frozen
class Tls12Branch:
    product: str
    start: Version
    below: Version | None
    build: str
    sps: tuple[int, ...]


def load_tls12_builds(rules_dir: Path | str) -> tuple[Tls12Branch, ...]:
    """The ``[[tls12_build]]`` table of ``catalog.toml`` (checked)."""
    path = Path(rules_dir) / "catalog.toml"
    out = []
    for i, item in enumerate(_read_toml(path).get("tls12_build", [])):
        where = f"catalog.toml: tls12_build[{i}]"
        try:
            out.append(
                Tls12Branch(
                    product=str(item["product"]),
                    start=Version(item["from"]),
                    below=Version(item["below"]) if "below" in item else None,
                    build=str(item["build"]) if Version(item["build"]) else "",
                    sps=tuple(int(sp) for sp in item.get("sp", [])),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise RuleError(where, f"needs product, from, build (versions) and optional below, sp: {exc}") from None
    return tuple(out)


@lru_cache(maxsize=16)
def _tls12_table(rules_dir: str) -> tuple[Tls12Branch, ...]:
    return load_tls12_builds(rules_dir)


def tls12_build(sql_version: Any, table: Iterable[Tls12Branch]) -> str | None:
    """The build ``patch-sql`` moves this SQL Server to, or None (no patch applies).

    ``sql_version`` is a ``parse.SqlVersion``.
    """
    branches = [b for b in table if b.product == sql_version.product]
    if not branches:
        return None
    build = sql_version.build
    if build is not None:
        for b in branches:
            if build >= b.start and (b.below is None or build < b.below):
                return None if build >= Version(b.build) else b.build
        return None
    sp = sql_version.service_pack
    if sp is None:
        return branches[0].build
    for b in branches:
        if sp in b.sps:
            return b.build
    return None


# --------------------------------------------------------------------------- effects


def _diagnoser(diagnoser=None):
    if diagnoser is not None:
        return diagnoser
    from tmsrules.diagnose import default_diagnoser

    return default_diagnoser()


def _refusing(diagnoser, env: Environment, planned: bool) -> list[int]:
    """Indexes of the HTTPS-managed (or unknown) endpoints whose firmware refuses TLS 1.0."""
    inference = diagnoser.infer(env)
    refuses = {c["ep"] for _, c in inference.concluded("fw") if c["refuses"] == "yes"}
    found = []
    for index, (current, planned_id) in enumerate(inference.factset.endpoint_profiles):
        if env.endpoints[index].management not in (None, "https"):
            continue
        profile = planned_id if planned else current
        if profile is not None and profile in refuses:
            found.append(index)
    return found


def _show(value: Any) -> str:
    if value is None:
        return "unknown"
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def _apply(diagnoser, env: Environment, data: dict[str, Any], effect: Mapping[str, Any], step: str) -> list[str]:
    """Apply one effect to ``data`` (the environment as a dict); the changes, for people."""
    where = f"catalog.toml: step {step}"
    changes: list[str] = []
    if "set" in effect:
        path, value = effect["set"], effect.get("value")
        if path not in SET_PATHS:
            raise RuleError(where, f"effect sets unknown fact {path!r} (known: {', '.join(SET_PATHS)})")
    elif "clear" in effect:
        path, value = effect["clear"], None
        if path not in CLEAR_PATHS:
            raise RuleError(where, f"effect clears unknown fact {path!r} (known: {', '.join(CLEAR_PATHS)})")
    else:
        raise RuleError(where, f"an effect needs set or clear: {dict(effect)!r}")
    tms = data.setdefault("tms", {})
    if path == "tms.schannel":
        protocol, side = effect.get("protocol"), effect.get("side")
        channel = tms.setdefault("schannel", {}).setdefault(protocol, {})
        before = channel.get(side, "default")
        if before != value:
            channel[side] = value
            changes.append(f"tms.schannel.{protocol}.{side}: {before} -> {value}")
        return changes
    if path.startswith("tms.sql."):
        sql = tms.setdefault("sql", {})
        field = path.rsplit(".", 1)[1]
        if field == "version" and value == TLS12_BUILD:
            current = env.tms.sql.version if env.tms.sql is not None else None
            if current is None:
                return changes  # unknown SQL Server: nothing to resolve
            value = tls12_build(current, _tls12_table(str(diagnoser.rulebase.directory)))
            if value is None:
                return changes
        before = sql.get(field)
        if before != value:
            sql[field] = value
            changes.append(f"{path}: {_show(before)} -> {_show(value)}")
        return changes
    if path.startswith("tms."):
        field = path.split(".", 1)[1]
        before = tms.get(field)
        if before != value:
            tms[field] = value
            changes.append(f"{path}: {_show(before)} -> {_show(value)}")
        return changes
    # endpoints.<field>
    field = path.split(".", 1)[1]
    selector = effect.get("where")
    if selector is None:
        indexes = list(range(len(env.endpoints)))
    elif selector in SELECTORS:
        indexes = _refusing(diagnoser, env, planned=selector == "refusing-planned")
    else:
        raise RuleError(where, f"unknown endpoint selector where = {selector!r} (known: {', '.join(SELECTORS)})")
    for index in indexes:
        endpoint = data["endpoints"][index]
        before = endpoint.get(field)
        # installing firmware (even the same release) resets what a live probe saw
        probe = endpoint.pop("accepts", None) if field == "software" and value is not None else None
        if before == value and probe is None:
            continue
        if value is None:
            endpoint.pop(field, None)
        else:
            endpoint[field] = value
        change = f"{env.endpoint_name(index)}: {field} {_show(before)} -> {_show(value)}"
        changes.append(change + (" (installed again: the live probe result is dropped)" if before == value else ""))
    return changes


def _drop_observations(data: dict[str, Any]) -> bool:
    dropped = data.pop("observations", None) is not None
    for endpoint in data.get("endpoints", []):
        dropped = endpoint.pop("status", None) is not None or dropped
    return dropped


def apply_step(environment: Mapping[str, Any] | Environment, step: str, diagnoser=None) -> tuple[Environment, tuple[str, ...]]:
    """The environment after one step, and what changed."""
    diagnoser = _diagnoser(diagnoser)
    env = Environment.from_dict(environment)
    key = ("step", step)
    if key not in diagnoser.rulebase.catalog:
        known = ", ".join(e.id for e in diagnoser.rulebase.entries("step"))
        raise InputError("plan", f"unknown step {step!r:.60}", known)
    data = copy.deepcopy(env.to_dict())
    changes: list[str] = []
    for effect in diagnoser.rulebase.entry("step", step).effects:
        changes += _apply(diagnoser, env, data, effect, step)
        env = Environment.from_dict(data)
    if changes and _drop_observations(data):
        changes.append("observations and endpoint statuses dropped: they describe the system before this step")
    return Environment.from_dict(data), tuple(changes)


def plan_steps(diagnosis: Diagnosis, plan: str | Sequence[str] | None) -> tuple[str, ...]:
    """The step ids to simulate: the diagnosis' plan, an alternative's, or a list."""
    if plan is None:
        return tuple(step.id for step in diagnosis.plan)
    if isinstance(plan, str):
        for alternative in diagnosis.alternatives:
            if alternative.id == plan:
                return tuple(step.id for step in alternative.plan)
        offered = ", ".join(a.id for a in diagnosis.alternatives) or "none for this environment"
        raise InputError("alternative", f"{plan!r:.60} is not an alternative of this diagnosis", offered)
    if not isinstance(plan, (list, tuple)) or not all(isinstance(s, str) for s in plan):
        raise InputError("plan", "expected a list of step ids or an alternative id", "step ids, or an alternative id")
    return tuple(plan)


def simulate(
    environment: Mapping[str, Any] | Environment,
    plan: str | Sequence[str] | None = None,
    *,
    questions: bool = False,
    diagnoser=None,
) -> Simulation:
    """Apply ``plan`` step by step and diagnose after each step.

    ``plan``: None for the diagnosis' own plan, an alternative id
    (``"downgrade-endpoints"``), or a list of step ids. Returns a
    ``Simulation``: the environment after the plan, which is also the
    sequence of steps (each with its environment and diagnosis). Raises
    ``InputError`` for bad input, an unknown step or an alternative not
    offered.
    """
    diagnoser = _diagnoser(diagnoser)
    env = Environment.from_dict(environment)
    before = diagnoser.diagnose(env, questions=False)
    steps = plan_steps(before, plan)
    for i, step in enumerate(steps):
        if ("step", step) not in diagnoser.rulebase.catalog:
            known = ", ".join(e.id for e in diagnoser.rulebase.entries("step"))
            raise InputError(f"plan[{i}]", f"unknown step {step!r:.60}", known)
    out: list[SimStep] = []
    for step in steps:
        env, changes = apply_step(env, step, diagnoser)
        out.append(SimStep(step=step, changes=changes, environment=env, diagnosis=diagnoser.diagnose(env, questions=questions)))
    return Simulation(tms=env.tms, endpoints=env.endpoints, observations=env.observations, steps=tuple(out), before=before)


# --------------------------------------------------------------------------- CLI


def _summary(d: Diagnosis) -> list[str]:
    lines = [f"verdict: {d.verdict}"]
    if d.causes:
        lines.append("causes: " + "; ".join(f"{c.id}" + (f" ({', '.join(c.endpoints)})" if c.endpoints else "") for c in d.causes))
    if d.warnings:
        lines.append("warnings: " + "; ".join(f"{w.id}" + (f" ({', '.join(w.endpoints)})" if w.endpoints else "") for w in d.warnings))
    if d.plan:
        lines.append("plan now: " + ", ".join(s.id for s in d.plan))
    return lines


def render(before: Diagnosis, steps: Sequence[SimStep], alternative: str | None = None) -> str:
    out = [f"Before the {'alternative ' + alternative if alternative else 'plan'}:"]
    out += [f"  {line}" for line in _summary(before)]
    if not steps:
        out.append("")
        out.append("No steps to simulate.")
    for n, s in enumerate(steps, 1):
        out.append("")
        out.append(f"{n}. {s.step}")
        out += [f"   changes: {c}" for c in s.changes] or ["   changes: none to the facts"]
        out += [f"   {line}" for line in _summary(s.diagnosis)]
    if steps:
        out.append("")
        out.append(f"After the last step: {steps[-1].diagnosis.verdict}.")
    return "\n".join(out) + "\n"


def _run(args: argparse.Namespace) -> int:
    from tmsrules.cli import read_json

    diagnoser = _diagnoser()
    env = Environment.from_dict(read_json(args.file))
    before = diagnoser.diagnose(env, questions=False)
    steps = simulate(env, args.alternative, diagnoser=diagnoser)
    if args.json:
        document = {
            "contract": 1,
            "alternative": args.alternative,
            "plan": [s.step for s in steps],
            "before": before.to_dict(),
            "steps": [s.to_dict() for s in steps],
        }
        sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(render(before, steps, args.alternative))
    return 0


def add_simulate_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("simulate", help="apply the plan step by step and show the diagnosis after each step")
    p.add_argument("file", metavar="FILE", help="environment JSON file, or - for stdin")
    p.add_argument("--alternative", metavar="ID", default=None, help="simulate this alternative plan instead of the plan")
    p.add_argument("--json", action="store_true", help="print the steps, environments and diagnoses as JSON")
    p.set_defaults(func=_run)
