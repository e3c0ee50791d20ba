"""SIP addresses as the directory, the meetings and the live plane store them (R23, R24):
one spelling, so a terminal's account and the caller of a dial-in compare equal.

    normalize_sip_uri("UBND.NT@10.1.2.3")   → "sip:UBND.NT@10.1.2.3"
    sip_parts("sip:vcs@10.1.2.3:5070;transport=tcp") → SipParts("vcs", "10.1.2.3", 5070)

Only `sip:` (and `sips:`) URIs of a user at a host, or a bare host; the host is lower-cased
(case does not matter there), the user part is kept as written (it does in SIP).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_URI = re.compile(
    r"^(?P<scheme>sips?):"
    r"(?:(?P<user>[A-Za-z0-9\-_.!~*'()&=+$,;?/%]+)@)?"
    r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-.]+)"
    r"(?::(?P<port>\d{1,5}))?"
    r"(?P<params>;[^\s<>\"]*)?$"
)


@dataclass(frozen=True)
class SipParts:
    user: str
    host: str
    port: int | None

    @property
    def account(self) -> str:
        """user@host (no port or parameters): what identifies a terminal's account."""
        return f"{self.user}@{self.host}" if self.user else self.host


def sip_parts(uri: str) -> SipParts:
    """The parts of a SIP URI; ValueError when it is not one."""
    text = uri.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1]
    match = _URI.match(text)
    if match is None:
        raise ValueError(f"not a SIP address: {uri!r}")
    port = match.group("port")
    if port is not None and not 0 < int(port) < 65536:
        raise ValueError(f"bad port in {uri!r}")
    return SipParts(match.group("user") or "", match.group("host").lower(),
                    int(port) if port else None)


def normalize_sip_uri(value: str) -> str:
    """The stored spelling of a SIP address: "sip:" added when missing, host lower-cased,
    parameters dropped. ValueError when it is not a SIP address."""
    text = value.strip()
    if not text:
        raise ValueError("empty SIP address")
    if not re.match(r"^sips?:", text, re.I):
        text = "sip:" + text
    scheme, rest = text.split(":", 1)
    parts = sip_parts(scheme.lower() + ":" + rest)
    port = f":{parts.port}" if parts.port else ""
    return f"{scheme.lower()}:{parts.account}{port}"


def same_account(first: str, second: str) -> bool:
    """Whether two SIP addresses name the same account (user@host; ports and parameters
    aside)."""
    try:
        return sip_parts(first).account == sip_parts(second).account
    except ValueError:
        return False
