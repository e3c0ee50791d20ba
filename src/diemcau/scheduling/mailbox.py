"""The system's official mailbox (KH Đ13.2a), read over IMAP by the worker.

`DIEMCAU_IMAP_URL` names it: `imap://user:password@host:143/INBOX` (STARTTLS when the server
offers it) or `imaps://user:password@host:993/INBOX`; unset, nothing is read. Each unread
message is handed to `services.mail_intake.intake` with the mailbox's own arrival time
(INTERNALDATE), then marked read; a message already read before (its Message-ID) is not
registered twice, so a run cut short loses nothing and repeats nothing."""

from __future__ import annotations

import contextlib
import datetime as dt
import imaplib
import logging
import re
import ssl
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from django.conf import settings

from .models import MailedRegistration
from .services import mail_intake

log = logging.getLogger(__name__)

IMAP_TIMEOUT_SECONDS = 30
BATCH = 50
_INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')


@dataclass(frozen=True)
class MailboxAddress:
    host: str
    port: int
    user: str
    password: str
    folder: str
    secure: bool


def configured() -> MailboxAddress | None:
    url = getattr(settings, "IMAP_URL", "")
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("imap", "imaps") or not parts.hostname:
        raise ValueError("DIEMCAU_IMAP_URL must look like imaps://user:password@host/INBOX")
    secure = parts.scheme == "imaps"
    return MailboxAddress(
        host=parts.hostname, port=parts.port or (993 if secure else 143),
        user=unquote(parts.username or ""), password=unquote(parts.password or ""),
        folder=unquote(parts.path.lstrip("/")) or "INBOX", secure=secure,
    )


def _connect(address: MailboxAddress) -> imaplib.IMAP4:
    if address.secure:
        return imaplib.IMAP4_SSL(address.host, address.port, timeout=IMAP_TIMEOUT_SECONDS,
                                 ssl_context=ssl.create_default_context())
    connection = imaplib.IMAP4(address.host, address.port, timeout=IMAP_TIMEOUT_SECONDS)
    if "STARTTLS" in connection.capabilities:
        connection.starttls(ssl.create_default_context())
    return connection


def _arrival(meta: bytes) -> dt.datetime | None:
    """The mailbox's arrival time of a message: INTERNALDATE "29-Nov-2026 16:55:00 +0700"."""
    found = _INTERNALDATE.search(meta)
    if not found:
        return None
    try:
        return dt.datetime.strptime(found.group(1).decode("ascii").strip(),
                                    "%d-%b-%Y %H:%M:%S %z")
    except ValueError:
        return None


def read_mailbox(address: MailboxAddress | None = None) -> list[MailedRegistration]:
    """Read the unread messages of the official mailbox (at most BATCH a run)."""
    address = address or configured()
    if address is None:
        return []
    read: list[MailedRegistration] = []
    connection = _connect(address)
    try:
        connection.login(address.user, address.password)
        connection.select(address.folder)
        status, found = connection.uid("SEARCH", "UNSEEN")
        uids = found[0].split()[:BATCH] if status == "OK" and found and found[0] else []
        for uid in uids:
            status, data = connection.uid("FETCH", uid, "(INTERNALDATE BODY.PEEK[])")
            parts = [item for item in data if isinstance(item, tuple)]
            if status != "OK" or not parts:
                log.warning("official mailbox: message %s could not be fetched", uid)
                continue
            meta, raw = parts[0]
            received_at = _arrival(meta) or dt.datetime.now(dt.UTC)
            read.append(mail_intake.intake(raw, received_at=received_at))
            connection.uid("STORE", uid, "+FLAGS", "(\\Seen)")
        connection.close()
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            connection.logout()
    return read
