"""Import a province's real agencies: standard bodies, districts and communes (R1).

Where the administrative units come from depends on the rulebook's `admin_data`:

- "current": the installed `vietnam-provinces` package (after the 2025 reform: provinces and
  communes, no districts), read live.
- "pre-2025": a JSON file in `data/` extracted from `vietnam-provinces` 0.6.0, the last version
  with districts, for the three-level rulebooks (KH Đ3.2). `extract_pre_2025_province()` made it.

Every agency is created through `create_agency()`, so kinds are checked against the rulebook,
paths are set and each creation is in the audit log. A second run creates nothing: units are
matched by their administrative code, bodies by (parent, name).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction

from diemcau.rulebooks import Rulebook, active_rulebook

from .choices import AgencyKind
from .models import Agency
from .naming import initials
from .services.agencies import AgencyInput, create_agency
from .standard_bodies import StandardBody, departments_for, standard_bodies

DATA_DIR = Path(__file__).resolve().parent / "data"

# Province code (as in vietnam-provinces) → the extracted pre-2025 structure.
PRE_2025_DATA_FILES: dict[int, str] = {
    56: "khanh-hoa-pre-2025.json",
}

ADMIN_DATA_CURRENT = "current"
ADMIN_DATA_PRE_2025 = "pre-2025"

# Name prefix → division type. The prefix, not the package's `division_type`, is trusted:
# in 0.6.0 a city reads "huyện" and a ward reads "xã".
PROVINCE_PREFIXES = (("Thành phố ", "thành phố"), ("Tỉnh ", "tỉnh"))
DISTRICT_PREFIXES = (
    ("Thành phố ", "thành phố"),
    ("Thị xã ", "thị xã"),
    ("Huyện ", "huyện"),
    ("Quận ", "quận"),
)
COMMUNE_PREFIXES = (
    ("Phường ", "phường"),
    ("Xã ", "xã"),
    ("Thị trấn ", "thị trấn"),
    ("Đặc khu ", "đặc khu"),
)


class AgencyImportError(Exception):
    """The import cannot run for this rulebook; nothing was written."""


@dataclass(frozen=True)
class AdminUnit:
    """A district or commune: "Thành phố Nha Trang" is ("thành phố", "Nha Trang")."""

    code: int
    division_type: str
    place_name: str
    children: tuple[AdminUnit, ...] = ()

    @property
    def agency_name(self) -> str:
        """ "UBND thành phố Nha Trang", "UBND phường Vĩnh Hòa"."""
        return f"UBND {self.division_type} {self.place_name}"

    @property
    def full_name(self) -> str:
        return f"{self.division_type[:1].upper()}{self.division_type[1:]} {self.place_name}"


@dataclass(frozen=True)
class ProvinceUnits:
    code: int
    division_type: str  # "tỉnh" or "thành phố"
    place_name: str  # "Khánh Hòa"
    districts: tuple[AdminUnit, ...]  # empty after the 2025 reform
    communes: tuple[AdminUnit, ...]  # communes directly under the province (no districts)
    source: str


@dataclass
class ImportReport:
    rulebook: str
    province: str
    admin_data: str
    created: Counter[str] = field(default_factory=Counter)  # by agency kind
    existing: Counter[str] = field(default_factory=Counter)
    skipped: list[str] = field(default_factory=list)  # bodies whose kind has no level
    notes: list[str] = field(default_factory=list)

    @property
    def created_total(self) -> int:
        return sum(self.created.values())

    @property
    def existing_total(self) -> int:
        return sum(self.existing.values())

    def summary(self) -> str:
        return f"{self.created_total} created, {self.existing_total} existing"

    def kinds(self) -> list[str]:
        """The kinds seen, in the order of AgencyKind."""
        seen = set(self.created) | set(self.existing)
        return [kind for kind in AgencyKind.values if kind in seen]


# --- reading the administrative units -----------------------------------------------------


def split_division(name: str, prefixes: tuple[tuple[str, str], ...]) -> tuple[str, str]:
    """("Phường Vĩnh Hòa", COMMUNE_PREFIXES) → ("phường", "Vĩnh Hòa")."""
    for prefix, division_type in prefixes:
        if name.startswith(prefix):
            return division_type, name[len(prefix) :].strip()
    raise AgencyImportError(f"Unknown kind of administrative unit: {name!r}")


def extract_pre_2025_province(
    nested_json: Path,
    province_code: int,
    *,
    package_version: str,
    data_version: str,
    extracted_on: str,
) -> dict[str, Any]:
    """One province's districts and communes from an old `vietnam-provinces` nested JSON.

    Run once, with the old package installed elsewhere, to write `data/*-pre-2025.json`:
    `extract_pre_2025_province(vp.NESTED_DIVISIONS_JSON_PATH, 56, package_version="0.6.0", …)`.
    The package's raw `division_type` is kept as `division_type_raw`; `division_type` is
    derived from the name, since the raw one is wrong for cities and wards in 0.6.0.
    """
    provinces = json.loads(Path(nested_json).read_text(encoding="utf-8"))
    province = next((p for p in provinces if p["code"] == province_code), None)
    if province is None:
        raise AgencyImportError(f"Province {province_code} is not in {nested_json}")

    def unit(raw: dict[str, Any], prefixes: tuple[tuple[str, str], ...]) -> dict[str, Any]:
        return {
            "name": raw["name"],
            "code": raw["code"],
            "codename": raw["codename"],
            "division_type": split_division(raw["name"], prefixes)[0],
            "division_type_raw": raw["division_type"],
        }

    districts = []
    for raw_district in province["districts"]:
        district = unit(raw_district, DISTRICT_PREFIXES)
        district["wards"] = [unit(w, COMMUNE_PREFIXES) for w in raw_district["wards"]]
        districts.append(district)
    return {
        "source": {
            "package": "vietnam-provinces",
            "version": package_version,
            "data_version": data_version,
            "file": "vietnam_provinces/data/nested-divisions.json",
            "extracted_on": extracted_on,
            "note": (
                "Administrative units before the 2025 reform (three levels). The package's "
                "division_type is kept as division_type_raw; division_type is derived from the "
                "name prefix."
            ),
        },
        "province": {
            "name": province["name"],
            "code": province["code"],
            "codename": province["codename"],
            "division_type": province["division_type"],
        },
        "district_count": len(districts),
        "ward_count": sum(len(d["wards"]) for d in districts),
        "districts": districts,
    }


def _load_pre_2025(province_code: int) -> ProvinceUnits:
    file_name = PRE_2025_DATA_FILES.get(province_code)
    if file_name is None:
        raise AgencyImportError(
            f"No pre-2025 administrative data for province code {province_code}; "
            f"known: {sorted(PRE_2025_DATA_FILES)}. Extract it from vietnam-provinces 0.6.0 "
            "with extract_pre_2025_province()."
        )
    path = DATA_DIR / file_name
    data = json.loads(path.read_text(encoding="utf-8"))
    source = data["source"]
    province = data["province"]
    division_type, place_name = split_division(province["name"], PROVINCE_PREFIXES)
    districts = tuple(
        AdminUnit(
            code=district["code"],
            division_type=district["division_type"],
            place_name=split_division(district["name"], DISTRICT_PREFIXES)[1],
            children=tuple(
                AdminUnit(
                    code=ward["code"],
                    division_type=ward["division_type"],
                    place_name=split_division(ward["name"], COMMUNE_PREFIXES)[1],
                )
                for ward in district["wards"]
            ),
        )
        for district in data["districts"]
    )
    return ProvinceUnits(
        code=province["code"],
        division_type=division_type,
        place_name=place_name,
        districts=districts,
        communes=(),
        source=f"{file_name} ({source['package']} {source['version']})",
    )


def _load_current(province_code: int) -> ProvinceUnits:
    import vietnam_provinces

    path = Path(vietnam_provinces.NESTED_DIVISIONS_JSON_PATH)
    provinces = json.loads(path.read_text(encoding="utf-8"))
    province = next((p for p in provinces if p["code"] == province_code), None)
    if province is None:
        raise AgencyImportError(
            f"Province code {province_code} is not in vietnam-provinces "
            f"{vietnam_provinces.__version__}."
        )
    if province.get("districts"):
        raise AgencyImportError("The installed vietnam-provinces still has districts.")
    # After the reform the package names provinces without "Tỉnh" ("Đồng Nai") but cities
    # with "Thành phố" ("Thành phố Huế").
    division_type = "thành phố" if province["division_type"] == "thành phố trung ương" else "tỉnh"
    place_name = province["name"]
    if place_name.startswith("Thành phố "):
        place_name = split_division(place_name, PROVINCE_PREFIXES)[1]
    communes = []
    for ward in province["wards"]:
        ward_type, ward_place = split_division(ward["name"], COMMUNE_PREFIXES)
        communes.append(AdminUnit(ward["code"], ward_type, ward_place))
    return ProvinceUnits(
        code=province["code"],
        division_type=division_type,
        place_name=place_name,
        districts=(),
        communes=tuple(communes),
        source=f"vietnam-provinces {vietnam_provinces.__version__}",
    )


def load_units(rulebook: Rulebook) -> ProvinceUnits:
    """The province's administrative units for the rulebook's era, or AgencyImportError."""
    if rulebook.admin_data == ADMIN_DATA_PRE_2025:
        units = _load_pre_2025(rulebook.province_code)
    elif rulebook.admin_data == ADMIN_DATA_CURRENT:
        units = _load_current(rulebook.province_code)
    else:
        raise AgencyImportError(
            f"Rulebook {rulebook.name}: unknown admin_data {rulebook.admin_data!r} "
            f"(expected {ADMIN_DATA_CURRENT!r} or {ADMIN_DATA_PRE_2025!r})."
        )
    if units.place_name != rulebook.province_name:
        raise AgencyImportError(
            f"Rulebook {rulebook.name} is for {rulebook.province_name}, but province code "
            f"{rulebook.province_code} is {units.place_name} in {units.source}."
        )
    return units


def district_abbreviations(districts: tuple[AdminUnit, ...], taken: set[str]) -> dict[int, str]:
    """Initials of each district (KH Đ6.4d: "NT" for Nha Trang), unique in the province.

    On a clash the later district (by code) gets a number: "TP", then "TP2".
    """
    result: dict[int, str] = {}
    used = set(taken)
    for district in sorted(districts, key=lambda d: d.code):
        base = initials(district.full_name)
        abbreviation, number = base, 2
        while abbreviation in used:
            abbreviation, number = f"{base}{number}", number + 1
        used.add(abbreviation)
        result[district.code] = abbreviation
    return result


# --- creating the agencies ----------------------------------------------------------------


class _Importer:
    def __init__(self, report: ImportReport) -> None:
        self.report = report
        self.by_code = {a.admin_code: a for a in Agency.objects.filter(admin_code__isnull=False)}

    def body(self, body: StandardBody, parent: Agency | None) -> Agency:
        existing = Agency.objects.filter(parent=parent, name=body.name).first()
        if existing is not None:
            self.report.existing[existing.kind] += 1
            return existing
        agency = create_agency(
            AgencyInput(
                name=body.name, kind=body.kind, parent=parent, abbreviation=body.abbreviation
            ),
            actor=None,
        )
        self.report.created[agency.kind] += 1
        return agency

    def unit(self, unit: AdminUnit, kind: str, parent: Agency, abbreviation: str = "") -> Agency:
        existing = self.by_code.get(unit.code)
        if existing is not None:
            self.report.existing[existing.kind] += 1
            return existing
        agency = create_agency(
            AgencyInput(
                name=unit.agency_name,
                kind=kind,
                parent=parent,
                abbreviation=abbreviation,
                admin_code=unit.code,
                division_type=unit.division_type,
            ),
            actor=None,
        )
        self.by_code[unit.code] = agency
        self.report.created[kind] += 1
        return agency


def import_agencies(rulebook: Rulebook | None = None) -> ImportReport:
    """Create the province's bodies, districts (pre-2025 data) and communes; idempotent.

    The tree: UBND tỉnh is the parent of departments and of districts (or, after the reform,
    of communes); communes hang from their district; party committee, people's council,
    National Assembly delegation and Fatherland Front are roots. All in one transaction.
    """
    active = active_rulebook()
    rulebook = rulebook or active
    if rulebook.name != active.name:
        # create_agency() checks kinds against the active rulebook; mixing would be wrong.
        raise AgencyImportError(
            f"Rulebook {rulebook.name} is not the active rulebook ({active.name}); "
            f"set DIEMCAU_RULEBOOK={rulebook.name} to import its agencies."
        )
    units = load_units(rulebook)
    kind_levels = rulebook.kind_levels
    district_kind = AgencyKind.DISTRICT_PEOPLE_COMMITTEE.value
    commune_kind = AgencyKind.COMMUNE_PEOPLE_COMMITTEE.value
    if units.districts and district_kind not in kind_levels:
        raise AgencyImportError(
            f"Rulebook {rulebook.name} has no district level, but its administrative data "
            f"({units.source}) has districts."
        )
    if commune_kind not in kind_levels:
        raise AgencyImportError(f"Rulebook {rulebook.name} has no commune level.")

    report = ImportReport(
        rulebook=rulebook.name, province=rulebook.province_name, admin_data=rulebook.admin_data
    )
    bodies = standard_bodies(
        rulebook.province_code, rulebook.admin_data, units.place_name, units.division_type
    )
    if departments_for(rulebook.province_code, rulebook.admin_data) is None:
        report.notes.append(
            "No department list for this province and era in standard_bodies.py; "
            "only the common bodies were imported."
        )
    root_kind = AgencyKind.PROVINCE_PEOPLE_COMMITTEE.value
    if root_kind not in kind_levels:
        raise AgencyImportError(f"Rulebook {rulebook.name} has no level for UBND tỉnh.")

    with transaction.atomic():
        importer = _Importer(report)
        root_body = next(b for b in bodies if b.kind == root_kind)
        people_committee = importer.body(root_body, None)
        for body in bodies:
            if body is root_body:
                continue
            if body.kind not in kind_levels:
                report.skipped.append(body.name)
                continue
            importer.body(body, people_committee if body.under_people_committee else None)

        taken = {b.abbreviation for b in bodies}
        abbreviations = district_abbreviations(units.districts, taken)
        for district in units.districts:
            district_agency = importer.unit(
                district, district_kind, people_committee, abbreviations[district.code]
            )
            for commune in district.children:
                importer.unit(commune, commune_kind, district_agency)
        for commune in units.communes:
            importer.unit(commune, commune_kind, people_committee)
    return report
