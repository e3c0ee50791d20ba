"""Delivering the outbox: e-mail and the outgoing webhook, with retries.

The worker calls `deliver(id)` (task `deliver_notification`). One delivery is:

1. claim the row in a short transaction: it must still be pending and due; count the attempt
   and push `next_attempt_at` a lease ahead, so a second task for the same row (the sweep
   re-enqueues due rows) finds it not due and leaves it alone;
2. send, outside any transaction: a slow mail server or bridge never holds a database lock
   (on SQLite a write transaction locks the whole database);
3. record the outcome: sent, or the error and the next attempt after an exponential backoff
   (1, 2, 4, … minutes), or `failed` after MAX_ATTEMPTS.

A worker that dies between 1 and 3 leaves the row pending with the lease as its next attempt,
so the sweep sends it again: delivery is at least once, and the webhook carries the row's id
so a bridge can drop a repeat.

A `fan_out` row (`services.notify_later`) is claimed the same way; "sending" it writes its
recipients' rows, which are then delivered as above (`services.fan_out`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from diemcau.core import public_url

from .kinds import Text
from .models import Channel, DeliveryStatus, Notification

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
# Longer than any one send can take (webhook timeout, EMAIL_TIMEOUT), so a row being sent is
# never picked up again before its outcome is recorded.
LEASE = timedelta(minutes=5)
MAX_RETRY_DELAY = timedelta(hours=6)
WEBHOOK_TIMEOUT_SECONDS = 10
SWEEP_BATCH = 500


class DeliveryFailed(Exception):
    """Sending did not work this time; try again later."""


class Undeliverable(DeliveryFailed):
    """Sending can never work (e.g. the person has no e-mail address): fail at once."""


def retry_delay(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: 1, 2, 4, 8 … minutes."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_RETRY_DELAY)


def absolute_url(link: str) -> str:
    """A link of a message on the site's public address (DIEMCAU_PUBLIC_URL)."""
    return public_url.absolute(link)


# ---------------------------------------------------------------- the delivery of one row


def deliver(notification_id: int) -> str | None:
    """Try to send one outbox row; returns its status afterwards, or None when the row was
    not this call's to send (gone, in-app, already sent or failed, not due yet)."""
    row = _claim(notification_id)
    if row is None:
        return None
    if row.channel == Channel.FAN_OUT:
        # A message queued with `notify_later`: its recipients' rows are written now, once
        # the change has committed; their e-mails and posts are handed over in turn.
        from .services import fan_out

        try:
            fan_out(row.pk)
        except Exception as exc:  # retried like a send; nothing was written
            return _record_failure(row, exc)
        return DeliveryStatus.SENT
    sender = SENDERS[row.channel]
    try:
        # Rendered now, in the recipient's language, as it leaves the system: no state secret
        # goes out (R20); the recipient opens the system to read it.
        language = row.user.language if row.user is not None else ""
        with translation.override(language or settings.LANGUAGE_CODE):
            text = row.text(outside=True)
            sender(row, text)
    except Exception as exc:  # any failure of a channel is retried, never lost
        return _record_failure(row, exc)
    return _record_success(row, text)


def _claim(notification_id: int) -> Notification | None:
    with transaction.atomic():
        row = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("user", "user__agency")
            .filter(pk=notification_id)
            .first()
        )
        now = timezone.now()
        if row is None or row.status != DeliveryStatus.PENDING or row.channel == Channel.IN_APP:
            return None
        if row.next_attempt_at is not None and row.next_attempt_at > now:
            return None
        row.attempts += 1
        row.next_attempt_at = now + LEASE
        row.save(update_fields=["attempts", "next_attempt_at"])
        return row


def _record_success(row: Notification, text: Text) -> str:
    now = timezone.now()
    # Keep what was sent, as it was sent.
    Notification.objects.filter(pk=row.pk, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.SENT, sent_at=now, next_attempt_at=None, last_error="",
        subject=text.subject, body=text.body,
    )
    logger.info("notification %s sent by %s (attempt %s)", row.pk, row.channel, row.attempts)
    return DeliveryStatus.SENT


def _describe(exc: Exception) -> str:
    text = str(exc) or exc.__class__.__name__
    if not isinstance(exc, DeliveryFailed):
        text = f"{exc.__class__.__name__}: {text}"
    return text[:2000]


def _record_failure(row: Notification, exc: Exception) -> str:
    now = timezone.now()
    error = _describe(exc)
    final = isinstance(exc, Undeliverable) or row.attempts >= MAX_ATTEMPTS
    if final:
        changes: dict[str, Any] = {"status": DeliveryStatus.FAILED, "next_attempt_at": None}
    else:
        changes = {"next_attempt_at": now + retry_delay(row.attempts)}
    Notification.objects.filter(pk=row.pk, status=DeliveryStatus.PENDING).update(
        last_error=error, **changes
    )
    log = logger.error if final else logger.warning
    log(
        "notification %s by %s failed (attempt %s/%s)%s: %s",
        row.pk,
        row.channel,
        row.attempts,
        MAX_ATTEMPTS,
        ", giving up" if final else "",
        error,
    )
    return DeliveryStatus.FAILED if final else DeliveryStatus.PENDING


def due_ids(now: datetime | None = None, limit: int = SWEEP_BATCH) -> list[int]:
    """Pending outside deliveries whose time has come (first attempts whose hand-over to the
    queue was lost, retries, rows whose worker died): what the sweep enqueues."""
    now = now or timezone.now()
    return list(
        Notification.objects.filter(status=DeliveryStatus.PENDING)
        .exclude(channel=Channel.IN_APP)
        .filter(Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


# ---------------------------------------------------------------- e-mail


def _email_text(row: Notification, text: Text) -> str:
    parts = [text.body]
    if row.link:
        parts.append(_("Open: %(url)s") % {"url": absolute_url(row.link)})
    parts.append(
        "-- \n"
        + _("You receive this e-mail because of your notification settings: %(url)s")
        % {"url": absolute_url(reverse("notifications:preferences"))}
    )
    return "\n\n".join(parts)


def _address_text(row: Notification, text: Text) -> str:
    """An e-mail to an address without an account: no settings to point to."""
    parts = [text.body]
    if row.link:
        parts.append(_("Open: %(url)s") % {"url": absolute_url(row.link)})
    return "\n\n".join(parts)


def send_email(row: Notification, text: Text) -> None:
    address = (row.address or (row.user.email if row.user is not None else "")).strip()
    if not address:
        raise Undeliverable(_("The user has no e-mail address."))
    body = _email_text(row, text) if row.user is not None else _address_text(row, text)
    message = EmailMessage(subject=text.subject, body=body, to=[address])
    for attachment in row.attachments.all():
        message.attach(attachment.filename, bytes(attachment.content), attachment.content_type)
    message.send(fail_silently=False)


# ---------------------------------------------------------------- webhook


def webhook_payload(row: Notification, sent_at: datetime, text: Text) -> dict[str, Any]:
    user = row.user
    who = {
        "username": user.get_username(),
        "full_name": user.get_full_name(),
        "agency": user.agency.name if user.agency else "",
    } if user is not None else None
    return {
        "id": row.pk,
        "kind": row.kind,
        "subject": text.subject,
        "body": text.body,
        "link": absolute_url(row.link),
        "meeting_id": row.meeting_id,
        "user": who,
        "sent_at": sent_at.isoformat(),
    }


def signature(body: bytes, secret: str) -> str:
    """The value of X-Diemcau-Signature: HMAC-SHA256 of the exact request body."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect would turn the POST into a GET without body: count it as a failure."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def send_webhook(row: Notification, text: Text) -> None:
    # A party without an account (a line provider) is posted to its own URL.
    url = row.address if row.user is None else settings.WEBHOOK_URL
    if not url:
        raise DeliveryFailed("no webhook is configured (DIEMCAU_WEBHOOK_URL)")
    if urlsplit(url).scheme not in ("http", "https"):
        raise DeliveryFailed("DIEMCAU_WEBHOOK_URL must be an http:// or https:// address")
    body = json.dumps(
        webhook_payload(row, timezone.now(), text), ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "diemcau-notifications",
        "X-Diemcau-Event": row.kind,
        "X-Diemcau-Delivery": str(row.pk),
    }
    if settings.WEBHOOK_SECRET:
        headers["X-Diemcau-Signature"] = signature(body, settings.WEBHOOK_SECRET)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    opener = urllib.request.build_opener(_NoRedirects)
    try:
        with opener.open(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        raise DeliveryFailed(f"HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryFailed(f"cannot reach the webhook: {reason}") from exc
    if not 200 <= status < 300:
        raise DeliveryFailed(f"HTTP {status}")


SENDERS: dict[str, Callable[[Notification, Text], None]] = {
    Channel.EMAIL: send_email,
    Channel.WEBHOOK: send_webhook,
}
