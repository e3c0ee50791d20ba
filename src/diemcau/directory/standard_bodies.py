"""The province's standard party, people's and state bodies, as data (R1).

Administrative units (districts, communes) come from the `vietnam-provinces` package; the
bodies at province level do not, so they are listed here: the bodies every province has
(party committee, people's council, National Assembly delegation, people's committee,
Fatherland Front) and, per province and per administrative era, its departments.

Abbreviations follow KH Đ6.4b's example "So.TTTT": "So." + the initials of the field in ASCII,
"Ban." + initials for a board, "TTr" for the provincial inspectorate. They are written out
(not computed) so that a clash is resolved by hand and stays visible: Sở Nội vụ is "So.NV",
so Sở Ngoại vụ becomes "So.NgV".
"""

from __future__ import annotations

from dataclasses import dataclass

from .choices import AgencyKind


@dataclass(frozen=True)
class StandardBody:
    name: str
    kind: str
    abbreviation: str
    # True: a child of the province's People's Committee (departments, boards).
    # False: a root of the tree (party committee, people's council, front, UBND tỉnh itself).
    under_people_committee: bool = True


def _department(name: str, abbreviation: str) -> StandardBody:
    return StandardBody(name, AgencyKind.DEPARTMENT.value, abbreviation)


def province_people_committee_name(province_name: str, division_word: str = "tỉnh") -> str:
    """ "UBND tỉnh Khánh Hòa": the root that departments and districts/communes hang from."""
    return f"UBND {division_word} {province_name}"


def common_bodies(province_name: str, division_word: str = "tỉnh") -> list[StandardBody]:
    """The bodies every province has (ĐN Đ3.2a lists them as province-level endpoints).

    `division_word` is "tỉnh", or "thành phố" for a centrally-run city, whose party committee
    is a "Thành ủy".
    """
    party = "Tỉnh ủy" if division_word == "tỉnh" else "Thành ủy"
    place = f"{division_word} {province_name}"
    return [
        StandardBody(
            f"{party} {province_name}",
            AgencyKind.PROVINCE_PARTY_COMMITTEE.value,
            "TU",
            under_people_committee=False,
        ),
        StandardBody(
            f"HĐND {place}",
            AgencyKind.PROVINCE_PEOPLE_COUNCIL.value,
            "HDND",
            under_people_committee=False,
        ),
        StandardBody(
            f"Đoàn ĐBQH {place}",
            AgencyKind.NATIONAL_ASSEMBLY_DELEGATION.value,
            "DBQH",
            under_people_committee=False,
        ),
        StandardBody(
            province_people_committee_name(province_name, division_word),
            AgencyKind.PROVINCE_PEOPLE_COMMITTEE.value,
            "UBND",
            under_people_committee=False,
        ),
        StandardBody(
            f"Ủy ban MTTQ Việt Nam {place}",
            AgencyKind.PROVINCE_FRONT.value,
            "MTTQ",
            under_people_committee=False,
        ),
    ]


# Khánh Hòa before the 2025 merger of departments (the organisation QĐ 680/QĐ-UBND 2023 was
# written for): the specialised agencies of NĐ 24/2014 as amended by NĐ 107/2020, with
# Khánh Hòa's own Sở Du lịch (split from Sở VHTTDL in 2016) and Ban Dân tộc, plus the Vân Phong
# economic zone board. Văn phòng UBND tỉnh runs the central endpoint at UBND tỉnh (KH Đ3.2,
# Đ8.1: no limit on its endpoints), so it is that agency, not a separate one.
KHANH_HOA_2023_DEPARTMENTS: tuple[StandardBody, ...] = (
    _department("Sở Nội vụ", "So.NV"),
    _department("Sở Tư pháp", "So.TP"),
    _department("Sở Kế hoạch và Đầu tư", "So.KHDT"),
    _department("Sở Tài chính", "So.TC"),
    _department("Sở Công Thương", "So.CT"),
    _department("Sở Nông nghiệp và Phát triển nông thôn", "So.NNPTNT"),
    _department("Sở Giao thông vận tải", "So.GTVT"),
    _department("Sở Xây dựng", "So.XD"),
    _department("Sở Tài nguyên và Môi trường", "So.TNMT"),
    _department("Sở Thông tin và Truyền thông", "So.TTTT"),
    _department("Sở Lao động - Thương binh và Xã hội", "So.LDTBXH"),
    _department("Sở Văn hóa và Thể thao", "So.VHTT"),
    _department("Sở Du lịch", "So.DL"),
    _department("Sở Khoa học và Công nghệ", "So.KHCN"),
    _department("Sở Giáo dục và Đào tạo", "So.GDDT"),
    _department("Sở Y tế", "So.YT"),
    _department("Sở Ngoại vụ", "So.NgV"),
    _department("Thanh tra tỉnh", "TTr"),
    _department("Ban Dân tộc", "Ban.DT"),
    _department("Ban Quản lý Khu kinh tế Vân Phong", "Ban.QLKKTVP"),
)

# Đồng Nai after the 2025 reform (NĐ 45/2025/NĐ-CP; the merger with Bình Phước from
# 01/7/2025): 14 specialised agencies, Văn phòng UBND tỉnh being part of the UBND tỉnh
# endpoint. Sở Ngoại vụ was merged into Văn phòng UBND tỉnh in 02/2025 and re-established
# for the merged province (its functions: QĐ 68/2025/QĐ-UBND of 03/12/2025).
DONG_NAI_2025_DEPARTMENTS: tuple[StandardBody, ...] = (
    _department("Sở Nội vụ", "So.NV"),
    _department("Sở Tư pháp", "So.TP"),
    _department("Sở Tài chính", "So.TC"),
    _department("Sở Công Thương", "So.CT"),
    _department("Sở Nông nghiệp và Môi trường", "So.NNMT"),
    _department("Sở Xây dựng", "So.XD"),
    _department("Sở Khoa học và Công nghệ", "So.KHCN"),
    _department("Sở Văn hóa, Thể thao và Du lịch", "So.VHTTDL"),
    _department("Sở Giáo dục và Đào tạo", "So.GDDT"),
    _department("Sở Y tế", "So.YT"),
    _department("Sở Dân tộc và Tôn giáo", "So.DTTG"),
    _department("Sở Ngoại vụ", "So.NgV"),
    _department("Thanh tra tỉnh", "TTr"),
    _department("Ban Quản lý các Khu công nghiệp Đồng Nai", "Ban.QLKCN"),
)

# (province code in vietnam-provinces, rulebook admin_data) → departments.
DEPARTMENTS: dict[tuple[int, str], tuple[StandardBody, ...]] = {
    (56, "pre-2025"): KHANH_HOA_2023_DEPARTMENTS,
    (75, "current"): DONG_NAI_2025_DEPARTMENTS,
}


def departments_for(province_code: int, admin_data: str) -> tuple[StandardBody, ...] | None:
    """The province's departments in that era, or None when nobody has listed them yet."""
    return DEPARTMENTS.get((province_code, admin_data))


def standard_bodies(
    province_code: int, admin_data: str, province_name: str, division_word: str = "tỉnh"
) -> list[StandardBody]:
    """Common bodies first (UBND tỉnh among them), then the departments, if listed."""
    return [
        *common_bodies(province_name, division_word),
        *(departments_for(province_code, admin_data) or ()),
    ]
