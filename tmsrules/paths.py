"""Dotted input paths (``tms.sql.version``, ``endpoints[2].software``):
reading a fact out of an environment dict, and a copy with facts set."""

from __future__ import annotations

import copy
import re
from typing import Any, Mapping

from tmsrules.errors import InputError

_PATH = re.compile(r"^(?:[a-z_]+|\[\d+\])(?:\.[a-z_]+|\[\d+\])*$")


def parts(path: str) -> list[str]:
    if not isinstance(path, str) or not _PATH.match(path):
        raise InputError("fact", f"not a fact path: {path!r:.60}", "a dotted input path such as tms.version or endpoints[0].software")
    return re.findall(r"[a-z_]+|\[\d+\]", path)


def set_path(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``data`` with the dotted ``path`` set to ``value``."""
    steps = parts(path)
    out = copy.deepcopy(data)
    node: Any = out
    for part, nxt in zip(steps, steps[1:]):
        if part.startswith("["):
            i = int(part[1:-1])
            if not isinstance(node, list) or i >= len(node):
                raise InputError(path, "no such endpoint", "an index of an endpoint of the environment")
            if not isinstance(node[i], dict):
                raise InputError(path, "not an object", "an endpoint object")
            node = node[i]
        else:
            if not isinstance(node, dict):
                raise InputError(path, "not an object", "a dotted input path")
            child = node.get(part)
            if child is None:
                child = [] if nxt.startswith("[") else {}
                node[part] = child
            node = child
    last = steps[-1]
    if last.startswith("["):
        raise InputError(path, "cannot answer a whole list item", "a field path such as endpoints[0].software")
    if not isinstance(node, dict):
        raise InputError(path, "not an object", "a dotted input path")
    node[last] = value
    return out


def get_path(data: Mapping[str, Any], path: str) -> Any:
    node: Any = data
    for part in parts(path):
        if part.startswith("["):
            i = int(part[1:-1])
            node = node[i] if isinstance(node, list) and i < len(node) else None
        else:
            node = node.get(part) if isinstance(node, Mapping) else None
        if node is None:
            return None
    return node


def set_paths(data: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of ``data`` with each dotted path of ``changes`` set to its value."""
    out = copy.deepcopy(dict(data))
    for path, value in changes.items():
        out = set_path(out, path, value)
    return out
