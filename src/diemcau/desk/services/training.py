"""A change of technician is reported to the operator, and the new technician is trained
(ĐN Đ14.8, Đ16.3; KH Đ19.3): the training task shows until it is done."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from diemcau.core import audit
from diemcau.core.errors import InvalidInput, InvalidTransition
from diemcau.core.models import User
from diemcau.core.permissions import Action, operators, require
from diemcau.directory.choices import ContactRole
from diemcau.directory.models import Contact
from diemcau.rulebooks import active_rulebook

from .. import notices
from ..models import TrainingTask
from ._common import check_text


def open_training_on_change(contact: Contact, previous: Contact | None, actor: User) -> None:
    """Called by the directory inside `set_contact`'s transaction: a new technician is
    reported to the operators, and — where the rulebook asks (`contacts.training_on_change`)
    and the person is not trained yet — gets a training task."""
    if contact.role != ContactRole.TECHNICIAN:
        return
    rule = active_rulebook().contacts
    task = None
    if rule.training_on_change and contact.trained_on is None:
        task = TrainingTask.objects.create(contact=contact)
        audit.record("desk.training_open", task, actor=actor, after=audit.snapshot(task))
    notices.technician_changed(contact, previous, task, list(operators()))


@transaction.atomic
def complete_training(
    task: TrainingTask, *, done_on: dt.date, note: str = "", actor: User
) -> TrainingTask:
    task = TrainingTask.objects.select_for_update().select_related(
        "contact__endpoint__agency").get(pk=task.pk)
    require(actor, Action.RECORD_TRAINING, task.contact.endpoint.agency)
    if task.done_on is not None:
        raise InvalidTransition(_("This training is already recorded."))
    errors: dict[str, list[str]] = {}
    if done_on > timezone.localdate():
        errors["done_on"] = [_("The date cannot be in the future.")]
    if done_on < timezone.localtime(task.created_at).date():
        errors["done_on"] = [_("The training cannot be before the change.")]
    check_text(limits={"note": (note, 250)}, dates={"done_on": done_on}, errors=errors)
    if errors:
        raise InvalidInput(errors)
    before = audit.snapshot(task)
    task.done_on, task.done_note, task.done_by = done_on, note.strip(), actor
    task.save()
    audit.record("desk.training_done", task, actor=actor, before=before,
                 after=audit.snapshot(task))
    return task
