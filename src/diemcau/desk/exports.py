"""The spreadsheets of the desk (openpyxl): the equipment register and the consolidated
contact list, for one agency or one district with its communes."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from .models import Device, EndpointLine
from .selectors import ContactRow


def _cell(value: Any) -> Any:
    # A text starting with = + - @ would be read as a formula by a spreadsheet program.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def _workbook(title: str, heading: str, header: Sequence[str],
              rows: Iterable[Sequence[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    sheet.append([heading])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append([_("Exported at"), timezone.localtime().strftime("%d/%m/%Y %H:%M")])
    sheet.append([])
    sheet.append(list(header))
    for cell in sheet[4]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([_cell(v) for v in row])
    for column in sheet.columns:
        letter = column[0].column_letter  # type: ignore[union-attr]
        width = max((len(str(c.value)) for c in column[3:] if c.value is not None), default=8)
        sheet.column_dimensions[letter].width = min(max(width + 2, 10), 50)
    sheet.freeze_panes = "A5"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _day(value: Any) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def equipment_xlsx(devices: Iterable[Device], heading: str) -> bytes:
    devices = list(devices)
    lines = {line.endpoint_id: line for line in EndpointLine.objects.select_related(
        "provider").filter(endpoint_id__in={d.endpoint_id for d in devices})}
    header = [_("Agency"), _("Endpoint"), _("Kind"), _("Model"), _("Serial number"),
              _("Asset code"), _("Purchased on"), _("Warranty until"), _("In service"),
              _("Line provider"), _("Line or contract reference"), _("Repairs and upgrades"),
              _("Last repair or upgrade")]
    rows = []
    for device in devices:
        line = lines.get(device.endpoint_id)
        works = list(device.works.all())
        rows.append([
            device.endpoint.agency.name, device.endpoint.name, device.get_kind_display(),
            device.model, device.serial, device.asset_code, _day(device.purchased_on),
            _day(device.warranty_until), _("yes") if device.in_service else _("no"),
            line.provider.name if line else "", line.circuit_reference if line else "",
            len(works), _day(works[0].done_on) if works else "",
        ])
    return _workbook(_("Equipment"), heading, header, rows)


def contacts_xlsx(rows: Iterable[ContactRow], heading: str) -> bytes:
    header = [_("Agency"), _("Endpoint"), _("Room location"), _("Office leader"), _("Phone"),
              _("Email"), _("Technician"), _("Phone"), _("Email"), _("Trained on")]
    out = []
    for row in rows:
        leader, tech = row.leader, row.technician
        training = getattr(tech, "desk_training", None) if tech else None
        trained_on = (tech.trained_on if tech else None) or (
            training.done_on if training else None)
        trained = _day(trained_on) if trained_on else (
            _("training open") if row.training_open else "")
        out.append([
            row.endpoint.agency.name, row.endpoint.name, row.endpoint.location,
            leader.full_name if leader else "", leader.phone if leader else "",
            leader.email if leader else "",
            tech.full_name if tech else "", tech.phone if tech else "",
            tech.email if tech else "", trained,
        ])
    return _workbook(_("Contacts"), heading, header, out)
