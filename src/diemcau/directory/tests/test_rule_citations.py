"""Directory refusals cite down to the clause and point (issue 10, items 7 and 11): the quota
names its khoản (KH Đ8.2 for a department, Đ8.3 for a district), the Internet refusal names
KH Đ6.3a and covers only the bodies that clause names."""

from decimal import Decimal

import pytest

from diemcau.core.errors import RuleViolation
from diemcau.core.roles import Role
from diemcau.directory import services
from diemcau.directory.choices import AgencyKind, Network
from diemcau.testing.factories import AgencyFactory, ApprovedEndpointFactory, UserFactory

from .test_services import endpoint_input

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(kh_tree, use_rulebook):
    use_rulebook("khanh-hoa-2023")
    return UserFactory(role=Role.OPERATOR, agency=kh_tree.department)


@pytest.mark.parametrize(
    ("agency_attr", "names", "clause"),
    [
        ("department", ["So.TTTT", "So.TTTT.01"], "Điều 8.2 Quy chế KH"),
        ("district", ["UBND.Nha Trang", "UBND.Nha Trang.01", "UBND.Nha Trang.02"],
         "Điều 8.3 Quy chế KH"),
        ("commune", ["NT.XuongHuan", "NT.XuongHuan.01"], "Điều 8.4 Quy chế KH"),
    ],
)
def test_the_quota_refusal_cites_the_clause_of_the_agency_limit(kh_tree, operator, agency_attr,
                                                                names, clause):
    agency = getattr(kh_tree, agency_attr)
    *allowed, extra = names
    for index, name in enumerate(allowed):
        services.register_endpoint(endpoint_input(agency, name, vcs_ip=f"10.56.0.{20 + index}"),
                                   actor=operator)
    with pytest.raises(RuleViolation) as refused:
        services.register_endpoint(endpoint_input(agency, extra, vcs_ip="10.56.0.99"),
                                   actor=operator)
    assert refused.value.code == "endpoint_quota_exceeded"
    assert refused.value.article == clause


def _internet(agency, name):
    return endpoint_input(agency, name, network=Network.INTERNET, vcs_ip=None,
                          bandwidth_mbps=Decimal("30"), dedicated_line=True)


def test_kh_internet_is_refused_to_the_bodies_of_clause_6_3a(kh_tree, operator):
    with pytest.raises(RuleViolation) as refused:
        services.register_endpoint(_internet(kh_tree.department, "So.TTTT"), actor=operator)
    assert refused.value.code == "endpoint_internet_not_allowed"
    assert refused.value.article == "Điều 6.3a Quy chế KH"


@pytest.mark.parametrize(
    "kind",
    [AgencyKind.PROVINCE_PARTY_COMMITTEE, AgencyKind.PROVINCE_PEOPLE_COUNCIL, AgencyKind.OTHER],
)
def test_kh_bodies_outside_clause_6_3a_may_use_the_internet(kh_tree, operator, kind):
    # KH Đ3.2 lists only departments at province level; Tỉnh ủy, HĐND and agencies of point đ
    # are not covered by Đ6.3a's TSLCD-or-WAN rule.
    agency = AgencyFactory(name=f"Cơ quan {kind}", kind=kind, parent=kh_tree.province)
    endpoint = services.register_endpoint(_internet(agency, f"CQ.{kind[:6]}"), actor=operator)
    assert endpoint.network == Network.INTERNET


def test_kh_the_central_endpoint_is_not_refused_internet_by_clause_6_3a(kh_tree, operator):
    ApprovedEndpointFactory(agency=kh_tree.province, name="UBND.Khanh Hoa")
    endpoint = services.register_endpoint(_internet(kh_tree.province, "UBND.Khanh Hoa.01"),
                                          actor=operator)
    assert endpoint.network == Network.INTERNET


def test_kh_an_internet_line_below_20_mbps_cites_clause_6_3b(kh_tree, operator):
    agency = AgencyFactory(name="Cục Thuế tỉnh", kind=AgencyKind.OTHER, parent=kh_tree.province)
    data = _internet(agency, "CT.KH")
    data.bandwidth_mbps = Decimal("10")
    with pytest.raises(RuleViolation) as refused:
        services.register_endpoint(data, actor=operator)
    assert refused.value.article == "Điều 6.3b Quy chế KH"


def test_dn_a_room_off_the_dedicated_network_is_warned_not_refused(kh_tree, use_rulebook,
                                                                  client):
    from django.urls import reverse

    from diemcau.directory.rules import network_advice

    use_rulebook("dong-nai-2025")
    agency = AgencyFactory(name="Sở Nội vụ", kind=AgencyKind.DEPARTMENT, parent=kh_tree.province)
    operator = UserFactory(role=Role.OPERATOR, agency=kh_tree.department)
    endpoint = services.register_endpoint(_internet(agency, "SNV"), actor=operator)
    advice = network_advice(endpoint.network)
    assert advice is not None and advice.article == "Điều 6.2 Quy chế ĐN"
    assert network_advice(Network.TSLCD) is None
    client.force_login(operator)
    page = client.get(reverse("directory:endpoint_detail", args=[endpoint.pk])).content.decode()
    assert "data-network-advice" in page and "Điều 6.2 Quy chế ĐN" in page
    # KH prefers no network over another (its Đ6.3 rules refuse instead): no warning.
    use_rulebook("khanh-hoa-2023")
    assert network_advice(Network.WAN) is None
