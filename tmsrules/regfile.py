"""Registry files that apply (and undo) SCHANNEL protocol changes, as regedit imports them.

``render_reg(changes)`` turns ``{protocol: {side: state}}`` into a .reg file:
UTF-16 LE with a BOM, CRLF line ends, ``Windows Registry Editor Version 5.00``,
a blank line, then one key block per protocol side::

    [HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\TLS 1.2\\Client]
    "Enabled"=dword:00000001
    "DisabledByDefault"=dword:00000000

State ``"enabled"`` writes Enabled=1, DisabledByDefault=0; ``"disabled"``
writes Enabled=0, DisabledByDefault=1; ``"default"`` deletes both values
(``"Enabled"=-``) so the Windows default applies again (knowledge.md §4).
Protocols come in the order SSL 3.0 .. TLS 1.3, Client before Server.
SCHANNEL reads the keys at boot: the server must restart afterwards.

``render_rollback(changes, exported)`` is the file that undoes ``changes``:
with ``exported`` (a ``tms.schannel`` dict read from a registry export taken
before the fix) each touched protocol side goes back to its exported state
(a protocol or side missing from the export is taken as ``"default"``: no
key), value for value when ``exported_values`` gives the export's raw DWORDs;
without it, exactly the values the fix creates are deleted, and a side
the fix reset to ``"default"`` cannot be restored (its old values are
unknown): the file says so in a ``;`` comment.
"""

from __future__ import annotations

from tmsrules.errors import InputError

PROTOCOLS = ("SSL 3.0", "TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3")
SIDES = ("client", "server")
STATES = ("enabled", "disabled", "default")
KEY = r"HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols"
HEADER = "Windows Registry Editor Version 5.00"

_VALUES = {
    "enabled": ('"Enabled"=dword:00000001', '"DisabledByDefault"=dword:00000000'),
    "disabled": ('"Enabled"=dword:00000000', '"DisabledByDefault"=dword:00000001'),
    "default": ('"Enabled"=-', '"DisabledByDefault"=-'),
}


def _normalize(changes, path: str) -> dict[tuple[str, str], str]:
    """``{(protocol, side): state}`` from a ``{protocol: {side: state}}`` dict, validated."""
    if not isinstance(changes, dict):
        raise InputError(path, f"expected an object, got {type(changes).__name__}",
                         '{"TLS 1.2": {"client": "enabled", "server": "enabled"}}')
    out: dict[tuple[str, str], str] = {}
    names = {p.lower(): p for p in PROTOCOLS}
    for proto, sides in changes.items():
        canon = names.get(str(proto).strip().lower())
        if canon is None:
            raise InputError(f"{path}.{proto}", "unknown protocol", ", ".join(PROTOCOLS))
        if not isinstance(sides, dict):
            raise InputError(f"{path}.{proto}", f"expected an object, got {type(sides).__name__}",
                             '{"client": S, "server": S}')
        for side, state in sides.items():
            s = str(side).strip().lower()
            if s not in SIDES:
                raise InputError(f"{path}.{proto}.{side}", "unknown side", "client, server")
            if not isinstance(state, str) or state.strip().lower() not in STATES:
                raise InputError(f"{path}.{proto}.{side}", f"unknown state {state!r}", ", ".join(STATES))
            out[(canon, s)] = state.strip().lower()
    return out


def _render(entries: dict[tuple[str, str], str], comments: list[str] = ()) -> bytes:
    lines = [HEADER, ""]
    for comment in comments:
        lines.append(f"; {comment}")
    if comments:
        lines.append("")
    for proto in PROTOCOLS:
        for side in SIDES:
            state = entries.get((proto, side))
            if state is None:
                continue
            lines.append(f"[{KEY}\\{proto}\\{side.capitalize()}]")
            lines.extend(_VALUES[state] if isinstance(state, str) else state)
            lines.append("")
    text = "\r\n".join(lines) + "\r\n"
    return b"\xff\xfe" + text.encode("utf-16-le")


def render_reg(changes: dict) -> bytes:
    """The .reg file (bytes) that sets each ``{protocol: {side: state}}`` of ``changes``."""
    return _render(_normalize(changes, "changes"))


def _raw_lines(values: dict) -> tuple[str, str]:
    """The two value lines that put back an exported side's ``Enabled``/``DisabledByDefault`` as they were."""
    out = []
    for vname in ("Enabled", "DisabledByDefault"):
        v = values.get(vname.lower())
        if v is None:
            out.append(f'"{vname}"=-')
        elif isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 0xFFFFFFFF:
            raise InputError(f"exported_values.{vname}", f"{v!r} is not a DWORD", "an integer 0..0xffffffff")
        else:
            out.append(f'"{vname}"=dword:{v:08x}')
    return tuple(out)


def render_rollback(changes: dict, exported: dict | None = None, exported_values: dict | None = None) -> bytes:
    """The .reg file (bytes) that undoes ``render_reg(changes)``; see the module doc.

    ``exported_values`` (``tmsrules.evidence.registry.parse_reg_values`` of the
    export) restores each touched side value for value, as it was exported
    (``Enabled`` alone, ``DisabledByDefault`` alone, ``ffffffff``...): its
    state alone would not (``DisabledByDefault=1`` without ``Enabled`` is not
    ``Enabled=0``). Protocols it does not show fall back to ``exported``.
    """
    touched = _normalize(changes, "changes")
    if exported_values:
        names = {p.lower(): p for p in PROTOCOLS}
        raw = {(names[str(p).strip().lower()], str(side).strip().lower()): values
               for p, sides in exported_values.items() if str(p).strip().lower() in names
               for side, values in sides.items()}
        shown = {names[str(p).strip().lower()] for p in exported_values if str(p).strip().lower() in names}
        before = _normalize(exported, "exported") if exported is not None else {}
        entries = {}
        for key in touched:
            if key[0] in shown:
                entries[key] = _raw_lines(raw.get(key, {}))
            elif exported is not None:
                entries[key] = before.get(key, "default")
            else:
                entries[key] = "default"
        return _render(entries)
    if exported is not None:
        if not isinstance(exported, dict):
            raise InputError("exported", f"expected a tms.schannel object, got {type(exported).__name__}",
                             '{"TLS 1.2": {"client": "enabled", "server": "default"}}')
        before = _normalize(exported, "exported")
        return _render({key: before.get(key, "default") for key in touched})
    undo: dict[tuple[str, str], str] = {}
    comments: list[str] = []
    for (proto, side) in sorted(touched, key=lambda k: (PROTOCOLS.index(k[0]), SIDES.index(k[1]))):
        state = touched[(proto, side)]
        if state == "default":
            comments.append(f"{proto} {side.capitalize()}: the fix deleted its values; without a registry "
                            "export taken before the fix they cannot be restored")
        else:
            undo[(proto, side)] = "default"
    return _render(undo, comments)
