"""A Diagnosis as a readable report for a support engineer (plain text)."""

from __future__ import annotations

import textwrap

from tmsrules import i18n
from tmsrules.diagnosis import Diagnosis

#: English verdict phrases (kept for callers that import them).
_VERDICT = {v: i18n.EN[f"verdict.{v}"] for v in ("affected", "at-risk", "undetermined", "not-affected")}


def _wrap(text: str, indent: str, width: int = 88) -> str:
    return textwrap.fill(text, width=width, initial_indent=indent, subsequent_indent=indent + "  ")


def render(d: Diagnosis, lang: str = "en", width: int = 88) -> str:
    """The report in ``lang`` ("en" or "pt-BR"); the texts come from ``d`` as diagnosed."""
    s = i18n.strings(i18n.check(lang))

    def tr(key: str, default: str) -> str:
        return s.get(key) or i18n.EN.get(key, default)

    out: list[str] = [f"{tr('report.verdict', 'Verdict')}: {tr('verdict.' + d.verdict, d.verdict)}"]
    if d.endpoints:
        out.append("")
        out.append(f"{tr('report.endpoints', 'Endpoints')}:")
        for e in d.endpoints:
            causes = f" ({', '.join(e.causes)})" if e.causes else ""
            out.append(f"  - {e.name}: {tr('endpoint.' + e.verdict, e.verdict)}{causes}")
    if d.causes:
        out.append("")
        out.append(f"{tr('report.causes', 'Causes')}:")
        for c in d.causes:
            who = f" [{', '.join(c.endpoints)}]" if c.endpoints else ""
            out.append(_wrap(f"- {c.summary}{who} ({c.id})", "  ", width))
            out.append(_wrap(c.detail, "    ", width))
    if d.plan:
        out.append("")
        out.append(f"{tr('report.plan', 'Plan (in this order)')}:")
        for n, step in enumerate(d.plan, 1):
            out.append(_wrap(f"{n}. {step.title} ({step.id})", "  ", width))
            out.append(_wrap(f"{tr('report.why', 'Why')}: {step.why}", "     ", width))
            for instruction in step.instructions:
                out.append(_wrap(f"- {instruction}", "     ", width))
    if d.alternatives:
        out.append("")
        out.append(f"{tr('report.alternatives', 'Alternatives')}:")
        for alt in d.alternatives:
            out.append(_wrap(f"- {alt.title} ({alt.id})", "  ", width))
            for n, step in enumerate(alt.plan, 1):
                out.append(_wrap(f"{n}. {step.title}", "     ", width))
                for instruction in step.instructions:
                    out.append(_wrap(f"- {instruction}", "        ", width))
    if d.warnings:
        out.append("")
        out.append(f"{tr('report.warnings', 'Warnings')}:")
        for w in d.warnings:
            out.append(_wrap(f"! {w.text} ({w.id})", "  ", width))
    if d.questions:
        out.append("")
        out.append(f"{tr('report.questions', 'Still worth asking')}:")
        for q in d.questions:
            choices = f" [{' / '.join(q.choices)}]" if q.choices else ""
            out.append(_wrap(f"? {q.ask}{choices} ({q.fact})", "  ", width))
    return "\n".join(out) + "\n"
