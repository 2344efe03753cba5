"""CLI wiring of ``tmsrules evidence`` and ``tmsrules probe`` (plugged into the main parser by tmsrules.cli).

- ``tmsrules evidence FILE [FILE...]``: the merged partial environment the files
  show, as JSON (sorted keys, indent 2).
- ``tmsrules probe HOST[:PORT] [--timeout S] [--json]``: which TLS versions the
  endpoint accepts; one readable line, or the result object with ``--json``.

Exit codes: 0 done, 2 bad input (``tmsrules: <message>`` on stderr), 3 the
probed host could not be reached (unreachable, refused, timed out).
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
    from tmsrules.probe import ProbeError, describe, probe

    try:
        host, port = parse_target(args.target)
        result = probe(host, port, timeout=args.timeout)
    except InputError as exc:
        return _fail(exc, EXIT_INPUT)
    except ProbeError as exc:
        return _fail(exc, EXIT_UNREACHABLE)
    if args.json:
        sys.stdout.write(json.dumps(result, sort_keys=True, indent=2) + "\n")
    else:
        sys.stdout.write(describe(result) + "\n")
    return EXIT_OK
