"""The command line: ``tmsrules diagnose FILE|-`` and friends.

Exit codes: 0 a diagnosis (whatever its verdict), 2 bad input (one line on
stderr, never a traceback), 1 an internal error.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Callable, Sequence

from tmsrules.errors import InputError, TmsRulesError

#: The most a file or stdin may hold; larger input is refused with exit 2.
MAX_INPUT_BYTES = 64 * 1024 * 1024


def read_json(path: str, stdin=None) -> Any:
    """Read a JSON document from ``path`` (``-`` for stdin) or raise InputError."""
    where = "<stdin>" if path == "-" else path
    try:
        if path == "-":
            stream = stdin if stdin is not None else sys.stdin
            raw = stream.buffer.read(MAX_INPUT_BYTES + 1) if hasattr(stream, "buffer") else stream.read(MAX_INPUT_BYTES + 1)
        else:
            with open(path, "rb") as fh:
                raw = fh.read(MAX_INPUT_BYTES + 1)
    except FileNotFoundError:
        raise InputError(where, "no such file", "a JSON file, or - for stdin") from None
    except IsADirectoryError:
        raise InputError(where, "is a directory", "a JSON file, or - for stdin") from None
    except OSError as exc:
        raise InputError(where, f"cannot read: {exc.strerror or exc}", "a readable JSON file") from None
    if len(raw) > MAX_INPUT_BYTES:
        raise InputError(where, f"larger than {MAX_INPUT_BYTES // (1024 * 1024)} MiB", "a smaller JSON document")
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(where, f"not UTF-8 text (byte {exc.start})", "a UTF-8 JSON document") from None
    return parse_json(raw, where)


#: The most digits a JSON integer may have (Python's own default limit for
#: converting text to int; no field of the contract takes more than 10).
MAX_INT_DIGITS = 4300


class _Duplicate(dict):
    """A JSON object in which some field name appeared twice (found after parsing)."""

    __slots__ = ("duplicate",)


def parse_json(text: str, where: str) -> Any:
    """Parse JSON text or raise InputError: invalid JSON, NaN/Infinity, an
    integer of more than ``MAX_INT_DIGITS`` digits, nesting too deep, or a
    field name given twice in one object (named by its path)."""

    def no_constants(name: str) -> Any:
        raise InputError(where, f"{name} is not a JSON value", "standard JSON (no NaN or Infinity)")

    def bounded_int(digits: str) -> int:
        if len(digits.lstrip("-")) > MAX_INT_DIGITS:
            raise InputError(where, f"a number of {len(digits.lstrip('-'))} digits is too long", f"numbers of at most {MAX_INT_DIGITS} digits")
        return int(digits)

    if not text.strip():
        raise InputError(where, "empty: no JSON document", "a JSON object")
    duplicates = []

    def pairs(items: list) -> dict:
        obj = dict(items)
        if len(obj) == len(items):
            return obj
        seen: set = set()
        marked = _Duplicate(obj)
        marked.duplicate = next(k for k, _ in items if k in seen or seen.add(k))
        duplicates.append(marked)
        return marked

    try:
        data = json.loads(text, parse_constant=no_constants, parse_int=bounded_int, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}:{exc.lineno}:{exc.colno}", f"not valid JSON: {exc.msg}", "a JSON object") from None
    except RecursionError:
        raise InputError(where, "JSON nested too deeply", "a JSON object of reasonable depth") from None
    except InputError:
        raise
    except ValueError as exc:  # pragma: no cover - any other conversion limit of json
        raise InputError(where, f"not valid JSON: {exc}", "a JSON object") from None
    if duplicates:
        raise InputError(_duplicate_path(data), "field given twice in one object", "each field name once per object")
    return data


def _duplicate_path(data: Any) -> str:
    """The dotted path (``endpoints[2].name``) of the first field given twice."""
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, _Duplicate):
            return f"{path}.{node.duplicate}" if path else str(node.duplicate)
        if isinstance(node, dict):
            stack.extend((f"{path}.{k}" if path else str(k), v) for k, v in reversed(list(node.items())))
        elif isinstance(node, list):
            stack.extend((f"{path}[{i}]", v) for i, v in reversed(list(enumerate(node))))
    return ""  # pragma: no cover - a duplicate was recorded


def _diagnose(args: argparse.Namespace) -> int:
    from tmsrules import diagnose, report

    if args.jsonl:
        from tmsrules.batch import run_jsonl  # issue 4: streaming many environments

        return run_jsonl(args)
    data = read_json(args.file)
    if args.evidence:
        from tmsrules.evidence import merge, read_evidence

        data = merge(data, read_evidence(*args.evidence))
    d = diagnose(data, lang=args.lang)
    if args.json:
        sys.stdout.write(d.to_json() + "\n")
    else:
        sys.stdout.write(report.render(d, lang=args.lang) if args.lang != "en" else report.render(d))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tmsrules",
        description="Diagnose Cisco TMS 'No HTTPS response' after TC/CE endpoint upgrades.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    p = sub.add_parser("diagnose", help="diagnose an environment (contract v1 JSON)")
    p.add_argument("file", metavar="FILE", help="environment JSON file, or - for stdin")
    p.add_argument("--json", action="store_true", help="print the diagnosis object (contract v1) instead of a report")
    p.add_argument("--jsonl", action="store_true", help="FILE holds JSON Lines, one environment a line; print one diagnosis a line")
    p.add_argument("--lang", default="en", choices=("en", "pt-BR"), help="language of the human texts (default en)")
    p.add_argument("--evidence", nargs="+", metavar="EVIDENCE", default=[], help="captures, registry exports or event logs to merge into the facts first")
    p.set_defaults(func=_diagnose)
    for register in _extensions():
        register(sub)
    return parser


#: Subcommands that live in their own modules: (module, function adding the subparser).
EXTENSIONS = (
    ("tmsrules.evidence.command", "add_evidence_parser"),
    ("tmsrules.evidence.command", "add_probe_parser"),
    ("tmsrules.evidence.command", "add_regfile_parser"),
    ("tmsrules.simulate", "add_simulate_parser"),
    ("tmsrules.check", "add_check_parser"),
    ("tmsrules.explain", "add_explain_parser"),
    ("tmsrules.consult", "add_consult_parser"),
    ("tmsrules.schema", "add_schema_parser"),
    ("tmsrules.mcp_server", "add_mcp_parser"),
)


def _extensions() -> list[Callable[[Any], None]]:
    import importlib

    found: list[Callable[[Any], None]] = []
    for module_name, function in EXTENSIONS:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        if hasattr(module, function):
            found.append(getattr(module, function))
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed its one-line usage error
        return int(exc.code or 0)
    try:
        return int(args.func(args) or 0)
    except InputError as exc:
        _error(f"tmsrules: {exc}")
        return 2
    except TmsRulesError as exc:
        _error(f"tmsrules: internal error: {exc}")
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # pragma: no cover - e.g. piped into head
        return 0
    except Exception as exc:  # never a traceback for a user
        _error(f"tmsrules: internal error: {type(exc).__name__}: {exc}")
        return 1


def _error(line: str) -> None:
    """One line on stderr, whatever characters the message quotes."""
    line = " ".join(line.splitlines())
    encoding = getattr(sys.stderr, "encoding", None) or "utf-8"
    sys.stderr.write(line.encode(encoding, "backslashreplace").decode(encoding, "replace") + "\n")
    sys.stderr.flush()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
