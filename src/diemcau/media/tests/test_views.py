"""The live-meeting pages through Django's test client: who sees the consoles and the join
pages (R16, R22), the grant's refusals as JSON with their article (R20), join links issued
once, listed and revoked, refused links with a clear page, and the attendance (R18).

None of these needs Janus: every refusal tested here comes before the media server is asked.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from diemcau.core.roles import Role
from diemcau.directory.choices import Network, TerminalKind
from diemcau.media.models import JoinLink, Participation
from diemcau.media.services import join_links
from diemcau.scheduling.choices import Classification, MeetingStatus
from diemcau.testing.factories import ApprovedEndpointFactory, McuNodeFactory, UserFactory

from .live_fixtures import live_meeting


@pytest.fixture(autouse=True)
def _khanh_hoa(use_rulebook):
    use_rulebook("khanh-hoa-2023")


@pytest.fixture
def client():
    english = Client()
    english.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return english


@pytest.fixture
def setup(kh_tree):
    node = McuNodeFactory(name="mcu-pages", ws_url="ws://127.0.0.1:8188/")
    live = live_meeting(node, kh_tree.district, [kh_tree.commune, kh_tree.other_commune],
                        classification=Classification.INTERNAL)
    live.users = {
        "host_tech": UserFactory(role=Role.TECHNICIAN, agency=kh_tree.district),
        "commune_tech": UserFactory(role=Role.TECHNICIAN, agency=kh_tree.commune),
        "outsider": UserFactory(role=Role.TECHNICIAN),  # an agency of its own
        "operator": UserFactory(role=Role.OPERATOR, agency=kh_tree.department),
        "auditor": UserFactory(role=Role.AUDITOR, agency=kh_tree.province),
    }
    return live


def logged_in(client, user):
    client.force_login(user)
    return client


# ---------------------------------------------------------------- consoles


def test_the_host_console_is_for_controllers_only(client, setup):
    url = reverse("media:console", args=[setup.meeting.pk])
    # The commune's technician sees the meeting (its endpoint takes part) but does not
    # control a district's meeting: forbidden, not hidden.
    assert logged_in(client, setup.users["commune_tech"]).get(url).status_code == 403
    # Another district's technician does not even see it.
    assert logged_in(client, setup.users["outsider"]).get(url).status_code == 404
    assert logged_in(client, setup.users["auditor"]).get(url).status_code == 403
    page = logged_in(client, setup.users["host_tech"]).get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-ws-path="/ws/live/meetings/{setup.meeting.pk}/"' in html
    assert "Speaking queue" in html
    assert logged_in(client, setup.users["operator"]).get(url).status_code == 200


def test_anonymous_visitors_are_sent_to_log_in(client, setup):
    for url in (reverse("media:console", args=[setup.meeting.pk]),
                reverse("media:operator_console"),
                reverse("media:join", args=[setup.meeting.pk])):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_operator_console_is_for_operators(client, setup):
    url = reverse("media:operator_console")
    assert logged_in(client, setup.users["host_tech"]).get(url).status_code == 403
    page = logged_in(client, setup.users["operator"]).get(url)
    assert page.status_code == 200
    assert 'data-ws-path="/ws/live/operator/"' in page.content.decode()
    assert "mcu-pages" in page.content.decode()  # the node's load, drawn at once


def test_the_nav_links_the_operator_console_for_operators_only(client, setup):
    home = reverse("dashboard")
    assert 'data-nav="operator-console"' in logged_in(
        client, setup.users["operator"]).get(home).content.decode()
    assert 'data-nav="operator-console"' not in logged_in(
        client, setup.users["host_tech"]).get(home).content.decode()


def test_the_console_lists_every_invited_endpoint_with_a_way_in(client, setup):
    """R18: who has not come — every invited endpoint in the console's state, the absent
    ones with a join link to issue (the page's form) or a call for a hardware terminal."""
    page = logged_in(client, setup.users["host_tech"]).get(
        reverse("media:console", args=[setup.meeting.pk])).content.decode()
    assert 'id="invited-list"' in page
    assert f'data-link-url="{reverse("media:link_issue", args=[setup.meeting.pk])}"' in page
    state = json.loads(page.split('<script id="live-state" type="application/json">')[1]
                       .split("</script>")[0])
    rows = state["invited_endpoints"]
    assert [r["endpoint_id"] for r in rows][0] == setup.host_endpoint.pk
    assert {r["endpoint_id"] for r in rows} == {setup.host_endpoint.pk,
                                                *(e.pk for e in setup.participants)}
    assert {r["presence"] for r in rows} == {"absent"}
    assert all(r["presence_label"] == "Not joined yet" for r in rows)
    # One click issues the link, shown once on the console that answers.
    answer = logged_in(client, setup.users["host_tech"]).post(
        reverse("media:link_issue", args=[setup.meeting.pk]),
        {"endpoint": setup.participants[1].pk})
    assert answer.status_code == 200 and "data-new-link" in answer.content.decode()


# ---------------------------------------------------------------- the meeting page
# ---------------------------------------------------------------- the meeting page


def test_meeting_page_offers_only_the_live_buttons_the_user_may_use(client, setup):
    url = reverse("scheduling:meeting_detail", args=[setup.meeting.pk])
    host = logged_in(client, setup.users["host_tech"]).get(url).content.decode()
    assert 'data-live="join"' in host and 'data-live="console"' in host
    commune = logged_in(client, setup.users["commune_tech"]).get(url).content.decode()
    assert 'data-live="join"' in commune and 'data-live="console"' not in commune
    auditor = logged_in(client, setup.users["auditor"]).get(url).content.decode()
    assert 'data-live="join"' not in auditor and 'data-live="console"' not in auditor
    # Not open (a draft, a refused or ended meeting): no buttons.
    setup.meeting.status = MeetingStatus.ENDED
    setup.meeting.save(update_fields=["status"])
    ended = logged_in(client, setup.users["host_tech"]).get(url).content.decode()
    assert 'data-live="join"' not in ended and 'data-live="console"' not in ended


def test_the_join_page_lists_only_the_endpoints_the_grant_accepts(client, setup):
    """A list never shows what the detail refuses: the commune's technician is offered its
    own endpoint only, and asking for the other commune's is refused."""
    c = logged_in(client, setup.users["commune_tech"])
    page = c.get(reverse("media:join", args=[setup.meeting.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    own, foreign = setup.participants
    assert own.name in html
    assert foreign.name not in html and setup.host_endpoint.name not in html
    refused = c.post(reverse("media:grant", args=[setup.meeting.pk]),
                     data=json.dumps({"endpoint": foreign.pk}), content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["ok"] is False
    assert logged_in(client, setup.users["auditor"]).get(
        reverse("media:join", args=[setup.meeting.pk])).status_code == 403
    assert logged_in(client, setup.users["outsider"]).get(
        reverse("media:join", args=[setup.meeting.pk])).status_code == 404


def test_attendance_table_and_csv(client, setup):
    own = setup.participants[0]
    now = timezone.now()
    Participation.objects.create(
        meeting=setup.meeting, endpoint=own, node=setup.meeting.node, display=own.name,
        janus_id=42, key_hash="x" * 64, janus_token_secret="t",
        joined_at=now - dt.timedelta(minutes=30), left_at=now - dt.timedelta(minutes=5),
        left_reason="left", attendee_count=17,
    )
    c = logged_in(client, setup.users["host_tech"])
    page = c.get(reverse("scheduling:meeting_detail", args=[setup.meeting.pk])).content.decode()
    assert 'id="attendance"' in page and f'data-attendance="{own.pk}"' in page
    csv_response = c.get(reverse("media:attendance_csv", args=[setup.meeting.pk]))
    assert csv_response.status_code == 200
    assert csv_response["Content-Type"].startswith("text/csv")
    text = csv_response.content.decode("utf-8-sig")
    lines = text.strip().splitlines()
    # The meeting's title and time head the sheet, then one line per invited endpoint.
    assert lines[0] == f"Meeting,{setup.meeting.title}"
    assert lines[1].startswith("Time," + timezone.localtime(setup.meeting.starts_at)
                               .strftime("%d/%m/%Y %H:%M"))
    assert "Present,1 of 3 endpoints" in text
    header = next(line for line in lines if line.startswith("Endpoint,"))
    assert header.startswith("Endpoint,Agency,Attendance,First joined")
    assert header.endswith("Removed by the host")
    row = next(line for line in lines if line.startswith(own.name))
    assert ",Present," in row and ",25,1,17," in row  # 25 minutes, one connection, 17 people
    absent = next(line for line in lines if line.startswith(setup.participants[1].name))
    assert ",Absent,,,0,0," in absent
    assert csv_response["Content-Disposition"].endswith(
        f'{timezone.localtime(setup.meeting.starts_at):%Y-%m-%d}-phien-hop-{setup.meeting.pk}.csv"')
    # Out of scope: not found, like the meeting itself.
    assert logged_in(client, setup.users["outsider"]).get(
        reverse("media:attendance_csv", args=[setup.meeting.pk])).status_code == 404


def test_attendance_records_removals_and_says_absent_once_over(client, setup):
    """R18: an endpoint the host removed shows when; one that never came is "not joined
    yet" during the meeting and "absent" once it is over."""
    removed = setup.participants[0]
    now = timezone.now()
    Participation.objects.create(
        meeting=setup.meeting, endpoint=removed, node=setup.meeting.node, display=removed.name,
        janus_id=43, key_hash="y" * 64, janus_token_secret="t",
        joined_at=now - dt.timedelta(minutes=20), left_at=now - dt.timedelta(minutes=10),
        left_reason="kicked",
    )
    c = logged_in(client, setup.users["host_tech"])
    detail = reverse("scheduling:meeting_detail", args=[setup.meeting.pk])
    page = c.get(detail).content.decode()
    assert "data-removed" in page and "Removed by the host at" in page
    assert "Not joined yet" in page and ">Absent<" not in page
    rows = c.get(reverse("media:attendance_csv", args=[setup.meeting.pk])).content.decode(
        "utf-8-sig").splitlines()
    line = next(r for r in rows if r.startswith(removed.name))
    assert ",Present, removed by the host," in line.replace('"', "")
    assert line.endswith(timezone.localtime(now - dt.timedelta(minutes=10))
                         .strftime("%d/%m/%Y %H:%M:%S"))
    setup.meeting.status = MeetingStatus.ENDED
    setup.meeting.save(update_fields=["status"])
    assert ">Absent<" in c.get(detail).content.decode()


def test_the_join_button_waits_for_the_room_and_says_when_it_opens(client, kh_tree):
    later = live_meeting(McuNodeFactory(), kh_tree.district, [kh_tree.commune],
                         starts_in=dt.timedelta(days=3))
    tech = UserFactory(role=Role.TECHNICIAN, agency=kh_tree.district)
    page = logged_in(client, tech).get(
        reverse("media:join", args=[later.meeting.pk])).content.decode()
    button = page.split('id="join-button"')[1].split(">")[0]
    assert 'data-room-state="not_yet"' in button and " disabled" in button
    opens_in = int(button.split('data-opens-in="')[1].split('"')[0])
    assert 2 * 86400 < opens_in <= 3 * 86400
    opens = timezone.localtime(later.meeting.starts_at - dt.timedelta(minutes=30))
    assert f"The meeting room opens at {opens:%H:%M} on {opens:%d/%m/%Y}." in page


def test_the_join_page_says_what_the_microphone_does(client, setup):
    """KH Đ11.6: the host's own endpoint enters speaking; a participant asks for the floor."""
    host = logged_in(client, setup.users["host_tech"]).get(
        reverse("media:join", args=[setup.meeting.pk])).content.decode()
    button = host.split('id="join-button"')[1].split(">")[0]
    assert 'data-room-state="open"' in button and "disabled" not in button
    note = host.split('data-mic-note="host"')[0].rsplit("<p", 1)[1]
    assert "d-none" not in note and "with your microphone on" in host
    participant = logged_in(client, setup.users["commune_tech"]).get(
        reverse("media:join", args=[setup.meeting.pk])).content.decode()
    note = participant.split('data-mic-note="participant"')[0].rsplit("<p", 1)[1]
    assert "d-none" not in note
    assert participant.split('data-mic-note="host"')[0].rsplit("<p", 1)[1].count("d-none") == 1


def test_a_meeting_on_now_has_its_way_in_on_the_dashboard_and_the_list(client, setup, kh_tree):
    later = live_meeting(McuNodeFactory(), kh_tree.district, [kh_tree.commune],
                         starts_in=dt.timedelta(days=2))
    join = reverse("media:join", args=[setup.meeting.pk])
    c = logged_in(client, setup.users["commune_tech"])
    for url in (reverse("dashboard"), reverse("scheduling:meeting_list")):
        page = c.get(url).content.decode()
        assert f'href="{join}" data-live-entry="join"' in page
        assert reverse("media:join", args=[later.meeting.pk]) not in page
    # Who may connect none of its endpoints (an auditor) has no way in.
    listing = logged_in(client, setup.users["auditor"]).get(
        reverse("scheduling:meeting_list")).content.decode()
    assert setup.meeting.title in listing and "data-live-entry" not in listing
    # Over: no way in.
    setup.meeting.status = MeetingStatus.ENDED
    setup.meeting.save(update_fields=["status"])
    assert "data-live-entry" not in c.get(reverse("scheduling:meeting_list")).content.decode()


# ---------------------------------------------------------------- the grant


def test_grant_refusal_for_state_secrets_cites_the_article(client, kh_tree):
    """R20: a personal device on the Internet may not join a state-secret meeting; the JSON
    says why, with the article, before the media server is asked."""
    live = live_meeting(McuNodeFactory(), kh_tree.district, [kh_tree.commune],
                        classification=Classification.STATE_SECRET)
    phone = ApprovedEndpointFactory(agency=kh_tree.commune, terminal_kind=TerminalKind.PERSONAL,
                                    network=Network.INTERNET, vcs_ip=None)
    live.meeting.participants.add(phone)
    tech = UserFactory(role=Role.TECHNICIAN, agency=kh_tree.commune)
    response = logged_in(client, tech).post(
        reverse("media:grant", args=[live.meeting.pk]),
        data=json.dumps({"endpoint": phone.pk}), content_type="application/json",
    )
    assert response.status_code == 422
    body = response.json()
    assert body["ok"] is False
    assert body["code"] == "state_secret_personal_internet"
    assert "Quy chế KH" in body["article"]
    assert not Participation.objects.exists()

    # The same by join link.
    link, token = join_links.issue_join_link(live.meeting, phone, actor=tech)
    by_link = Client().post(reverse("media:link_grant", args=[token]))
    assert by_link.status_code == 422
    assert by_link.json()["article"] == body["article"]


def test_grant_needs_the_csrf_token_and_an_open_meeting(setup):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    csrf_client.force_login(setup.users["commune_tech"])
    url = reverse("media:grant", args=[setup.meeting.pk])
    body = json.dumps({"endpoint": setup.participants[0].pk})
    assert csrf_client.post(url, data=body, content_type="application/json").status_code == 403

    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(setup.users["commune_tech"])
    setup.meeting.status = MeetingStatus.CANCELLED
    setup.meeting.save(update_fields=["status"])
    response = client.post(url, data=body, content_type="application/json")
    assert response.status_code == 409
    assert "not open" in response.json()["message"]
    missing = client.post(url, data=json.dumps({}), content_type="application/json")
    assert missing.status_code == 422 and "endpoint" in missing.json()["fields"]


# ---------------------------------------------------------------- join links


def test_links_are_issued_once_listed_and_revoked(client, setup):
    c = logged_in(client, setup.users["host_tech"])
    own = setup.participants[0]
    issued = c.post(reverse("media:link_issue", args=[setup.meeting.pk]), {"endpoint": own.pk})
    assert issued.status_code == 200
    assert "no-store" in issued["Cache-Control"]
    html = issued.content.decode()
    assert "data-new-link" in html
    link = JoinLink.objects.get()
    token_url = html.split('data-new-link>')[1].split("<")[0]
    assert "/j/" in token_url
    # The list shows it, but never its address again.
    again = c.get(reverse("media:console", args=[setup.meeting.pk])).content.decode()
    assert f'data-link="{link.pk}"' in again and "data-new-link" not in again
    assert token_url not in again

    token = token_url.split("/j/")[1].strip("/")
    check = Client().get(reverse("media:link_check", args=[token]))
    assert check.status_code == 200 and own.name in check.content.decode()

    revoked = c.post(reverse("media:link_revoke", args=[link.pk]))
    assert revoked.status_code == 302
    link.refresh_from_db()
    assert link.revoked_at is not None

    english = Client()
    english.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = english.get(reverse("media:link_check", args=[token]))
    assert page.status_code == 403
    assert "was revoked" in page.content.decode()
    assert english.get(reverse("media:link_room", args=[token])).status_code == 403
    refused = english.post(reverse("media:link_grant", args=[token]))
    assert refused.status_code == 403 and "revoked" in refused.json()["message"]


def test_only_controllers_issue_and_revoke_links_here(client, setup):
    link, _ = join_links.issue_join_link(setup.meeting, setup.participants[0],
                                      actor=setup.users["host_tech"])
    c = logged_in(client, setup.users["commune_tech"])
    assert c.post(reverse("media:link_issue", args=[setup.meeting.pk]),
                  {"endpoint": setup.participants[0].pk}).status_code == 403
    assert c.post(reverse("media:link_revoke", args=[link.pk])).status_code == 403
    assert logged_in(client, setup.users["outsider"]).post(
        reverse("media:link_revoke", args=[link.pk])).status_code == 404
    link.refresh_from_db()
    assert link.revoked_at is None


def test_expired_and_tampered_links_show_a_clear_error(client, setup):
    link, token = join_links.issue_join_link(setup.meeting, setup.participants[0],
                                          actor=setup.users["host_tech"])
    JoinLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    page = client.get(reverse("media:link_check", args=[token]))
    assert page.status_code == 403
    html = page.content.decode()
    assert "This link does not open the meeting" in html
    assert "has expired" in html and "Ask the host for a new one" in html
    tampered = client.get(reverse("media:link_check", args=[token[:-3] + "abc"]))
    assert tampered.status_code == 403 and "not valid" in tampered.content.decode()


def test_vietnamese_is_the_default_language(setup):
    vietnamese = Client()
    vietnamese.force_login(setup.users["host_tech"])
    html = vietnamese.get(reverse("media:console", args=[setup.meeting.pk])).content.decode()
    assert "Bảng điều khiển" in html
