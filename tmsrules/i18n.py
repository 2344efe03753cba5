"""The few human strings that live in code, one small dict per language.

Everything else people read (causes, steps, warnings, questions, rule texts)
lives beside its rule in ``rules/*.toml`` (``pt`` next to the English text).
Technical names stay as Windows and TMS show them.
"""

from __future__ import annotations

from typing import Mapping

LANGUAGES = ("en", "pt-BR")

EN: dict[str, str] = {
    # placeholders filled by diagnose.py
    "tms_version.unknown": "unknown",
    "windows.unknown": "this Windows Server",
    "sql_version.unknown": "version unknown",
    "placeholder.unknown": "(unknown)",
    "list.refusing": "the endpoints that refuse TLS 1.0",
    "list.warned": "the systems managed over Telnet/SNMP",
    "question.name": "the endpoint",
    # report.py
    "report.verdict": "Verdict",
    "report.endpoints": "Endpoints",
    "report.causes": "Causes",
    "report.plan": "Plan (in this order)",
    "report.why": "Why",
    "report.alternatives": "Alternatives",
    "report.warnings": "Warnings",
    "report.questions": "Still worth asking",
    "verdict.affected": "AFFECTED: something is broken now",
    "verdict.at-risk": "AT RISK: nothing is broken now, but a planned change would break something",
    "verdict.undetermined": "UNDETERMINED: the missing facts below decide it",
    "verdict.not-affected": "NOT AFFECTED: the known facts show no fault and no risk",
    "endpoint.affected": "affected",
    "endpoint.at-risk": "at-risk",
    "endpoint.undetermined": "undetermined",
    "endpoint.not-affected": "not-affected",
}

PT_BR: dict[str, str] = {
    "tms_version.unknown": "desconhecida",
    "windows.unknown": "este Windows Server",
    "sql_version.unknown": "versão desconhecida",
    "placeholder.unknown": "(desconhecido)",
    "list.refusing": "os endpoints que recusam TLS 1.0",
    "list.warned": "os sistemas gerenciados por Telnet/SNMP",
    "question.name": "o endpoint",
    "report.verdict": "Veredito",
    "report.endpoints": "Endpoints",
    "report.causes": "Causas",
    "report.plan": "Plano (nesta ordem)",
    "report.why": "Por quê",
    "report.alternatives": "Alternativas",
    "report.warnings": "Avisos",
    "report.questions": "Ainda vale perguntar",
    "verdict.affected": "AFETADO: algo está quebrado agora",
    "verdict.at-risk": "EM RISCO: nada está quebrado agora, mas uma mudança planejada quebraria algo",
    "verdict.undetermined": "INDETERMINADO: os fatos que faltam, abaixo, decidem",
    "verdict.not-affected": "NÃO AFETADO: os fatos conhecidos não mostram falha nem risco",
    "endpoint.affected": "afetado",
    "endpoint.at-risk": "em risco",
    "endpoint.undetermined": "indeterminado",
    "endpoint.not-affected": "não afetado",
}

STRINGS: dict[str, dict[str, str]] = {"en": EN, "pt-BR": PT_BR}

#: The texts the SQL rules derive into ``sql_tls12`` (branch, min_build, kb)
#: and the step "patch-sql" shows; build numbers and KB numbers stay as they are.
SQL_TLS12_PT: dict[str, str] = {
    # kb
    "the SQL Server 2008 SP4 TLS 1.2 update": "a atualização de TLS 1.2 do SQL Server 2008 SP4",
    "SP4 and the SQL Server 2008 SP4 TLS 1.2 update": "o SP4 e a atualização de TLS 1.2 do SQL Server 2008 SP4",
    "the SQL Server 2008 R2 SP3 TLS 1.2 update": "a atualização de TLS 1.2 do SQL Server 2008 R2 SP3",
    "SP3 and the SQL Server 2008 R2 SP3 TLS 1.2 update": "o SP3 e a atualização de TLS 1.2 do SQL Server 2008 R2 SP3",
    "the TLS 1.2 update for SQL Server 2008 SP4 / 2008 R2 SP3": "a atualização de TLS 1.2 do SQL Server 2008 SP4 / 2008 R2 SP3",
    "the latest service pack and its TLS 1.2 update": "o service pack mais recente e sua atualização de TLS 1.2",
    "no update: upgrade SQL Server": "nenhuma atualização: faça o upgrade do SQL Server",
    "KB3052404 after SP2, or SP4": "KB3052404 depois do SP2, ou o SP4",
    "KB3052404 (SP2 CU10 or later)": "KB3052404 (SP2 CU10 ou posterior)",
    "KB3052404 (SP3 GDR TLS 1.2 update)": "KB3052404 (atualização de TLS 1.2 do SP3 GDR)",
    "KB3052404 (2014 RTM GDR TLS 1.2 update)": "KB3052404 (atualização de TLS 1.2 do 2014 RTM GDR)",
    "KB3052404 (2014 RTM CU TLS 1.2 update)": "KB3052404 (atualização de TLS 1.2 do 2014 RTM CU)",
    "KB3052404 (2014 SP1 GDR TLS 1.2 update)": "KB3052404 (atualização de TLS 1.2 do 2014 SP1 GDR)",
    "KB3052404 (2014 SP1 CU TLS 1.2 update)": "KB3052404 (atualização de TLS 1.2 do 2014 SP1 CU)",
    "included in SP4": "incluída no SP4",
    "included in SP2": "incluída no SP2",
    "none needed": "nenhuma necessária",
    # min_build
    "10.0.6547.0 (2008) or 10.50.6542.0 (2008 R2)": "10.0.6547.0 (2008) ou 10.50.6542.0 (2008 R2)",
    "none (no TLS 1.2 update exists)": "nenhum (não existe atualização de TLS 1.2)",
    "11.0.5352.0 (SP2 GDR), 11.0.5644.2 (SP2 CU) or SP4 11.0.7001.0": "11.0.5352.0 (SP2 GDR), 11.0.5644.2 (SP2 CU) ou SP4 11.0.7001.0",
    "11.0.5352.0 (SP2 GDR), 11.0.5644.2 (SP2 CU), 11.0.6216.27 (SP3 GDR), 11.0.6518.0 (SP3 CU) or SP4": "11.0.5352.0 (SP2 GDR), 11.0.5644.2 (SP2 CU), 11.0.6216.27 (SP3 GDR), 11.0.6518.0 (SP3 CU) ou SP4",
    "12.0.2271.0 (RTM GDR), 12.0.2564.0 (RTM CU), 12.0.4219.0 (SP1 GDR), 12.0.4439.1 (SP1 CU) or SP2": "12.0.2271.0 (RTM GDR), 12.0.2564.0 (RTM CU), 12.0.4219.0 (SP1 GDR), 12.0.4439.1 (SP1 CU) ou SP2",
    "any": "qualquer um",
    "see KB3135244": "veja KB3135244",
    # branch
    "the installed SQL Server": "o SQL Server instalado",
}


def check(lang: str) -> str:
    """``lang`` itself, or ValueError naming the known languages."""
    if lang not in STRINGS:
        raise ValueError(f"unknown language {lang!r:.20} (known: {', '.join(LANGUAGES)})")
    return lang


def t(key: str, lang: str = "en") -> str:
    """The code-side string ``key`` in ``lang`` (English when missing)."""
    return STRINGS.get(lang, EN).get(key) or EN[key]


def strings(lang: str = "en") -> Mapping[str, str]:
    return STRINGS.get(lang, EN)


def derived_text(text: str, lang: str = "en") -> str:
    """A text a rule derived (sql_tls12 branch/min_build/kb) in ``lang``."""
    if lang == "pt-BR":
        return SQL_TLS12_PT.get(text, text)
    return text
