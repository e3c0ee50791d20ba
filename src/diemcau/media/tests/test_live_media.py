"""A live meeting end to end with real media: endpoints granted by the services join through
the backend, enter muted (KH Đ11.6), and the host's controls act on what the others receive:
the floor opens the microphone, a mute stops it, a kick disconnects (R16)."""

from __future__ import annotations

import time

import pytest

from diemcau.core.roles import Role
from diemcau.mcu.services import register_node
from diemcau.media.models import LeaveReason, Participation
from diemcau.media.services import control, grants
from diemcau.media.testing.endpoint import MediaEndpoint
from diemcau.media.testing.plane import MediaPlane
from diemcau.testing.factories import UserFactory

from .live_fixtures import live_meeting

pytestmark = [pytest.mark.janus, pytest.mark.django_db]


def connect(plane: MediaPlane, grant: grants.JoinGrant, name: str) -> MediaEndpoint:
    """An aiortc endpoint in the namespace, with the grant's token, joined by the backend,
    publishing; the service then learns its streams (and mutes it if it must)."""
    endpoint = plane.endpoint(name, token=grant.janus_token)
    attached = endpoint.attached["publisher"]
    grants.join_publisher(grant.participation, session_id=attached.session_id,
                           handle_id=attached.handle_id)
    assert int(endpoint.wait_joined()["id"]) == grant.janus_id
    endpoint.publish()
    grants.record_published(grant.participation)
    return endpoint


def watch(plane: MediaPlane, grant: grants.JoinGrant, viewer: MediaEndpoint,
          feeds: list[int]) -> None:
    def join(attached, feed_ids):  # type: ignore[no-untyped-def]
        grants.join_subscriber(grant.participation, session_id=attached.session_id,
                                handle_id=attached.handle_id, feeds=feed_ids)

    viewer.subscribe(feeds, join)


def quiet(endpoint: MediaEndpoint, feed: int, kind: str) -> int:
    return endpoint.wait_quiet(feed, kind).frames


@pytest.fixture
def meeting(janus_media, kh_tree):
    node = register_node(janus_media.node_input("mcu-media"),
                         actor=UserFactory(role=Role.OPERATOR))
    setup = live_meeting(node, kh_tree.district, [kh_tree.commune])
    setup.users = {
        "host_tech": UserFactory(role=Role.TECHNICIAN, agency=kh_tree.district),
        "commune_tech": UserFactory(role=Role.TECHNICIAN, agency=kh_tree.commune),
    }
    return setup


def test_muted_entry_floor_mute_and_kick_act_on_the_media(media_plane, meeting):
    host_tech = meeting.users["host_tech"]
    host_grant = grants.grant_by_login(meeting.meeting, meeting.host_endpoint, actor=host_tech)
    commune_grant = grants.grant_by_login(meeting.meeting, meeting.participants[0],
                                           actor=meeting.users["commune_tech"])
    host = connect(media_plane, host_grant, "host")
    commune = connect(media_plane, commune_grant, "commune")
    row = Participation.objects.get(pk=commune_grant.participation.pk)
    assert (row.audio_mid, row.video_mid) == ("0", "1")  # read from Janus (handle_info)
    assert row.audio_muted

    watch(media_plane, host_grant, host, [commune_grant.janus_id])
    feed = commune_grant.janus_id
    # The host sees the commune's picture, but hears nothing: it entered muted (KH Đ11.6).
    host.wait_frames(feed, "video", more_than=20, timeout=20)
    assert quiet(host, feed, "audio") == 0

    # The commune raises its hand; the host gives it the floor: its sound reaches the host.
    control.raise_hand(commune_grant.participation)
    control.give_floor(commune_grant.participation, actor=host_tech)
    host.wait_frames(feed, "audio", more_than=20, timeout=15)

    # The host mutes it again: its sound stops while its picture goes on.
    control.set_audio(commune_grant.participation, muted=True, actor=host_tech)
    heard = quiet(host, feed, "audio")
    seen = host.frames(feed, "video")
    host.wait_frames(feed, "video", more_than=seen + 10, timeout=10)
    assert host.frames(feed, "audio") == heard

    # The commune watches the host too, until it is removed.
    watch(media_plane, commune_grant, commune, [host_grant.janus_id])
    commune.wait_frames(host_grant.janus_id, "video", more_than=10, timeout=20)

    # The host removes it: Janus tells the commune, and its media stops at the host.
    since = commune.mark()
    control.kick(commune_grant.participation, actor=host_tech)
    left = commune.wait_janus(lambda e: (e.get("data") or {}).get("leaving") == "ok",
                              since=since)
    assert left["data"]["reason"] == "kicked"
    quiet(host, feed, "video")
    # …and what it received stops too: its whole Janus session is gone, not only its feed.
    quiet(commune, host_grant.janus_id, "video")
    row.refresh_from_db()
    assert row.left_reason == LeaveReason.KICKED


def test_recording_writes_the_room_on_disk(media_plane, janus_media, kh_tree, tmp_path,
                                           settings):
    import shutil
    import subprocess

    settings.JANUS_RECORDINGS_DIR = tmp_path
    node = register_node(janus_media.node_input("mcu-record"),
                         actor=UserFactory(role=Role.OPERATOR))
    setup = live_meeting(node, kh_tree.district, [kh_tree.commune], recording_requested=True)
    tech = UserFactory(role=Role.TECHNICIAN, agency=kh_tree.district)
    grant = grants.grant_by_login(setup.meeting, setup.host_endpoint, actor=tech)
    connect(media_plane, grant, "host")
    control.set_recording(setup.meeting, recording=True, actor=tech)
    time.sleep(3)
    control.set_recording(setup.meeting, recording=False, actor=tech)
    folder = tmp_path / str(setup.meeting.pk)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(list(folder.glob("*.mjr"))) < 2:
        time.sleep(0.2)
    files = sorted(folder.glob("*.mjr"))
    kinds = {"audio" if "-audio-" in f.name else "video" if "-video-" in f.name else f.name
             for f in files}
    assert kinds == {"audio", "video"}, [f.name for f in files]
    assert all(f.stat().st_size > 1000 for f in files)
    converter = shutil.which("janus-pp-rec")  # janus-tools, installed by CI
    if converter:
        audio = next(f for f in files if "-audio-" in f.name)
        subprocess.run([converter, str(audio), str(tmp_path / "audio.opus")], check=True,
                       capture_output=True, timeout=60)
        assert (tmp_path / "audio.opus").stat().st_size > 1000
