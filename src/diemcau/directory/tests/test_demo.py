"""The demo that `make run` loads, under both rulebooks, and the `diemcau` console command."""

import subprocess
import sys

import pytest

from diemcau.core.audit import verify_chain
from diemcau.core.models import User
from diemcau.directory.choices import EndpointStatus
from diemcau.directory.demo import DEMO_PASSWORD, load_demo
from diemcau.directory.models import Device, Endpoint, EndpointChangeRequest


@pytest.mark.django_db
@pytest.mark.parametrize("rulebook", ["khanh-hoa-2023", "dong-nai-2025"])
def test_demo_loads_through_the_services_and_is_idempotent(use_rulebook, rulebook):
    use_rulebook(rulebook)
    accounts = load_demo()
    assert {a.username for a in accounts} == {
        "quantri",
        "vanhanh",
        "vanphong",
        "kythuat",
        "dieukhien",
        "kiemtra",
    }
    assert User.objects.get(username="vanhanh").check_password(DEMO_PASSWORD)
    statuses = sorted(Endpoint.objects.values_list("status", flat=True))
    assert statuses.count(EndpointStatus.APPROVED) == 3
    assert statuses.count(EndpointStatus.PENDING) == 1
    # The office's room has a second device, and a change waits for the operator.
    assert Device.objects.count() == 1
    assert EndpointChangeRequest.objects.filter(status="pending").count() == 1
    from diemcau.scheduling.models import Meeting

    statuses = sorted(Meeting.objects.values_list("status", flat=True))
    # KH also has a meeting open now (an emergency, no lead time) to try the live pages;
    # ĐN's 6-hour emergency lead time leaves it out.
    open_now = 1 if rulebook == "khanh-hoa-2023" else 0
    assert statuses.count("accepted") == 1 + open_now and statuses.count("submitted") == 5
    assert all(Meeting.objects.filter(status="accepted").values_list("code", flat=True))
    endpoints_before, meetings_before = Endpoint.objects.count(), Meeting.objects.count()
    load_demo()
    assert Endpoint.objects.count() == endpoints_before
    assert Meeting.objects.count() == meetings_before
    assert verify_chain().ok


def test_console_command_wraps_django_management():
    result = subprocess.run(
        [sys.executable, "-m", "diemcau.manage", "rulebook", "check", "dong-nai-2025"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "dong-nai-2025" in result.stdout
