"""Queries on notifications: a person only ever sees their own."""

from __future__ import annotations

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet

from diemcau.core.models import User

from .models import Channel, Notification


def inbox(user: User) -> QuerySet[Notification]:
    """The user's in-app messages, unread first, newest first."""
    return (
        Notification.objects.filter(user=user, channel=Channel.IN_APP)
        .annotate(is_unread=ExpressionWrapper(Q(read_at__isnull=True), output_field=BooleanField()))
        .order_by("-is_unread", "-created_at", "-pk")
    )


def unread(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user, channel=Channel.IN_APP, read_at__isnull=True)


def unread_count(user: User) -> int:
    return unread(user).count()
