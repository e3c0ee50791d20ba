"""The mixer of hardware SIP terminals and upstream MCU links (R23–R25): a composed picture
and mixed sound per room, built natively with GStreamer; no Django imports here.

What the Django side calls (docs/mixer.md, "API"):

- `host.MixerHost(janus_access, room.MixerSettings(node_address=…), on_update=…,
  on_speaker=…)`: the node's mixers; `dial_out(room, legs.LegSpec(…), uri)`,
  `hangup(leg_id)`, `quality(leg_id)`, `set_layout(room_id, layout.Layout…, main=feed)`,
  `set_label`, `set_muted`, `mute_leg`, `link_upstream`, `check_link`,
  `listen(decide, front=sipfront.FrontSettings(…))`, `close()`;
- `roomapi.RoomAccess(room, pin, secret)`: the meeting's room;
- `legs.LegUpdate` / `legs.LegState` / `legs.LineQuality`: what the callbacks report;
- `dialin.IncomingCall` → `dialin.Admit(room, spec)` | `dialin.Refuse(code, reason)`;
- `sipconfig.enable_sip(janus_config, SipSettings(address))` and `sipfront.SipFront`: the
  SIP plugin in the generated Janus folder, and Kamailio on the node's port 5060.
"""
