"""The import of a province's real agencies (R1): Khánh Hòa pre-2025 and Đồng Nai 2025."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.test import override_settings

from diemcau import rulebooks
from diemcau.core.audit import verify_chain
from diemcau.core.models import AuditEvent
from diemcau.directory.choices import AgencyKind
from diemcau.directory.importer import (
    DATA_DIR,
    PRE_2025_DATA_FILES,
    AgencyImportError,
    import_agencies,
)
from diemcau.directory.models import Agency
from diemcau.directory.standard_bodies import DEPARTMENTS, common_bodies

KH = "khanh-hoa-2023"
DN = "dong-nai-2025"

DISTRICT = AgencyKind.DISTRICT_PEOPLE_COMMITTEE
COMMUNE = AgencyKind.COMMUNE_PEOPLE_COMMITTEE
DEPARTMENT = AgencyKind.DEPARTMENT


def _clear_rulebook_caches() -> None:
    for function in (rulebooks.get_rulebook, rulebooks.active_rulebook):
        cache_clear = getattr(function, "cache_clear", None)
        if cache_clear is not None:
            cache_clear()


@contextmanager
def rulebook(name: str) -> Iterator[None]:
    _clear_rulebook_caches()
    with override_settings(RULEBOOK=name):
        _clear_rulebook_caches()
        yield
    _clear_rulebook_caches()


def _kh_data() -> dict:
    return json.loads((DATA_DIR / PRE_2025_DATA_FILES[56]).read_text(encoding="utf-8"))


def test_data_file_notes_its_source() -> None:
    data = _kh_data()
    source = data["source"]
    assert source["package"] == "vietnam-provinces"
    assert source["version"] == "0.6.0"
    assert source["file"].endswith("nested-divisions.json")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", source["extracted_on"])
    assert data["province"]["code"] == 56
    assert len(data["districts"]) == data["district_count"] == 9
    assert sum(len(d["wards"]) for d in data["districts"]) == data["ward_count"] == 132
    for district in data["districts"]:
        assert district["division_type"] in {"thành phố", "thị xã", "huyện"}
        for ward in district["wards"]:
            assert set(ward) >= {"name", "code", "codename", "division_type"}
            assert ward["division_type"] in {"phường", "xã", "thị trấn"}
            assert ward["name"].lower().startswith(ward["division_type"])


def test_abbreviations_are_unique_within_each_province() -> None:
    for (_code, _era), departments in DEPARTMENTS.items():
        abbreviations = [b.abbreviation for b in (*common_bodies("X"), *departments)]
        assert len(abbreviations) == len(set(abbreviations))
        names = [b.name for b in departments]
        assert len(names) == len(set(names))
        for body in departments:
            # KH Đ6.4b: "So.TTTT"; boards "Ban.…"; the inspectorate "TTr".
            assert re.fullmatch(r"(So|Ban)\.[A-Za-z]+|TTr", body.abbreviation), body


@pytest.mark.django_db
def test_khanh_hoa_pre_2025_three_levels() -> None:
    with rulebook(KH):
        events_before = AuditEvent.objects.count()
        report = import_agencies()

        districts = Agency.objects.filter(kind=DISTRICT)
        communes = Agency.objects.filter(kind=COMMUNE)
        assert districts.count() == 9
        assert communes.count() == _kh_data()["ward_count"] == 132
        assert report.created[DISTRICT] == 9
        assert report.created[COMMUNE] == 132

        people_committee = Agency.objects.get(
            kind=AgencyKind.PROVINCE_PEOPLE_COMMITTEE, parent=None
        )
        assert people_committee.name == "UBND tỉnh Khánh Hòa"
        assert set(districts.values_list("parent", flat=True)) == {people_committee.pk}
        for commune in communes.select_related("parent"):
            assert commune.parent is not None and commune.parent.kind == DISTRICT
            assert commune.path.startswith(commune.parent.path)
            assert commune.admin_code is not None

        assert dict(districts.values_list("name", "abbreviation")) == {
            "UBND thành phố Nha Trang": "NT",
            "UBND thành phố Cam Ranh": "CR",
            "UBND huyện Cam Lâm": "CL",
            "UBND huyện Vạn Ninh": "VN",
            "UBND thị xã Ninh Hòa": "NH",
            "UBND huyện Khánh Vĩnh": "KV",
            "UBND huyện Diên Khánh": "DK",
            "UBND huyện Khánh Sơn": "KS",
            "UBND huyện Trường Sa": "TS",
        }
        nha_trang = districts.get(abbreviation="NT")
        assert nha_trang.admin_code == 568
        assert nha_trang.division_type == "thành phố"
        # KH Đ6.4d's example ward, Xương Huân, was merged into Vạn Thạnh in the 2023–2025
        # commune arrangement, before the 0.6.0 data (2025-01-04): its successor is there.
        van_thanh = Agency.objects.get(parent=nha_trang, name="UBND phường Vạn Thạnh")
        assert van_thanh.kind == COMMUNE
        assert van_thanh.division_type == "phường"
        assert not Agency.objects.filter(name__contains="Xương Huân").exists()
        assert Agency.objects.get(name="UBND thị trấn Vạn Giã").division_type == "thị trấn"

        departments = Agency.objects.filter(kind=DEPARTMENT)
        assert departments.count() == len(DEPARTMENTS[(56, "pre-2025")])
        assert set(departments.values_list("parent", flat=True)) == {people_committee.pk}
        assert departments.get(abbreviation="So.TTTT").name == "Sở Thông tin và Truyền thông"
        assert not Agency.objects.filter(name__startswith="Văn phòng UBND").exists()
        roots = {
            "Tỉnh ủy Khánh Hòa",
            "HĐND tỉnh Khánh Hòa",
            "Đoàn ĐBQH tỉnh Khánh Hòa",
            "Ủy ban MTTQ Việt Nam tỉnh Khánh Hòa",
        }
        created_roots = set(Agency.objects.filter(parent=None).values_list("name", flat=True))
        assert created_roots == (roots - set(report.skipped)) | {people_committee.name}

        # Every creation went through create_agency(), which writes the audit log.
        assert AuditEvent.objects.count() == events_before + report.created_total
        assert Agency.objects.count() == report.created_total
        assert verify_chain().ok


@pytest.mark.django_db
def test_dong_nai_2025_two_levels() -> None:
    with rulebook(DN):
        report = import_agencies()

        assert not Agency.objects.filter(kind=DISTRICT).exists()
        communes = Agency.objects.filter(kind=COMMUNE)
        assert communes.count() == 95
        assert report.created[COMMUNE] == 95
        people_committee = Agency.objects.get(name="UBND tỉnh Đồng Nai")
        assert set(communes.values_list("parent", flat=True)) == {people_committee.pk}
        assert set(communes.values_list("division_type", flat=True)) == {"phường", "xã"}
        bien_hoa = communes.get(name="UBND phường Biên Hòa")
        assert bien_hoa.admin_code == 26068

        departments = Agency.objects.filter(kind=DEPARTMENT, parent=people_committee)
        assert departments.count() == 14
        assert departments.filter(name="Sở Khoa học và Công nghệ", abbreviation="So.KHCN").exists()
        assert Agency.objects.filter(
            name="Đoàn ĐBQH tỉnh Đồng Nai",
            parent=None,
            kind=AgencyKind.NATIONAL_ASSEMBLY_DELEGATION,
        ).exists()
        assert verify_chain().ok


@pytest.mark.django_db
@pytest.mark.parametrize("name", [KH, DN])
def test_second_run_creates_nothing(name: str) -> None:
    with rulebook(name):
        first = import_agencies()
        agencies, events = Agency.objects.count(), AuditEvent.objects.count()

        second = import_agencies()

        assert second.created_total == 0
        assert second.existing_total == first.created_total == agencies
        assert second.summary() == f"0 created, {agencies} existing"
        assert Agency.objects.count() == agencies
        assert AuditEvent.objects.count() == events
        assert verify_chain().ok


@pytest.mark.django_db
def test_refuses_unknown_administrative_data() -> None:
    with rulebook(KH):
        active = rulebooks.active_rulebook()
        odd = SimpleNamespace(
            name=active.name,
            province_name=active.province_name,
            province_code=active.province_code,
            admin_data="1976",
            kind_levels=active.kind_levels,
        )
        with pytest.raises(AgencyImportError, match="admin_data"):
            import_agencies(odd)  # type: ignore[arg-type]

        no_data = SimpleNamespace(
            name=active.name,
            province_name="Ninh Thuận",
            province_code=58,
            admin_data="pre-2025",
            kind_levels=active.kind_levels,
        )
        with pytest.raises(AgencyImportError, match="No pre-2025 administrative data"):
            import_agencies(no_data)  # type: ignore[arg-type]
        assert not Agency.objects.exists()


@pytest.mark.django_db
def test_refuses_a_rulebook_that_is_not_active() -> None:
    with rulebook(KH):
        other = rulebooks.get_rulebook(DN)
        with pytest.raises(AgencyImportError, match="not the active rulebook"):
            import_agencies(other)
        assert not Agency.objects.exists()


@pytest.mark.django_db
def test_command_prints_counts_per_kind() -> None:
    with rulebook(DN):
        out = StringIO()
        call_command("import_agencies", stdout=out)
        text = out.getvalue()
        assert "[commune_people_committee]: 95 created, 0 existing" in text
        assert "[department]: 14 created, 0 existing" in text

        out = StringIO()
        call_command("import_agencies", "--rulebook", DN, stdout=out)
        assert "Total: 0 created, " in out.getvalue()
