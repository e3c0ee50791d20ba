"""The script's and the checklist's pages, the operator's list of open closing items, the
meeting page's panel, the console's panel and the API (/api/v1)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from diemcau.proceedings.models import AgendaItem, ClosingTick
from diemcau.proceedings.services import script
from diemcau.scheduling.choices import MeetingStatus

pytestmark = pytest.mark.django_db


def test_the_office_writes_the_script_on_its_page(client, world):
    client.force_login(world.commune_office)
    url = reverse("proceedings:script", args=[world.meeting.pk])
    page = client.get(url)
    assert page.status_code == 200
    # The rule it follows, with its article, in the rulebook's Vietnamese.
    assert "theo kịch bản phiên họp" in page.content.decode()
    assert "Điều 14.3a–b Quy chế KH" in page.content.decode()
    answer = client.post(url, {"title": "Khai mạc", "speaker": world.host_endpoint.pk,
                               "speaker_name": "Chủ tịch", "minutes": "5"})
    assert answer.status_code == 302
    assert AgendaItem.objects.get().title == "Khai mạc"
    # A bad item is shown on the form, in Vietnamese.
    answer = client.post(url, {"title": "", "minutes": "0"})
    assert answer.status_code == 400
    # Only the controllers run it: the office gets no "next" button.
    assert 'id="script-next"' not in client.get(url).content.decode()


def test_the_district_technician_moves_on_from_the_page(client, world):
    script.add_item(world.meeting, script.ItemInput("Khai mạc"), actor=world.commune_office)
    client.force_login(world.district_tech)
    url = reverse("proceedings:script", args=[world.meeting.pk])
    assert 'id="script-next"' in client.get(url).content.decode()
    answer = client.post(reverse("proceedings:script_next", args=[world.meeting.pk]),
                         follow=True)
    assert answer.status_code == 200
    assert AgendaItem.objects.get().state == "current"
    # A technician of another district sees no such meeting.
    client.force_login(world.stranger_tech)
    assert client.get(url).status_code == 404
    assert client.post(reverse("proceedings:script_next",
                               args=[world.meeting.pk])).status_code == 404


def test_the_console_carries_the_script_panel(client, world):
    client.force_login(world.district_tech)
    page = client.get(reverse("media:console", args=[world.meeting.pk])).content.decode()
    assert 'id="script-panel"' in page and "proceedings/script.js" in page


def test_closing_page_ticks_and_the_desk_lists_the_rest(client, world):
    world.meeting.status = MeetingStatus.ENDED
    world.meeting.ends_at = timezone.now() - dt.timedelta(hours=3)
    world.meeting.starts_at = world.meeting.ends_at - dt.timedelta(hours=1)
    world.meeting.save()
    client.force_login(world.other_tech)
    url = reverse("proceedings:closing", args=[world.meeting.pk])
    assert "Đã tắt thiết bị đầu cuối." in client.get(url).content.decode()
    answer = client.post(url, {"item": "terminal_off", "party": world.participant.pk,
                               "done": "on"})
    assert answer.status_code == 302
    assert ClosingTick.objects.filter(endpoint=world.participant).count() == 1
    # Someone else's endpoint: refused.
    answer = client.post(url, {"item": "terminal_off", "party": world.host_endpoint.pk,
                               "done": "on"})
    assert answer.status_code == 403
    answer = client.post(url, {"item": "terminal_off", "party": "nonsense", "done": "on"})
    assert answer.status_code == 400

    client.force_login(world.operator)
    desk = client.get(reverse("proceedings:open_closing")).content.decode()
    assert f'data-party="{world.participant.pk}"' in desk
    assert 'data-party="operator"' in desk
    detail = client.get(reverse("scheduling:meeting_detail", args=[world.meeting.pk]))
    assert 'id="proceedings"' in detail.content.decode()


def test_the_api_writes_runs_and_closes(client, world):
    client.force_login(world.commune_office)
    base = f"/api/v1/meetings/{world.meeting.pk}"
    answer = client.post(f"{base}/script/items", {"title": "Khai mạc",
                                                  "speaker": world.host_endpoint.pk},
                         content_type="application/json")
    assert answer.status_code == 201, answer.content
    item_id = answer.json()["id"]
    answer = client.post(f"{base}/script/items", {"title": "", "minutes": 0},
                         content_type="application/json")
    assert answer.status_code == 422
    assert client.post(f"{base}/script/next").status_code == 403
    client.force_login(world.district_tech)
    moved = client.post(f"{base}/script/next").json()
    assert moved["item"]["id"] == item_id and moved["floor"] == "not_connected"
    body = client.get(f"{base}/script").json()
    assert body["current_id"] == item_id

    assert client.post(f"{base}/closing", {"item": "power_off",
                                           "endpoint": world.district_endpoint.pk},
                       content_type="application/json").status_code == 409
    world.meeting.status = MeetingStatus.ENDED
    world.meeting.save()
    client.force_login(world.other_tech)
    parties = client.post(f"{base}/closing", {"item": "power_off",
                                              "endpoint": world.participant.pk},
                          content_type="application/json").json()
    mine = next(p for p in parties if p["endpoint_id"] == world.participant.pk)
    assert mine["open"] == 2 and mine["may_tick"]
    assert mine["items"][0]["article"] == "Điều 15.1 Quy chế KH"
    client.force_login(world.operator)
    rows = client.get("/api/v1/closing/open").json()
    assert {r["party"] for r in rows} == {"operator", "endpoint"}
    client.force_login(world.stranger_tech)
    assert client.get(f"{base}/script").status_code == 404


def test_the_room_page_carries_the_item_under_way_banner(client, world):
    client.force_login(world.other_tech)
    page = client.get(reverse("media:room", args=[world.meeting.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'id="agenda-banner"' in body and "proceedings/room.js" in body
