"""A rulebook as readable text: every section, every rule, and the article it comes from."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from .rulebook import SECTION_KEYS, Rulebook
from .schema import Section

_BASE_FIELDS = ("article", "text_vi", "text_en", "note_vi", "note_en", "deployment_defaults")
_DEFAULT_MARK = " (*)"
_LEGEND = (
    "(*) mặc định triển khai, không do quy chế quy định / "
    "deployment default, not from the regulation"
)


def format_rulebook(rulebook: Rulebook) -> str:
    lines = [
        f"{rulebook.short} — {rulebook.name}",
        rulebook.title,
        rulebook.title_en,
        f"Quyết định / decision: {rulebook.decision}",
        f"Tỉnh / province: {rulebook.province_name} ({rulebook.province_ascii}), "
        f"mã / code {rulebook.province_code}; dữ liệu hành chính / admin data: "
        f"{rulebook.admin_data}; múi giờ / time zone: {rulebook.timezone}",
        f"Tệp / file: {rulebook.source}",
        "",
        f"[levels] {rulebook.cite(rulebook.levels_article)}",
    ]
    for level in rulebook.levels:
        kinds = ", ".join(rulebook.kinds_for_level(level.key)) or "—"
        lines.append(f"  {level.rank:>3} {level.key}: {level.label_vi} / {level.label_en}")
        lines.append(f"      kinds: {kinds}")
    for key in SECTION_KEYS:
        lines.append("")
        lines.extend(_section_lines(rulebook, key, rulebook.rule(key), indent=""))
    lines.extend(["", _LEGEND])
    return "\n".join(lines)


def _section_lines(rulebook: Rulebook, key: str, section: Section | None, indent: str) -> list[str]:
    if section is None:
        return [f"{indent}[{key}] — (không có / none)"]
    lines = [f"{indent}[{key}] {rulebook.cite(section.article)}"]
    inner = indent + "  "
    lines.append(f"{inner}{section.text_vi}")
    lines.append(f"{inner}{section.text_en}")
    for name in type(section).model_fields:
        if name in _BASE_FIELDS:
            continue
        value = getattr(section, name)
        mark = _DEFAULT_MARK if section.is_deployment_default(name) else ""
        if isinstance(value, Section):
            lines.extend(_section_lines(rulebook, f"{key}.{name}", value, inner))
        elif isinstance(value, list) and value and isinstance(value[0], BaseModel):
            lines.append(f"{inner}{name}:")
            lines.extend(f"{inner}  - {_item(item)}" for item in value)
        elif isinstance(value, dict):
            if not value:
                lines.append(f"{inner}{name} = {{}}{mark}")
            for sub, subvalue in value.items():
                lines.append(f"{inner}{name}.{sub} = {_value(key, subvalue)}{mark}")
        else:
            lines.append(f"{inner}{name} = {_value(key, value)}{mark}")
    if section.note_vi:
        lines.append(f"{inner}Ghi chú: {section.note_vi}")
        lines.append(f"{inner}Note: {section.note_en}")
    return lines


def _item(item: BaseModel) -> str:
    data = item.model_dump()
    head = f"{data.pop('key', '')} ({data.pop('article', '')})"
    return f"{head}: {data.pop('text_vi', '')} / {data.pop('text_en', '')}"


def _value(section_key: str, value: Any) -> str:
    if value is None and section_key == "quotas":
        return "không hạn chế / unlimited"  # in quotas None means "no limit"
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_value(section_key, v) for v in value) + "]"
    if isinstance(value, tuple):
        return "–".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
