"""The mixer of hardware SIP terminals and upstream MCU links (R23–R25): a composed picture
and mixed sound per room, built natively with GStreamer; no Django imports here."""
