"""The session's script (ĐN Đ12.2a, KH Đ14.3a): the host's agenda in speaking order, run from
the console with one click that begins the next item and gives its speaker the floor through
the live plane's own floor service; the item under way reaches the participants' pages."""

from __future__ import annotations

import pytest

from diemcau.core.errors import InvalidInput, InvalidTransition, PermissionDenied
from diemcau.core.models import AuditEvent
from diemcau.directory.choices import ContactRole
from diemcau.media import selectors as live
from diemcau.proceedings import selectors
from diemcau.proceedings.choices import ItemState
from diemcau.proceedings.services import script
from diemcau.scheduling.choices import MeetingStatus
from diemcau.testing.factories import ApprovedEndpointFactory, ContactFactory

from .conftest import enter

pytestmark = pytest.mark.django_db


def agenda(world):
    office = world.commune_office
    first = script.add_item(world.meeting, script.ItemInput(
        "Khai mạc", world.host_endpoint, "Chủ tịch UBND phường", 5), actor=office)
    second = script.add_item(world.meeting, script.ItemInput(
        "Báo cáo tình hình", world.participant, "", 15), actor=office)
    third = script.add_item(world.meeting, script.ItemInput("Kết luận"), actor=office)
    return first, second, third


def test_the_office_writes_the_script_in_speaking_order(world):
    first, second, third = agenda(world)
    assert [i.position for i in (first, second, third)] == [1, 2, 3]
    script.move_item(third, position=1, actor=world.commune_office)
    assert [i.title for i in selectors.items(world.meeting)] == [
        "Kết luận", "Khai mạc", "Báo cáo tình hình"]
    script.remove_item(third, actor=world.commune_office)
    assert [i.position for i in selectors.items(world.meeting)] == [1, 2]
    actions = list(AuditEvent.objects.filter(action__startswith="script.")
                   .values_list("action", flat=True))
    assert actions.count("script.item_add") == 3
    assert "script.item_move" in actions and "script.item_remove" in actions


def test_bad_items_are_refused_by_field(world):
    outsider = ApprovedEndpointFactory(agency=world.tree.other_district)
    with pytest.raises(InvalidInput) as refused:
        script.add_item(world.meeting, script.ItemInput("  ", outsider, "", 0),
                        actor=world.commune_office)
    assert set(refused.value.errors) == {"title", "speaker", "minutes"}


def test_next_item_gives_the_speaker_the_floor(world):
    first, second, _third = agenda(world)
    world.meeting.status = MeetingStatus.LIVE
    world.meeting.save()
    host = enter(world.meeting, world.host_endpoint, audio_muted=False)
    speaker = enter(world.meeting, world.participant, audio_muted=True)

    moved = script.next_item(world.meeting, actor=world.district_tech)
    assert moved.item == first and moved.floor == script.Floor.GIVEN
    host.refresh_from_db()
    assert host.has_floor

    moved = script.next_item(world.meeting, actor=world.district_tech)
    assert moved.item == second and moved.floor == script.Floor.GIVEN
    speaker.refresh_from_db()
    first.refresh_from_db()
    assert (speaker.has_floor, speaker.audio_muted) == (True, False)
    assert first.state == ItemState.DONE and first.finished_at is not None
    assert AuditEvent.objects.filter(action="live.give_floor",
                                     object_id=str(speaker.pk)).exists()

    # The participants' pages show the item under way, with every state.
    view = live.participant_view(speaker)
    assert view["extras"]["script"]["current"]["title"] == "Báo cáo tình hình"
    # The console shows it too, and the next one.
    state = live.live_state(world.meeting, user=world.district_tech)["extras"]["script"]
    assert state["current"]["id"] == second.pk and state["next"]["title"] == "Kết luận"
    assert state["may_run"] is True

    # The last item has no speaker: it begins, nobody is given the floor; then it finishes.
    moved = script.next_item(world.meeting, actor=world.district_tech)
    assert moved.floor == script.Floor.NO_SPEAKER
    assert script.next_item(world.meeting, actor=world.district_tech).item is None
    assert not selectors.script_state(world.meeting)["current"]
    with pytest.raises(InvalidTransition):
        script.next_item(world.meeting, actor=world.district_tech)
    assert AuditEvent.objects.filter(action="script.finish").count() == 1


def test_a_speaker_not_in_the_room_is_told_not_forced(world):
    first, _second, _third = agenda(world)
    moved = script.start_item(first, actor=world.district_tech)
    assert moved.floor == script.Floor.NOT_CONNECTED
    assert world.host_endpoint.name in moved.message
    first.refresh_from_db()
    assert first.state == ItemState.CURRENT


def test_running_the_script_is_for_who_controls_the_session(world):
    first, _second, _third = agenda(world)
    # KH Đ14.3a: a commune's meeting is controlled by its district's technician; the commune
    # office writes the script but does not run it.
    for user in (world.commune_office, world.commune_tech, world.other_tech, world.auditor):
        with pytest.raises(PermissionDenied):
            script.start_item(first, actor=user)
    script.start_item(first, actor=world.operator)
    world.meeting.status = MeetingStatus.ENDED
    world.meeting.save()
    with pytest.raises(InvalidTransition):
        script.next_item(world.meeting, actor=world.district_tech)
    with pytest.raises(InvalidTransition):
        script.add_item(world.meeting, script.ItemInput("Muộn"), actor=world.commune_office)


def test_the_console_names_the_technician_of_the_controlling_endpoint(world):
    # The commune's meeting is run from the district's endpoint (KH Đ14.3a).
    ContactFactory(endpoint=world.host_endpoint, role=ContactRole.TECHNICIAN,
                   full_name="Lê Văn Xã")
    ContactFactory(endpoint=world.district_endpoint, role=ContactRole.TECHNICIAN,
                   full_name="Trần Thị Huyện", phone="0905111222")
    row = selectors.technician_row(world.meeting)
    assert row == {"endpoint": "UBND.Nha Trang", "agency": world.tree.district.name,
                   "name": "Trần Thị Huyện", "phone": "0905111222"}


def test_in_dong_nai_the_host_endpoint_runs_its_own_session(world, use_rulebook):
    use_rulebook("dong-nai-2025")
    ContactFactory(endpoint=world.host_endpoint, role=ContactRole.TECHNICIAN,
                   full_name="Lê Văn Xã")
    assert selectors.controlling_endpoint(world.meeting) == world.host_endpoint
    assert selectors.technician_row(world.meeting)["name"] == "Lê Văn Xã"


@pytest.mark.parametrize(
    ("user", "writes", "runs"),
    [
        ("commune_office", True, False),  # the host's office registers and writes
        ("commune_tech", False, False),  # KH Đ14.3a: the district runs a commune's meeting
        ("district_tech", True, True),
        ("operator", True, True),
        ("other_tech", False, False),  # a participant's technician
        ("auditor", False, False),
        ("stranger_tech", False, False),
    ],
)
def test_who_writes_and_who_runs_the_script(world, user, writes, runs):
    actor = getattr(world, user)
    item = script.add_item(world.meeting, script.ItemInput("Khai mạc"),
                           actor=world.commune_office)
    if writes:
        script.update_item(item, script.ItemInput("Khai mạc phiên họp"), actor=actor)
    else:
        with pytest.raises(PermissionDenied):
            script.update_item(item, script.ItemInput("Khai mạc phiên họp"), actor=actor)
    if runs:
        assert script.start_item(item, actor=actor).item == item
    else:
        with pytest.raises(PermissionDenied):
            script.start_item(item, actor=actor)
