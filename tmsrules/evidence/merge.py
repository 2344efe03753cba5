"""Merge partial environments (contract v1 form) from several evidence files and a base environment."""

from __future__ import annotations

import copy

from tmsrules.evidence.common import version_rank

_CONCAT = {("observations", "handshakes"), ("observations", "sql_event_ids")}
_EXPLICIT = ("enabled", "disabled")


def merge(base: dict, *partials: dict) -> dict:
    """Deep merge of ``base`` and ``partials`` into a new dict (the arguments are not changed).

    - ``observations.handshakes`` and ``observations.sql_event_ids``: concatenated, in argument order;
    - ``observations.client_hello``: the highest seen ("none" < "SSL 3.0" < ... < "TLS 1.3");
    - ``tms.schannel``: merged per protocol and side; an explicit state ("enabled"/"disabled")
      is not overwritten by "default" (a file that does not show a side says "default" for it),
      a later explicit state replaces an earlier one;
    - ``endpoints``: merged by ``name`` (an entry with a known name is deep-merged into it, so a
      probe's ``accepts`` lands on its endpoint), other entries appended;
    - other dicts merged recursively; any other value: the later one wins.
    """
    result = copy.deepcopy(base) if base else {}
    for partial in partials:
        if partial:
            _merge_into(result, partial, ())
    return result


def _merge_into(dst: dict, src: dict, path: tuple) -> None:
    for key, value in src.items():
        here = path + (key,)
        if key not in dst:
            dst[key] = copy.deepcopy(value)
        elif here in _CONCAT and isinstance(dst[key], list) and isinstance(value, list):
            dst[key] = dst[key] + copy.deepcopy(value)
        elif here == ("observations", "client_hello") and isinstance(value, str):
            if not isinstance(dst[key], str) or version_rank(value) > version_rank(dst[key]):
                dst[key] = value
        elif here == ("tms", "schannel") and isinstance(dst[key], dict) and isinstance(value, dict):
            _merge_schannel(dst[key], value)
        elif here == ("endpoints",) and isinstance(dst[key], list) and isinstance(value, list):
            _merge_endpoints(dst[key], value)
        elif isinstance(dst[key], dict) and isinstance(value, dict):
            _merge_into(dst[key], value, here)
        else:
            dst[key] = copy.deepcopy(value)


def _merge_schannel(dst: dict, src: dict) -> None:
    for proto, sides in src.items():
        if not isinstance(sides, dict) or not isinstance(dst.get(proto), dict):
            dst[proto] = copy.deepcopy(sides)
            continue
        for side, state in sides.items():
            if state in _EXPLICIT or dst[proto].get(side) not in _EXPLICIT:
                dst[proto][side] = state


def _merge_endpoints(dst: list, src: list) -> None:
    for entry in src:
        name = entry.get("name") if isinstance(entry, dict) else None
        match = next((e for e in dst if isinstance(e, dict) and name is not None and e.get("name") == name), None)
        if match is None:
            dst.append(copy.deepcopy(entry))
        else:
            _merge_into(match, entry, ("endpoints[]",))
