"""The closing checklist (ĐN Đ13.1–2, KH Đ15.1–2): after the session each endpoint and the
operator tick the rulebook's closing items; what is left open shows on the operator's desk,
late once the rulebook's time has passed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from diemcau.core.errors import InvalidInput, InvalidTransition, PermissionDenied
from diemcau.core.models import AuditEvent
from diemcau.proceedings import selectors
from diemcau.proceedings.services import closing
from diemcau.rulebooks import get_rulebook
from diemcau.scheduling.choices import MeetingStatus

pytestmark = pytest.mark.django_db


def end(meeting, *, hours_ago: float = 0.5):
    meeting.status = MeetingStatus.ENDED
    meeting.ends_at = timezone.now() - dt.timedelta(hours=hours_ago)
    meeting.starts_at = meeting.ends_at - dt.timedelta(hours=1)
    meeting.save()


def test_the_checklist_holds_the_rulebooks_items_with_their_articles():
    for name, article in (("khanh-hoa-2023", "Điều 15.1"), ("dong-nai-2025", "Điều 13.1")):
        items = get_rulebook(name).closing
        endpoint = [i.key for i in items.items_for("endpoint")]
        operator = [i.key for i in items.items_for("operator")]
        assert endpoint == ["system_checked", "terminal_off", "power_off"]
        assert operator[-1] == "recording_stored"
        assert all(i.article.startswith(article[:7]) for i in items.items)
        assert items.items[0].article == article


def test_endpoints_and_the_operator_tick_after_the_session(world):
    with pytest.raises(InvalidTransition):
        closing.set_tick(world.meeting, item="terminal_off", endpoint=world.participant,
                         done=True, actor=world.other_tech)
    end(world.meeting)
    tick = closing.set_tick(world.meeting, item="terminal_off", endpoint=world.participant,
                            done=True, actor=world.other_tech, remarks="Tắt lúc 11:05")
    assert tick is not None and tick.ticked_by == world.other_tech
    # Ticking twice keeps the first tick.
    assert closing.set_tick(world.meeting, item="terminal_off", endpoint=world.participant,
                            done=True, actor=world.other_tech) == tick
    closing.set_tick(world.meeting, item="recording_stored", endpoint=None, done=True,
                     actor=world.operator)
    parties = {p.endpoint.pk if p.endpoint else None: p
               for p in selectors.checklist(world.meeting, world.other_tech)}
    assert parties[world.participant.pk].open_count == 2
    assert parties[world.participant.pk].may_tick
    assert not parties[None].may_tick and not parties[world.host_endpoint.pk].may_tick
    assert parties[None].open_count == 3
    # Open again: the tick goes, the audit log keeps both.
    closing.set_tick(world.meeting, item="terminal_off", endpoint=world.participant,
                     done=False, actor=world.other_tech)
    assert list(AuditEvent.objects.filter(action__startswith="closing.").order_by("pk")
                .values_list("action", flat=True)) == [
        "closing.tick", "closing.tick", "closing.untick"]


def test_items_not_of_the_party_or_endpoints_not_in_the_meeting_are_refused(world):
    end(world.meeting)
    with pytest.raises(InvalidInput) as refused:
        # The recording is the operator's item, not an endpoint's.
        closing.set_tick(world.meeting, item="recording_stored", endpoint=world.participant,
                         done=True, actor=world.other_tech)
    assert "item" in refused.value.errors
    from diemcau.testing.factories import ApprovedEndpointFactory

    outsider = ApprovedEndpointFactory(agency=world.tree.other_commune)
    with pytest.raises(InvalidInput):
        closing.set_tick(world.meeting, item="power_off", endpoint=outsider, done=True,
                         actor=world.other_tech)


@pytest.mark.parametrize(
    ("user", "party", "allowed"),
    [
        ("other_tech", "participant", True),
        ("other_tech", "host_endpoint", False),
        ("commune_tech", "host_endpoint", True),
        ("district_tech", "host_endpoint", True),  # the district's scope covers its communes
        ("commune_office", "host_endpoint", False),  # offices record no technical work
        ("auditor", "participant", False),
        ("stranger_tech", "participant", False),
        ("operator", "participant", True),
        ("operator", None, True),
        ("district_tech", None, False),
        ("commune_office", None, False),
        ("auditor", None, False),
    ],
)
def test_who_ticks_what(world, user, party, allowed):
    end(world.meeting)
    endpoint = getattr(world, party) if party else None
    item = "power_off" if party else "recording_stored"

    def tick():
        return closing.set_tick(world.meeting, item=item, endpoint=endpoint, done=True,
                                actor=getattr(world, user))

    if allowed:
        assert tick() is not None
    else:
        with pytest.raises(PermissionDenied):
            tick()


def test_the_desk_lists_what_is_left_open_late_after_the_rulebooks_time(world):
    end(world.meeting, hours_ago=3)  # KH: late 2 hours after the end
    for key in ("system_checked", "terminal_off", "power_off"):
        closing.set_tick(world.meeting, item=key, endpoint=world.participant, done=True,
                         actor=world.other_tech)
    rows = selectors.open_closing(world.operator)
    parties = {row.endpoint.pk if row.endpoint else None for row in rows}
    assert parties == {None, world.host_endpoint.pk, world.district_endpoint.pk}
    assert all(row.late for row in rows)
    assert [e.key for e in next(r for r in rows if r.endpoint is None).items] == [
        "system_checked", "terminal_off", "power_off", "recording_stored"]
    # A technician sees only the open items of the endpoints of their scope.
    mine = selectors.open_closing(world.commune_tech)
    assert [row.endpoint for row in mine] == [world.host_endpoint]
    assert selectors.open_closing(world.other_tech) == []
    # Not late yet within the rulebook's time.
    world.meeting.ends_at = timezone.now() - dt.timedelta(hours=1)
    world.meeting.save()
    assert not any(row.late for row in selectors.open_closing(world.operator))


def test_the_end_of_the_session_asks_for_the_closing_checklist(world):
    from diemcau.notifications.models import Notification
    from diemcau.scheduling.services import lifecycle

    world.meeting.status = MeetingStatus.LIVE
    world.meeting.save()
    lifecycle.end_meeting(world.meeting, actor=world.district_tech)
    told = set(Notification.objects.filter(kind="closing.due", channel="in_app")
               .values_list("user_id", flat=True))
    expected = {world.other_tech.pk, world.commune_tech.pk, world.district_tech.pk,
                world.operator.pk}
    assert expected <= told
    assert not {world.auditor.pk, world.commune_office.pk, world.stranger_tech.pk} & told
    row = Notification.objects.filter(kind="closing.due").first()
    assert row is not None and row.link.endswith(f"/meetings/{world.meeting.pk}/closing/")
    assert "Điều 15.1–2 Quy chế KH" in row.body
