"""CLI wiring of ``tmsrules evidence`` and ``tmsrules probe`` (plugged into the main parser by tmsrules.cli).

- ``tmsrules evidence FILE [FILE...]``: the merged partial environment the files
  show, as JSON (sorted keys, indent 2).
- ``tmsrules probe HOST[:PORT] [--timeout S] [--json]``: which TLS versions the
  endpoint accepts; one readable line, or the result object with ``--json``.
- ``tmsrules regfile ENV.json -o fix.reg [--rollback] [--evidence FILE...]
  [--alternative ID]``: the registry changes of the plan (or of an
  alternative) as a file regedit imports, or the file that undoes them.

Exit codes: 0 done, 2 bad input (``tmsrules: <message>`` on stderr), 3 the
probed host could not be reached (unreachable, refused, timed out) or gave no
TLS answer at any version (silence, resets, a service that is not TLS).
"""

from __future__ import annotations

import json
import sys

from tmsrules.errors import InputError

EXIT_OK, EXIT_INPUT, EXIT_UNREACHABLE = 0, 2, 3


def _fail(exc: Exception, code: int) -> int:
    print(f"tmsrules: {exc}", file=sys.stderr)
    return code


def add_evidence_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "evidence",
        help="read packet captures, registry exports and event logs; print the facts they show (JSON)",
        description="Read pcap/pcapng captures, regedit exports of the SCHANNEL Protocols key and Event Viewer "
                    "exports (CSV or XML); print the merged partial environment (contract v1) as JSON. "
                    "The format of each file is detected from its content.",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="evidence files, in any supported format")
    p.set_defaults(func=evidence_handler)


def evidence_handler(args) -> int:
    from tmsrules.evidence import read_evidence

    try:
        env = read_evidence(*args.files)
    except InputError as exc:
        return _fail(exc, EXIT_INPUT)
    sys.stdout.write(json.dumps(env, sort_keys=True, indent=2) + "\n")
    return EXIT_OK


def parse_target(text: str, default_port: int = 443) -> tuple[str, int]:
    """``HOST[:PORT]``: ``host``, ``host:8443``, ``10.0.0.5:443``, ``[::1]:443``, ``::1``."""
    raw = text.strip()
    accepted = "HOST or HOST:PORT (IPv6 as [ADDR]:PORT), PORT 1..65535"
    host, port = raw, str(default_port)
    if raw.startswith("["):
        end = raw.find("]")
        if end < 0:
            raise InputError("HOST[:PORT]", f"{text!r}: missing ']'", accepted)
        host, rest = raw[1:end], raw[end + 1:]
        if rest:
            if not rest.startswith(":"):
                raise InputError("HOST[:PORT]", f"{text!r}: unexpected {rest!r} after ']'", accepted)
            port = rest[1:]
    elif raw.count(":") == 1:
        host, port = raw.split(":")
    if not host:
        raise InputError("HOST[:PORT]", f"{text!r}: no host", accepted)
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise InputError("HOST[:PORT]", f"{text!r}: {port!r} is not a TCP port", accepted)
    return host, int(port)


def add_probe_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "probe",
        help="try a TLS handshake at each of TLS 1.0, 1.1, 1.2, 1.3 against an endpoint",
        description="Probe an endpoint live: one handshake per TLS version (legacy versions really offered: "
                    "OpenSSL's security level is lowered for the probe only). A version the local OpenSSL "
                    "cannot offer is reported as not tested.",
    )
    p.add_argument("target", metavar="HOST[:PORT]", help="endpoint address; the port defaults to 443")
    p.add_argument("--timeout", type=float, default=5.0, metavar="S",
                   help="seconds for each connection and handshake (default 5)")
    p.add_argument("--json", action="store_true",
                   help='print {"host", "port", "accepts", "refuses_tls10"} as JSON')
    p.set_defaults(func=probe_handler)


def probe_handler(args) -> int:
    from tmsrules.probe import ProbeError, describe, format_target, no_tls_answer, probe

    try:
        host, port = parse_target(args.target)
        result = probe(host, port, timeout=args.timeout)
    except InputError as exc:
        return _fail(exc, EXIT_INPUT)
    except ProbeError as exc:
        return _fail(exc, EXIT_UNREACHABLE)
    silent = no_tls_answer(result)
    if silent:                  # silence or resets at every version: no claim about the endpoint's TLS
        return _fail(f"{format_target(result['host'], result['port'])}: {silent}: not a TLS endpoint on "
                     "that port, or something drops the handshakes", EXIT_UNREACHABLE)
    if args.json:
        sys.stdout.write(json.dumps(result, sort_keys=True, indent=2) + "\n")
    else:
        sys.stdout.write(describe(result) + "\n")
    return EXIT_OK


# --------------------------------------------------------------------------- regfile

#: The effect target of a step that changes SCHANNEL keys (rules/catalog.toml).
SCHANNEL_EFFECT = "tms.schannel"


def registry_changes(step_ids, rulebase=None) -> dict:
    """``{protocol: {side: state}}`` that the steps set, read from their declared catalog ``effects``.

    Only effects ``{set = "tms.schannel", protocol, side, value}`` count; a
    later step overrides an earlier one on the same protocol side. Nothing
    here knows which step touches which key: the catalog says so.
    """
    if rulebase is None:
        from tmsrules import rulebase as _rulebase

        rulebase = _rulebase.load()
    changes: dict[str, dict[str, str]] = {}
    for step in step_ids:
        for effect in rulebase.entry("step", step).effects:
            if effect.get("set") == SCHANNEL_EFFECT:
                changes.setdefault(effect["protocol"], {})[effect["side"]] = effect["value"]
    return changes


def read_environment_and_export(env_path: str, evidence: list[str], raw: bool = False):
    """The environment JSON with the evidence merged in, and the ``tms.schannel`` of the
    registry exports among the evidence files (merged in order; None when there is none).

    With ``raw``, a third item: the exports' raw values (``parse_reg_values``; a later
    export's protocol replaces an earlier one's), what a rollback restores; None without one.
    """
    from tmsrules.cli import read_json
    from tmsrules.evidence import merge, read_file
    from tmsrules.evidence.common import MAX_CAPTURE_BYTES, read_bytes
    from tmsrules.evidence.registry import read_reg_values

    data = read_json(env_path)
    exported = None
    values = None
    if evidence:
        partials = []
        for path in evidence:
            fmt, partial = read_file(path)
            partials.append(partial)
            if fmt == "reg":
                schannel = partial.get("tms", {}).get("schannel", {})
                exported = merge({"tms": {"schannel": exported or {}}},
                                 {"tms": {"schannel": schannel}})["tms"]["schannel"]
                if raw:
                    values = {**(values or {}), **read_reg_values(read_bytes(path, MAX_CAPTURE_BYTES), path)}
        data = merge(data, *partials)
    return (data, exported, values) if raw else (data, exported)


def add_regfile_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "regfile",
        help="write the plan's SCHANNEL registry changes as a .reg file (or its rollback)",
        description="Diagnose the environment (after merging the evidence files) and write the registry "
                    "changes of the plan's steps, as the catalog declares them (e.g. enable-tls11-tls12, "
                    "reenable-tls10-for-sql), to a file regedit imports: UTF-16 LE with BOM, CRLF, "
                    "'Windows Registry Editor Version 5.00'. With --rollback, write the file that undoes "
                    "them: back to the state of a registry export among the --evidence files, otherwise "
                    "removing exactly the values the fix creates. When the plan has no registry step, "
                    "one line says so on stderr, no file is written (an existing OUT is left untouched) "
                    "and the exit code is 0. Exit 2 for bad input.",
    )
    p.add_argument("file", metavar="ENV", help="environment JSON file (contract v1), or - for stdin")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="the .reg file to write (- writes the bytes to stdout)")
    p.add_argument("--rollback", action="store_true",
                   help="write the file that undoes the fix instead of the fix")
    p.add_argument("--evidence", nargs="+", metavar="EVIDENCE", default=[],
                   help="captures, registry exports or event logs to merge into the facts first; a registry "
                        "export is also the state --rollback returns to")
    p.add_argument("--alternative", metavar="ID",
                   help="use the steps of this alternative plan (e.g. reenable-tls10-client) instead of the plan")
    p.set_defaults(func=regfile_handler)


def regfile_handler(args) -> int:
    from tmsrules.diagnose import default_diagnoser
    from tmsrules.regfile import render_reg, render_rollback
    from tmsrules.simulate import plan_steps

    data, exported, exported_values = read_environment_and_export(args.file, args.evidence, raw=True)
    diagnoser = default_diagnoser()
    diagnosis = diagnoser.diagnose(data, questions=False)
    steps = plan_steps(diagnosis, args.alternative)
    changes = registry_changes(steps, diagnoser.rulebase)
    which = f"alternative {args.alternative}" if args.alternative else "plan"
    if not changes:
        shown = ", ".join(steps) or "no steps"
        print(f"tmsrules: the {which} has no registry step ({shown}): no .reg file written", file=sys.stderr)
        return EXIT_OK
    body = render_rollback(changes, exported, exported_values) if args.rollback else render_reg(changes)
    if args.output == "-":
        sys.stdout.flush()
        sys.stdout.buffer.write(body)
        sys.stdout.buffer.flush()
        return EXIT_OK
    try:
        with open(args.output, "wb") as fh:
            fh.write(body)
    except OSError as exc:
        raise InputError(args.output, f"cannot write the file: {exc.strerror or exc}",
                         "a writable file path") from None
    kind = "rollback" if args.rollback else "fix"
    print(f"tmsrules: wrote the {kind} of the {which} ({', '.join(sorted(changes))}) to {args.output}",
          file=sys.stderr)
    return EXIT_OK
