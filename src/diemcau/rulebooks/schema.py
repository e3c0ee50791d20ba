"""The shape of a rulebook: one frozen pydantic model per section of the TOML file.

Every section carries the article it comes from (`article`, e.g. "Điều 13.2a") and a summary of
the rule in Vietnamese and English. When the regulation has no such article, `article` is empty
and `note_vi`/`note_en` must say so. Values that the regulation does not give (a deployment's
own choice) are named in the section's `deployment_defaults`.
"""

from __future__ import annotations

import re
import string
import unicodedata
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from .vocabulary import (
    AGENCY_KINDS,
    NAMING_PLACEHOLDERS,
    NETWORKS,
    CapacityMeasure,
    CheckItem,
    ContactRole,
    Network,
    RegistrationChannel,
    RegistrationField,
    SecurityCheckTrigger,
    Urgency,
)


class KeyedValueError(ValueError):
    """A validation failure that names the key (below the model raising it) it is about."""

    def __init__(self, key: tuple[str | int, ...] | str, message: str) -> None:
        super().__init__(message)
        self.key: tuple[str | int, ...] = (key,) if isinstance(key, str) else key
        self.message = message


class Frozen(BaseModel):
    # strict: a rulebook is hand-written configuration; "2" is not 2 and true is not 1.
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


# One citation: "Điều 13", "Điều 13.2a", "Điều 11.2b–c", "Điều 6.1–4", "Điều 8 (đoạn cuối)".
_ARTICLE_PART = re.compile(r"^Điều \d+(\.\d+[a-zđ]?([–-][0-9a-zđ]+)?)?( \([^()]+\))?$")


def _check_article(value: str) -> str:
    value = unicodedata.normalize("NFC", value.strip())
    for part in value.split(", ") if value else []:
        if not _ARTICLE_PART.match(part):
            raise ValueError(
                f"article {part!r} should look like 'Điều 13.2a' (several: 'Điều 8.3c, Điều 16.5')"
            )
    return value


def _check_text(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return unicodedata.normalize("NFC", value.strip())


def _unlimited_to_none(value: Any) -> Any:
    # TOML has no null: quotas say "unlimited" instead.
    return None if value == "unlimited" else value


def _lists_to_tuples(value: Any) -> Any:
    if isinstance(value, list):
        return [tuple(item) if isinstance(item, list) else item for item in value]
    return value


Article = Annotated[str, AfterValidator(_check_article)]
Text = Annotated[str, AfterValidator(_check_text)]
Quota = Annotated[Annotated[int, Field(ge=0)] | None, BeforeValidator(_unlimited_to_none)]
Hours = Annotated[float, Field(ge=0)]


def check_kinds(keys: Any, where: tuple[str | int, ...] = ()) -> None:
    """Refuse agency kinds outside the shared vocabulary (dict keys or list items)."""
    items = keys.keys() if isinstance(keys, dict) else keys
    for index, kind in enumerate(items):
        if kind not in AGENCY_KINDS:
            key = kind if isinstance(keys, dict) else index
            raise KeyedValueError(
                (*where, key), f"unknown agency kind {kind!r}; known: {', '.join(AGENCY_KINDS)}"
            )


def check_unique(values: list[Any], key: str) -> None:
    for index, value in enumerate(values):
        if value in values[:index]:
            raise KeyedValueError((key, index), f"{value!r} is listed twice")


class Section(Frozen):
    article: Article
    text_vi: Text
    text_en: Text
    note_vi: str = ""
    note_en: str = ""
    deployment_defaults: list[str] = []

    @model_validator(mode="after")
    def _cited_or_explained(self) -> Section:
        if not self.article and not self.note_vi.strip():
            raise KeyedValueError(
                "article", "is empty: cite the article, or say in note_vi that there is none"
            )
        if self.note_vi.strip() and not self.note_en.strip():
            raise KeyedValueError("note_en", "note_vi is given, so note_en must be too")
        own = set(type(self).model_fields) - set(Section.model_fields)
        for index, name in enumerate(self.deployment_defaults):
            if name not in own:
                raise KeyedValueError(
                    ("deployment_defaults", index), f"{name!r} is not a field of this section"
                )
        return self

    def is_deployment_default(self, field: str) -> bool:
        """True when the value of `field` is a deployment's choice, not the regulation's."""
        return field in self.deployment_defaults


class Level(Frozen):
    key: Literal["central", "province", "district", "commune", "other"]
    rank: int = Field(ge=0)
    label_vi: Text
    label_en: Text


class Operator(Section):
    managing_agency_vi: Text
    managing_agency_en: Text
    technical_unit_vi: Text
    technical_unit_en: Text


class RoomItem(Frozen):
    key: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    article: Article
    text_vi: Text
    text_en: Text
    # An item only a room that is given control rights must meet (KH Đ10.2b: one working
    # laptop); a room that only takes part passes its evaluation without it.
    control_only: bool = False


class RoomStandard(Section):
    items: list[RoomItem] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_keys(self) -> RoomStandard:
        check_unique([item.key for item in self.items], "items")
        return self


class Naming(Section):
    patterns: dict[str, Text]
    # The point of the naming clause each kind's pattern comes from (KH Đ6.4a–d); a refusal
    # cites it down to the point, and falls back to `article`.
    pattern_articles: dict[str, Article] = {}
    device_suffix: Text  # a regular expression for ".01", ".02"…
    device_suffix_format: Text  # str.format pattern with {index}, e.g. ".{index:02d}"

    @model_validator(mode="after")
    def _check_patterns(self) -> Naming:
        check_kinds(self.patterns, ("patterns",))
        check_kinds(self.pattern_articles, ("pattern_articles",))
        for kind, pattern in self.patterns.items():
            try:
                fields = [
                    (name, spec, conv) for _, name, spec, conv in string.Formatter().parse(pattern)
                ]
            except ValueError as exc:
                raise KeyedValueError(("patterns", kind), f"malformed pattern: {exc}") from None
            for name, spec, conv in fields:
                if name is None:
                    continue
                if name not in NAMING_PLACEHOLDERS or spec or conv:
                    raise KeyedValueError(
                        ("patterns", kind),
                        f"unknown placeholder {{{name}}}; known: "
                        + ", ".join(f"{{{p}}}" for p in NAMING_PLACEHOLDERS),
                    )
        try:
            suffix = re.compile(self.device_suffix)
        except re.error as exc:
            raise KeyedValueError("device_suffix", f"not a regular expression: {exc}") from None
        try:
            example = self.device_suffix_format.format(index=1)
        except (KeyError, ValueError, IndexError) as exc:
            raise KeyedValueError("device_suffix_format", f"needs only {{index}}: {exc}") from None
        if not suffix.fullmatch(example):
            raise KeyedValueError(
                "device_suffix_format", f"gives {example!r}, which device_suffix does not match"
            )
        return self

    def pattern_for(self, kind: str) -> str | None:
        return self.patterns.get(kind)

    def article_for(self, kind: str) -> str:
        """The point of the naming rule for `kind` ("Điều 6.4c"), else the whole clause."""
        return self.pattern_articles.get(kind, self.article)

    def render(self, kind: str, **values: str) -> str | None:
        """The endpoint name for an agency of `kind`, or None when the rule has no pattern."""
        pattern = self.patterns.get(kind)
        return None if pattern is None else pattern.format(**values)

    def device_name(self, base: str, index: int) -> str:
        """Name of the index-th device (1-based) of one endpoint: "UBND.Nha Trang.01"."""
        return base + self.device_suffix_format.format(index=index)

    def split_device_suffix(self, name: str) -> tuple[str, str]:
        """("UBND.Nha Trang", ".01") for "UBND.Nha Trang.01"; (name, "") without a suffix."""
        match = re.search(f"(?:{self.device_suffix})$", name)
        return (name[: match.start()], match.group(0)) if match else (name, "")


class Quotas(Section):
    exception_article: Article = ""
    per_kind: dict[str, Quota]
    default: Quota
    # The clause that sets each kind's quota ("Điều 8.2" for a department): a refusal cites
    # it down to the khoản; a kind not listed is cited by `article`.
    per_kind_articles: dict[str, Article] = {}

    @model_validator(mode="after")
    def _known_kinds(self) -> Quotas:
        check_kinds(self.per_kind, ("per_kind",))
        check_kinds(self.per_kind_articles, ("per_kind_articles",))
        return self

    def article_for(self, kind: str) -> str:
        """The clause that sets the quota of `kind`, or the section's article."""
        return self.per_kind_articles.get(kind) or self.article

    def quota_for(self, kind: str) -> int | None:
        """Most endpoints an agency of `kind` may have; None means no limit."""
        return self.per_kind.get(kind, self.default)


class Bandwidth(Section):
    minimum_mbps: dict[str, Annotated[float, Field(ge=0)]]
    tslcd_dedicated: bool
    internet_not_shared: bool
    # ĐN Đ6.2: the network an endpoint should use; another one is warned about, not refused.
    preferred_network: Network | None = None
    preferred_network_article: Article = ""
    # The agency kinds a clause keeps on TSLCD or WAN (KH Đ6.3a: "Cơ quan, đơn vị cấp tỉnh,
    # huyện, xã tại điểm b, c, d khoản 2 Điều 3"), and that clause. Every other kind may
    # use the Internet: the clause reads by kind, not by level, since a level can hold bodies
    # the clause does not name (KH puts Tỉnh ủy and HĐND on the province level; Đ3.2b names
    # only the departments).
    tslcd_or_wan_for_kinds: list[str] = []
    tslcd_or_wan_article: Article = ""
    # The clause of each network's own rule (KH: TSLCD and WAN Đ6.3a, Internet Đ6.3b).
    network_articles: dict[Network, Article] = {}

    @model_validator(mode="after")
    def _all_networks(self) -> Bandwidth:
        for network in self.minimum_mbps:
            if network not in NETWORKS:
                raise KeyedValueError(("minimum_mbps", network), f"unknown network {network!r}")
        for network in NETWORKS:
            if network not in self.minimum_mbps:
                raise KeyedValueError(("minimum_mbps", network), "required key is missing")
        return self

    def minimum_for(self, network: str) -> float:
        return self.minimum_mbps[network]

    def article_for(self, network: str) -> str:
        """The clause of `network`'s rule ("Điều 6.3b"), else the whole article."""
        return self.network_articles.get(network, self.article)  # type: ignore[call-overload]

    def internet_allowed_for(self, kind: str) -> bool:
        return kind not in self.tslcd_or_wan_for_kinds


class SecurityCheck(Section):
    required: bool
    triggers: list[SecurityCheckTrigger] = []
    authority_vi: str = ""

    @model_validator(mode="after")
    def _triggers_when_required(self) -> SecurityCheck:
        if self.required and not self.triggers:
            raise KeyedValueError("triggers", "a required check needs at least one trigger")
        return self


class PersonalDevices(Section):
    requires_evaluation: bool
    requires_access_grant: bool


class Admission(Section):
    requires_evaluation: bool
    issues_account: bool
    requires_room_standard: bool
    room_standard_article: Article
    # Who consents to a change of an admitted terminal's parameters (ĐN Đ6.6, KH Đ11.5).
    parameters_consent_article: Article = ""


class Contacts(Section):
    required_roles: list[ContactRole] = Field(min_length=1)
    training_on_change: bool
    consolidated_by_district: bool
    list_kept_article: Article


class Scope(Section):
    subordinates_for_kinds: list[str]

    @model_validator(mode="after")
    def _known_kinds(self) -> Scope:
        check_kinds(self.subordinates_for_kinds, ("subordinates_for_kinds",))
        return self


class LeadTime(Section):
    hours: Hours | None = None
    working_days: Annotated[int, Field(ge=0)] | None = None
    exempt: bool = False

    @model_validator(mode="after")
    def _exactly_one(self) -> LeadTime:
        given = [self.hours is not None, self.working_days is not None, self.exempt]
        if sum(given) != 1:
            raise ValueError("give exactly one of hours, working_days or exempt = true")
        return self


class LeadTimes(Section):
    normal: LeadTime
    urgent: LeadTime
    emergency: LeadTime

    def __getitem__(self, urgency: Urgency | str) -> LeadTime:
        if urgency not in ("normal", "urgent", "emergency"):
            raise KeyError(urgency)
        lead_time: LeadTime = getattr(self, urgency)
        return lead_time


class EmergencyPriority(Section):
    applies_to: list[Literal["urgent", "emergency"]] = Field(min_length=1)


class ReplySla(Section):
    hours: Annotated[float, Field(gt=0)]
    warn_before_minutes: Annotated[int, Field(ge=0)]
    channel_vi: Text
    channel_en: Text
    # KH Đ13.2b: the reply is given publicly, in the support group as well: it also goes to
    # the support group's webhook (`DIEMCAU_SUPPORT_WEBHOOK_URL`).
    public: bool
    # Urgencies whose reply is due at once: the queue shows them first, counting up from the
    # receipt; the regulation's limit (`hours`) still marks a missed reply.
    at_once_for: list[Urgency] = []


class Capacity(Section):
    cap_percent: Annotated[int, Field(ge=1, le=100)]
    measures: list[CapacityMeasure] = Field(min_length=1)


class Priority(Section):
    registration_order: bool
    higher_level_first: bool
    # Levels that are not a level of government and so are neither higher nor lower than
    # another (KH Đ3.2đ "các cơ quan, đơn vị khác"): never revoked for, nor revoking, a
    # provincial meeting.
    unranked_levels: list[str] = []
    revocation: bool
    revocation_order: Literal["latest_registered_first"] | None = None

    @model_validator(mode="after")
    def _order_when_revoking(self) -> Priority:
        if self.revocation and self.revocation_order is None:
            raise KeyedValueError("revocation_order", "required when revocation = true")
        return self


class Control(Section):
    controller_levels: list[str] = Field(min_length=1)
    includes_subordinate_hosts: bool
    # The levels whose endpoints also control the meetings of their subordinate units; by
    # default the controller levels (KH Đ10.1 names only points b, c: province, district).
    subordinate_controller_levels: list[str] | None = None
    commune_hosted_controlled_by: Literal["district", "host"]
    requires_room_standard: bool
    # The clause listing what a controlling room must meet (KH Đ10.2, ĐN Đ9.2).
    room_requirements_article: Article = ""
    equipment_vi: str = ""
    equipment_en: str = ""

    def levels_controlling_subordinates(self) -> list[str]:
        if not self.includes_subordinate_hosts:
            return []
        if self.subordinate_controller_levels is None:
            return self.controller_levels
        return self.subordinate_controller_levels


# A check ends at the latest `hours_before` before its window; it may be placed earlier, when
# the node is busy, down to `earliest_hours_before`. Both are bounded so that a typing slip (400
# for 4, minutes for hours) is refused on loading rather than booking a node days ahead.
MAX_CHECK_HOURS_BEFORE = 72
MAX_CHECK_MINUTES = 240


class TechnicalCheck(Section):
    hours_before: Annotated[float, Field(ge=0, le=MAX_CHECK_HOURS_BEFORE)]
    # How long one check holds the MCU node (its endpoints connected through it): the
    # regulation gives no length, so it is a deployment's value.
    check_minutes: Annotated[int, Field(ge=5, le=MAX_CHECK_MINUTES)] = 30
    # When the node is busy the check moves earlier, but never starts more than this many
    # hours before the window it prepares.
    earliest_hours_before: Annotated[float, Field(ge=0, le=MAX_CHECK_HOURS_BEFORE)] = 24
    before_rehearsal: bool
    before_session: bool
    items: list[CheckItem] = Field(min_length=1)

    @model_validator(mode="after")
    def _earliest_not_later(self) -> TechnicalCheck:
        if self.earliest_hours_before < self.hours_before:
            raise KeyedValueError(
                "earliest_hours_before",
                f"must be >= hours_before ({self.hours_before:g}): a check is never placed "
                "later than hours_before",
            )
        return self


class Script(Section):
    """The session's script (kịch bản phiên họp): the host's technician runs the session by
    it, item by item, giving the floor in the speaking order (ĐN Đ12.2a, KH Đ14.3a)."""

    # The console offers the floor to the speaker of the item it moves to.
    floor_to_next_speaker: bool
    # The participants' pages show the item under way.
    shown_to_participants: bool
    # Who is named on the console as running the session: the technician of the
    # controlling endpoint (a contact of role "technician").
    technician_named: bool


ClosingParty = Literal["endpoint", "operator"]


class ClosingItem(Frozen):
    key: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    article: Article
    text_vi: Text
    text_en: Text
    # Who ticks it: each endpoint of the meeting, the MCU operator, or both.
    by: list[ClosingParty] = Field(min_length=1)


class Closing(Section):
    """What is done when a session ends (ĐN Đ13.1–2, KH Đ15.1–2): each endpoint and the
    operator tick the items; items left open show on the operator's desk."""

    items: list[ClosingItem] = Field(min_length=1)
    # Items still open this long after the meeting ended are marked late on the desk.
    late_after_hours: Hours

    @model_validator(mode="after")
    def _unique_keys(self) -> Closing:
        check_unique([item.key for item in self.items], "items")
        return self

    def items_for(self, party: str) -> list[ClosingItem]:
        return [item for item in self.items if party in item.by]


class Rehearsal(Section):
    supported: bool


class Handover(Section):
    working_days: Annotated[int, Field(ge=0)]
    on_request: bool
    # How long before the deadline the operators are warned (a deployment's choice).
    warn_before_hours: Annotated[int, Field(ge=0)] = 4
    # How long a recording and its materials are kept after the meeting; 0 keeps them for
    # good. Neither regulation sets it: always a deployment default.
    retention_days: Annotated[int, Field(ge=0)] = 0


class Materials(Section):
    via_host_only: bool
    state_secret_excluded: bool


class Secrecy(Section):
    recording_needs_host_permission: bool
    # Where the regulation says a meeting is recorded only when its host asks (KH Đ13.2a
    # "Ghi hình phiên họp" among the registration's requests, Đ15.2 "nếu có yêu cầu").
    recording_article: Article = ""
    # Where personal devices over the Internet are kept out of state-secret meetings.
    personal_internet_article: Article = ""
    state_secret_refuses_personal_internet: bool
    state_secret_no_export: bool
    state_secret_allows_recording: bool = False
    credentials_article: Article


_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class OfficeHours(Section):
    weekdays: list[Annotated[int, Field(ge=0, le=6)]] = Field(min_length=1)
    periods: Annotated[list[tuple[str, str]], BeforeValidator(_lists_to_tuples)] = Field(
        min_length=1
    )

    @model_validator(mode="after")
    def _ordered_periods(self) -> OfficeHours:
        check_unique(self.weekdays, "weekdays")
        previous_end = ""
        for index, (start, end) in enumerate(self.periods):
            if not (_HHMM.match(start) and _HHMM.match(end)):
                raise KeyedValueError(("periods", index), "times must be 'HH:MM'")
            if not previous_end <= start < end:
                raise KeyedValueError(
                    ("periods", index), "periods must be ascending and must not overlap"
                )
            previous_end = end
        return self


class Registration(Section):
    # How a registration is sent: shown where a registration is made (KH Đ13.2a: the
    # official e-mail address; ĐN Đ11.2a: the web form or the invitation letter).
    channels: list[RegistrationChannel] = Field(min_length=1)
    channels_article: Article = ""
    official_email: str | None = None
    form_url: str | None = None
    office_hours_only: bool
    announced_by_offices_for_kinds: list[str]
    # Urgencies that count from their arrival even outside office hours (KH Đ13.2a).
    counts_at_once_for: list[Urgency] = []
    district_registers_for_communes: bool
    district_registers_article: Article = ""
    # The clause under which the offices announce their meetings (ĐN Đ10.1, KH Đ12.1).
    announced_article: Article = ""
    # KH Đ12.1 also has the Office announce "phiên họp từ địa phương với Chính phủ": a meeting
    # with an upstream link (R23) is announced whoever hosts it.
    announced_when_upstream: bool = False
    required_fields: list[RegistrationField] = Field(min_length=1)
    optional_fields: list[RegistrationField] = []

    @model_validator(mode="after")
    def _consistent(self) -> Registration:
        check_kinds(self.announced_by_offices_for_kinds, ("announced_by_offices_for_kinds",))
        check_unique(self.channels, "channels")
        if "official_email" in self.channels and not self.official_email:
            raise KeyedValueError("official_email", "required when channels has official_email")
        for index, name in enumerate(self.optional_fields):
            if name in self.required_fields:
                raise KeyedValueError(("optional_fields", index), f"{name!r} is also required")
        return self


class Session(Section):
    participants_join_muted: bool


class VcsAddress(Section):
    required_for_networks: list[Network]


class Interconnection(Section):
    """The link to the Government's, the Party's or the National Assembly's system: their
    sessions cascade through the provincial MCU down to the communes (R23)."""

    # The upstream MCU's name in the room (its tile label and its display to browsers).
    upstream_display_vi: Text
    upstream_display_en: Text
    # A meeting hosted upstream outranks every level of the province for capacity and
    # priority (where the rulebook gives priority by level).
    upstream_ranks_first: bool
    priority_article: Article
    # Who tests the link before such a session, and under which article.
    test_article: Article


class Reporting(Section):
    period_months: list[Annotated[int, Field(ge=1, le=12)]] = Field(min_length=1)
    on_demand: bool
    # Whom the report goes to ("Nơi nhận"): agency kinds whose offices are told when a
    # periodic report is made (ĐN Đ19.2: UBND tỉnh). The operators who make it are always told.
    submitted_to_kinds: list[str] = []
    # ĐN Đ19.2: the yearly report on how the regulation is applied.
    application_article: Article = ""
    # KH Đ19.5: agencies give report figures on request.
    on_request_article: Article = ""
    # The report's symbol after its number ("Số: …/BC-SKHCN", Nghị định 30/2020/NĐ-CP) and
    # the title of who signs it: the managing agency's own, never in a regulation.
    symbol: str = "BC"
    signer_title_vi: str = "GIÁM ĐỐC"

    @model_validator(mode="after")
    def _known_kinds(self) -> Reporting:
        check_kinds(self.submitted_to_kinds, ("submitted_to_kinds",))
        if not re.fullmatch(r"[A-ZĐ]+(-[A-Za-zĐđ0-9.]+)*", self.symbol):
            raise KeyedValueError("symbol", "should look like 'BC-SKHCN'")
        return self


class Security(Section):
    standards_vi: list[Text] = Field(min_length=1)


class Equipment(Section):
    """The register of a room's devices as public assets, the yearly maintenance and
    procurement plan, and the MCU's own versions and patches."""

    # Days before a task's due date when the desk starts showing it as due.
    due_soon_days: Annotated[int, Field(ge=0, le=365)]


class Duty(Section):
    """The MCU technicians on duty per shift, and the one assigned to each meeting."""

    # How far ahead a meeting that no shift covers is flagged, and the operators told.
    flag_hours_ahead: Annotated[int, Field(ge=1, le=24 * 30)]


class LineIncidents(Section):
    """A line incident goes to the provider of the endpoint's line, whose reply is recorded."""

    # How long the link sent to the provider stays valid.
    reply_link_days: Annotated[int, Field(ge=1, le=90)]
