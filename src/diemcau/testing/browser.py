"""Debian's Chromium for the browser tests (Playwright drives it; no downloaded browser)."""

CHROMIUM = "/usr/bin/chromium"
# Headless in a container: no sandbox, no GPU, nothing fetched in the background.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# A fake camera and microphone, allowed without asking, and sound that plays at once.
FAKE_MEDIA_ARGS = [
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
]
