"""Test harness for the media plane: real aiortc WebRTC endpoints against a real Janus.

ICE never uses loopback, so the endpoints run in a network namespace joined to the root
namespace by a veth pair (`netns`); Janus is told to use the root end for ICE. Janus's HTTP
API stays on 127.0.0.1: a small TCP forwarder on the veth root address plays the part of the
production reverse proxy. Each endpoint is a subprocess (`endpoint`) driven over JSON lines
by a `MediaEndpoint` in the test process.

Nothing here imports Django or pytest at import time: the endpoint subprocess imports only
`diemcau.media.testing.endpoint` (and aiortc).
"""
