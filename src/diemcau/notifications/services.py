"""Sending notifications: `notify` writes the outbox; delivery is the worker's job."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils import timezone

from diemcau.core.models import User

from .models import Channel, DeliveryStatus, Notification


def notify(
    users: Sequence[User],
    *,
    kind: str,
    subject: str,
    body: str,
    link: str = "",
    meeting_id: int | None = None,
) -> list[Notification]:
    """Queue one message per user and channel. In-app messages are delivered by being stored."""
    now = timezone.now()
    rows = [
        Notification(
            user=user,
            channel=Channel.IN_APP,
            kind=kind,
            subject=subject[:250],
            body=body,
            link=link,
            meeting_id=meeting_id,
            status=DeliveryStatus.SENT,
            sent_at=now,
        )
        for user in users
    ]
    return Notification.objects.bulk_create(rows)
