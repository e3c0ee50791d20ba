"""A report's figures as sections of tables and charts, in the reader's language (R21).

The page, the XLSX and PDF files, the CSV tables and the API all read these, so they show the
same rows in the same order. A table's first column names the row; every other column is a
figure with the previous period's value beside it, and — when it counts meetings, checks,
incidents or endpoints — the link to the rows behind it (`selectors.behind`), for this period
and for the previous one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from diemcau.directory.choices import EndpointStatus
from diemcau.rulebooks import Rulebook, get_rulebook
from diemcau.scheduling.choices import MeetingType, Urgency, check_item_label
from diemcau.ui.templatetags.diemcau_ui import bilingual

Link = dict[str, str]


@dataclass
class Cell:
    value: Any = None
    previous: Any = None
    link: str = ""  # query string of the rows behind it, this period
    link_previous: str = ""


@dataclass
class Column:
    key: str
    title: str
    kind: str = "int"  # int, hours, percent, number (as it comes), text
    compare: bool = True  # has a previous value beside it


@dataclass
class Row:
    label: str
    cells: list[Cell]
    link: str = ""
    is_total: bool = False


@dataclass
class Chart:
    key: str
    title: str
    labels: list[str]
    current: list[float]
    previous: list[float]
    links: list[str] = field(default_factory=list)
    unit: str = ""
    horizontal: bool = False
    caps: list[float] | None = None  # a limit per bar (the nodes' caps)


@dataclass
class Table:
    key: str
    title: str
    label_title: str
    columns: list[Column]
    rows: list[Row]
    total: Row | None = None
    note: str = ""
    chart: Chart | None = None

    @property
    def width(self) -> int:
        """Columns when each compared figure has its previous value beside it."""
        return 1 + sum(2 if column.compare else 1 for column in self.columns)

    def all_rows(self) -> list[Row]:
        return [*self.rows, *([self.total] if self.total else [])]


@dataclass
class Section:
    key: str
    title: str
    article: str
    tables: list[Table]
    note: str = ""


@dataclass
class Presented:
    title: str
    period_label: str
    previous_label: str
    scope_label: str
    sections: list[Section]
    data: Mapping[str, Any]

    def table(self, key: str) -> Table:
        for section in self.sections:
            for table in section.tables:
                if table.key == key:
                    return table
        raise KeyError(key)

    @property
    def tables(self) -> list[Table]:
        return [t for s in self.sections for t in s.tables]


# ---------------------------------------------------------------- words

OUTCOME_LABELS = {
    "held": gettext_lazy("Held"),
    "accepted": gettext_lazy("Accepted, not held yet"),
    "waiting": gettext_lazy("Waiting for the reply"),
    "refused": gettext_lazy("Refused"),
    "cancelled": gettext_lazy("Cancelled"),
    "revoked": gettext_lazy("Code revoked"),
}
SLA_LABELS = {
    "in_time": gettext_lazy("Answered in time"),
    "late": gettext_lazy("Answered after the deadline"),
    "overdue": gettext_lazy("Unanswered past the deadline"),
    "waiting": gettext_lazy("Waiting, within the deadline"),
    "withdrawn": gettext_lazy("Withdrawn before the reply"),
}
CHECK_LABELS = {
    "passed": gettext_lazy("Ready"),
    "failed": gettext_lazy("Not ready"),
    "not_recorded": gettext_lazy("Due but not recorded"),
}
INCIDENT_LABELS = {
    "check": gettext_lazy("Found by a technical check"),
    "session": gettext_lazy("Reported before or during a meeting"),
}
ADMISSION_LABELS = {
    "registered": gettext_lazy("Registered"),
    "admitted": gettext_lazy("Admitted (approved)"),
    "suspended": gettext_lazy("Suspended"),
    "reinstated": gettext_lazy("Reinstated"),
    "repaired": gettext_lazy("Reported repaired or upgraded"),
}
# The rulebook's sections a refusal may stand on, named as a reader knows them.
RULE_LABELS = {
    "lead_times": gettext_lazy("Lead time of the registration"),
    "emergency_priority": gettext_lazy("Urgent and emergency meetings"),
    "reply_sla": gettext_lazy("Reply deadline"),
    "capacity": gettext_lazy("MCU capacity"),
    "priority": gettext_lazy("Priority of higher-level bodies"),
    "registration": gettext_lazy("Registration"),
    "office_hours": gettext_lazy("Office hours"),
    "quotas": gettext_lazy("Quota of endpoints"),
    "admission": gettext_lazy("Admission of endpoints"),
    "personal_devices": gettext_lazy("Personal devices"),
    "technical_check": gettext_lazy("Technical check"),
    "rehearsal": gettext_lazy("Rehearsal"),
    "secrecy": gettext_lazy("State secrets"),
    "scope": gettext_lazy("Who registers for whom"),
    "bandwidth": gettext_lazy("Connection and bandwidth"),
    "room_standard": gettext_lazy("Room standard"),
    "security_check": gettext_lazy("Security check"),
}


def rule_label(key: str) -> str:
    return str(RULE_LABELS.get(key, key or _("Another article")))


# ---------------------------------------------------------------- building blocks


def _hours(seconds: int | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 1)


def _rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


class _Links:
    """Query strings of the rows behind a figure, for both periods."""

    def __init__(self, base: Mapping[str, str]):
        self.base = dict(base)

    def __call__(self, **keys: str | int) -> tuple[str, str]:
        query = {**self.base, **{k: str(v) for k, v in keys.items()}}
        return urlencode(query), urlencode({**query, "which": "previous"})


def _cell(pair: list[Any], link: tuple[str, str] | None = None,
          convert: Callable[[Any], Any] = lambda v: v) -> Cell:
    current, previous = (convert(pair[0]), convert(pair[1])) if pair else (None, None)
    links = link or ("", "")
    return Cell(current, previous, links[0], links[1])


def _chart_from(table: Table, column: int, *, horizontal: bool = False, unit: str = "",
                limit: int = 0) -> Chart:
    rows = table.rows[:limit] if limit else table.rows
    return Chart(
        key=table.key, title=table.title, labels=[row.label for row in rows],
        current=[row.cells[column].value or 0 for row in rows],
        previous=[row.cells[column].previous or 0 for row in rows],
        links=[row.cells[column].link for row in rows], unit=unit, horizontal=horizontal,
    )


# ---------------------------------------------------------------- the sections


def present(data: Mapping[str, Any], link_base: Mapping[str, str] | None = None) -> Presented:
    """The report of `data` (`figures.compute`, or a stored report's) as sections. Links
    carry `link_base`: the period and scope as the page's query parameters."""
    rulebook = get_rulebook(data["rulebook"]["name"])
    links = _Links(link_base or {"period": data["period"]["key"],
                                 **_scope_query(data["scope"])})
    from .periods import Period

    period = Period(_date(data["period"]["first"]), _date(data["period"]["last"]),
                    data["period"]["months"])
    previous = period.previous()
    sections = [
        _meetings(data, rulebook, links),
        _attendance(data, links),
        _nodes(data, links),
        _reply_sla(data, links),
        _refusals(data, rulebook, links),
        _checks(data, links),
        _incidents(data, links),
        _recordings(data, links),
        _admission(data, links),
    ]
    return Presented(
        title=_("Use of the online conference system"),
        period_label=period.label(), previous_label=previous.label(),
        scope_label=_scope_label(data["scope"], rulebook),
        sections=sections, data=data,
    )


def _date(text: str) -> Any:
    import datetime as dt

    return dt.date.fromisoformat(text)


def _scope_query(scope: Mapping[str, Any]) -> dict[str, str]:
    query = {}
    if scope.get("agency_id"):
        query["agency"] = str(scope["agency_id"])
    if scope.get("level"):
        query["level"] = scope["level"]
    return query


def _scope_label(scope: Mapping[str, Any], rulebook: Rulebook) -> str:
    """The scope in the reader's language (the stored label is in the maker's)."""
    parts = []
    if not scope.get("agency_id"):
        parts.append(_("Province of %(name)s") % {"name": rulebook.province_name})
    elif scope.get("with_units"):
        parts.append(_("%(agency)s and the units under it") % {"agency": scope["agency"]})
    else:
        parts.append(scope["agency"])
    if scope.get("level"):
        try:
            parts.append(bilingual(rulebook.level(scope["level"]), "label"))
        except KeyError:
            parts.append(scope["level"])
    return " · ".join(parts)


def _level_label(rulebook: Rulebook, key: str) -> str:
    try:
        return bilingual(rulebook.level(key), "label")
    except KeyError:
        return key or _("No level")


MEETING_MEASURES = ("total", "held", "refused", "cancelled", "revoked")


def _meeting_columns() -> list[Column]:
    return [
        Column("total", _("Meetings")),
        Column("held", str(OUTCOME_LABELS["held"])),
        Column("refused", str(OUTCOME_LABELS["refused"])),
        Column("cancelled", str(OUTCOME_LABELS["cancelled"])),
        Column("revoked", str(OUTCOME_LABELS["revoked"])),
        Column("hours", _("Hours of MCU use"), "hours"),
    ]


def _meeting_row(label: str, line: Mapping[str, Any], links: _Links, keys: dict[str, Any],
                 is_total: bool = False) -> Row:
    cells = []
    for measure in MEETING_MEASURES:
        pair = line["total"] if measure == "total" else line["outcome"][measure]
        extra = {} if measure == "total" else {"outcome": measure}
        cells.append(_cell(pair, links(**keys, **extra)))
    cells.append(_cell(line["seconds"], links(**keys, outcome="held"), _hours))
    return Row(label, cells, is_total=is_total)


def _meetings(data: Mapping[str, Any], rulebook: Rulebook, links: _Links) -> Section:
    m = data["meetings"]
    outcome = Table(
        "meetings-outcome", _("Meetings by outcome"), _("Outcome"),
        [Column("count", _("Meetings"))],
        [Row(str(label), [_cell(m["total"]["outcome"][key], links(outcome=key))])
         for key, label in OUTCOME_LABELS.items()],
        Row(_("Total"), [_cell(m["total"]["total"], links())], is_total=True),
        note=_("Meetings hosted in the scope, by the period their official session starts "
               "in; drafts are not counted."),
    )
    outcome.chart = _chart_from(outcome, 0)
    level_order = [lv.key for lv in rulebook.levels]
    by_level = Table(
        "meetings-by-level", _("Meetings by the level of the host"), _("Level"),
        _meeting_columns(),
        [_meeting_row(_level_label(rulebook, key), m["by_level"][key], links,
                      {"level": key or "-"})
         for key in sorted(m["by_level"], key=lambda k: level_order.index(k)
                           if k in level_order else len(level_order))],
        _meeting_row(_("Total"), m["total"], links, {}, True),
    )
    by_level.chart = _chart_from(by_level, 0)
    by_agency = Table(
        "meetings-by-agency", _("Meetings by host agency"), _("Agency"), _meeting_columns(),
        [_meeting_row(line["name"], line, links, {"host": line["id"]})
         for line in m["by_agency"]],
        _meeting_row(_("Total"), m["total"], links, {}, True),
    )
    by_type = Table(
        "meetings-by-type", _("Meetings by type"), _("Type"), _meeting_columns(),
        [_meeting_row(_choice_label(MeetingType, key), m["by_type"][key], links, {"type": key})
         for key in MeetingType.values if key in m["by_type"]],
        _meeting_row(_("Total"), m["total"], links, {}, True),
    )
    by_type.chart = _chart_from(by_type, 0, horizontal=True)
    by_urgency = Table(
        "meetings-by-urgency", _("Meetings by urgency"), _("Urgency"), _meeting_columns(),
        [_meeting_row(_choice_label(Urgency, key), m["by_urgency"][key], links,
                      {"urgency": key})
         for key in Urgency.values if key in m["by_urgency"]],
        _meeting_row(_("Total"), m["total"], links, {}, True),
    )
    hours = Table(
        "mcu-hours", _("Hours of MCU use by level"), _("Level"),
        [Column("hours", _("Hours of MCU use"), "hours")],
        [Row(row.label, [row.cells[-1]]) for row in by_level.rows],
        Row(_("Total"), [by_level.total.cells[-1]], is_total=True) if by_level.total else None,
        note=_("The booked session and rehearsal of each held meeting."),
    )
    hours.chart = _chart_from(hours, 0, unit="h")
    return Section("meetings", _("Meetings"), data["rulebook"]["article"],
                   [outcome, by_level, hours, by_agency, by_type, by_urgency])


def _choice_label(choices: Any, key: str) -> str:
    try:
        return str(choices(key).label)
    except ValueError:
        return key


def _attendance(data: Mapping[str, Any], links: _Links) -> Section:
    a = data["attendance"]

    def row(label: str, line: Mapping[str, Any], keys: dict[str, Any], agency: str,
            is_total: bool = False) -> Row:
        rate = [_rate(line["attended"][i], line["invited"][i]) for i in (0, 1)]
        plain = is_total or not keys
        return Row(label, [
            Cell(agency),
            _cell(line["invited"], None if plain else links(**keys, attendance="invited")),
            _cell(line["attended"], None if plain else links(**keys, attendance="attended")),
            _cell(line["missed"], None if plain else links(**keys, attendance="missed")),
            _cell(rate),
            _cell(line["seconds"], None, _hours),
        ], is_total=is_total)

    table = Table(
        "attendance", _("Attendance per endpoint"), _("Endpoint"),
        [Column("agency", _("Agency"), "text", compare=False),
         Column("invited", _("Meetings to attend")), Column("attended", _("Attended")),
         Column("missed", _("Missed")), Column("rate", _("Attendance rate"), "percent"),
         Column("hours", _("Hours connected"), "hours")],
        [row(line["name"], line, {"endpoint": line["id"]}, line["agency"])
         for line in a["endpoints"]],
        row(_("Total"), a["total"], {}, "", True),
        note=_("Held meetings each endpoint hosted or was invited to, whoever hosted them; "
               "attended means connected at least once; time connected runs from joining to "
               "leaving, each reconnection added."),
    )
    missed = sorted(table.rows, key=lambda r: -(r.cells[3].value or 0))
    chart = Chart("attendance", _("Endpoints that missed the most meetings"),
                  [r.label for r in missed[:10] if r.cells[3].value],
                  [r.cells[3].value for r in missed[:10] if r.cells[3].value],
                  [r.cells[3].previous for r in missed[:10] if r.cells[3].value],
                  [r.cells[3].link for r in missed[:10] if r.cells[3].value], horizontal=True)
    table.chart = chart if chart.labels else None
    return Section("attendance", _("Endpoints' attendance"), "", [table])


def _nodes(data: Mapping[str, Any], links: _Links) -> Section:
    n = data["nodes"]
    shown = n["load_shown"]
    columns = [Column("sessions", _("Held meetings"))]
    if shown:
        columns += [
            Column("peak_meetings", _("Peak of concurrent meetings")),
            Column("meeting_cap", _("Cap of meetings"), compare=False),
            Column("peak_endpoints", _("Peak of connected endpoints")),
            Column("endpoint_cap", _("Cap of endpoints"), compare=False),
            Column("at_cap", _("Hours at the cap"), "hours"),
            Column("busy", _("Hours in use"), "hours"),
        ]
    rows = []
    for line in n["nodes"]:
        cells = [_cell(line["sessions"], links(node=line["id"], outcome="held"))]
        if shown:
            cells += [
                _cell(line["peak_meetings"]), Cell(line["meeting_cap"]),
                _cell(line["peak_endpoints"]), Cell(line["endpoint_cap"]),
                _cell(line["seconds_at_cap"], None, _hours),
                _cell(line["seconds_busy"], None, _hours),
            ]
        rows.append(Row(line["name"], cells))
    note = _("Held meetings of the scope on each node.")
    if shown:
        note += " " + _(
            "The load is every meeting accepted and not withdrawn, from its technical check to "
            "its end, as booking counts it; the cap is %(percent)s%% of the node's maximum "
            "(%(article)s).") % {"percent": n["cap_percent"], "article": n["article"]}
    table = Table("nodes", _("MCU nodes"), _("Node"), columns, rows, note=note)
    if shown and rows:
        table.chart = Chart(
            "nodes", _("Peak of concurrent meetings against the cap"),
            [r.label for r in rows], [r.cells[1].value for r in rows],
            [r.cells[1].previous for r in rows], [r.cells[0].link for r in rows],
            caps=[r.cells[2].value for r in rows])
    return Section("nodes", _("MCU nodes"), n["article"], [table])


def _reply_sla(data: Mapping[str, Any], links: _Links) -> Section:
    s = data["reply_sla"]
    rows = [Row(str(label), [_cell(s[key], links(sla=key))])
            for key, label in SLA_LABELS.items()]
    table = Table(
        "reply-sla", _("Replies to registrations"), _("Reply"),
        [Column("count", _("Registrations"))], rows,
        Row(_("Received"), [_cell(s["received"])], is_total=True),
        note=_("Registrations received in the period, hosted in the scope; the operator "
               "replies within %(hours)s working hours.") % {"hours": f"{s['hours']:g}"},
    )
    table.chart = _chart_from(table, 0, horizontal=True)
    summary = Table(
        "reply-sla-summary", _("The reply deadline kept"), _("Figure"),
        [Column("value", _("Value"), "number")],
        [Row(_("Share answered in time (%)"), [_cell(s["share_in_time"])]),
         Row(_("Breaches of the deadline"), [_cell(s["breaches"])]),
         Row(_("Average time to reply (hours)"), [_cell(s["average_reply_seconds"], None,
                                                       _hours)])],
    )
    return Section("reply_sla", _("Reply deadline"), s["article"], [table, summary])


def _refusals(data: Mapping[str, Any], rulebook: Rulebook, links: _Links) -> Section:
    r = data["refusals"]
    m = data["meetings"]
    rows = [
        Row(f"{rule_label(line['rule'])} ({line['article']} {rulebook.short})",
            [_cell(line["count"], links(refused_article=line["article"]))])
        for line in r["by_article"]
    ]
    rows.append(Row(_("No article cited in the reason"),
                    [_cell(r["none_cited"], links(refused_article=""))]))
    table = Table(
        "refusals", _("Refusals by rule and article"), _("Rule"),
        [Column("count", _("Refused"))], rows,
        Row(_("Refused meetings"), [_cell(m["total"]["outcome"]["refused"],
                                          links(outcome="refused"))], is_total=True),
        note=_("By the articles the reason cites; a reason citing several counts under "
               "each. Refusals the system makes at once (a late registration, a full quota) "
               "are answered on the form and are not stored, so they are not counted."),
    )
    level_order = [lv.key for lv in rulebook.levels]
    revoked = Table(
        "revocations", _("Revoked codes by the level of the host"), _("Level"),
        [Column("count", _("Revoked"))],
        [Row(_level_label(rulebook, key),
             [_cell(m["by_level"][key]["outcome"]["revoked"],
                    links(level=key or "-", outcome="revoked"))])
         for key in sorted(m["by_level"], key=lambda k: level_order.index(k)
                           if k in level_order else len(level_order))
         if any(m["by_level"][key]["outcome"]["revoked"])],
        Row(_("Total"), [_cell(m["total"]["outcome"]["revoked"], links(outcome="revoked"))],
            is_total=True),
        note=_("A code is revoked to serve a meeting of a higher-level body (%(article)s).")
        % {"article": r["revocation_article"]},
    )
    return Section("refusals", _("Refusals and revocations"), "", [table, revoked])


def _checks(data: Mapping[str, Any], links: _Links) -> Section:
    c = data["checks"]
    table = Table(
        "checks", _("Technical checks"), _("Result"), [Column("count", _("Checks"))],
        [Row(str(label), [_cell(c[key], links(what="checks", check=key))])
         for key, label in CHECK_LABELS.items()],
        Row(_("Due in the period"), [_cell(c["due"], links(what="checks"))], is_total=True),
        note=_("Checks of the scope's endpoints due in the period."),
    )
    rate = Table("checks-pass-rate", _("Pass rate"), _("Figure"),
                 [Column("value", _("Value"), "percent")],
                 [Row(_("Ready at the first check, of those recorded"), [_cell(c["pass_rate"])])])
    items = Table(
        "checks-failed-items", _("Items not ready"), _("Item"), [Column("count", _("Checks"))],
        [Row(check_item_label(item), [_cell(pair, links(what="checks", item=item))])
         for item, pair in c["failed_items"].items()],
    )
    items.chart = _chart_from(items, 0, horizontal=True)
    return Section("checks", _("Technical checks"), "", [table, rate, items])


def _incidents(data: Mapping[str, Any], links: _Links) -> Section:
    i = data["incidents"]
    columns = [Column("opened", _("Reported")), Column("closed", _("Resolved")),
               Column("open", _("Still open")),
               Column("average", _("Average hours to resolve"), "hours"),
               Column("longest", _("Longest (hours)"), "hours")]

    def row(label: str, line: Mapping[str, Any], keys: dict[str, str], total: bool) -> Row:
        cells = [_cell(line["opened"], links(what="incidents", **keys)),
                 _cell(line["closed"], links(what="incidents", state="closed", **keys)),
                 _cell(line["open"], links(what="incidents", state="open", **keys))]
        if total:
            cells += [Cell(), Cell()]
        else:
            cells += [_cell(line["average_seconds"], None, _hours),
                      _cell(line["longest_seconds"], None, _hours)]
        return Row(label, cells, is_total=total)

    table = Table(
        "incidents", _("Incidents by kind"), _("Kind"), columns,
        [row(str(label), i["kinds"][key], {"kind": key}, False)
         for key, label in INCIDENT_LABELS.items()],
        row(_("Total"), i["total"], {}, True),
        note=_("Incidents reported in the period on the scope's endpoints, or on its "
               "meetings when no endpoint is named; time to resolve runs from the report to "
               "the closing."),
    )
    table.chart = _chart_from(table, 0, horizontal=True)
    items = Table(
        "incidents-items", _("Incidents found by a check, by item"), _("Item"),
        [Column("count", _("Incidents"))],
        [Row(check_item_label(item), [_cell(pair, links(what="incidents", item=item))])
         for item, pair in i["check_items"].items()],
    )
    return Section("incidents", _("Incidents"), "", [table, items])


def _recordings(data: Mapping[str, Any], links: _Links) -> Section:
    r = data["recordings"]
    rows = [Row(_("Recording asked for"), [_cell(r["requested"], links(recording="requested"))]),
            Row(_("Recording asked for, meeting held"),
                [_cell(r["requested_held"], links(recording="requested_held"))])]
    note = _("Whether each recording was handed over within the deadline (%(article)s) is "
             "kept by the archive of recordings, not in this report.")
    if r.get("handover_counted"):  # a report stored before the archive's figures has none
        rows += [Row(_("Handed over within the deadline"),
                     [_cell(r["handed_in_time"], links(recording="handed_in_time"))]),
                 Row(_("Handed over after the deadline"),
                     [_cell(r["handed_late"], links(recording="handed_late"))]),
                 Row(_("Deadline passed, not handed over"),
                     [_cell(r["handover_overdue"], links(recording="handover_overdue"))])]
        note = _("The deadline to hand the recording over to the host agency (%(article)s) "
                 "runs in working days from the end of the session.")
    table = Table("recordings", _("Recordings"), _("Figure"), [Column("count", _("Meetings"))],
                  rows, note=note % {"article": r["handover_article"]})
    return Section("recordings", _("Recordings"), r["handover_article"], [table])


def _admission(data: Mapping[str, Any], links: _Links) -> Section:
    a = data["admission"]
    changes = Table(
        "admission", _("Changes to endpoints"), _("Change"), [Column("count", _("Endpoints"))],
        [Row(str(label), [_cell(a["changes"][key], links(what="endpoints", change=key))])
         for key, label in ADMISSION_LABELS.items()],
        note=_("Endpoints of the scope changed in the period, from the audit log; an "
               "endpoint changed twice the same way counts once."),
    )
    changes.chart = _chart_from(changes, 0, horizontal=True)
    now = Table(
        "endpoints-now", _("Endpoints by status today"), _("Status"),
        [Column("count", _("Endpoints"), compare=False)],
        [Row(str(EndpointStatus(key).label),
             [Cell(count, None, links(what="endpoints", status=key)[0])])
         for key, count in a["status_now"].items()],
        Row(pgettext("endpoints", "Total"), [Cell(sum(a["status_now"].values()))],
            is_total=True),
    )
    return Section("admission", _("Endpoints admitted, suspended and repaired"), "",
                   [changes, now])
