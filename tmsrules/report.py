"""A Diagnosis as a readable report for a support engineer (plain text)."""

from __future__ import annotations

import textwrap

from tmsrules.diagnosis import Diagnosis

_VERDICT = {
    "affected": "AFFECTED: something is broken now",
    "at-risk": "AT RISK: nothing is broken now, but a planned change would break something",
    "undetermined": "UNDETERMINED: the missing facts below decide it",
    "not-affected": "NOT AFFECTED: the known facts show no fault and no risk",
}


def _wrap(text: str, indent: str, width: int = 88) -> str:
    return textwrap.fill(text, width=width, initial_indent=indent, subsequent_indent=indent + "  ")


def render(d: Diagnosis, width: int = 88) -> str:
    out: list[str] = [f"Verdict: {_VERDICT.get(d.verdict, d.verdict)}"]
    if d.endpoints:
        out.append("")
        out.append("Endpoints:")
        for e in d.endpoints:
            causes = f" ({', '.join(e.causes)})" if e.causes else ""
            out.append(f"  - {e.name}: {e.verdict}{causes}")
    if d.causes:
        out.append("")
        out.append("Causes:")
        for c in d.causes:
            who = f" [{', '.join(c.endpoints)}]" if c.endpoints else ""
            out.append(_wrap(f"- {c.summary}{who} ({c.id})", "  ", width))
            out.append(_wrap(c.detail, "    ", width))
    if d.plan:
        out.append("")
        out.append("Plan (in this order):")
        for n, step in enumerate(d.plan, 1):
            out.append(_wrap(f"{n}. {step.title} ({step.id})", "  ", width))
            out.append(_wrap(f"Why: {step.why}", "     ", width))
            for instruction in step.instructions:
                out.append(_wrap(f"- {instruction}", "     ", width))
    if d.alternatives:
        out.append("")
        out.append("Alternatives:")
        for alt in d.alternatives:
            out.append(_wrap(f"- {alt.title} ({alt.id})", "  ", width))
            for n, step in enumerate(alt.plan, 1):
                out.append(_wrap(f"{n}. {step.title}", "     ", width))
                for instruction in step.instructions:
                    out.append(_wrap(f"- {instruction}", "        ", width))
    if d.warnings:
        out.append("")
        out.append("Warnings:")
        for w in d.warnings:
            out.append(_wrap(f"! {w.text} ({w.id})", "  ", width))
    if d.questions:
        out.append("")
        out.append("Still worth asking:")
        for q in d.questions:
            choices = f" [{' / '.join(q.choices)}]" if q.choices else ""
            out.append(_wrap(f"? {q.ask}{choices} ({q.fact})", "  ", width))
    return "\n".join(out) + "\n"
