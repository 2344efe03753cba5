"""Probe an endpoint live: which TLS versions does it accept?

``probe(host, port=443, timeout=5.0)`` makes one TLS handshake per version,
TLS 1.0, 1.1, 1.2 and 1.3, each with an ``SSLContext`` pinned to that version
(minimum = maximum), certificate checks off (endpoints use self-signed
certificates; only the protocol matters here), and OpenSSL's security level
lowered to 0 for the probe's own contexts only (``DEFAULT:@SECLEVEL=0``), so
that TLS 1.0/1.1 and the old ciphers and keys of TC firmware are really
offered. Nothing else in the process is affected.

Result::

    {"host": "10.0.0.5", "port": 443,
     "accepts": {"TLS 1.0": False, "TLS 1.1": False, "TLS 1.2": True, "TLS 1.3": None},
     "refuses_tls10": True}

- ``True``: the handshake at that version completed.
- ``False``: the endpoint refused it (an alert such as protocol_version, a
  TCP reset, a close, or no answer to the ClientHello within ``timeout``).
- ``None``: **not tested**: the local OpenSSL cannot offer that version at
  all (compiled without it, or forbidden by the system's crypto policy even
  at security level 0), checked offline before any connection. A ``None`` is
  never a claim about the endpoint.

``refuses_tls10`` is ``not accepts["TLS 1.0"]``, or ``None`` when TLS 1.0 was
not tested. ``failures`` says, for each version refused, how: ``"alert:
protocol_version"``, ``"connection reset"``, ``"connection closed by the
endpoint"``, ``"no TLS answer within 5 s"``, ``"the answer is not TLS"``.
When no version at all was accepted, ``no_tls_answer(result)`` says why: that
is no claim about the endpoint's TLS versions (wrong port, a service that is
not TLS, or something dropping the handshakes), and the CLI exits 3. ``accepted_versions(result)`` gives the list for the contract's
``endpoints[].accepts``.

A host that cannot be reached (name not resolved, connection refused,
network unreachable, TCP connect timeout) raises ``ProbeError`` naming
``host:port`` and the reason.
"""

from __future__ import annotations

import errno
import socket
import ssl

from tmsrules.errors import InputError, TmsRulesError

VERSIONS = {
    "TLS 1.0": ssl.TLSVersion.TLSv1,
    "TLS 1.1": ssl.TLSVersion.TLSv1_1,
    "TLS 1.2": ssl.TLSVersion.TLSv1_2,
    "TLS 1.3": ssl.TLSVersion.TLSv1_3,
}
_OPENSSL_NAMES = {"TLSv1": "TLS 1.0", "TLSv1.1": "TLS 1.1", "TLSv1.2": "TLS 1.2", "TLSv1.3": "TLS 1.3"}


class ProbeError(TmsRulesError):
    """The endpoint could not be reached: no TLS answer can be claimed."""

    def __init__(self, host: str, port: int, reason: str):
        self.host = host
        self.port = port
        self.reason = reason
        super().__init__(f"{format_target(host, port)}: {reason}")


def format_target(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _context(version: ssl.TLSVersion, ciphers: str = "DEFAULT:@SECLEVEL=0") -> ssl.SSLContext | None:
    """A client context pinned to ``version``, or None when the local OpenSSL cannot offer it."""
    import warnings

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)   # TLS 1.0/1.1 are deprecated: we test them
            ctx.minimum_version = version
            ctx.maximum_version = version
        ctx.set_ciphers(ciphers)
    except (ValueError, ssl.SSLError):
        return None
    # offline check: can this context write a ClientHello at all?
    conn = ctx.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO())
    try:
        conn.do_handshake()
    except ssl.SSLWantReadError:
        return ctx                     # the hello is written and it waits for the server: fine
    except ssl.SSLError:
        return None
    return ctx


def local_support() -> dict[str, bool]:
    """Which versions the local OpenSSL can offer (at security level 0)."""
    return {name: _context(v) is not None for name, v in VERSIONS.items()}


def _connect(host: str, port: int, timeout: float) -> socket.socket:
    try:
        return socket.create_connection((host, port), timeout=timeout)
    except socket.gaierror as exc:
        raise ProbeError(host, port, f"cannot resolve the host name ({exc.strerror or exc})") from None
    except ConnectionRefusedError:
        raise ProbeError(host, port, "connection refused (nothing listens on that port)") from None
    except (socket.timeout, TimeoutError):
        raise ProbeError(host, port, f"TCP connection timed out after {timeout:g} s") from None
    except OSError as exc:
        if exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            raise ProbeError(host, port, f"unreachable ({exc.strerror})") from None
        raise ProbeError(host, port, f"cannot connect ({exc.strerror or exc})") from None


def _failure(exc: BaseException, timeout: float) -> str:
    """A short reason for a failed handshake: the alert, a reset, a close, silence."""
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return f"no TLS answer within {timeout:g} s"
    if isinstance(exc, ssl.SSLEOFError):
        return "connection closed by the endpoint"
    if isinstance(exc, ssl.SSLError):
        reason = (exc.reason or "").lower()
        if reason.startswith(("tlsv1_alert_", "sslv3_alert_")):
            return "alert: " + reason.split("_alert_", 1)[1]
        if reason == "wrong_version_number":
            return "the answer is not TLS"
        return reason.replace("_", " ") or "TLS error"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return type(exc).__name__


def _handshake(host: str, port: int, name: str, ctx: ssl.SSLContext, timeout: float) -> tuple[bool, str | None]:
    """``(accepted, why not)`` of one handshake at version ``name``."""
    sock = _connect(host, port, timeout)
    sni = None
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
    except OSError:
        sni = host                         # a name, not an address literal: send SNI like TMS would
    try:
        with ctx.wrap_socket(sock, server_hostname=sni, do_handshake_on_connect=False) as tls:
            tls.settimeout(timeout)
            tls.do_handshake()
            got = _OPENSSL_NAMES.get(tls.version() or "")
            return (True, None) if got == name else (False, f"negotiated {got or tls.version()}")
    except (ssl.SSLError, ConnectionError, socket.timeout, TimeoutError, OSError) as exc:
        return False, _failure(exc, timeout)    # alert, reset, close or silence: not accepted
    finally:
        sock.close()


def probe(host: str, port: int = 443, timeout: float = 5.0) -> dict:
    """Try one handshake per TLS version against ``host:port``; see the module doc for the result."""
    if not isinstance(host, str) or not host.strip():
        raise InputError("host", f"{host!r} is not a host name or address", "a host name or IP address")
    host = host.strip().strip("[]")
    if any(c.isspace() or not c.isprintable() for c in host):
        raise InputError("host", f"{host!r} is not a host name or address", "a host name or IP address")
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
    except OSError:
        try:
            host.encode("idna")              # what the resolver does: labels of 1..63 characters
        except UnicodeError:
            raise InputError("host", f"{host[:80]!r} is not a valid host name (each dot-separated label "
                                     "needs 1 to 63 characters)", "a host name or IP address") from None
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise InputError("port", f"{port!r} is not a TCP port", "an integer 1..65535")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 300:
        raise InputError("timeout", f"{timeout!r} is not a timeout", "seconds, more than 0 and at most 300")
    accepts: dict[str, bool | None] = {}
    failures: dict[str, str] = {}
    for name, version in VERSIONS.items():
        ctx = _context(version)
        if ctx is None:
            accepts[name] = None
            continue
        accepts[name], why = _handshake(host, port, name, ctx, float(timeout))
        if why:
            failures[name] = why
    tls10 = accepts["TLS 1.0"]
    return {"host": host, "port": port, "accepts": accepts,
            "refuses_tls10": None if tls10 is None else not tls10, "failures": failures}


def no_tls_answer(result: dict) -> str | None:
    """Why no version was accepted, when none was (silence, resets, a non-TLS service); else None.

    Such an endpoint told nothing about its TLS versions: it is not an HTTPS
    endpoint on that port, or something in between drops the handshakes.
    """
    accepts = result.get("accepts", {})
    if any(v is True for v in accepts.values()) or not any(v is False for v in accepts.values()):
        return None
    failures = result.get("failures", {})
    reasons = sorted({failures.get(n, "refused") for n, v in accepts.items() if v is False})
    return "no TLS handshake succeeded at any version (" + "; ".join(reasons) + ")"


def accepted_versions(result: dict) -> list[str]:
    """The versions a probe saw accepted, for ``endpoints[].accepts``."""
    return [name for name in VERSIONS if result["accepts"].get(name) is True]


def describe(result: dict) -> str:
    """One readable line for a probe result."""
    words = {True: "accepted", False: "refused", None: "not tested (local OpenSSL cannot offer it)"}
    failures = result.get("failures", {})

    def word(name: str) -> str:
        state = result["accepts"].get(name)
        why = failures.get(name) if state is False else None
        return words[state] + (f" ({why})" if why else "")

    parts = ", ".join(f"{name} {word(name)}" for name in VERSIONS)
    verdict = {
        True: "refuses TLS 1.0 (like TC >= 7.3.6 / CE >= 8.1.0): TMS offering TLS 1.0 only cannot manage it",
        False: "accepts TLS 1.0",
        None: "TLS 1.0 not tested",
    }[result["refuses_tls10"]]
    return f"{format_target(result['host'], result['port'])}: {parts}; {verdict}"
