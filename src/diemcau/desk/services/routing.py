"""Line providers as parties, and line incidents sent to them (ĐN Đ12.1, Đ12.2d, Đ17;
KH Đ13.2b, Đ14.2, Đ14.3d, Đ17.5).

A line incident goes to the provider of the endpoint's line through the notifications'
outbox (e-mail, or the provider's webhook), with a signed link the provider opens to
acknowledge and resolve it. The operator may also record a reply given by telephone."""

from __future__ import annotations

from dataclasses import dataclass

from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from diemcau.core import audit
from diemcau.core.errors import InvalidInput, InvalidTransition
from diemcau.core.models import User
from diemcau.core.permissions import Action, require
from diemcau.directory.models import Agency
from diemcau.directory.services.contacts import normalize_phone, valid_phone
from diemcau.notifications.services import notify_address
from diemcau.rulebooks import active_rulebook
from diemcau.scheduling.choices import IncidentKind, IncidentStatus
from diemcau.scheduling.feeds import is_state_secret
from diemcau.scheduling.models import Incident
from diemcau.scheduling.services.checks import classify_incident

from .. import notices
from ..choices import ProviderKind, RouteChannel, RouteStatus
from ..models import EndpointLine, IncidentRoute, LineProvider, ProviderContact
from ._common import check_text

_SALT = "diemcau.desk.route"
ROUTE_FIELDS = ["status", "acknowledged_at", "resolved_at", "reply", "channel", "address",
                "provider_id"]


@dataclass
class ProviderInput:
    name: str
    kind: str
    email: str = ""
    webhook_url: str = ""
    is_active: bool = True


def _validate_provider(data: ProviderInput, instance: LineProvider | None) -> None:
    from django.core.exceptions import ValidationError
    from django.core.validators import URLValidator, validate_email

    errors: dict[str, list[str]] = {}
    if data.kind not in ProviderKind.values:
        errors["kind"] = [_("Choose a valid kind.")]
    if data.email.strip():
        try:
            validate_email(data.email.strip())
        except ValidationError:
            errors["email"] = [_("Enter a valid email address.")]
    if data.webhook_url.strip():
        try:
            URLValidator(schemes=["http", "https"])(data.webhook_url.strip())
        except ValidationError:
            errors["webhook_url"] = [_("Enter an http:// or https:// address.")]
    same = LineProvider.objects.filter(name__iexact=data.name.strip())
    if instance is not None:
        same = same.exclude(pk=instance.pk)
    if data.name.strip() and same.exists():
        errors["name"] = [_("A provider of this name exists.")]
    check_text({"name": data.name}, limits={"name": (data.name, 200),
                                            "webhook_url": (data.webhook_url, 500)},
               errors=errors)


@transaction.atomic
def save_provider(
    data: ProviderInput, *, actor: User, provider: LineProvider | None = None
) -> LineProvider:
    """Add a line provider, or change one."""
    require(actor, Action.MANAGE_PROVIDERS)
    _validate_provider(data, provider)
    before = audit.snapshot(provider) if provider else None
    provider = provider or LineProvider()
    provider.name, provider.kind = data.name.strip(), data.kind
    provider.email, provider.webhook_url = data.email.strip(), data.webhook_url.strip()
    provider.is_active = data.is_active
    provider.save()
    audit.record("desk.provider_save", provider, actor=actor, before=before,
                 after=audit.snapshot(provider))
    return provider


@transaction.atomic
def add_provider_contact(
    provider: LineProvider, *, full_name: str, phone: str, email: str = "",
    area: Agency | None = None, actor: User,
) -> ProviderContact:
    """A person of the provider on duty for an area (an agency and its units; none: the
    whole province)."""
    require(actor, Action.MANAGE_PROVIDERS)
    errors: dict[str, list[str]] = {}
    if not valid_phone(phone):
        errors["phone"] = [_("Enter a Vietnamese phone number, e.g. 0912345678 or "
                             "+84912345678.")]
    check_text({"full_name": full_name}, limits={"full_name": (full_name, 120)}, errors=errors)
    contact = ProviderContact.objects.create(provider=provider, area=area,
                                             full_name=full_name.strip(),
                                             phone=normalize_phone(phone), email=email.strip())
    audit.record("desk.provider_contact", contact, actor=actor, after=audit.snapshot(contact))
    return contact


def contacts_for(provider: LineProvider, agency: Agency) -> list[ProviderContact]:
    """The provider's people for an agency: those of the nearest area above it, else those
    for the whole province."""
    ancestors = [int(pk) for pk in agency.path.strip("/").split("/") if pk]
    people = list(provider.contacts.select_related("area").filter(area_id__in=ancestors))
    if people:
        depth = max(p.area.depth for p in people if p.area is not None)
        return [p for p in people if p.area is not None and p.area.depth == depth]
    return list(provider.contacts.filter(area__isnull=True))


# ---------------------------------------------------------------- routing


def make_token(route: IncidentRoute) -> str:
    return signing.dumps({"route": route.pk}, salt=_SALT)


def route_from_token(token: str) -> IncidentRoute | None:
    """The route a provider's link names, while the link is valid (rulebook days)."""
    days = active_rulebook().line_incidents.reply_link_days
    try:
        data = signing.loads(token, salt=_SALT, max_age=days * 86400)
    except signing.BadSignature:
        return None
    pk = data.get("route") if isinstance(data, dict) else None
    if not isinstance(pk, int):
        return None
    return IncidentRoute.objects.select_related(
        "incident__endpoint__agency", "provider").filter(pk=pk).first()


@transaction.atomic
def route_incident(incident: Incident, *, actor: User) -> IncidentRoute:
    """Send a line incident to the provider of its endpoint's line, by webhook when the
    provider has one, else by e-mail; the incident becomes a line incident."""
    require(actor, Action.MANAGE_INCIDENT)
    incident = Incident.objects.select_for_update(of=("self",)).select_related(
        "endpoint__agency", "meeting").get(pk=incident.pk)
    if incident.status == IncidentStatus.CLOSED:
        raise InvalidTransition(_("The incident is closed."))
    if IncidentRoute.objects.filter(incident=incident).exists():
        raise InvalidTransition(_("This incident was already sent to its provider."))
    if incident.endpoint is None:
        raise InvalidInput({"endpoint": [_("Only an incident of an endpoint has a line.")]})
    line = EndpointLine.objects.select_related("provider").filter(
        endpoint=incident.endpoint).first()
    if line is None:
        raise InvalidInput({"endpoint": [_("The endpoint's line and provider are not recorded "
                                           "in the equipment register.")]})
    provider = line.provider
    if provider.webhook_url:
        channel, address = RouteChannel.WEBHOOK, provider.webhook_url
    elif provider.email:
        channel, address = RouteChannel.EMAIL, provider.email
    else:
        raise InvalidInput({"provider": [_("The provider has no e-mail address or webhook.")]})
    classify_incident(incident, kind=IncidentKind.LINE, actor=actor)
    route = IncidentRoute.objects.create(
        incident=incident, provider=provider, channel=channel, address=address,
        sent_at=timezone.now(), sent_by=actor)
    audit.record("desk.route", route, actor=actor, after=audit.snapshot(route, ROUTE_FIELDS))
    people = contacts_for(provider, incident.endpoint.agency)
    notify_address(
        address, channel=channel, kind="desk.line_incident",
        params={
            "route": route.pk, "incident": incident.pk, "endpoint": incident.endpoint.name,
            "agency": incident.endpoint.agency.name, "circuit": line.circuit_reference,
            # R20: what leaves the system never describes a state-secret meeting's incident.
            "description": "" if is_state_secret(incident.meeting) else incident.description,
            "contacts": [f"{p.full_name} {p.phone}" for p in people],
        },
        link=reverse("desk:provider_reply", args=[make_token(route)]),
    )
    return route


@transaction.atomic
def record_reply(
    route: IncidentRoute, *, status: str, reply: str = "", actor: User | None,
) -> IncidentRoute:
    """The provider acknowledges the incident, then says it is resolved. `actor` is the
    operator who records a reply given another way, or None for the provider's own link
    (its caller has checked the signature)."""
    if actor is not None:
        require(actor, Action.MANAGE_INCIDENT)
    route = IncidentRoute.objects.select_for_update().get(pk=route.pk)
    if status not in (RouteStatus.ACKNOWLEDGED, RouteStatus.RESOLVED):
        raise InvalidInput({"status": [_("Choose acknowledged or resolved.")]})
    if route.status == RouteStatus.RESOLVED:
        raise InvalidTransition(_("The provider has already resolved this incident."))
    if route.status == status:
        raise InvalidTransition(_("This was already recorded."))
    errors: dict[str, list[str]] = {}
    if status == RouteStatus.RESOLVED and not reply.strip():
        errors["reply"] = [_("Say what was done.")]
    check_text(limits={"reply": (reply, 5000)}, errors=errors)
    before = audit.snapshot(route, ROUTE_FIELDS)
    now = timezone.now()
    route.acknowledged_at = route.acknowledged_at or now
    if status == RouteStatus.RESOLVED:
        route.resolved_at = now
    route.status = status
    if reply.strip():
        route.reply = "\n".join(filter(None, [route.reply, reply.strip()]))
    route.save()
    audit.record("desk.route_reply", route, actor=actor, before=before,
                 after=audit.snapshot(route, ROUTE_FIELDS))
    notices.route_reply(route)
    return route
