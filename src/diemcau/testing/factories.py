"""factory-boy factories. They build rows directly, for arranging tests; the code under test
must still go through the services."""

from __future__ import annotations

from decimal import Decimal

import factory
from django.utils import timezone

from diemcau.core.models import User
from diemcau.core.roles import Role
from diemcau.directory.choices import (
    AgencyKind,
    ContactRole,
    EndpointStatus,
    Network,
    TerminalKind,
)
from diemcau.directory.models import Agency, Contact, Endpoint

TEST_PASSWORD = "Mat-khau-thu-2026"


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Sở Thử nghiệm {n}")
    kind = AgencyKind.DEPARTMENT
    abbreviation = factory.Sequence(lambda n: f"So.TN{n}")
    parent = None

    @factory.post_generation
    def set_path(obj: Agency, create: bool, extracted: object, **kwargs: object) -> None:
        parent_path = obj.parent.path if obj.parent else "/"
        obj.path = f"{parent_path}{obj.pk}/"
        if create:
            obj.save(update_fields=["path"])


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.gov.vn")
    role = Role.TECHNICIAN
    agency = factory.SubFactory(AgencyFactory)
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def _save(obj: User, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            obj.save()


class EndpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Endpoint

    agency = factory.SubFactory(AgencyFactory)
    name = factory.Sequence(lambda n: f"Endpoint.{n:03d}")
    terminal_kind = TerminalKind.VCS
    network = Network.TSLCD
    bandwidth_mbps = Decimal("10")
    dedicated_line = True
    vcs_ip = factory.Sequence(lambda n: f"10.10.{n // 250}.{n % 250 + 1}")
    room_meets_standard = True
    meets_control_requirements = True
    status = EndpointStatus.PENDING


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    endpoint = factory.SubFactory(EndpointFactory)
    role = ContactRole.TECHNICIAN
    full_name = factory.Sequence(lambda n: f"Nguyễn Văn {n}")
    phone = factory.Sequence(lambda n: f"09{n:08d}")
    email = factory.Sequence(lambda n: f"kythuat{n}@example.gov.vn")
    active_from = factory.LazyFunction(timezone.now)


class McuNodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "mcu.McuNode"

    name = factory.Sequence(lambda n: f"mcu-{n}")
    max_meetings = 10
    max_endpoints = 100


class ApprovedEndpointFactory(EndpointFactory):
    """An admitted endpoint, usable in meetings."""

    status = EndpointStatus.APPROVED
    security_check_due = False
