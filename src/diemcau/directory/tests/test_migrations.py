"""Old evaluations stay readable: their four booleans become answers (migration 0003)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from diemcau.core.roles import Role
from diemcau.testing.factories import UserFactory

BEFORE = [("directory", "0002_endpoint_sip_account")]
AFTER = [("directory", "0004_endpoint_control_requirements")]


@pytest.mark.django_db(transaction=True)
def test_old_evaluation_booleans_become_answers() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    agency = old.get_model("directory", "Agency").objects.create(name="Sở TTTT",
                                                                 kind="department")
    user = UserFactory(role=Role.OPERATOR)  # core is not migrated back
    endpoint = old.get_model("directory", "Endpoint").objects.create(
        agency=agency, name="So.TTTT", terminal_kind="vcs", network="wan", bandwidth_mbps=4,
    )
    old.get_model("directory", "Evaluation").objects.create(
        endpoint=endpoint, passed=False, room_ok=True, power_ok=False, connection_ok=True,
        av_ok=True, remarks="Thiếu UPS", evaluated_by_id=user.pk,
    )
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    evaluation = new.get_model("directory", "Evaluation").objects.get()
    answers = {a.item_key: (a.met, a.text_vi) for a in evaluation.answers.order_by("pk")}
    assert list(answers) == ["room_ok", "power_ok", "connection_ok", "av_ok"]
    assert answers["power_ok"] == (False, "Nguồn điện ổn định, có nguồn điện dự phòng")
    assert all(met for key, (met, _text) in answers.items() if key != "power_ok")
    assert evaluation.remarks == "Thiếu UPS" and evaluation.passed is False
