"""`make run` shows a filled desk, under both rulebooks."""

import pytest

from diemcau.core.audit import verify_chain
from diemcau.desk.models import (
    Device,
    DutyShift,
    EndpointLine,
    IncidentRoute,
    MaintenanceTask,
    TrainingTask,
)
from diemcau.desk.selectors import on_duty, open_training
from diemcau.directory.demo import load_demo


@pytest.mark.django_db
@pytest.mark.parametrize("rulebook", ["khanh-hoa-2023", "dong-nai-2025"])
def test_the_demo_fills_the_desk_once(use_rulebook, rulebook):
    use_rulebook(rulebook)
    load_demo()
    counts = (Device.objects.count(), EndpointLine.objects.count(),
              MaintenanceTask.objects.count(), IncidentRoute.objects.count())
    assert counts[0] >= 3 and counts[1] >= 1 and counts[2] == 2 and counts[3] == 1
    assert on_duty().exists()
    assert open_training(TrainingTask.objects.all()).count() == 1
    load_demo()
    assert (Device.objects.count(), EndpointLine.objects.count(),
            MaintenanceTask.objects.count(), IncidentRoute.objects.count()) == counts
    assert DutyShift.objects.count() == 1
    assert verify_chain().ok
