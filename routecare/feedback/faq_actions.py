"""Changes to the FAQ: drafts (also straight from a question asked in feedback), edits,
approval and retirement, each kept as a version with who made it."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from routecare.access import Actor, Rule, allows
from routecare.audit.actions import record_event
from routecare.core import fields
from routecare.core.person_texts import PERSON_LANGUAGES
from routecare.feedback import search
from routecare.feedback.actions import may_handle
from routecare.feedback.models import Category, FaqEntry, FaqStatus, FaqText, FaqVersion, Feedback
from routecare.orgs.models import NationalSociety
from routecare.orgs.taxonomy import Service

TOPIC_TAGS = ("legal-information", "safety")
MAX_QUESTION = fields.FAQ_QUESTION.max_length
MAX_ANSWER = fields.FAQ_ANSWER.max_length

Texts = Mapping[str, tuple[str, str]]  # language -> (question, answer)


def may_edit(actor: Actor) -> bool:
    """Coordinators, focal points and the IFRC cluster write drafts."""
    return allows(actor, Rule.FAQ_EDITING)


def may_approve(actor: Actor) -> bool:
    return allows(actor, Rule.FAQ_APPROVAL)


def _network(actor: Actor) -> uuid.UUID:
    if actor.network_id is None:
        raise PermissionError("this role belongs to no network")
    return actor.network_id


def allowed_tags(network_id: uuid.UUID) -> set[str]:
    countries = NationalSociety.objects.filter(network_id=network_id).values_list(
        "country_code", flat=True
    )
    return {*Service.values, *TOPIC_TAGS, *(code.lower() for code in countries)}


def _clean_texts(texts: Texts, *, need_answers: bool) -> dict[str, tuple[str, str]]:
    cleaned: dict[str, tuple[str, str]] = {}
    for language, (question, answer) in texts.items():
        if language not in PERSON_LANGUAGES:
            raise ValidationError({"texts": _("Unknown language: %(code)s") % {"code": language}})
        for definition, value in ((fields.FAQ_QUESTION, question), (fields.FAQ_ANSWER, answer)):
            problem = fields.text_problem(value or "", multiline=definition.multiline)
            if problem is not None:
                raise ValidationError({"texts": problem})
        question, answer = (question or "").strip(), (answer or "").strip()
        if not question and not answer:
            continue
        if not question or len(question) > MAX_QUESTION:
            raise ValidationError(
                {"texts": _("Each question has 1 to %(n)d characters.") % {"n": MAX_QUESTION}}
            )
        if len(answer) > MAX_ANSWER or (need_answers and not answer):
            raise ValidationError(
                {"texts": _("Each answer has 1 to %(n)d characters.") % {"n": MAX_ANSWER}}
            )
        cleaned[language] = (question, answer)
    if not cleaned:
        raise ValidationError({"texts": _("Write the question in at least one language.")})
    return cleaned


def _clean_tags(actor: Actor, tags: list[str]) -> list[str]:
    tags = sorted({tag.strip().lower() for tag in tags if tag.strip()})
    unknown = set(tags) - allowed_tags(_network(actor))
    if unknown:
        raise ValidationError(
            {"tags": _("Unknown tags: %(tags)s") % {"tags": ", ".join(sorted(unknown))}}
        )
    return tags


def _save_texts(entry: FaqEntry, texts: dict[str, tuple[str, str]]) -> None:
    stale = list(entry.texts.exclude(language__in=list(texts)).values_list("pk", flat=True))
    search.unindex(stale)
    FaqText.objects.filter(pk__in=stale).delete()
    for language, (question, answer) in texts.items():
        folded = search.fold(f"{question}\n{answer}\n{' '.join(entry.tags)}")
        text, _created = FaqText.objects.update_or_create(
            entry=entry, language=language,
            defaults={"question": question, "answer": answer, "search_text": folded},
        )  # fmt: skip
        search.index(text.pk, folded)


def _snapshot(actor: Actor, entry: FaqEntry, change: str) -> None:
    FaqVersion.objects.create(
        entry=entry, number=entry.version, status=entry.status, public=entry.public,
        tags=entry.tags, changed_by=actor.user, change=change,
        texts={t.language: {"question": t.question, "answer": t.answer}
               for t in entry.texts.all()},
    )  # fmt: skip


@transaction.atomic
def create_entry(actor: Actor, *, texts: Texts, tags: list[str], public: bool = False) -> FaqEntry:
    if not may_edit(actor):
        raise PermissionError("cannot write FAQ entries")
    cleaned = _clean_texts(texts, need_answers=False)
    entry = FaqEntry.objects.create(
        network_id=_network(actor), tags=_clean_tags(actor, tags), public=public,
        created_by=actor.user,
    )  # fmt: skip
    _save_texts(entry, cleaned)
    _snapshot(actor, entry, "created")
    record_event(actor, "create", "faq_entry", entry.pk)
    return entry


def _require_own(actor: Actor, entry: FaqEntry) -> None:
    if entry.network_id != actor.network_id:
        raise PermissionError("another network's FAQ")


@transaction.atomic
def edit_entry(
    actor: Actor, entry: FaqEntry, *, texts: Texts, tags: list[str], public: bool
) -> FaqEntry:
    """A new version; an approved entry goes back to draft until approved again."""
    if not may_edit(actor):
        raise PermissionError("cannot write FAQ entries")
    _require_own(actor, entry)
    if entry.status == FaqStatus.RETIRED:
        raise ValidationError({"status": _("A retired entry cannot be edited.")})
    cleaned = _clean_texts(texts, need_answers=False)
    entry.tags = _clean_tags(actor, tags)
    entry.public = public
    entry.status = FaqStatus.DRAFT
    entry.version += 1
    entry.updated_at = timezone.now()
    entry.save()
    _save_texts(entry, cleaned)
    _snapshot(actor, entry, "edited")
    record_event(actor, "change", "faq_entry", entry.pk, detail=f"v{entry.version}")
    return entry


@transaction.atomic
def approve_entry(actor: Actor, entry: FaqEntry) -> FaqEntry:
    if not may_approve(actor):
        raise PermissionError("cannot approve FAQ entries")
    _require_own(actor, entry)
    if entry.status != FaqStatus.DRAFT:
        raise ValidationError({"status": _("Only a draft can be approved.")})
    texts = {t.language: (t.question, t.answer) for t in entry.texts.all()}
    _clean_texts(texts, need_answers=True)
    now = timezone.now()
    entry.status, entry.approved_by, entry.approved_at, entry.updated_at = (
        FaqStatus.APPROVED, actor.user, now, now,
    )  # fmt: skip
    entry.save()
    _snapshot(actor, entry, "approved")
    record_event(actor, "change", "faq_entry", entry.pk, fields=["status"], detail="approved")
    return entry


@transaction.atomic
def retire_entry(actor: Actor, entry: FaqEntry) -> FaqEntry:
    if not may_approve(actor):
        raise PermissionError("cannot retire FAQ entries")
    _require_own(actor, entry)
    entry.status = FaqStatus.RETIRED
    entry.updated_at = timezone.now()
    entry.save()
    _snapshot(actor, entry, "retired")
    record_event(actor, "change", "faq_entry", entry.pk, fields=["status"], detail="retired")
    return entry


@transaction.atomic
def draft_from_feedback(actor: Actor, item: Feedback) -> FaqEntry:
    """One step from a question asked in feedback to a draft entry linked to it (its text
    becomes the draft question in the person's language, for the editors to rephrase)."""
    if not may_handle(actor, item) or not may_edit(actor):
        raise PermissionError("cannot turn this feedback into an FAQ entry")
    if item.category != Category.QUESTION:
        raise ValidationError({"category": _("Only questions become FAQ entries.")})
    if item.faq_entry_id is not None:
        raise ValidationError({"faq_entry": _("This question already has an FAQ entry.")})
    # A question is one line; what the person wrote may have several.
    question = " ".join(str(item.text).split())[:MAX_QUESTION]
    entry = create_entry(actor, texts={item.language: (question, "")}, tags=[])
    link_question(actor, item, entry)
    return entry


@transaction.atomic
def link_question(actor: Actor, item: Feedback, entry: FaqEntry) -> Feedback:
    """Count a question asked again under the entry that answers it."""
    if not may_handle(actor, item):
        raise PermissionError("not a handler of this feedback")
    _require_own(actor, entry)
    if item.network_id != entry.network_id:
        raise ValidationError({"faq_entry": _("That entry is another network's.")})
    item.faq_entry = entry
    item.save(update_fields=["faq_entry"])
    record_event(actor, "change", "feedback", item.pk, fields=["faq_entry"])
    return item
