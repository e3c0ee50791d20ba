"""The `Rulebook` model: a province's regulation as data, with cross-section checks."""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from .schema import (
    Admission,
    Article,
    Bandwidth,
    Capacity,
    Closing,
    Contacts,
    Control,
    Duty,
    EmergencyPriority,
    Equipment,
    Frozen,
    Handover,
    Interconnection,
    KeyedValueError,
    LeadTimes,
    Level,
    LineIncidents,
    Materials,
    Naming,
    OfficeHours,
    Operator,
    PersonalDevices,
    Priority,
    Quotas,
    Registration,
    Rehearsal,
    ReplySla,
    Reporting,
    RoomStandard,
    Scope,
    Script,
    Secrecy,
    Section,
    Security,
    SecurityCheck,
    Session,
    TechnicalCheck,
    Text,
    VcsAddress,
    check_kinds,
)
from .vocabulary import AGENCY_KINDS, LevelKey

# Cited when the regulation has no article for a rule (the section's note_vi says why).
_NO_ARTICLE = "{short} (không có điều khoản cụ thể)"
# A deployment's own choice, which no article of the regulation makes (R20: whether
# state-secret meetings may be recorded).
_DEPLOYMENT_SETTING = "Cấu hình triển khai ({key}), không phải điều khoản của {short}"


class Rulebook(Frozen):
    # Set by the loader from the file, never written in the TOML.
    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    source: str

    title: Text
    title_en: Text
    short: Text
    decision: Text
    province_name: Text
    province_ascii: Annotated[str, Field(pattern=r"^[A-Za-z]+( [A-Za-z]+)*$")]
    province_code: Annotated[int, Field(ge=1, le=99)]
    admin_data: Literal["current", "pre-2025"]
    timezone: Text

    levels_article: Article
    levels: list[Level] = Field(min_length=1)
    kind_levels: dict[str, LevelKey]

    # Sections, in the order of the life of an endpoint and of a meeting.
    operator: Operator
    room_standard: RoomStandard
    naming: Naming | None = None
    quotas: Quotas
    bandwidth: Bandwidth
    vcs_address: VcsAddress
    personal_devices: PersonalDevices
    security_check: SecurityCheck
    admission: Admission
    contacts: Contacts
    scope: Scope
    registration: Registration
    office_hours: OfficeHours
    lead_times: LeadTimes
    emergency_priority: EmergencyPriority
    reply_sla: ReplySla
    capacity: Capacity
    priority: Priority
    rehearsal: Rehearsal
    technical_check: TechnicalCheck
    session: Session
    control: Control
    script: Script
    closing: Closing
    handover: Handover
    materials: Materials
    secrecy: Secrecy
    security: Security
    reporting: Reporting
    interconnection: Interconnection
    equipment: Equipment
    duty: Duty
    line_incidents: LineIncidents

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("levels")
    @classmethod
    def _levels_by_rank(cls, levels: list[Level]) -> list[Level]:
        for index, level in enumerate(levels):
            for other in levels[:index]:
                if other.key == level.key:
                    raise KeyedValueError((index, "key"), f"level {level.key!r} is listed twice")
                if other.rank == level.rank:
                    raise KeyedValueError(
                        (index, "rank"), f"rank {level.rank} is also {other.key!r}'s"
                    )
        # Highest level first: the order used for priority and for display.
        return sorted(levels, key=lambda level: -level.rank)

    @field_validator("kind_levels")
    @classmethod
    def _known_kinds(cls, kind_levels: dict[str, str]) -> dict[str, str]:
        check_kinds(kind_levels)
        return kind_levels

    @model_validator(mode="after")
    def _cross_references(self) -> Rulebook:
        if not self.levels_article:
            raise KeyedValueError("levels_article", "must cite the article defining the levels")
        levels: set[str] = {level.key for level in self.levels}
        for kind, mapped in self.kind_levels.items():
            if mapped not in levels:
                raise KeyedValueError(
                    ("kind_levels", kind),
                    f"level {mapped!r} is not one of this rulebook's levels: "
                    + ", ".join(sorted(levels)),
                )
        for where, kinds in self._kind_references():
            for index, kind in enumerate(kinds):
                if kind not in self.kind_levels:
                    key: tuple[str | int, ...] = (
                        (*where, kind) if isinstance(kinds, dict) else (*where, index)
                    )
                    raise KeyedValueError(key, f"agency kind {kind!r} is not in kind_levels")
        for kind, limit in self.quotas.per_kind.items():
            if limit is not None and kind not in self.quotas.per_kind_articles:
                raise KeyedValueError(
                    ("quotas", "per_kind_articles", kind),
                    "a limited kind must cite the clause of its limit",
                )
        for where, used in self._level_references():
            for index, used_level in enumerate(used):
                if used_level not in levels:
                    raise KeyedValueError(
                        (*where, index),
                        f"level {used_level!r} is not one of this rulebook's levels",
                    )
        for where, needed in self._levels_needed():
            missing = [key for key in needed if key not in levels]
            if missing:
                raise KeyedValueError(where, f"needs the level(s) {', '.join(missing)}")
        if self.technical_check.before_rehearsal and not self.rehearsal.supported:
            raise KeyedValueError(
                ("technical_check", "before_rehearsal"), "rehearsal.supported is false"
            )
        return self

    def _kind_references(self) -> list[tuple[tuple[str, ...], Any]]:
        refs: list[tuple[tuple[str, ...], Any]] = [
            (("quotas", "per_kind"), self.quotas.per_kind),
            (("scope", "subordinates_for_kinds"), self.scope.subordinates_for_kinds),
            (
                ("registration", "announced_by_offices_for_kinds"),
                self.registration.announced_by_offices_for_kinds,
            ),
            (("bandwidth", "tslcd_or_wan_for_kinds"), self.bandwidth.tslcd_or_wan_for_kinds),
            (("quotas", "per_kind_articles"), self.quotas.per_kind_articles),
        ]
        if self.naming is not None:
            refs.append((("naming", "patterns"), self.naming.patterns))
        return refs

    def _level_references(self) -> list[tuple[tuple[str, ...], list[str]]]:
        return [
            (("control", "controller_levels"), self.control.controller_levels),
            (("priority", "unranked_levels"), self.priority.unranked_levels),
            (
                ("control", "subordinate_controller_levels"),
                self.control.subordinate_controller_levels or [],
            ),
        ]

    def _levels_needed(self) -> list[tuple[tuple[str, ...], list[str]]]:
        needed: list[tuple[tuple[str, ...], list[str]]] = []
        if self.control.commune_hosted_controlled_by == "district":
            needed.append((("control", "commune_hosted_controlled_by"), ["district", "commune"]))
        if self.registration.district_registers_for_communes:
            needed.append(
                (("registration", "district_registers_for_communes"), ["district", "commune"])
            )
        if self.contacts.consolidated_by_district:
            needed.append((("contacts", "consolidated_by_district"), ["district", "commune"]))
        return needed

    def __hash__(self) -> int:
        # Usable as a cache key; equal rulebooks have the same name and source.
        return hash((self.name, self.source))

    # -- citations -------------------------------------------------------------------------

    def cite(self, article: str) -> str:
        """Cite an article: "Điều 13.2a" → "Điều 13.2a Quy chế KH"; "" says there is none."""
        return f"{article} {self.short}" if article else _NO_ARTICLE.format(short=self.short)

    def cite_setting(self, key: str) -> str:
        """Cite a deployment default ("secrecy.state_secret_allows_recording") as what it is:
        the deployment's setting, not an article of the regulation."""
        return _DEPLOYMENT_SETTING.format(key=key, short=self.short)

    # -- sections --------------------------------------------------------------------------

    def rule(self, key: str) -> Section | None:
        """A section by its top-level key ("capacity", "lead_times"…); None if not given."""
        if key not in SECTION_KEYS:
            raise KeyError(
                f"{key!r} is not a rulebook section; sections: {', '.join(SECTION_KEYS)}"
            )
        section: Section | None = getattr(self, key)
        return section

    def sections(self) -> dict[str, Section | None]:
        return {key: self.rule(key) for key in SECTION_KEYS}

    # -- levels and agency kinds -----------------------------------------------------------

    def level(self, key: str) -> Level:
        for level in self.levels:
            if level.key == key:
                return level
        raise KeyError(f"{key!r} is not a level of {self.short} ({self.levels_article})")

    def supports_kind(self, kind: str) -> bool:
        return kind in self.kind_levels

    def level_for_kind(self, kind: str) -> str:
        try:
            return self.kind_levels[kind]
        except KeyError:
            raise KeyError(
                f"agency kind {kind!r} has no level in {self.cite(self.levels_article)}"
            ) from None

    def kinds_for_level(self, level: str) -> list[str]:
        return [kind for kind in AGENCY_KINDS if self.kind_levels.get(kind) == level]

    def level_rank_for_kind(self, kind: str) -> int:
        return self.level(self.level_for_kind(kind)).rank

    def priority_rank_for_kind(self, kind: str) -> int | None:
        """The rank that priority compares (KH Đ12.4b), or None for a kind on a level the
        rulebook leaves unranked (`priority.unranked_levels`)."""
        level = self.level_for_kind(kind)
        if level in self.priority.unranked_levels:
            return None
        return self.level(level).rank

    @property
    def upstream_rank(self) -> int:
        """The rank of a meeting hosted upstream (the Government's, a national body's): above
        every level of the province when `interconnection.upstream_ranks_first`, else the
        highest level's."""
        top = self.levels[0].rank  # levels are sorted highest first
        return top + 1 if self.interconnection.upstream_ranks_first else top

    # -- naming ----------------------------------------------------------------------------

    def endpoint_name(self, kind: str, **values: str) -> str | None:
        """Suggested endpoint name for an agency, or None when there is no naming rule."""
        if self.naming is None:
            return None
        values.setdefault("province_ascii", self.province_ascii)
        return self.naming.render(kind, **values)


def _is_section_field(annotation: Any) -> bool:
    candidates = get_args(annotation) or (annotation,)
    return any(isinstance(c, type) and issubclass(c, Section) for c in candidates)


SECTION_KEYS: tuple[str, ...] = tuple(
    key for key, info in Rulebook.model_fields.items() if _is_section_field(info.annotation)
)
