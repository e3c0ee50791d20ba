"""Meetings with endpoints and users, arranged for the live-meeting tests, and a browser-like
Janus session (a per-join token, never the api_secret)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import secrets
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from diemcau.core.roles import Role
from diemcau.directory.models import Agency, Endpoint
from diemcau.mcu.models import McuNode
from diemcau.scheduling.choices import MeetingStatus
from diemcau.scheduling.models import Meeting
from diemcau.testing.factories import ApprovedEndpointFactory, UserFactory


@dataclass
class LiveSetup:
    meeting: Meeting
    host_endpoint: Endpoint
    participants: list[Endpoint]
    users: dict[str, Any] = field(default_factory=dict)


def live_meeting(
    node: McuNode | None,
    host: Agency,
    participant_agencies: list[Agency],
    *,
    status: str = MeetingStatus.ACCEPTED,
    starts_in: dt.timedelta = dt.timedelta(minutes=-5),
    hours: int = 2,
    title: str = "Giao ban trực tuyến",
    **fields: Any,
) -> LiveSetup:
    """A meeting hosted by `host` with one endpoint per participant agency (arranged
    directly: the services under test are the live ones, not the booking ones)."""
    host_endpoint = ApprovedEndpointFactory(agency=host)
    participants = [ApprovedEndpointFactory(agency=agency) for agency in participant_agencies]
    start = timezone.now() + starts_in
    meeting = Meeting.objects.create(
        title=title,
        host_agency=host,
        host_endpoint=host_endpoint,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=hours),
        place="Phòng họp trực tuyến",
        contact_name="Nguyễn Văn A",
        contact_phone="0912345678",
        status=status,
        node=node,
        created_by=UserFactory(role=Role.OFFICE, agency=host),
        **fields,
    )
    meeting.participants.set(participants)
    return LiveSetup(meeting, host_endpoint, participants)


class BrowserSession:
    """What janus.js does for a browser: a session and a VideoRoom handle opened with the
    join token, and the events Janus sends to it (long poll)."""

    def __init__(self, janus_url: str, token: str) -> None:
        self.url = janus_url.rstrip("/")
        self.token = token
        self.session_id = int(self._post("", {"janus": "create"})["data"]["id"])

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        body = {**body, "transaction": secrets.token_hex(6), "token": self.token}
        request = urllib.request.Request(
            self.url + path, data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"}, method="POST",
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            answer = json.loads(response.read())
        if answer.get("janus") == "error":
            raise PermissionError(answer["error"])
        return answer

    def attach(self) -> int:
        answer = self._post(f"/{self.session_id}",
                            {"janus": "attach", "plugin": "janus.plugin.videoroom"})
        return int(answer["data"]["id"])

    def message(self, handle_id: int, body: dict[str, Any]) -> dict[str, Any]:
        return self._post(f"/{self.session_id}/{handle_id}", {"janus": "message", "body": body})

    def events(self, timeout: float = 3.0) -> list[dict[str, Any]]:
        url = f"{self.url}/{self.session_id}?maxev=10&token={self.token}"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                answer = json.loads(response.read())
        except TimeoutError:
            return []
        items = answer if isinstance(answer, list) else [answer]
        return [item for item in items if item.get("janus") != "keepalive"]

    def plugin_events(self, rounds: int = 3) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for _ in range(rounds):
            for item in self.events():
                data = item.get("plugindata", {}).get("data")
                if data:
                    found.append(data)
            if found:
                return found
        return found

    def destroy(self) -> None:
        # It may be gone already (kicked, Janus stopped).
        with contextlib.suppress(Exception):
            self._post(f"/{self.session_id}", {"janus": "destroy"})
