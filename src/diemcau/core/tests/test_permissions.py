"""The role × action matrix and the agency scope (R22)."""

import pytest

from diemcau.core.permissions import ROLE_ACTIONS, Action, can, role_allows
from diemcau.core.roles import Role
from diemcau.testing.factories import UserFactory

# The expected matrix, written out by hand: a change to ROLE_ACTIONS must change this too.
A = Action
READ = {A.VIEW_AGENCY, A.VIEW_ENDPOINT, A.VIEW_CONTACTS, A.VIEW_MEETING, A.VIEW_EQUIPMENT}
STAFF = {A.REGISTER_ENDPOINT, A.EDIT_ENDPOINT, A.MANAGE_CONTACTS, A.MANAGE_EQUIPMENT}
EXPECTED = {
    Role.ADMIN: set(Action),
    Role.OPERATOR: READ
    | STAFF
    | {
        A.EVALUATE_ENDPOINT,
        A.APPROVE_ENDPOINT,
        A.SUSPEND_ENDPOINT,
        A.RECORD_SECURITY_CHECK,
        A.RECORD_QUOTA_EXCEPTION,
        A.DECIDE_MEETING,
        A.MANAGE_INCIDENT,
        A.MANAGE_MCU,
        A.REGISTER_MEETING,
        A.RECORD_CHECK,
        A.REPORT_INCIDENT,
        A.JOIN_MEETING,
        A.CONTROL_MEETING,
        A.MANAGE_DUTY,
        A.MANAGE_PROVIDERS,
        A.RECORD_TRAINING,
    },
    Role.OFFICE: READ | STAFF | {A.REGISTER_MEETING, A.REPORT_INCIDENT, A.JOIN_MEETING},
    Role.TECHNICIAN: READ
    | STAFF
    | {A.RECORD_CHECK, A.REPORT_INCIDENT, A.JOIN_MEETING, A.CONTROL_MEETING},
    Role.AUDITOR: READ | {A.VIEW_AUDIT},
}


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", list(Action))
def test_role_action_matrix(role, action):
    user = UserFactory(role=role)
    assert role_allows(user, action) is (action in EXPECTED[role])
    assert (action in ROLE_ACTIONS[role]) is (action in EXPECTED[role])


@pytest.mark.django_db
def test_inactive_and_anonymous_users_may_do_nothing():
    from django.contrib.auth.models import AnonymousUser

    user = UserFactory(role=Role.ADMIN, is_active=False)
    assert not any(role_allows(user, a) for a in Action)
    assert not any(role_allows(AnonymousUser(), a) for a in Action)


def test_scope_follows_the_rulebook_delegation(kh_tree, use_rulebook):
    use_rulebook("khanh-hoa-2023")
    t = kh_tree
    province, district, commune, other_commune = t.province, t.district, t.commune, t.other_commune
    district_office = UserFactory(role=Role.OFFICE, agency=district)
    commune_tech = UserFactory(role=Role.TECHNICIAN, agency=commune)
    operator = UserFactory(role=Role.OPERATOR, agency=province)
    edit = Action.EDIT_ENDPOINT
    # KH Đ12.2b, Đ19.3: the district is the technical hub for its communes.
    assert can(district_office, edit, district)
    assert can(district_office, edit, commune)
    assert not can(district_office, edit, other_commune)
    assert not can(district_office, edit, province)
    # A commune sees only itself.
    assert can(commune_tech, edit, commune)
    assert not can(commune_tech, edit, district)
    assert not can(commune_tech, edit, other_commune)
    # The operator works province-wide.
    assert all(can(operator, edit, a) for a in vars(t).values())


def test_covering_users_is_the_inverse_of_the_scope(kh_tree, use_rulebook):
    """Who is told about an agency's meeting must be exactly whose scope covers it."""
    from diemcau.core.models import User
    from diemcau.core.permissions import covering_users_filter, in_scope

    use_rulebook("khanh-hoa-2023")
    agencies = list(vars(kh_tree).values())
    users = [UserFactory(role=Role.OFFICE, agency=a) for a in agencies]
    for agency in agencies:
        covering = set(User.objects.filter(covering_users_filter([agency])))
        assert covering == {u for u in users if in_scope(u, agency)}, agency.name


# ---------------------------------------------------------------- refusals in words (issue 10)


def test_every_action_has_words() -> None:
    from diemcau.core.permissions import ACTION_LABELS

    assert set(ACTION_LABELS) == set(Action)


def test_a_refusal_names_the_action_in_words_not_its_id() -> None:
    from django.utils import translation

    from diemcau.core.errors import PermissionDenied
    from diemcau.core.permissions import denied

    with translation.override("en"):
        message = str(denied(Action.REGISTER_ENDPOINT))
        bare = str(PermissionDenied("register_meeting"))
        unknown = str(PermissionDenied("join"))
    assert "register an endpoint" in message and "register_endpoint" not in message
    assert "register or change a meeting" in bare and "register_meeting" not in bare
    assert unknown == "You are not allowed to do this."
