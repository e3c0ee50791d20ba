"""The live plane's writers (R16–R18): every change of a room, a join link, a connection or
the live controls goes through one of these modules, in one transaction with its audit event.

- `rooms`: each accepted meeting's VideoRoom on its node, and `reconcile` after a restart;
- `join_links`: signed, expiring, revocable links for rooms without an account;
- `grants`: a place in the meeting for one endpoint, and the backend's join on Janus;
- `participations`: closing a connection with its reason, Janus tokens and sessions;
- `telemetry`: what an endpoint reports (attendees, line quality);
- `control`: the host's and operator's controls (floor, mute, spotlight, lock, recording);
- `session`: opening and ending the session (through the meeting lifecycle of `scheduling`);
- `presence`: attendance kept true to what Janus sees.
"""
