"""Typed errors of tmsrules.

``InputError`` is the only error a caller should expect from bad input: it
names the field path (``endpoints[2].software``) or the file, and what is
accepted there.
"""

from __future__ import annotations


class TmsRulesError(Exception):
    """Base class of every error raised on purpose by tmsrules."""


class InputError(TmsRulesError, ValueError):
    """The input (an environment, a file, an answer) is not acceptable.

    ``path`` is the dotted field path (``tms.sql.version``,
    ``endpoints[2].software``) or a file name; ``accepted`` says what would
    have been accepted there.
    """

    def __init__(self, path: str, message: str, accepted: str | None = None):
        self.path = path
        self.message = message
        self.accepted = accepted
        text = f"{path}: {message}" if path else message
        if accepted:
            text += f" (accepted: {accepted})"
        super().__init__(text)


class RuleError(TmsRulesError):
    """A rule file is malformed or inconsistent (found when loading rules/)."""

    def __init__(self, where: str, message: str):
        self.where = where
        self.message = message
        super().__init__(f"{where}: {message}" if where else message)


class InferenceError(TmsRulesError):
    """The rules engine failed while inferring (an error inside a rule action)."""
