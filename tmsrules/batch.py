"""Many environments: ``diagnose_many`` and ``tmsrules diagnose --jsonl``.

``diagnose_many(items)`` is a generator: it diagnoses one item at a time and
yields one :class:`Outcome` per item, in input order, so a caller can stream
thousands of TMS servers without holding them all in memory.

Bad items do not stop the stream. An item that is not acceptable input (a
wrong type, an unknown field, invalid JSON text, ...) yields an ``Outcome``
whose ``error`` is the :class:`~tmsrules.InputError` and whose ``diagnosis``
is ``None``. Anything else raised while diagnosing is a bug in tmsrules, not
in the input, and propagates (an ``InferenceError`` leaves the engine usable:
the generator may be resumed by a new call).

``run_jsonl`` is the command line front end: one environment per input line,
one diagnosis per output line (``Diagnosis.to_json(indent=None)``); a bad
line is reported on stderr as ``tmsrules: line N: <message>`` and skipped.
Exit status: 0 when every line was diagnosed, 2 when some line was bad input,
1 when some line hit an internal error (which wins over 2). Blank lines are
skipped silently. With stderr on a terminal, a progress line appears once the
work has taken more than two seconds.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any, Iterable, Iterator, Mapping

import attrs

from tmsrules.diagnosis import Diagnosis
from tmsrules.errors import InputError, TmsRulesError
from tmsrules.model import Environment

__all__ = ["Outcome", "diagnose_many", "run_jsonl"]

#: The longest JSON Lines line accepted (one environment), in bytes.
MAX_LINE_BYTES = 64 * 1024 * 1024
#: Seconds of work before a progress line appears on a terminal.
PROGRESS_AFTER = 2.0
_PROGRESS_EVERY = 0.25


@attrs.frozen
class Outcome:
    """One item of ``diagnose_many``: a diagnosis, or the InputError that stopped it."""

    #: 0-based position of the item in the input iterable.
    index: int
    diagnosis: Diagnosis | None = None
    error: InputError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _parse_item(item: Any, where: str) -> Any:
    if isinstance(item, (bytes, bytearray)):
        try:
            item = bytes(item).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(where, f"not UTF-8 text (byte {exc.start})", "a UTF-8 JSON document") from None
    if isinstance(item, str):
        from tmsrules.cli import parse_json

        return parse_json(item, where)
    return item


def diagnose_many(
    items: Iterable[Mapping[str, Any] | Environment | str | bytes],
    *,
    questions: bool = True,
    lang: str = "en",
    diagnoser: Any = None,
) -> Iterator[Outcome]:
    """Diagnose each item in turn, yielding an :class:`Outcome` per item.

    An item is an environment dict, an :class:`Environment`, or the JSON text
    of one (``str`` or UTF-8 ``bytes``). Bad input is carried in
    ``Outcome.error`` and the stream goes on; other exceptions propagate.
    ``questions`` and ``lang`` are passed to every diagnosis.
    """
    if diagnoser is None:
        from tmsrules.diagnose import default_diagnoser

        diagnoser = default_diagnoser()
    for index, item in enumerate(items):
        try:
            data = _parse_item(item, f"item {index}")
            diagnosis = diagnoser.diagnose(data, questions=questions, lang=lang)
        except InputError as exc:
            yield Outcome(index=index, error=exc)
            continue
        except RecursionError:
            yield Outcome(index=index, error=InputError(f"item {index}", "nested too deeply", "a JSON object of reasonable depth"))
            continue
        yield Outcome(index=index, diagnosis=diagnosis)


# ---------------------------------------------------------------------- JSON Lines


class _Progress:
    """A one-line progress indicator on a terminal stderr, shown after a delay."""

    def __init__(self, stream, total_bytes: int | None):
        self.stream = stream
        self.enabled = bool(getattr(stream, "isatty", lambda: False)())
        self.total = total_bytes
        self.start = time.monotonic()
        self.last = 0.0
        self.shown = False

    def update(self, lines: int, bad: int, done_bytes: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        elapsed = now - self.start
        if elapsed < PROGRESS_AFTER or now - self.last < _PROGRESS_EVERY:
            return
        self.last = now
        rate = lines / elapsed if elapsed > 0 else 0.0
        text = f"tmsrules: {lines} lines ({bad} bad), {rate:.0f}/s"
        if self.total:
            text += f", {min(100.0, 100.0 * done_bytes / self.total):.0f}%"
        self.stream.write("\r" + text + "\033[K")
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.shown = False


def _lines(stream, limit: int) -> Iterator[tuple[int, bytes | None, int]]:
    """(line number, raw line or None when too long, bytes consumed so far)."""
    number = 0
    done = 0
    while True:
        raw = stream.readline(limit + 1)
        if not raw:
            return
        number += 1
        done += len(raw)
        if len(raw) > limit and not raw.endswith(b"\n"):
            # skip the rest of this over-long line without holding it
            while True:
                rest = stream.readline(1 << 20)
                done += len(rest)
                if not rest or rest.endswith(b"\n"):
                    break
            yield number, None, done
            continue
        yield number, raw, done


def run_jsonl(args: Any, stdin=None, stdout=None, stderr=None) -> int:
    """``tmsrules diagnose --jsonl FILE|-``: one diagnosis JSON per input line."""
    stdin = stdin if stdin is not None else sys.stdin
    stdout = stdout if stdout is not None else sys.stdout
    stderr = stderr if stderr is not None else sys.stderr
    path = args.file
    lang = getattr(args, "lang", "en") or "en"
    if getattr(args, "evidence", None):
        raise InputError("--evidence", "cannot be combined with --jsonl", "evidence for a single environment")

    from tmsrules.diagnose import default_diagnoser

    diagnoser = default_diagnoser()
    total: int | None = None
    if path == "-":
        stream = stdin.buffer if hasattr(stdin, "buffer") else stdin
        close = False
    else:
        try:
            stream = open(path, "rb")
        except FileNotFoundError:
            raise InputError(path, "no such file", "a JSON Lines file, or - for stdin") from None
        except IsADirectoryError:
            raise InputError(path, "is a directory", "a JSON Lines file, or - for stdin") from None
        except OSError as exc:
            raise InputError(path, f"cannot read: {exc.strerror or exc}", "a readable JSON Lines file") from None
        close = True
        try:
            total = os.fstat(stream.fileno()).st_size or None
        except OSError:  # pragma: no cover - a pipe or special file
            total = None

    progress = _Progress(stderr, total)
    # stdout on a terminal too (the same one, usually): take the progress line
    # away before each diagnosis line, or the two end up on one line
    clear_for_output = progress.enabled and bool(getattr(stdout, "isatty", lambda: False)())
    bad = internal = count = 0

    def report(number: int, message: str) -> None:
        progress.clear()
        stderr.write(f"tmsrules: line {number}: {message}\n")
        stderr.flush()

    try:
        for number, raw, done in _lines(stream, MAX_LINE_BYTES):
            count += 1
            if raw is None:
                bad += 1
                report(number, f"longer than {MAX_LINE_BYTES // (1024 * 1024)} MiB (accepted: a smaller JSON document)")
                continue
            if isinstance(raw, str):  # a text stream without .buffer
                raw = raw.encode("utf-8")
            if not raw.strip():
                continue
            try:
                text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
                data = _parse_line(text)
                diagnosis = diagnoser.diagnose(data, lang=lang)
            except UnicodeDecodeError as exc:
                bad += 1
                report(number, f"not UTF-8 text (byte {exc.start}) (accepted: a UTF-8 JSON document)")
            except InputError as exc:
                bad += 1
                report(number, str(exc))
            except RecursionError:
                bad += 1
                report(number, "nested too deeply (accepted: a JSON object of reasonable depth)")
            except TmsRulesError as exc:
                internal += 1
                report(number, f"internal error: {exc}")
            except Exception as exc:  # a bug: say so, keep going
                internal += 1
                report(number, f"internal error: {type(exc).__name__}: {exc}")
            else:
                text = diagnosis.to_json(indent=None)
                try:
                    text.encode("utf-8")
                except UnicodeEncodeError as exc:  # a lone surrogate from a JSON \\ud800 escape
                    bad += 1
                    report(number, f"a string holds {text[exc.start]!r}, which is not valid Unicode (accepted: valid Unicode text)")
                else:
                    if clear_for_output:
                        progress.clear()
                    stdout.write(text + "\n")
                    stdout.flush()
            progress.update(count, bad, done)
    finally:
        progress.clear()
        if close:
            stream.close()
    if internal:
        return 1
    return 2 if bad else 0


def _parse_line(text: str) -> Any:
    from tmsrules.cli import parse_json

    # the line number is added by the caller's report; keep the position only
    try:
        return parse_json(text, "")
    except InputError as exc:
        if exc.path.startswith(":"):
            # "line 3: column 7: not valid JSON ..." reads better than ":1:7"
            parts = exc.path.split(":")
            raise InputError(f"column {parts[-1]}", exc.message, exc.accepted) from None
        raise
