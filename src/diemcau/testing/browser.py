"""Debian's Chromium for the browser tests (Playwright drives it; no downloaded browser)."""

from typing import Any

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


def sign_in(page: Any, base: str, username: str, password: str | None = None) -> None:
    """Sign in through the page, typing the two-factor code too when the account's role
    needs one (a device is made for it, as enrolment would)."""
    from diemcau.core import two_factor
    from diemcau.core.models import User
    from diemcau.testing.factories import TEST_PASSWORD
    from diemcau.testing.two_factor import device_for, unused_code

    user = User.objects.get(username=username)
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password or TEST_PASSWORD)
    if two_factor.required_for(user) or two_factor.confirmed_device(user):
        page.fill("#id_otp_token", unused_code(device_for(user)))
    page.click("form[action='/login/'] button[type=submit]")
    page.wait_for_url(f"{base}/")
