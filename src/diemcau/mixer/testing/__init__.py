"""Test helpers of the mixer: decoded frames and sound, a baresip terminal in a network
namespace, a Janus with the SIP plugin."""
