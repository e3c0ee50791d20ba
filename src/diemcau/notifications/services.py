"""Sending notifications and choosing how to receive them.

`notify` writes the outbox (one in-app row per person, delivered by being stored, plus one
pending row per outside channel the person chose) in the caller's transaction and hands the
pending rows to the worker on commit. Delivery, retries and the sweep live in `delivery.py`
and `tasks.py`; nothing here talks to the network.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from diemcau.core import audit
from diemcau.core.errors import InvalidInput, PermissionDenied
from diemcau.core.models import User

from . import kinds, selectors
from .models import (
    DEFAULT_EMAIL,
    DEFAULT_WEBHOOK,
    Channel,
    DeliveryStatus,
    KindGroup,
    Notification,
    NotificationAttachment,
    NotificationPreference,
    group_of,
)


@dataclass(frozen=True)
class Channels:
    """The outside channels chosen for one group of messages (in-app is always on)."""

    email: bool
    webhook: bool


def default_channels(group: KindGroup | str) -> Channels:
    group = KindGroup(group)
    return Channels(email=group in DEFAULT_EMAIL, webhook=group in DEFAULT_WEBHOOK)


def webhook_configured() -> bool:
    return bool(getattr(settings, "WEBHOOK_URL", ""))


def preferences_of(user: User) -> dict[KindGroup, Channels]:
    """The user's choice for every group, defaults filled in."""
    stored = {
        pref.group: Channels(pref.email, pref.webhook)
        for pref in NotificationPreference.objects.filter(user=user)
    }
    return {group: stored.get(group.value, default_channels(group)) for group in KindGroup}


def _as_json(preferences: Mapping[KindGroup, Channels]) -> dict[str, dict[str, bool]]:
    return {group.value: asdict(channels) for group, channels in preferences.items()}


@transaction.atomic
def set_preferences(
    user: User, choices: Mapping[KindGroup | str, Channels], *, actor: User
) -> dict[KindGroup, Channels]:
    """Store the user's channel choices for the groups given (others keep theirs)."""
    if actor.pk != user.pk and not actor.is_superuser:
        raise PermissionDenied(
            "set_notification_preferences",
            _("You can only change your own notification settings."),
        )
    unknown = sorted(str(g) for g in choices if g not in KindGroup.values)
    if unknown:
        raise InvalidInput(
            {"__all__": [_("Unknown kind of messages: %(kinds)s.") % {"kinds": ", ".join(unknown)}]}
        )
    before = preferences_of(user)
    for group, channels in choices.items():
        NotificationPreference.objects.update_or_create(
            user=user,
            group=KindGroup(group).value,
            defaults={"email": channels.email, "webhook": channels.webhook},
        )
    after = preferences_of(user)
    if after != before:
        audit.record(
            "notification_preferences.update",
            user,
            actor=actor,
            before=_as_json(before),
            after=_as_json(after),
        )
    return after


def _chosen_channels(users: Sequence[User], group: KindGroup) -> dict[int, Channels]:
    stored = {
        user_id: Channels(email, webhook)
        for user_id, email, webhook in NotificationPreference.objects.filter(
            user__in=[u.pk for u in users], group=group.value
        ).values_list("user_id", "email", "webhook")
    }
    default = default_channels(group)
    return {user.pk: stored.get(user.pk, default) for user in users}


@dataclass(frozen=True)
class Attachment:
    """A file for the e-mail of a message (e.g. a meeting's ICS)."""

    filename: str
    content_type: str
    content: bytes


def notify(
    users: Iterable[User],
    *,
    kind: str,
    params: Mapping[str, Any] | None = None,
    subject: str = "",
    body: str = "",
    link: str = "",
    meeting_id: int | None = None,
    attachments: Sequence[Attachment] = (),
    public: bool = False,
) -> list[Notification]:
    """Queue one message per user and channel, in the caller's transaction: the outbox commits
    or rolls back with the change it tells of, so a crash after the commit loses nothing.

    The message is its `kind` and `params` (JSON); its text is rendered by the kind's
    registered renderer when shown or sent (`kinds`), in the reader's language. `subject` and
    `body` are the text of a kind that no app renders.

    In-app messages are delivered by being stored. E-mail and webhook rows are written as
    pending according to each person's preferences (no e-mail row for someone without an
    address, no webhook row while no webhook is configured) and handed to the worker when the
    transaction commits; the worker's sweep finds them anyway if that hand-over is lost.

    A `public` message (a reply given publicly, KH Đ13.2b: "công khai qua (...) nhóm trao đổi
    trực tuyến") also goes to the webhook — the support group's bridge — once, whatever the
    recipients chose, when a webhook is configured.
    """
    recipients = list({u.pk: u for u in users if u is not None}.values())
    if not recipients:
        return []
    group = group_of(kind)
    now = timezone.now()
    params = dict(params or {})
    fallback = kinds.Text(subject, body)
    with translation.override(settings.LANGUAGE_CODE):
        inside = kinds.render(kind, params, outside=False, fallback=fallback)
        outside_text = kinds.render(kind, params, outside=True, fallback=fallback)

    def row(user: User, channel: str, text: kinds.Text, **extra: Any) -> Notification:
        return Notification(
            user=user, channel=channel, kind=kind, params=params,
            subject=" ".join(text.subject.split())[:250], body=text.body,
            link=link[:250], meeting_id=meeting_id, **extra,
        )

    with transaction.atomic():
        chosen = _chosen_channels(recipients, group)
        webhook_on = webhook_configured()
        rows: list[Notification] = []
        for user in recipients:
            rows.append(row(user, Channel.IN_APP, inside, status=DeliveryStatus.SENT, sent_at=now))
            if not user.is_active:
                continue
            outside = []
            if chosen[user.pk].email and user.email:
                outside.append(Channel.EMAIL)
            if chosen[user.pk].webhook and webhook_on:
                outside.append(Channel.WEBHOOK)
            rows.extend(
                row(user, channel, outside_text, status=DeliveryStatus.PENDING,
                    next_attempt_at=now)
                for channel in outside
            )
        posted = any(r.channel == Channel.WEBHOOK for r in rows)
        active = [user for user in recipients if user.is_active]
        if public and webhook_on and not posted and active:
            rows.append(row(active[0], Channel.WEBHOOK, outside_text,
                            status=DeliveryStatus.PENDING, next_attempt_at=now))
        created = Notification.objects.bulk_create(rows)
        if attachments:
            NotificationAttachment.objects.bulk_create(
                NotificationAttachment(notification=r, filename=a.filename,
                                       content_type=a.content_type, content=a.content)
                for r in created if r.channel == Channel.EMAIL
                for a in attachments
            )
        pending = [r.pk for r in created if r.status == DeliveryStatus.PENDING and r.pk]
        if pending:
            transaction.on_commit(functools.partial(_hand_over, pending), robust=True)
    return created


def notify_later(
    *,
    kind: str,
    params: Mapping[str, Any],
    link: str = "",
    meeting_id: int | None = None,
) -> Notification:
    """Queue a message whose recipients the worker works out after the commit: one outbox row
    (channel `fan_out`) in the caller's transaction, instead of the recipients' queries and a
    row per person and channel while the caller holds its locks.

    The row commits or rolls back with the change it tells of (a rolled-back change sends
    nothing). Once it has committed, the worker asks the kind's registered recipients function
    (`kinds.register_recipients`) who receives it and writes their rows with `notify`, in one
    transaction with the fan-out row's own status: each recipient gets it exactly once, and a
    worker that dies half-way leaves the row pending for the sweep. Each person then reads it
    in their language, as with `notify`."""
    if kinds.recipients_of(kind) is None:
        raise ValueError(f"no app says who receives {kind!r} (kinds.register_recipients)")
    row = Notification.objects.create(
        user=None, channel=Channel.FAN_OUT, kind=kind, params=dict(params), subject=kind,
        body="", link=link[:250], meeting_id=meeting_id, status=DeliveryStatus.PENDING,
        next_attempt_at=timezone.now(),
    )
    transaction.on_commit(functools.partial(_hand_over, [row.pk]), robust=True)
    return row


def fan_out(notification_id: int) -> bool:
    """The worker's side of `notify_later`: write the recipients' rows and mark the fan-out row
    sent, in one transaction. False when the row is not pending (done already, or gone)."""
    with transaction.atomic():
        row = (Notification.objects.select_for_update()
               .filter(pk=notification_id, channel=Channel.FAN_OUT,
                       status=DeliveryStatus.PENDING).first())
        if row is None:
            return False
        recipients = kinds.recipients_of(row.kind)
        if recipients is None:
            raise ValueError(f"no app says who receives {row.kind!r}")
        fanout = recipients(row.params)
        if fanout is not None:
            notify(fanout.users, kind=row.kind, params={**row.params, **fanout.params},
                   link=row.link, meeting_id=row.meeting_id, attachments=fanout.attachments,
                   public=fanout.public)
        Notification.objects.filter(pk=row.pk).update(
            status=DeliveryStatus.SENT, sent_at=timezone.now(), next_attempt_at=None,
            last_error="")
    return True


def notify_address(
    address: str,
    *,
    kind: str,
    params: Mapping[str, Any] | None = None,
    subject: str = "",
    body: str = "",
    link: str = "",
    meeting_id: int | None = None,
    channel: str = Channel.EMAIL,
) -> Notification:
    """Queue one message to an address that is no one's account — an e-mail (the answer to a
    message sent to the system's official mailbox, a line incident to its provider) or a post
    to the party's own webhook URL (`channel`) — in the caller's transaction, delivered and
    retried like any other outbox row. Its text is the kind's, rendered as it leaves the
    system."""
    if channel not in (Channel.EMAIL, Channel.WEBHOOK):
        raise InvalidInput({"channel": [_("Choose e-mail or webhook.")]})
    if not address.strip():
        raise InvalidInput({"address": [_("This field is required.")]})
    params = dict(params or {})
    with translation.override(settings.LANGUAGE_CODE):
        text = kinds.render(kind, params, outside=True, fallback=kinds.Text(subject, body))
    row = Notification.objects.create(
        user=None, address=address.strip()[:500], channel=channel, kind=kind,
        params=params, subject=" ".join(text.subject.split())[:250], body=text.body,
        link=link[:250], meeting_id=meeting_id, status=DeliveryStatus.PENDING,
        next_attempt_at=timezone.now(),
    )
    transaction.on_commit(functools.partial(_hand_over, [row.pk]), robust=True)
    return row


def _hand_over(notification_ids: list[int]) -> None:
    from .tasks import enqueue_deliveries

    enqueue_deliveries(notification_ids)


# ---------------------------------------------------------------- in-app read markers
# Read markers are a person's own bookkeeping, not a decision anyone answers for, so they are
# not written to the audit log (which would otherwise fill with every click on the bell).


def _require_owner(user_id: int | None, actor: User) -> None:
    if actor.pk != user_id:
        raise PermissionDenied(
            "read_notification", _("You can only mark your own notifications as read.")
        )


def mark_read(notification: Notification, *, actor: User) -> Notification:
    _require_owner(notification.user_id, actor)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )
    return notification


def mark_all_read(user: User, *, actor: User) -> int:
    _require_owner(user.pk, actor)
    return selectors.unread(user).update(read_at=timezone.now())
