"""Closed vocabularies that rulebooks refer to.

A rulebook maps these words to its own numbers and articles; the words themselves are shared by
all provinces, so code can reason about them (e.g. "a commune-hosted meeting is controlled by
the district") without knowing which province it runs for.
"""

from typing import Literal, get_args

AgencyKind = Literal[
    "province_people_committee",
    "province_party_committee",
    "province_people_council",
    "national_assembly_delegation",
    "province_front",
    "department",
    "department_unit",
    "district_people_committee",
    "commune_people_committee",
    "commune_party_committee",
    "other",
]
LevelKey = Literal["central", "province", "district", "commune", "other"]
Network = Literal["tslcd", "wan", "internet"]
Urgency = Literal["normal", "urgent", "emergency"]
NamingPlaceholder = Literal[
    "province_ascii", "abbreviation", "name_spaced", "name_camel", "parent_abbreviation"
]
RegistrationChannel = Literal["web_form", "invitation_letter", "official_email"]
RegistrationField = Literal[
    "host",
    "participants",
    "place",
    "rehearsal_start",
    "start",
    "end",
    "contact_name",
    "contact_phone",
    "other_support",
]
CheckItem = Literal["terminal", "connection", "power", "backup_power", "sound", "light", "picture"]
ContactRole = Literal["leader", "technician"]
CapacityMeasure = Literal["concurrent_sessions", "connected_endpoints"]
SecurityCheckTrigger = Literal["new", "repaired"]

AGENCY_KINDS: tuple[str, ...] = get_args(AgencyKind)
LEVEL_KEYS: tuple[str, ...] = get_args(LevelKey)
NETWORKS: tuple[str, ...] = get_args(Network)
URGENCIES: tuple[str, ...] = get_args(Urgency)
NAMING_PLACEHOLDERS: tuple[str, ...] = get_args(NamingPlaceholder)
