"""Rulebooks: the shipped ones carry the regulations' numbers; broken ones are refused clearly.

The numbers asserted here are the spec values read from the two regulations (ĐN 2025, KH QĐ
680/2023), not copies of the TOML files.
"""

import os
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from diemcau.rulebooks import (
    SECTION_KEYS,
    Rulebook,
    RulebookError,
    Section,
    active_rulebook,
    available_rulebooks,
    get_rulebook,
    load_rulebook,
)
from diemcau.rulebooks.loader import DATA_DIR
from diemcau.rulebooks.vocabulary import AGENCY_KINDS, NETWORKS

KH = "khanh-hoa-2023"
DN = "dong-nai-2025"


def _source(name: str) -> str:
    return (DATA_DIR / f"{name}.toml").read_text(encoding="utf-8")


def _edit(text: str, header: str, old: str, new: str) -> str:
    """Replace `old` with `new` once, inside the TOML table that starts with `header`."""
    start = text.index(f"\n{header}\n") + 1
    following = re.compile(r"^\[", re.MULTILINE).search(text, start + len(header))
    end = following.start() if following else len(text)
    block = text[start:end]
    assert old in block, f"{old!r} not found under {header}"
    return text[:start] + block.replace(old, new, 1) + text[end:]


def _write(tmp_path: Path, text: str, name: str = "broken.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _all_sections(rulebook: Rulebook) -> list[tuple[str, Section]]:
    found = []
    for key, section in rulebook.sections().items():
        if section is None:
            continue
        found.append((key, section))
        for name in type(section).model_fields:
            value = getattr(section, name)
            if isinstance(value, Section):
                found.append((f"{key}.{name}", value))
    return found


# -- the shipped rulebooks -----------------------------------------------------------------------


def test_both_rulebooks_are_available_and_load():
    assert available_rulebooks() == [DN, KH]
    for name in available_rulebooks():
        rulebook = load_rulebook(name)
        assert rulebook.name == name
        assert rulebook.timezone == "Asia/Ho_Chi_Minh"
        assert tuple(rulebook.sections()) == SECTION_KEYS


def test_khanh_hoa_identity_and_levels():
    rb = load_rulebook(KH)
    assert rb.short == "Quy chế KH"
    assert rb.decision == "QĐ 680/QĐ-UBND ngày 14/3/2023"
    assert rb.province_name == "Khánh Hòa"
    assert rb.province_ascii == "Khanh Hoa"
    assert rb.province_code == 56
    assert rb.admin_data == "pre-2025"
    assert "Khánh Hòa" in rb.title
    assert rb.levels_article == "Điều 3.2"
    assert [level.key for level in rb.levels] == [
        "central",
        "province",
        "district",
        "commune",
        "other",
    ]
    assert rb.level_for_kind("province_people_committee") == "central"
    assert rb.level_for_kind("department") == "province"
    assert rb.level_for_kind("department_unit") == "other"
    assert rb.level_for_kind("district_people_committee") == "district"
    assert rb.level_for_kind("commune_party_committee") == "commune"
    assert set(rb.kind_levels) == set(AGENCY_KINDS)


def test_khanh_hoa_numbers():
    rb = load_rulebook(KH)
    normal, urgent, emergency = rb.lead_times.normal, rb.lead_times.urgent, rb.lead_times.emergency
    assert (normal.working_days, normal.hours, normal.exempt) == (2, None, False)
    assert (urgent.hours, urgent.working_days, urgent.exempt) == (4, None, False)
    assert emergency.exempt and emergency.hours is None and emergency.working_days is None
    assert normal.article == urgent.article == emergency.article == "Điều 13.2a"
    assert rb.lead_times["urgent"] is urgent
    assert (rb.reply_sla.hours, rb.reply_sla.article) == (3, "Điều 13.2b")
    assert (rb.capacity.cap_percent, rb.capacity.article) == (80, "Điều 12.4a")
    assert rb.quotas.article == "Điều 8"
    assert rb.quotas.quota_for("province_people_committee") is None
    assert rb.quotas.quota_for("department") == 1
    assert rb.quotas.quota_for("district_people_committee") == 2
    assert rb.quotas.quota_for("commune_people_committee") == 1
    assert rb.quotas.quota_for("other") is None
    assert rb.bandwidth.minimum_for("tslcd") == 4
    assert rb.bandwidth.minimum_for("internet") == 20
    assert rb.bandwidth.internet_not_shared and rb.bandwidth.article == "Điều 6.3"
    assert rb.technical_check.hours_before == 2
    assert rb.technical_check.before_rehearsal and rb.technical_check.before_session
    assert rb.rehearsal.supported
    assert (rb.handover.working_days, rb.handover.article) == (2, "Điều 15.3")
    assert rb.priority.higher_level_first and rb.priority.revocation
    assert rb.priority.revocation_order == "latest_registered_first"
    assert rb.priority.article == "Điều 12.4b"
    assert rb.control.commune_hosted_controlled_by == "district"
    assert set(rb.control.controller_levels) >= {"province", "district"}
    assert rb.registration.channels == ["official_email"]
    assert rb.registration.official_email == "hoptructuyen@khanhhoa.gov.vn"
    assert rb.registration.district_registers_for_communes
    assert rb.registration.announced_by_offices_for_kinds == ["province_people_committee"]
    assert not rb.security_check.required and rb.security_check.article == ""
    assert rb.personal_devices.article == "Điều 6.5"
    assert rb.admission.article == "Điều 9.3"
    assert rb.contacts.article == "Điều 19.3"
    assert set(rb.scope.subordinates_for_kinds) == {"district_people_committee", "department"}
    assert rb.emergency_priority.article == "Điều 12.3"
    assert rb.session.participants_join_muted
    assert rb.vcs_address.required_for_networks == ["tslcd", "wan"]


def test_khanh_hoa_naming():
    rb = load_rulebook(KH)
    assert rb.naming is not None and rb.naming.article == "Điều 6.4"
    assert rb.naming.patterns == {
        "province_people_committee": "UBND.{province_ascii}",
        "department": "{abbreviation}",
        "district_people_committee": "UBND.{name_spaced}",
        "commune_people_committee": "{parent_abbreviation}.{name_camel}",
    }
    assert rb.endpoint_name("province_people_committee") == "UBND.Khanh Hoa"
    assert rb.endpoint_name("department", abbreviation="So.TTTT") == "So.TTTT"
    assert rb.endpoint_name("district_people_committee", name_spaced="Nha Trang") == (
        "UBND.Nha Trang"
    )
    name = rb.endpoint_name(
        "commune_people_committee", parent_abbreviation="NT", name_camel="XuongHuan"
    )
    assert name == "NT.XuongHuan"
    assert rb.endpoint_name("other") is None
    assert rb.naming.device_name("UBND.Nha Trang", 2) == "UBND.Nha Trang.02"
    assert re.fullmatch(rb.naming.device_suffix, ".01")
    assert rb.naming.split_device_suffix("UBND.Nha Trang.01") == ("UBND.Nha Trang", ".01")
    assert rb.naming.split_device_suffix("UBND.Nha Trang") == ("UBND.Nha Trang", "")


def test_dong_nai_identity_and_levels():
    rb = load_rulebook(DN)
    assert rb.short == "Quy chế ĐN"
    assert rb.province_name == "Đồng Nai"
    assert rb.province_ascii == "Dong Nai"
    assert rb.province_code == 75
    assert rb.admin_data == "current"
    assert [level.key for level in rb.levels] == ["province", "commune"]
    assert not rb.supports_kind("district_people_committee")
    with pytest.raises(KeyError):
        rb.level_for_kind("district_people_committee")
    assert rb.level_for_kind("department_unit") == "commune"
    assert rb.level_for_kind("province_party_committee") == "province"
    assert rb.naming is None
    assert rb.endpoint_name("department", abbreviation="So.KHCN") is None


def test_dong_nai_numbers():
    rb = load_rulebook(DN)
    lt = rb.lead_times
    assert (lt.normal.hours, lt.urgent.hours, lt.emergency.hours) == (24, 6, 6)
    assert not any(t.exempt for t in (lt.normal, lt.urgent, lt.emergency))
    assert lt.normal.article == "Điều 11.2a"
    assert (rb.reply_sla.hours, rb.reply_sla.article) == (2, "Điều 11.2b")
    assert rb.capacity.cap_percent == 100 and rb.capacity.article == ""
    assert rb.capacity.note_vi and rb.capacity.is_deployment_default("cap_percent")
    assert all(rb.quotas.quota_for(kind) is None for kind in rb.kind_levels)
    assert rb.quotas.article == "Điều 7"
    assert rb.bandwidth.preferred_network == "tslcd"
    assert all(rb.bandwidth.minimum_for(network) == 0 for network in NETWORKS)
    assert rb.security_check.required
    assert set(rb.security_check.triggers) == {"new", "repaired"}
    assert "Điều 16.5" in rb.security_check.article
    assert rb.contacts.required_roles == ["leader", "technician"]
    assert rb.contacts.article == "Điều 16.3"
    assert rb.scope.subordinates_for_kinds == ["department"]
    assert not rb.priority.revocation and not rb.priority.higher_level_first
    assert rb.emergency_priority.article == "Điều 10.3"
    assert rb.control.commune_hosted_controlled_by == "host"
    assert rb.control.requires_room_standard
    assert rb.technical_check.hours_before == 2
    assert rb.technical_check.before_session and not rb.technical_check.before_rehearsal
    assert not rb.rehearsal.supported
    assert (rb.handover.working_days, rb.handover.article) == (2, "Điều 13.3")
    assert rb.materials.state_secret_excluded and rb.materials.article.endswith("Điều 13.4")
    assert set(rb.registration.channels) == {"web_form", "invitation_letter"}
    assert set(rb.registration.announced_by_offices_for_kinds) == {
        "province_party_committee",
        "province_people_council",
        "national_assembly_delegation",  # ĐN Đ10.1: "Văn phòng Đoàn Đại biểu Quốc hội"
        "province_people_committee",
    }
    assert not rb.registration.district_registers_for_communes


@pytest.mark.parametrize("name", [DN, KH])
def test_every_section_cites_an_article_or_says_there_is_none(name):
    rb = load_rulebook(name)
    for key, section in _all_sections(rb):
        assert section.article or section.note_vi, key
        assert section.text_vi and section.text_en, key


def test_the_rulebooks_differ_where_the_regulations_do():
    kh, dn = load_rulebook(KH), load_rulebook(DN)
    assert kh.lead_times.normal != dn.lead_times.normal
    assert kh.reply_sla.hours != dn.reply_sla.hours
    assert kh.capacity.cap_percent != dn.capacity.cap_percent
    assert kh.rehearsal.supported != dn.rehearsal.supported


def test_cite_and_generic_access():
    rb = load_rulebook(KH)
    assert rb.cite("Điều 13.2a") == "Điều 13.2a Quy chế KH"
    assert rb.cite(rb.capacity.article) == "Điều 12.4a Quy chế KH"
    assert "Quy chế ĐN" in load_rulebook(DN).cite("")
    assert rb.rule("capacity") is rb.capacity
    assert load_rulebook(DN).rule("naming") is None
    with pytest.raises(KeyError):
        rb.rule("title")


def test_level_helpers():
    rb = load_rulebook(KH)
    ranks = [rb.level(key).rank for key in ("central", "province", "district", "commune")]
    assert ranks == sorted(ranks, reverse=True)
    assert rb.kinds_for_level("central") == ["province_people_committee"]
    assert rb.kinds_for_level("district") == ["district_people_committee"]
    assert rb.level_rank_for_kind("department") > rb.level_rank_for_kind("commune_people_committee")
    with pytest.raises(KeyError):
        load_rulebook(DN).level("district")


def test_get_rulebook_is_cached_and_active_follows_settings(settings):
    assert get_rulebook(KH) is get_rulebook(KH)
    assert hash(get_rulebook(KH)) == hash(load_rulebook(KH))
    settings.RULEBOOK = DN
    assert active_rulebook().name == DN
    settings.RULEBOOK = KH
    assert active_rulebook() is get_rulebook(KH)


def test_a_third_province_needs_only_a_file(tmp_path):
    text = _source(KH).replace('province_name = "Khánh Hòa"', 'province_name = "Tỉnh Mới"')
    text = text.replace('province_ascii = "Khanh Hoa"', 'province_ascii = "Tinh Moi"')
    rb = load_rulebook(_write(tmp_path, text, "tinh-moi-2030.toml"))
    assert rb.name == "tinh-moi-2030"
    assert rb.endpoint_name("province_people_committee") == "UBND.Tinh Moi"


def test_no_province_specific_code():
    package = DATA_DIR.parent
    for path in package.rglob("*.py"):
        if "tests" in path.parts:
            continue
        text = path.read_text(encoding="utf-8").lower()
        for word in ("khanh", "khánh", "dong nai", "dong-nai", "đồng nai"):
            assert word not in text, f"{path.name} mentions {word!r}"


def test_vocabulary_matches_the_directory():
    from diemcau.directory.choices import AgencyKind, Network

    assert set(AgencyKind.values) == set(AGENCY_KINDS)
    assert set(Network.values) == set(NETWORKS)


def test_loading_needs_no_django():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    code = (
        "import sys\n"
        "from diemcau.rulebooks import available_rulebooks, load_rulebook\n"
        "for name in available_rulebooks(): load_rulebook(name)\n"
        "assert not [m for m in sys.modules if m.split('.')[0] == 'django'], 'django imported'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


# -- broken rulebooks ----------------------------------------------------------------------------

BROKEN = [
    # (rulebook, table, old, new, key, words in the message)
    (
        KH,
        "[capacity]",
        "cap_percent = 80",
        'cap_percent = "80"',
        "capacity.cap_percent",
        "must be an integer",
    ),
    (
        KH,
        "[capacity]",
        "cap_percent = 80",
        "cap_percent = 180",
        "capacity.cap_percent",
        "must be <= 100",
    ),
    (
        KH,
        "[capacity]",
        "cap_percent = 80",
        'cap_percent = 80\ncolour = "red"',
        "capacity.colour",
        "unknown key",
    ),
    (
        KH,
        "[capacity]",
        'article = "Điều 12.4a"\n',
        "",
        "capacity.article",
        "required key is missing",
    ),
    (KH, "[capacity]", 'article = "Điều 12.4a"', 'article = ""', "capacity.article", "note_vi"),
    (
        KH,
        "[capacity]",
        'article = "Điều 12.4a"',
        'article = "Đ12.4a"',
        "capacity.article",
        "should look like",
    ),
    (
        KH,
        "[lead_times.normal]",
        "working_days = 2",
        'working_days = "two"',
        "lead_times.normal.working_days",
        "must be an integer",
    ),
    (
        KH,
        "[lead_times.normal]",
        "working_days = 2",
        "working_days = 2\nhours = 24",
        "lead_times.normal",
        "exactly one",
    ),
    (KH, "[reply_sla]", "hours = 3", "hours = 0", "reply_sla.hours", "must be > 0"),
    (
        KH,
        "[kind_levels]",
        'other = "other"',
        'other = "ward"',
        "kind_levels.other",
        "must be one of",
    ),
    (
        KH,
        "[kind_levels]",
        'other = "other"',
        'other = "other"\nward = "commune"',
        "kind_levels.ward",
        "unknown agency kind",
    ),
    (
        DN,
        "[kind_levels]",
        'department_unit = "commune"',
        'department_unit = "district"',
        "kind_levels.department_unit",
        "not one of this rulebook's levels",
    ),
    (
        KH,
        "[naming.patterns]",
        'department = "{abbreviation}"',
        'department = "{abbrev}"',
        "naming.patterns.department",
        "unknown placeholder {abbrev}",
    ),
    (
        KH,
        "[naming]",
        'device_suffix_format = ".{index:02d}"',
        'device_suffix_format = "-{index}"',
        "naming.device_suffix_format",
        "does not match",
    ),
    (
        DN,
        "[quotas]",
        "per_kind = {}",
        "per_kind = { district_people_committee = 2 }",
        "quotas.per_kind.district_people_committee",
        "not in kind_levels",
    ),
    (
        DN,
        "[control]",
        'controller_levels = ["province", "commune"]',
        'controller_levels = ["province", "district"]',
        "control.controller_levels[1]",
        "not one of this rulebook's levels",
    ),
    (
        DN,
        "[control]",
        'commune_hosted_controlled_by = "host"',
        'commune_hosted_controlled_by = "district"',
        "control.commune_hosted_controlled_by",
        "needs the level(s) district",
    ),
    (
        DN,
        "[priority]",
        "revocation = false",
        "revocation = true",
        "priority.revocation_order",
        "required when revocation",
    ),
    (
        DN,
        "[technical_check]",
        "before_rehearsal = false",
        "before_rehearsal = true",
        "technical_check.before_rehearsal",
        "rehearsal.supported",
    ),
    # A check hours or days ahead would book the MCU node that long before the meeting: a
    # typing slip (400 for 4) is refused, not obeyed.
    (
        KH,
        "[technical_check]",
        "hours_before = 2\n",
        "hours_before = 400\n",
        "technical_check.hours_before",
        "must be <= 72",
    ),
    (
        KH,
        "[technical_check]",
        "check_minutes = 30",
        "check_minutes = 600",
        "technical_check.check_minutes",
        "must be <= 240",
    ),
    (
        KH,
        "[technical_check]",
        "earliest_hours_before = 24",
        "earliest_hours_before = 1",
        "technical_check.earliest_hours_before",
        "must be >= hours_before",
    ),
    (
        KH,
        "[reply_sla]",
        'deployment_defaults = ["warn_before_minutes"]',
        'deployment_defaults = ["warn_minutes"]',
        "reply_sla.deployment_defaults[0]",
        "not a field",
    ),
    (
        KH,
        "[office_hours]",
        '["13:30", "17:00"]',
        '["11:00", "17:00"]',
        "office_hours.periods[1]",
        "overlap",
    ),
    (
        KH,
        "[registration]",
        'official_email = "hoptructuyen@khanhhoa.gov.vn"\n',
        "",
        "registration.official_email",
        "required when channels",
    ),
]


@pytest.mark.parametrize(("name", "table", "old", "new", "key", "words"), BROKEN)
def test_broken_rulebook_names_key_and_file(tmp_path, name, table, old, new, key, words):
    path = _write(tmp_path, _edit(_source(name), table, old, new))
    with pytest.raises(RulebookError) as caught:
        load_rulebook(path)
    error = caught.value
    assert error.key == key
    assert error.file == str(path)
    assert words in error.message
    assert str(error).startswith(f"{path}: {key}: ")


def test_error_text_matches_the_documented_form(tmp_path):
    text = _edit(_source(KH), "[quotas.per_kind]", "department = 1", "department = -1")
    path = _write(tmp_path, text)
    with pytest.raises(RulebookError) as caught:
        load_rulebook(path)
    assert str(caught.value) == f"{path}: quotas.per_kind.department: must be >= 0"


def test_loader_filled_keys_are_refused(tmp_path):
    path = _write(tmp_path, 'name = "other"\n' + _source(KH))
    with pytest.raises(RulebookError) as caught:
        load_rulebook(path)
    assert caught.value.key == "name"


def test_toml_syntax_error_names_the_file(tmp_path):
    path = _write(tmp_path, _source(KH).replace("cap_percent = 80", "cap_percent = = 80"))
    with pytest.raises(RulebookError) as caught:
        load_rulebook(path)
    assert caught.value.file == str(path)
    assert caught.value.key == ""
    assert "TOML syntax error" in str(caught.value) and "broken.toml" in str(caught.value)


def test_missing_file_and_unknown_name(tmp_path):
    with pytest.raises(RulebookError, match="cannot read"):
        load_rulebook(tmp_path / "absent.toml")
    with pytest.raises(RulebookError) as caught:
        load_rulebook("atlantis-2099")
    assert caught.value.file == "atlantis-2099"
    assert DN in caught.value.message and KH in caught.value.message
    with pytest.raises(RulebookError):
        load_rulebook("../settings")


# -- the `rulebook` command ----------------------------------------------------------------------


def _call(*args: str) -> str:
    out = StringIO()
    call_command("rulebook", *args, stdout=out)
    return out.getvalue()


def test_command_list():
    out = _call("list")
    assert DN in out and KH in out
    assert "Quy chế KH" in out and "Quy chế ĐN" in out


def test_command_show_prints_every_rule_with_its_article():
    out = _call("show", KH)
    assert "Quy chế KH — khanh-hoa-2023" in out
    for key in SECTION_KEYS:
        assert f"[{key}]" in out, key
    assert "[lead_times.normal] Điều 13.2a Quy chế KH" in out
    assert "[capacity] Điều 12.4a Quy chế KH" in out
    assert "cap_percent = 80" in out
    assert "working_days = 2" in out
    assert "warn_before_minutes = 30 (*)" in out

    dn = _call("show", DN)
    assert "exception_article = —" in dn
    assert "default = không hạn chế / unlimited" in dn
    assert "[naming] — (không có / none)" in dn
    assert "[reply_sla] Điều 11.2b Quy chế ĐN" in dn


def test_command_show_and_check_accept_a_path(tmp_path):
    path = _write(tmp_path, _source(DN), "copy.toml")
    assert "Quy chế ĐN — copy" in _call("show", str(path))
    assert _call("check", str(path)).startswith("OK: copy")


def test_command_check(tmp_path, settings):
    assert _call("check", KH).startswith("OK: khanh-hoa-2023")
    settings.RULEBOOK = DN
    assert _call("check").startswith("OK: dong-nai-2025")
    path = _write(tmp_path, _edit(_source(KH), "[capacity]", "cap_percent = 80", "cap_percent = 0"))
    with pytest.raises(CommandError, match=r"broken\.toml: capacity\.cap_percent: must be >= 1"):
        _call("check", str(path))
    with pytest.raises(CommandError, match="available: dong-nai-2025, khanh-hoa-2023"):
        _call("check", "atlantis-2099")
