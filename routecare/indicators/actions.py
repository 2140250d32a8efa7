"""Recording trainings (attendance as numbers, never names)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from routecare.access import Actor
from routecare.audit.actions import record_event
from routecare.core import fields
from routecare.indicators.models import Training, TrainingAttendance, TrainingTopic
from routecare.orgs.models import Role, ServicePoint
from routecare.orgs.taxonomy import Sex


@transaction.atomic
def record_training(
    actor: Actor,
    *,
    title: str,
    topic: str,
    day: dt.date,
    attendance: dict[tuple[str, str], int],
    service_point: ServicePoint | None = None,
    training: Training | None = None,
) -> Training:
    """A training held by the actor's society, with how many staff and volunteers of each
    sex completed it; with ``training``, a correction of one already recorded."""
    if actor.role not in (Role.COORDINATOR, Role.FOCAL_POINT) or actor.national_society_id is None:
        raise PermissionError("trainings are recorded by coordinators and focal points")
    if not title.strip() or len(title) > 160:
        raise ValidationError({"title": _("Name the training in up to 160 characters.")})
    fields.TRAINING_TITLE.check(title, "title")
    if topic not in TrainingTopic.values:
        raise ValidationError({"topic": _("Choose a topic.")})
    if day > timezone.localdate():
        raise ValidationError({"day": _("That day has not come yet.")})
    for (role, sex), people in attendance.items():
        if role not in TrainingAttendance.Role.values or sex not in Sex.values:
            raise ValidationError({"attendance": _("Unknown role or sex in the attendance.")})
        if not 0 <= people <= 10_000:
            raise ValidationError({"attendance": _("Enter numbers from 0 to 10000.")})
    if not any(attendance.values()):
        raise ValidationError({"attendance": _("Enter how many people completed it.")})
    if service_point is None and actor.role == Role.COORDINATOR:
        service_point = actor.service_point
    if service_point is not None and service_point.national_society_id != actor.society_id:
        raise ValidationError({"service_point": _("Choose a point of your society.")})
    if training is not None:
        if training.national_society_id != actor.national_society_id:
            raise PermissionError("another society's training")
        from routecare.indicators.regional import store

        store.changed([training.day], [training.national_society_id])  # the day it leaves
        Training.objects.filter(pk=training.pk).update(
            title=title.strip(), topic=topic, day=day, service_point=service_point
        )
        training.attendance.all().delete()
        record_event(actor, "change", "training", training.pk, detail=title.strip())
    else:
        training = Training.objects.create(
            national_society_id=actor.national_society_id,
            service_point=service_point,
            title=title.strip(),
            topic=topic,
            day=day,
            recorded_by=actor.user,
        )
        record_event(actor, "create", "training", training.pk, detail=training.title)
    TrainingAttendance.objects.bulk_create(
        TrainingAttendance(training=training, role=role, sex=sex, people=people)
        for (role, sex), people in attendance.items()
        if people
    )
    training.refresh_from_db()
    return training
