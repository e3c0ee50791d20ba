"""The audit log's pages (R22): the list with filters, one event, the chain check, CSV."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as Forbidden
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from diemcau.core import audit, audit_labels, csv_cells
from diemcau.core.models import AuditEvent, User
from diemcau.core.permissions import Action, can
from diemcau.core.text import text_search
from diemcau.ui.forms import DateInput
from diemcau.ui.pagination import paginate

EVENTS_PER_PAGE = 50


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _require_audit_viewer(request: HttpRequest) -> None:
    if not can(_user(request), Action.VIEW_AUDIT):
        raise Forbidden(_("Only auditors and administrators may read the audit log."))


# ---------------------------------------------------------------- audit log


class AuditFilterForm(forms.Form):
    actor = forms.CharField(label=gettext_lazy("Actor"), required=False)
    action = forms.ChoiceField(label=gettext_lazy("Action"), required=False)
    object_type = forms.ChoiceField(label=gettext_lazy("Object type"), required=False)
    object_id = forms.CharField(label=gettext_lazy("Object id"), required=False, max_length=64)
    date_from = forms.DateField(label=gettext_lazy("From"), required=False, widget=DateInput())
    date_to = forms.DateField(label=gettext_lazy("To"), required=False, widget=DateInput())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("action", "object_type"):
            values = (
                AuditEvent.objects.order_by(name).values_list(name, flat=True).distinct()
            )
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            label = (audit_labels.action_label if name == "action"
                     else audit_labels.object_type_label)
            field.choices = [("", _("Any"))] + sorted(
                ((v, label(v)) for v in values if v), key=lambda choice: choice[1])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return data

    def apply(self, events: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        data = self.cleaned_data
        if data.get("actor"):
            events = events.filter(text_search(data["actor"], "actor_username"))
        for name in ("action", "object_type"):
            if data.get(name):
                events = events.filter(**{name: data[name]})
        if data.get("object_id"):
            events = events.filter(object_id=data["object_id"].strip())
        # Dates are days in the shown time zone (Asia/Ho_Chi_Minh), not in UTC.
        if data.get("date_from"):
            events = events.filter(at__date__gte=data["date_from"])
        if data.get("date_to"):
            events = events.filter(at__date__lte=data["date_to"])
        return events


def _filtered_events(request: HttpRequest) -> tuple[AuditFilterForm, QuerySet[AuditEvent]]:
    form = AuditFilterForm(request.GET or None)
    events = AuditEvent.objects.select_related("actor").order_by("-seq")
    if form.is_bound:
        events = form.apply(events) if form.is_valid() else events.none()
    return form, events


@login_required
def audit_list(request: HttpRequest) -> HttpResponse:
    _require_audit_viewer(request)
    form, events = _filtered_events(request)
    return render(request, "core/audit_list.html", {
        "filter_form": form,
        "filtered": any(v for k, v in request.GET.items() if k != "page"),
        "export_query": request.GET.urlencode(),
        **paginate(request, events, EVENTS_PER_PAGE),
    })


def _diff_rows(before: Any, after: Any, object_type: str = "") -> list[dict[str, Any]]:
    """One row per field of the before/after snapshots, changed ones marked: the field by its
    label and the values as words (audit_labels); the stored code stays beside the label."""
    before_map = before if isinstance(before, dict) else ({} if before is None else {"": before})
    after_map = after if isinstance(after, dict) else ({} if after is None else {"": after})
    rows = []
    for key in sorted(set(before_map) | set(after_map)):
        old, new = before_map.get(key), after_map.get(key)
        rows.append({
            "field": key,
            "label": audit_labels.field_label(object_type, key) if key else "",
            "before": audit_labels.value_words(object_type, key, old)
            if key in before_map else None,
            "after": audit_labels.value_words(object_type, key, new)
            if key in after_map else None,
            "changed": before is not None and old != new,
        })
    return rows


def _show(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)
    return "" if value is None else str(value)


@login_required
def audit_detail(request: HttpRequest, seq: int) -> HttpResponse:
    _require_audit_viewer(request)
    event = get_object_or_404(AuditEvent.objects.select_related("actor"), seq=seq)
    return render(request, "core/audit_detail.html", {
        "event": event,
        "rows": _diff_rows(event.before, event.after, event.object_type),
        # The numbers of the events linked just before and after (numbers taken by a
        # transaction that then failed are never used: there may be gaps).
        "previous": AuditEvent.objects.filter(seq__lt=seq).order_by("-seq")
        .values_list("seq", flat=True).first(),
        "next": AuditEvent.objects.filter(seq__gt=seq).order_by("seq")
        .values_list("seq", flat=True).first(),
    })


@login_required
@require_POST
def audit_verify(request: HttpRequest) -> HttpResponse:
    """Recompute the hash chain now and show the result (read-only, but costly: POST)."""
    _require_audit_viewer(request)
    report = audit.verify_chain()
    return render(request, "core/audit_verify.html", {
        "report": report,
        "checked_at": timezone.now(),
    })


class _Echo:
    """A file-like object whose write() returns the line, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def csv_columns() -> list[str]:
    """The export's headers, in the reader's language."""
    return [
        "#", _("Time"), _("Actor"), _("Address"), _("Action"), _("Action code"),
        _("Object type"), _("Object id"), _("Object"), _("Before"), _("After"),
        _("Chain"), _("Place in the chain"), _("Previous hash"), _("Hash"),
    ]


def _csv_rows(events: QuerySet[AuditEvent]) -> Iterator[str]:
    writer = csv_cells.writer(_Echo())
    # A byte-order mark so that spreadsheet programs read the Vietnamese text as UTF-8.
    yield "\ufeff" + writer.writerow(csv_columns())
    for event in events.iterator(chunk_size=2000):
        yield writer.writerow([
            event.seq,
            timezone.localtime(event.at).strftime("%d/%m/%Y %H:%M:%S"),
            event.actor_username,
            event.ip or "",
            audit_labels.action_label(event.action),
            event.action,
            audit_labels.object_type_label(event.object_type),
            event.object_id,
            event.object_repr,
            "" if event.before is None else json.dumps(event.before, ensure_ascii=False),
            "" if event.after is None else json.dumps(event.after, ensure_ascii=False),
            # The hash links each event to the one before it in its own chain, so the
            # export carries the chain and the place for a reader to follow them.
            event.chain,
            event.chain_seq,
            event.prev_hash,
            event.hash,
        ])


@login_required
def audit_export(request: HttpRequest) -> HttpResponseBase:
    """The filtered list as CSV, all pages, oldest first."""
    _require_audit_viewer(request)
    form, events = _filtered_events(request)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(
        _csv_rows(events.order_by("seq")), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    response["Cache-Control"] = "no-store, private"
    return response


