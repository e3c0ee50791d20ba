"""Every citation of every rulebook names an article, clause (khoản) and point (điểm) that exist
in the regulation's text shipped beside it (issue 10, item 8)."""

from __future__ import annotations

import tomllib

import pytest

from diemcau.rulebooks import DATA_DIR, available_rulebooks, get_rulebook
from diemcau.rulebooks.citations import (
    load_regulation,
    missing,
    parse_regulation,
    regulation_path,
    rulebook_citations,
)
from diemcau.rulebooks.vocabulary import AGENCY_KINDS, NETWORKS

NAMES = available_rulebooks()


@pytest.mark.parametrize("name", NAMES)
def test_each_rulebook_keeps_its_regulation_beside_it(name: str) -> None:
    path = regulation_path(name)
    assert path.is_file(), f"{name}: the regulation's text belongs at {path}"
    assert len(load_regulation(name)) >= 15


@pytest.mark.parametrize("name", NAMES)
def test_every_citation_in_the_rulebook_exists_in_its_regulation(name: str) -> None:
    articles = load_regulation(name)
    data = tomllib.loads((DATA_DIR / f"{name}.toml").read_text(encoding="utf-8"))
    found = list(rulebook_citations(data))
    assert len(found) > 40  # the walk reaches every section
    problems = [f"{where}: {problem}" for where, cited in found
                for problem in missing(cited, articles)]
    assert problems == []


def _refusal_citations(name: str) -> list[str]:
    """The article of every refusal the services can make, as they ask the rulebook for it."""
    rb = get_rulebook(name)
    cited = [
        rb.levels_article,
        rb.admission.article,
        rb.security_check.article,
        rb.contacts.article,
        rb.capacity.article,
        rb.priority.article,
        rb.session.article,
        rb.materials.article,
        rb.secrecy.recording_article or rb.secrecy.article,
        rb.secrecy.personal_internet_article or rb.secrecy.article,
        rb.registration.district_registers_article or rb.registration.article,
        rb.registration.announced_article,
        rb.bandwidth.tslcd_or_wan_article or rb.bandwidth.article,
        rb.vcs_address.article,
        *(rb.lead_times[urgency].article for urgency in ("normal", "urgent", "emergency")),
        *(rb.quotas.article_for(kind) for kind in AGENCY_KINDS),
        *(rb.bandwidth.article_for(network) for network in NETWORKS),
    ]
    if rb.naming is not None:
        cited += [rb.naming.article_for(kind) for kind in AGENCY_KINDS]
    return [c for c in cited if c]


@pytest.mark.parametrize("name", NAMES)
def test_every_refusal_cites_what_exists(name: str) -> None:
    articles = load_regulation(name)
    problems = [p for cited in _refusal_citations(name) for p in missing(cited, articles)]
    assert problems == []


def test_a_limit_is_cited_down_to_its_clause() -> None:
    kh = get_rulebook("khanh-hoa-2023")
    assert kh.quotas.article_for("department") == "Điều 8.2"
    assert kh.quotas.article_for("district_people_committee") == "Điều 8.3"
    assert kh.quotas.article_for("commune_people_committee") == "Điều 8.4"
    assert kh.naming is not None and kh.naming.article_for("commune_people_committee") == (
        "Điều 6.4d")
    assert kh.bandwidth.article_for("internet") == "Điều 6.3b"


@pytest.mark.parametrize(
    ("name", "citation", "problem"),
    [
        ("khanh-hoa-2023", "Điều 22", "no Điều 22"),
        ("khanh-hoa-2023", "Điều 8.5", "no khoản 5"),
        ("khanh-hoa-2023", "Điều 6.3c", "no điểm c"),
        ("khanh-hoa-2023", "Điều 13.2b–d", "no điểm d"),
        ("dong-nai-2025", "Điều 12.3", "no khoản 3"),  # ĐN Đ12 jumps from 2 to 4
        ("dong-nai-2025", "Điều 6.1–9", "no khoản 9"),
        ("dong-nai-2025", "Đ12.4a", "not a citation"),
    ],
)
def test_a_citation_to_what_the_text_lacks_is_caught(name: str, citation: str,
                                                     problem: str) -> None:
    [found] = missing(citation, load_regulation(name))
    assert problem in found


def test_bulleted_kinds_are_read_as_lettered_points() -> None:
    # KH Đ3.2 lists its endpoints as bullets, Đ6.3a and Đ6.5 cite them by letter.
    text = "QUY CHẾ\nĐiều 3. X\n2. Gồm:\n- một\n- hai\n- ba\nĐiều 4. Y\n1. Z\n"
    articles = parse_regulation(text)
    assert articles[3].points(2) == {"a", "b", "c"}
    assert missing("Điều 3.2c", articles) == []
    assert missing("Điều 3.2d", articles) != []


def test_issue_10_citations_are_the_ones_the_text_supports() -> None:
    kh, dn = get_rulebook("khanh-hoa-2023"), get_rulebook("dong-nai-2025")
    # ĐN admission rests on Đ7 and Đ9.2, which reach the room standard through Đ6.
    assert dn.admission.article == "Điều 7, Điều 9.2"
    assert dn.admission.room_standard_article == "Điều 6.1–4"
    # A personal device over the Internet in a state-secret meeting.
    assert dn.secrecy.personal_internet_article == "Điều 5.2, Điều 6.8"
    assert kh.secrecy.personal_internet_article == "Điều 5.2, Điều 6.5"
    # A recording the host did not ask for.
    assert kh.secrecy.recording_article == "Điều 13.2a, Điều 15.2"
    # The district registers for its communes.
    assert kh.registration.district_registers_article == "Điều 12.2b"
    # Internet refused to the bodies of Đ6.3a only.
    assert kh.bandwidth.tslcd_or_wan_article == "Điều 6.3a"
    # The state-secret recording refusal is the deployment's policy, and says so.
    assert "không phải điều khoản" in kh.cite_setting("secrecy.state_secret_allows_recording")


def test_rulebook_check_refuses_a_citation_the_text_lacks(tmp_path) -> None:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    source = (DATA_DIR / "khanh-hoa-2023.toml").read_text(encoding="utf-8")
    broken = source.replace('department = "Điều 8.2"', 'department = "Điều 8.7"', 1)
    assert broken != source
    path = tmp_path / "khanh-hoa-2023.toml"  # the same name: checked against the KH text
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(CommandError, match=r"quotas\.per_kind_articles\.department: .*khoản 7"):
        call_command("rulebook", "check", str(path))
    path.write_text(source, encoding="utf-8")
    call_command("rulebook", "check", str(path))
