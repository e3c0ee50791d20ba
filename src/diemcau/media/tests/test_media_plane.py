"""Real media through a real Janus: aiortc endpoints in a network namespace (ICE never uses
loopback) publish and subscribe in a VideoRoom; the backend joins them (the browser never
knows the PIN), mutes their streams with `moderate` and kicks them.

Only generous waits for "frames increase" are asserted; the timings are printed (-s)."""

from __future__ import annotations

import contextlib
import secrets
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest

from diemcau.mcu import janus_client as jc
from diemcau.mcu.janus_client import JanusError
from diemcau.mcu.testing.janus import JanusProcess
from diemcau.media.testing import netns
from diemcau.media.testing.endpoint import EndpointError, MediaEndpoint, Published
from diemcau.media.testing.netns import MediaNetwork
from diemcau.media.testing.plane import MediaPlane, handle_info

pytestmark = pytest.mark.janus

PIN = "2468"
SECRET = "room-secret"


@pytest.fixture
def room(janus_media: JanusProcess) -> Iterator[int]:
    room_id = secrets.randbelow(2**52) + 1
    with janus_media.client().videoroom() as handle:
        handle.create(room_id, description="diemcau:media-plane", pin=PIN, secret=SECRET,
                      publishers=6)
    yield room_id
    with janus_media.client().videoroom() as handle, contextlib.suppress(JanusError):
        handle.destroy(room_id, secret=SECRET)


def publish(plane: MediaPlane, room: int, name: str) -> tuple[MediaEndpoint, int, Published]:
    """An endpoint joined by the backend as a publisher, publishing."""
    endpoint = plane.endpoint(name)
    attached = endpoint.attached["publisher"]
    plane.join(attached, room=room, pin=PIN, display=name)
    feed = int(endpoint.wait_joined()["id"])
    return endpoint, feed, endpoint.publish()


def subscribe(plane: MediaPlane, endpoint: MediaEndpoint, room: int, feeds: list[int]) -> float:
    """The endpoint subscribes to `feeds` (the backend joins its handle); returns when the
    join was sent."""
    sent: list[float] = []

    def join(attached: Any, feed_ids: list[int]) -> None:
        sent.append(plane.join(attached, room=room, pin=PIN, ptype="subscriber",
                               streams=[{"feed": feed} for feed in feed_ids]))

    endpoint.subscribe(feeds, join)
    return sent[0]


def settled(endpoint: MediaEndpoint, feed: int, kind: str) -> int:
    """The frame count once it stopped increasing (fails if it keeps increasing)."""
    return endpoint.wait_quiet(feed, kind).frames


def test_two_endpoints_publish_and_subscribe_to_each_other(media_plane: MediaPlane, room: int):
    a, feed_a, published_a = publish(media_plane, room, "a")
    b, feed_b, published_b = publish(media_plane, room, "b")
    assert set(published_a.mids) == {"audio", "video"}
    joined_a = subscribe(media_plane, a, room, [feed_b])
    joined_b = subscribe(media_plane, b, room, [feed_a])

    for viewer, feed in ((a, feed_b), (b, feed_a)):
        viewer.wait_frames(feed, "audio", more_than=50, timeout=20)
        viewer.wait_frames(feed, "video", more_than=20, timeout=20)
    stats_a, stats_b = a.stats(), b.stats()
    for name, stats, feed, joined, published in (("a", stats_a, feed_b, joined_a, published_b),
                                                  ("b", stats_b, feed_a, joined_b, published_a)):
        first = {kind: count.first_at - joined for kind, count in stats[feed].items()
                 if count.first_at is not None}
        print(f"\n{name}: publish (offer, gathering) → webrtcup "
              f"{published.t_webrtcup - published.t_start:.2f}s;"
              f" subscriber join→first frame " +
              ", ".join(f"{kind} {t:.2f}s" for kind, t in sorted(first.items())) +
              f"; frames {({k: c.frames for k, c in stats[feed].items()})}")



def test_moderate_mutes_and_unmutes_a_publisher_stream(media_plane: MediaPlane, room: int,
                                                       janus_media: JanusProcess):
    a, feed_a, published = publish(media_plane, room, "a")
    b = media_plane.endpoint("b")  # only watches
    subscribe(media_plane, b, room, [feed_a])
    for kind in ("audio", "video"):
        b.wait_frames(feed_a, kind, more_than=10, timeout=20)

    with janus_media.client().videoroom() as backend:
        for kind in ("audio", "video"):
            mid = published.mids[kind]
            backend.moderate(room, secret=SECRET, participant=feed_a, mid=mid, mute=True)
            stopped = settled(b, feed_a, kind)
            other = "video" if kind == "audio" else "audio"
            flowing = b.frames(feed_a, other)
            b.wait_frames(feed_a, other, more_than=flowing + 5, timeout=10)  # the other flows
            t_unmute = time.monotonic()
            backend.moderate(room, secret=SECRET, participant=feed_a, mid=mid, mute=False)
            b.wait_frames(feed_a, kind, more_than=stopped + 10, timeout=15)
            print(f"\n{kind}: unmute → 10 more frames in {time.monotonic() - t_unmute:.2f}s")



def test_kick_disconnects_the_endpoint(media_plane: MediaPlane, room: int,
                                       janus_media: JanusProcess):
    a, feed_a, _ = publish(media_plane, room, "a")
    b, feed_b, _ = publish(media_plane, room, "b")
    subscribe(media_plane, b, room, [feed_a])
    b.wait_frames(feed_a, "video", more_than=5, timeout=20)
    since_a, since_b = a.mark(), b.mark()

    with janus_media.client().videoroom() as backend:
        backend.kick(room, secret=SECRET, participant=feed_a)
        # The kicked endpoint is told, and its PeerConnection is closed…
        left = a.wait_janus(lambda e: (e.get("data") or {}).get("leaving") == "ok", since=since_a)
        assert left["data"]["reason"] == "kicked"
        a.wait_janus(lambda e: e["janus"] == "hangup", since=since_a)
        # …the others see it go, and its media stops.
        b.wait_janus(lambda e: feed_a in {(e.get("data") or {}).get(key)
                                          for key in ("kicked", "leaving", "unpublished")},
                     since=since_b)
        settled(b, feed_a, "video")
        assert [p["id"] for p in backend.listparticipants(room)] == [feed_b]


def test_a_wrong_pin_is_refused(media_plane: MediaPlane, room: int):
    endpoint = media_plane.endpoint("intruder")
    media_plane.join(endpoint.attached["publisher"], room=room, pin="0000", display="x")
    with pytest.raises(EndpointError) as refused:
        endpoint.wait_joined()
    assert refused.value.code == jc.ROOM_UNAUTHORIZED  # 433, on the endpoint's own poll


@pytest.mark.parametrize("token", ["", "not-a-stored-token"])
def test_a_session_needs_a_stored_token(media_plane: MediaPlane, token: str):
    endpoint = media_plane.endpoint("anonymous", token=token, start=False)
    with pytest.raises(EndpointError) as refused:
        endpoint.start()
    assert refused.value.code == jc.UNAUTHORIZED_API  # 403
    assert refused.value.stage == "create"


def test_the_backend_reads_publisher_mids_with_handle_info(media_plane: MediaPlane, room: int,
                                                           janus_media: JanusProcess):
    """The backend knows the session and handle it joined, so the admin API's `handle_info`
    gives it the publisher's streams (mid per type) without asking the browser;
    `listparticipants` (Janus 1.1.2) lists no streams."""
    a, feed_a, published = publish(media_plane, room, "a")
    attached = a.attached["publisher"]
    info = handle_info(janus_media.access, attached.session_id, attached.handle_id)
    plugin = info["plugin_specific"]
    assert (plugin["type"], plugin["room"], plugin["id"]) == ("publisher", room, feed_a)
    assert {s["type"]: s["mid"] for s in plugin["streams"]} == published.mids
    # Stopping the endpoint destroys its Janus session.
    a.stop()
    assert attached.session_id not in janus_media.admin().list_sessions()


def test_stale_namespaces_of_dead_test_processes_are_removed(media_network: MediaNetwork):
    dead = subprocess.Popen(["true"])
    dead.wait()
    name, link = f"{netns.NS_PREFIX}{dead.pid}-0", f"{netns.LINK_PREFIX}{dead.pid}r0"
    netns.ip("netns", "add", name)
    netns.ip("link", "add", link, "type", "veth", "peer", "name", f"{link[:-2]}n0")
    try:
        removed = netns.cleanup_stale()
        assert name in removed
        assert name not in netns.ip("netns", "list")
        assert media_network.name in netns.ip("netns", "list")  # ours (alive) is kept
        assert link not in netns.ip("-o", "link", "show")
    finally:
        netns.ip("netns", "del", name, check=False)
        netns.ip("link", "del", link, check=False)
