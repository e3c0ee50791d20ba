"""WebSocket routes of the live meeting (see consumers.py for the messages)."""

from django.urls import path

from . import consumers

websocket_urlpatterns = [
    path("ws/live/meetings/<int:meeting_id>/", consumers.MeetingConsoleConsumer.as_asgi()),
    path("ws/live/operator/", consumers.OperatorConsoleConsumer.as_asgi()),
    path("ws/live/participant/", consumers.ParticipantConsumer.as_asgi()),
]
