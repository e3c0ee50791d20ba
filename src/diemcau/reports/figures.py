"""The figures of a report (R21; ĐN Đ14.4, KH Đ17.2d), counted by the database.

Each function asks a fixed number of grouped queries, whatever the number of meetings: a
year of 100,000 meetings costs the same number of queries as a week of ten (the benchmark,
`bench/reports.py`, prints both). Every figure is a pair [this period, the period before],
so the previous period stands beside each number. The result is plain JSON: it is what a
stored report keeps and hashes.

Durations are seconds; the presentation (`presentation.py`) turns them into hours.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import (
    Avg,
    Case,
    CharField,
    Count,
    DateTimeField,
    F,
    Max,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Greatest, Least

from diemcau.core.models import AuditEvent
from diemcau.core.permissions import Action, role_allows
from diemcau.directory.choices import EndpointStatus
from diemcau.directory.models import Agency
from diemcau.mcu.models import McuNode
from diemcau.media.models import Participation
from diemcau.scheduling import capacity
from diemcau.scheduling.choices import CheckItem, CheckStatus, IncidentStatus, MeetingStatus
from diemcau.scheduling.models import Booking, Incident, Meeting, TechnicalCheck

from . import citations
from .basis import HELD, OUTCOMES, USING_NODE, Basis, Seconds, duration, session_and_rehearsal

Pair = list[int]
# The version of the shape below; a stored report keeps it, so an old one still reads.
FORMAT = 1

# Audit actions that change an endpoint's admission (directory.services.endpoints).
ADMISSION_ACTIONS = {
    "registered": "endpoint.register",
    "admitted": "endpoint.approve",
    "suspended": "endpoint.suspend",
    "reinstated": "endpoint.reinstate",
    "repaired": "endpoint.report_repair",
}
INCIDENT_KINDS = ("check", "session")


def _pair(current: Any, previous: Any) -> Pair:
    return [int(current or 0), int(previous or 0)]


def _seconds(value: dt.timedelta | int | float | None) -> int:
    if value is None:
        return 0
    if isinstance(value, dt.timedelta):
        return round(value.total_seconds())
    return round(value)


def _two(basis: Basis, lookup: str) -> tuple[Q, Q]:
    return basis.in_current(lookup), basis.in_previous(lookup)


def compute(basis: Basis) -> dict[str, Any]:
    """Every figure of the report for `basis` (its period, the period before, its scope)."""
    rulebook = basis.rulebook
    return {
        "format": FORMAT,
        "generated_at": basis.now.isoformat(),
        "rulebook": {"name": rulebook.name, "short": rulebook.short,
                     "province": rulebook.province_name,
                     "article": rulebook.cite(rulebook.reporting.article)},
        "period": basis.period.as_json(),
        "previous": basis.previous.as_json(),
        "scope": basis.scope.as_json(rulebook),
        "meetings": meetings(basis),
        "attendance": attendance(basis),
        "nodes": nodes(basis),
        "reply_sla": reply_sla(basis),
        "refusals": refusals(basis),
        "checks": checks(basis),
        "incidents": incidents(basis),
        "recordings": recordings(basis),
        "admission": admission(basis),
    }


# ---------------------------------------------------------------- meetings


def _empty_line() -> dict[str, Any]:
    return {"outcome": {key: [0, 0] for key in OUTCOMES}, "total": [0, 0], "seconds": [0, 0]}


def meetings(basis: Basis) -> dict[str, Any]:
    """Meetings hosted in the scope by the level and agency of their host, their type and
    urgency, each split by outcome; and the hours of MCU use of the held ones (their session
    and rehearsal as booked)."""
    current, previous = _two(basis, "starts_at")
    held = Q(status__in=HELD)
    rows = (
        basis.meetings().filter(basis.in_span("starts_at")).order_by()
        .values("host_agency_id", "host_agency__kind", "meeting_type", "urgency", "status")
        .annotate(
            c=Count("pk", filter=current), p=Count("pk", filter=previous),
            cs=Sum(session_and_rehearsal(), filter=current & held),
            ps=Sum(session_and_rehearsal(), filter=previous & held),
        )
    )
    bucket_of = {status: bucket for bucket, statuses in OUTCOMES.items() for status in statuses}
    total = _empty_line()
    by: dict[str, dict[str, dict[str, Any]]] = {
        "level": defaultdict(_empty_line), "agency": defaultdict(_empty_line),
        "type": defaultdict(_empty_line), "urgency": defaultdict(_empty_line),
    }
    for row in rows:
        level = basis.rulebook.kind_levels.get(row["host_agency__kind"], "")
        keys = {"level": level, "agency": str(row["host_agency_id"]),
                "type": row["meeting_type"], "urgency": row["urgency"]}
        counts = (row["c"], row["p"])
        seconds = (_seconds(row["cs"]), _seconds(row["ps"]))
        for line in (total, *(by[name][key] for name, key in keys.items())):
            outcome = line["outcome"][bucket_of[row["status"]]]
            for index in (0, 1):
                outcome[index] += counts[index]
                line["total"][index] += counts[index]
                line["seconds"][index] += seconds[index]
    agencies = {
        str(a["pk"]): a
        for a in Agency.objects.filter(pk__in=[int(k) for k in by["agency"]])
        .values("pk", "name", "kind", "path")
    }
    by_agency = [
        {"id": int(key), "name": agencies[key]["name"],
         "level": basis.rulebook.kind_levels.get(agencies[key]["kind"], ""), **line}
        for key, line in sorted(by["agency"].items(), key=lambda kv: agencies[kv[0]]["path"])
    ]
    return {
        "total": total,
        "by_level": dict(by["level"]),
        "by_agency": by_agency,
        "by_type": dict(by["type"]),
        "by_urgency": dict(by["urgency"]),
    }


# ---------------------------------------------------------------- attendance (R18)


def attendance(basis: Basis) -> dict[str, Any]:
    """Per endpoint of the scope: the held meetings it was to attend (as host or invited),
    those it connected to, those it missed, and its time connected (media's Participation
    rows: join to leave, a reconnection is one more row)."""
    held = basis.held_meetings().values("pk")
    current, previous = _two(basis, "meeting__starts_at")
    invited: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    through: Any = Meeting.participants.through
    for endpoint_id, c, p in (
        through.objects.filter(meeting__in=held).filter(basis.endpoint_filter("endpoint__"))
        .order_by().values("endpoint_id")
        .annotate(c=Count("meeting_id", filter=current), p=Count("meeting_id", filter=previous))
        .values_list("endpoint_id", "c", "p")
    ):
        invited[endpoint_id] = [c, p]
    host_current, host_previous = _two(basis, "starts_at")
    for endpoint_id, c, p in (
        Meeting.objects.filter(pk__in=held).filter(basis.endpoint_filter("host_endpoint__"))
        .order_by().values("host_endpoint_id")
        .annotate(c=Count("pk", filter=host_current), p=Count("pk", filter=host_previous))
        .values_list("host_endpoint_id", "c", "p")
    ):
        invited[endpoint_id][0] += c
        invited[endpoint_id][1] += p
    connected = Seconds(Coalesce(F("left_at"), Value(basis.now, output_field=DateTimeField())),
                        F("joined_at"))
    attended: dict[int, dict[str, Pair]] = {}
    for row in (
        Participation.objects.filter(meeting__in=held, joined_at__isnull=False)
        .filter(basis.endpoint_filter("endpoint__")).order_by().values("endpoint_id")
        .annotate(
            c=Count("meeting_id", distinct=True, filter=current),
            p=Count("meeting_id", distinct=True, filter=previous),
            cs=Sum(connected, filter=current), ps=Sum(connected, filter=previous),
        )
    ):
        attended[row["endpoint_id"]] = {
            "attended": _pair(row["c"], row["p"]),
            "seconds": [_seconds(row["cs"]), _seconds(row["ps"])],
        }
    ids = set(invited) | set(attended)
    names = {
        e["pk"]: e for e in basis.endpoints().filter(pk__in=ids)
        .values("pk", "name", "agency__name", "agency__path")
    } if ids else {}
    lines = []
    total = {"invited": [0, 0], "attended": [0, 0], "missed": [0, 0], "seconds": [0, 0]}
    for pk in sorted(names, key=lambda k: (names[k]["agency__path"], names[k]["name"])):
        was = attended.get(pk, {"attended": [0, 0], "seconds": [0, 0]})
        line: dict[str, Any] = {
            "id": pk, "name": names[pk]["name"], "agency": names[pk]["agency__name"],
            "invited": invited.get(pk, [0, 0]), "attended": was["attended"],
            "missed": [max(0, i - a) for i, a in zip(invited.get(pk, [0, 0]), was["attended"],
                                                     strict=True)],
            "seconds": was["seconds"],
        }
        lines.append(line)
        for key in total:
            total[key] = [total[key][0] + line[key][0], total[key][1] + line[key][1]]
    return {"endpoints": lines, "total": total}


# ---------------------------------------------------------------- MCU nodes (R11)


def may_see_node_load(basis: Basis) -> bool:
    """The load of a node is everybody's meetings together: it is shown to those who see
    the MCU load page (operators, administrators, auditors) and in the worker's reports."""
    user = basis.user
    return user is None or role_allows(user, Action.MANAGE_MCU) or role_allows(
        user, Action.VIEW_AUDIT)


def nodes(basis: Basis) -> dict[str, Any]:
    """Per node: the held meetings of the scope it carried; and, province-wide, the peak of
    concurrent meetings and endpoints against the rulebook's cap (KH Đ12.4a), the hours at
    the cap and the hours with at least one meeting. The load is the sweep booking checks
    the cap with (`scheduling.capacity.sweep`), over the node rows of the bookings of every
    meeting that was accepted and not withdrawn, from its technical check to its end."""
    current, previous = _two(basis, "starts_at")
    sessions = {
        node_id: _pair(c, p)
        for node_id, c, p in basis.meetings().filter(basis.in_span("starts_at"), status__in=HELD)
        .exclude(node=None).order_by().values("node_id")
        .annotate(c=Count("pk", filter=current), p=Count("pk", filter=previous))
        .values_list("node_id", "c", "p")
    }
    show_load = may_see_node_load(basis)
    cap = basis.rulebook.capacity.cap_percent
    node_rows = list(McuNode.objects.order_by("name"))
    deltas: dict[tuple[int, str], dict[dt.datetime, list[int]]] = defaultdict(dict)
    if show_load:
        for which in ("current", "previous"):
            start, end = basis.window(which)
            for (node_id, at), change in load_deltas(start, end).items():
                deltas[(node_id, which)][at] = change
    lines = []
    for node in node_rows:
        line: dict[str, Any] = {
            "id": node.pk, "name": node.name, "sessions": sessions.get(node.pk, [0, 0]),
            "max_meetings": node.max_meetings, "max_endpoints": node.max_endpoints,
            "meeting_cap": node.meeting_cap(cap), "endpoint_cap": node.endpoint_cap(cap),
        }
        if show_load:
            for key in ("peak_meetings", "peak_endpoints", "seconds_at_cap", "seconds_busy"):
                line[key] = [0, 0]
            for index, which in enumerate(("current", "previous")):
                figures = _load_figures(steps(deltas.get((node.pk, which), {})),
                                        line["meeting_cap"], line["endpoint_cap"])
                for key, value in figures.items():
                    line[key][index] = value
        if show_load or line["sessions"] != [0, 0]:
            lines.append(line)
    return {"nodes": lines, "load_shown": show_load, "cap_percent": cap,
            "article": basis.rulebook.cite(basis.rulebook.capacity.article)}


def load_deltas(start: dt.datetime, end: dt.datetime
                ) -> dict[tuple[int, dt.datetime], list[int]]:
    """The changes of each node's load within [start, end), added up by the database: at
    each instant where holding windows (clipped to the period) start or end, how many
    meetings and endpoints start holding minus how many stop — what `capacity.sweep` adds up
    for booking, grouped per instant so that the rows read stay few. Instants travel as
    whole seconds after `start` (a number is read far faster than a datetime)."""
    held = Booking.objects.filter(endpoint__isnull=True, meeting__status__in=USING_NODE,
                                  starts_at__lt=end, ends_at__gt=start).order_by()
    origin = Value(start, DateTimeField())
    offsets: dict[tuple[int, int], list[int]] = {}
    for instant, sign in ((Greatest("starts_at", origin), 1),
                          (Least("ends_at", Value(end, DateTimeField())), -1)):
        rows = (held.annotate(at=Seconds(instant, origin)).values("node_id", "at")
                .annotate(n=Count("pk"), e=Sum("endpoints_count"))
                .values_list("node_id", "at", "n", "e"))
        for node_id, at, n, e in rows:
            change = offsets.setdefault((node_id, round(at)), [0, 0])
            change[0] += sign * n
            change[1] += sign * (e or 0)
    return {(node_id, start + dt.timedelta(seconds=at)): change
            for (node_id, at), change in offsets.items()}


def steps(deltas: dict[dt.datetime, list[int]]) -> list[capacity.Step]:
    """The node's load as `capacity.sweep`'s steps: at each instant, the value once every
    change at that instant is applied (windows are half-open). A test shows it equals the
    sweep booking checks the cap with, on any loads."""
    found = []
    meetings = endpoints = 0
    for at in sorted(deltas):
        meetings += deltas[at][0]
        endpoints += deltas[at][1]
        found.append(capacity.Step(at, meetings, endpoints))
    return found


def _load_figures(steps: list[capacity.Step], meeting_cap: int, endpoint_cap: int
                  ) -> dict[str, int]:
    peak_meetings = max((s.meetings for s in steps), default=0)
    peak_endpoints = max((s.endpoints for s in steps), default=0)
    at_cap = busy = 0.0
    for step, after in zip(steps, steps[1:], strict=False):
        length = (after.at - step.at).total_seconds()
        if step.meetings:
            busy += length
        if step.meetings >= meeting_cap or step.endpoints >= endpoint_cap:
            at_cap += length
    return {"peak_meetings": peak_meetings, "peak_endpoints": peak_endpoints,
            "seconds_at_cap": round(at_cap), "seconds_busy": round(busy)}


# ---------------------------------------------------------------- the reply deadline (R9)


SLA_CLASSES = {
    # each registration in exactly one
    "in_time": Q(decided_at__isnull=False, sla_breached_at__isnull=True),
    "late": Q(decided_at__isnull=False, sla_breached_at__isnull=False),
    "overdue": Q(decided_at__isnull=True, sla_breached_at__isnull=False),
    "waiting": Q(decided_at__isnull=True, sla_breached_at__isnull=True,
                 status=MeetingStatus.SUBMITTED),
    "withdrawn": Q(decided_at__isnull=True, sla_breached_at__isnull=True)
    & ~Q(status=MeetingStatus.SUBMITTED),
}


def reply_sla(basis: Basis) -> dict[str, Any]:
    """Registrations received in the period (hosted in the scope), by how the operator's
    reply kept its deadline (ĐN Đ11.2b, KH Đ13.2b): answered in time, answered late, still
    unanswered past the deadline, waiting within it, withdrawn before any reply."""
    current, previous = _two(basis, "registered_at")
    answered = Q(decided_at__isnull=False) & ~Q(status=MeetingStatus.REVOKED)
    aggregates: dict[str, Any] = {}
    for key, condition in SLA_CLASSES.items():
        aggregates[f"{key}_c"] = Count("pk", filter=current & condition)
        aggregates[f"{key}_p"] = Count("pk", filter=previous & condition)
    reply = duration("decided_at", "registered_at")
    aggregates["reply_c"] = Avg(reply, filter=current & answered)
    aggregates["reply_p"] = Avg(reply, filter=previous & answered)
    values = basis.meetings().filter(basis.in_span("registered_at")).aggregate(**aggregates)
    figures: dict[str, Any] = {key: _pair(values[f"{key}_c"], values[f"{key}_p"])
                               for key in SLA_CLASSES}
    figures["received"] = [sum(figures[k][i] for k in SLA_CLASSES) for i in (0, 1)]
    figures["breaches"] = [figures["late"][i] + figures["overdue"][i] for i in (0, 1)]
    figures["share_in_time"] = [
        _percent(figures["in_time"][i], figures["in_time"][i] + figures["breaches"][i])
        for i in (0, 1)
    ]
    figures["average_reply_seconds"] = [_seconds(values["reply_c"]), _seconds(values["reply_p"])]
    figures["hours"] = basis.rulebook.reply_sla.hours
    figures["article"] = basis.rulebook.cite(basis.rulebook.reply_sla.article)
    return figures


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


# ---------------------------------------------------------------- refusals and revocations


def refusals(basis: Basis) -> dict[str, Any]:
    """Refused registrations by the article their reason cites, matched with the rulebook's
    rule (`citations`); revoked meetings (KH Đ12.4b) by the level of their host."""
    current, previous = _two(basis, "starts_at")
    reasons = (
        basis.meetings().filter(basis.in_span("starts_at"), status=MeetingStatus.REFUSED)
        .order_by().values("decision_reason")
        .annotate(c=Count("pk", filter=current), p=Count("pk", filter=previous))
        .values_list("decision_reason", "c", "p")
    )
    by_article, none_cited = citations.tally(reasons)
    rows = [
        {"article": article, "rule": citations.rule_of(article, basis.rulebook), "count": counts}
        for article, counts in sorted(by_article.items(), key=lambda kv: (-kv[1][0], kv[0]))
    ]
    return {"by_article": rows, "none_cited": none_cited,
            "revocation_article": basis.rulebook.cite(basis.rulebook.priority.article)}


# ---------------------------------------------------------------- technical checks (R15)


def checks(basis: Basis) -> dict[str, Any]:
    """Technical checks of the scope's endpoints due in the period (ĐN Đ11.2b–c, KH
    Đ13.2b–c): passed, failed, due but never recorded, the pass rate of those recorded, and
    how often each item of the checklist was not ready."""
    current, previous = _two(basis, "due_at")
    statuses = {
        "passed": Q(status=CheckStatus.PASSED),
        "failed": Q(status=CheckStatus.FAILED),
        "not_recorded": Q(status=CheckStatus.SCHEDULED, due_at__lt=basis.now),
        "due": Q(),
    }
    aggregates: dict[str, Any] = {}
    for key, condition in statuses.items():
        aggregates[f"{key}_c"] = Count("pk", filter=current & condition)
        aggregates[f"{key}_p"] = Count("pk", filter=previous & condition)
    for item in CheckItem.values:
        failed = Q(status=CheckStatus.FAILED, **{f"results__{item}": False})
        aggregates[f"item_{item}_c"] = Count("pk", filter=current & failed)
        aggregates[f"item_{item}_p"] = Count("pk", filter=previous & failed)
    values = (
        TechnicalCheck.objects.filter(meeting__in=basis.visible_meetings().values("pk"))
        .filter(basis.endpoint_filter("endpoint__"), basis.in_span("due_at"))
        .aggregate(**aggregates)
    )
    figures: dict[str, Any] = {key: _pair(values[f"{key}_c"], values[f"{key}_p"])
                               for key in statuses}
    figures["pass_rate"] = [
        _percent(figures["passed"][i], figures["passed"][i] + figures["failed"][i])
        for i in (0, 1)
    ]
    figures["failed_items"] = {
        item: _pair(values[f"item_{item}_c"], values[f"item_{item}_p"])
        for item in CheckItem.values
        if item in basis.rulebook.technical_check.items or values[f"item_{item}_c"]
        or values[f"item_{item}_p"]
    }
    return figures


# ---------------------------------------------------------------- incidents (R15, R16)


def incident_filter(basis: Basis) -> Q:
    """Incidents of the scope: of one of its endpoints, or of a meeting it hosts when no
    endpoint is named."""
    if basis.scope.is_everything:
        return Q()
    return basis.endpoint_filter("endpoint__") | (
        Q(endpoint__isnull=True)
        & basis.scope.agency_filter(basis.rulebook, "meeting__host_agency__")
    )


def incident_kind() -> Case:
    """"check": opened by a technical check that found an item not ready; "session":
    reported by an endpoint or the host, before or during the meeting."""
    return Case(When(technical_check__isnull=False, then=Value("check")),
                default=Value("session"), output_field=CharField())


def incidents(basis: Basis) -> dict[str, Any]:
    """Incidents opened in the period, by kind, with how many were closed and how long the
    closed ones took from report to resolution (average, longest); and for those found by a
    check, which item was not ready."""
    current, previous = _two(basis, "opened_at")
    closed = Q(status=IncidentStatus.CLOSED, closed_at__isnull=False)
    to_close = duration("closed_at", "opened_at")
    base = (
        Incident.objects.filter(meeting__in=basis.visible_meetings().values("pk"))
        .filter(incident_filter(basis), basis.in_span("opened_at"))
        .order_by()
    )
    kinds: dict[str, dict[str, Any]] = {
        kind: {"opened": [0, 0], "closed": [0, 0], "open": [0, 0],
               "average_seconds": [0, 0], "longest_seconds": [0, 0]}
        for kind in INCIDENT_KINDS
    }
    rows = base.annotate(kind=incident_kind()).values("kind").annotate(
        c=Count("pk", filter=current), p=Count("pk", filter=previous),
        cc=Count("pk", filter=current & closed), pc=Count("pk", filter=previous & closed),
        ca=Avg(to_close, filter=current & closed), pa=Avg(to_close, filter=previous & closed),
        cm=Max(to_close, filter=current & closed), pm=Max(to_close, filter=previous & closed),
    )
    for row in rows:
        line = kinds[row["kind"]]
        line["opened"] = _pair(row["c"], row["p"])
        line["closed"] = _pair(row["cc"], row["pc"])
        line["open"] = [line["opened"][i] - line["closed"][i] for i in (0, 1)]
        line["average_seconds"] = [_seconds(row["ca"]), _seconds(row["pa"])]
        line["longest_seconds"] = [_seconds(row["cm"]), _seconds(row["pm"])]
    aggregates: dict[str, Any] = {}
    for item in CheckItem.values:
        failed = Q(**{f"technical_check__results__{item}": False})
        aggregates[f"{item}_c"] = Count("pk", filter=current & failed)
        aggregates[f"{item}_p"] = Count("pk", filter=previous & failed)
    values = base.filter(technical_check__isnull=False).aggregate(**aggregates)
    items = {item: _pair(values[f"{item}_c"], values[f"{item}_p"]) for item in CheckItem.values
             if values[f"{item}_c"] or values[f"{item}_p"]}
    total = {key: [sum(kinds[k][key][i] for k in kinds) for i in (0, 1)]
             for key in ("opened", "closed", "open")}
    return {"kinds": kinds, "total": total, "check_items": items}


# ---------------------------------------------------------------- recordings (R19)


def recordings(basis: Basis) -> dict[str, Any]:
    """Meetings whose host asked for the recording (ĐN Đ13.3, KH Đ15.3): registered, held,
    and how the archive handed the file over against its deadline ("trong thời hạn 02 ngày
    làm việc"): in time, late, or still not handed over once the deadline has passed."""
    current, previous = _two(basis, "starts_at")
    asked = Q(recording_requested=True)
    handed = Q(recording__handed_over_at__isnull=False)
    in_time = handed & Q(recording__handed_over_at__lte=F("recording__handover_due_at"))
    late = handed & Q(recording__handed_over_at__gt=F("recording__handover_due_at"))
    overdue = (Q(recording__handed_over_at__isnull=True, recording__purged_at__isnull=True)
               & Q(recording__handover_due_at__lt=basis.now))
    values = basis.meetings().filter(basis.in_span("starts_at")).aggregate(
        rc=Count("pk", filter=current & asked), rp=Count("pk", filter=previous & asked),
        hc=Count("pk", filter=current & asked & Q(status__in=HELD)),
        hp=Count("pk", filter=previous & asked & Q(status__in=HELD)),
        ic=Count("pk", filter=current & in_time), ip=Count("pk", filter=previous & in_time),
        lc=Count("pk", filter=current & late), lp=Count("pk", filter=previous & late),
        oc=Count("pk", filter=current & overdue), op=Count("pk", filter=previous & overdue),
    )
    return {"requested": _pair(values["rc"], values["rp"]),
            "requested_held": _pair(values["hc"], values["hp"]),
            "handed_in_time": _pair(values["ic"], values["ip"]),
            "handed_late": _pair(values["lc"], values["lp"]),
            "handover_overdue": _pair(values["oc"], values["op"]),
            "handover_article": basis.rulebook.cite(basis.rulebook.handover.article),
            "handover_counted": True}


# ---------------------------------------------------------------- admission (R5, R26)


def admission_events(basis: Basis) -> QuerySet[AuditEvent]:
    """Audit events that changed the admission of an endpoint of the scope."""
    endpoints = basis.endpoints().annotate(key=Cast("pk", CharField())).values("key")
    events = AuditEvent.objects.filter(object_type="directory.endpoint",
                                       action__in=ADMISSION_ACTIONS.values())
    if not basis.scope.is_everything:
        events = events.filter(object_id__in=endpoints)
    return events.filter(basis.in_span("at"))


def admission(basis: Basis) -> dict[str, Any]:
    """Endpoints registered, admitted, suspended, reinstated and reported repaired in the
    period (from the audit log, each endpoint once per kind of change), and the endpoints
    of the scope by their status now."""
    current, previous = _two(basis, "at")
    counted = {
        action: _pair(c, p)
        for action, c, p in admission_events(basis).order_by().values("action").annotate(
            c=Count("object_id", distinct=True, filter=current),
            p=Count("object_id", distinct=True, filter=previous),
        ).values_list("action", "c", "p")
    }
    changes = {key: counted.get(action, [0, 0]) for key, action in ADMISSION_ACTIONS.items()}
    status_now = dict(
        basis.endpoints().order_by().values("status").annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return {"changes": changes,
            "status_now": {s: status_now.get(s, 0) for s in EndpointStatus.values}}

