"""Reads of feedback and the FAQ for the acting user.

Ordinary lists never hold sensitive items: those are read only by safeguarding focal points,
from their own list. A society that took feedback about another sees a receipt (reference,
day, who it went to), never the content. Trends are counts; outside the society concerned
(the IFRC cluster) small cells are suppressed.
"""

from __future__ import annotations

import datetime as dt
import statistics
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from routecare.access import Actor
from routecare.audit.actions import record_event
from routecare.feedback import search
from routecare.feedback.actions import may_handle
from routecare.feedback.faq_actions import may_edit
from routecare.feedback.models import Category, FaqEntry, FaqStatus, FaqText, Feedback, Status
from routecare.indicators import disclosure
from routecare.orgs.models import NationalSociety, Network, Role


def _ordinary(actor: Actor) -> Q:
    not_sensitive = ~Q(category=Category.SENSITIVE)
    if actor.role == Role.REGIONAL and actor.network_id is not None:
        return not_sensitive & Q(about_society__isnull=True, network_id=actor.network_id)
    if actor.national_society_id is None:
        return Q(pk__in=[])
    own = not_sensitive & Q(about_society_id=actor.national_society_id)
    if actor.role == Role.FOCAL_POINT:
        return own
    if actor.role == Role.COORDINATOR:
        return own & Q(assignee_id=actor.user_id)
    return Q(pk__in=[])


def _sensitive(actor: Actor) -> Q:
    if not actor.safeguarding:
        return Q(pk__in=[])
    sensitive = Q(category=Category.SENSITIVE)
    if actor.role == Role.REGIONAL and actor.network_id is not None:
        return sensitive & Q(network_id=actor.network_id)
    if actor.role in (Role.FOCAL_POINT, Role.COORDINATOR) and actor.national_society_id:
        return sensitive & Q(about_society_id=actor.national_society_id)
    return Q(pk__in=[])


def _listing(rows: QuerySet[Feedback], status: str, category: str) -> QuerySet[Feedback]:
    if status in Status.values:
        rows = rows.filter(status=status)
    if category in Category.values:
        rows = rows.filter(category=category)
    return rows.select_related("about_society", "about_point", "assignee")


def inbox(actor: Actor, *, status: str = "", category: str = "") -> QuerySet[Feedback]:
    """The feedback the actor handles, sensitive items left out."""
    return _listing(Feedback.objects.filter(_ordinary(actor)), status, category)


def safeguarding_inbox(actor: Actor, *, status: str = "") -> QuerySet[Feedback]:
    return _listing(Feedback.objects.filter(_sensitive(actor)), status, "")


def feedback_for_change(actor: Actor, feedback_id: str | uuid.UUID) -> Feedback:
    try:
        pk = uuid.UUID(str(feedback_id))
    except ValueError:
        raise Http404 from None
    item = (
        Feedback.objects.filter(pk=pk)
        .select_related("about_society", "about_point", "received_by", "assignee", "faq_entry")
        .first()
    )
    if item is None or not may_handle(actor, item):
        raise Http404
    return item


def get_feedback(actor: Actor, feedback_id: str | uuid.UUID) -> Feedback:
    item = feedback_for_change(actor, feedback_id)
    record_event(actor, "read", "feedback", item.pk)
    return item


@dataclass(frozen=True)
class Receipt:
    reference: str
    created_at: dt.datetime
    sent_to: str


def receipts(actor: Actor) -> list[Receipt]:
    """What the actor's society took about others: where it went, not what it says."""
    if actor.national_society_id is None:
        return []
    rows = (
        Feedback.objects.filter(received_by_id=actor.national_society_id)
        .exclude(about_society_id=actor.national_society_id)
        .select_related("about_society", "network")
        .order_by("-created_at")[:200]
    )
    return [
        Receipt(item.reference, item.created_at,
                item.about_society.name if item.about_society else item.network.name)
        for item in rows
    ]  # fmt: skip


def public_answer(reference: str) -> Feedback | None:
    """The person's own item by the reference on their receipt (status and answers only)."""
    cleaned = reference.strip().upper()
    if not cleaned.startswith("FB-") or len(cleaned) != 12:
        return None
    return Feedback.objects.filter(reference=cleaned).prefetch_related("responses").first()


@dataclass
class Trends:
    level: str  # "society" or "network"
    columns: list[str]  # categories
    row_labels: list[str]
    protected: disclosure.ProtectedTable
    acknowledge_hours_median: float | None
    resolve_hours_median: float | None
    total: int


def _hours(pairs: list[tuple[dt.datetime, dt.datetime | None]]) -> float | None:
    spans = [(end - start).total_seconds() / 3600 for start, end in pairs if end is not None]
    return round(statistics.median(spans), 1) if spans else None


def trends(actor: Actor, since: dt.date) -> Trends | None:
    """Ordinary feedback since a day by category: per point for a society's focal points and
    coordinators, per society (small cells suppressed) for the IFRC cluster."""
    categories = [c for c in Category.values if c != Category.SENSITIVE]
    start = dt.datetime.combine(since, dt.time(), dt.UTC)
    rows = Feedback.objects.filter(created_at__gte=start, category__in=categories)
    if actor.role == Role.REGIONAL and actor.network_id is not None:
        level, rows = "network", rows.filter(network_id=actor.network_id)
        societies = NationalSociety.objects.filter(network_id=actor.network_id).order_by("name")
        labels: dict[Any, str] = {s.pk: s.name for s in societies}
        group = "about_society_id"
    elif (
        actor.role in (Role.FOCAL_POINT, Role.COORDINATOR) and actor.national_society_id is not None
    ):
        level, rows = "society", rows.filter(about_society_id=actor.national_society_id)
        labels = dict(
            rows.exclude(about_point__isnull=True)
            .values_list("about_point_id", "about_point__name")
            .distinct()
        )
        group = "about_point_id"
    else:
        return None
    counts = Counter(
        {
            (key, category): n
            for key, category, n in rows.values_list(group, "category").annotate(n=Count("id"))
        }
    )
    keys_order = [*labels, None]
    row_labels = [*labels.values(), "—"]
    cells = [[counts[(key, c)] for c in categories] for key in keys_order]
    outsider = level == "network"
    protect = disclosure.protect if outsider else disclosure.open_table
    timing = list(rows.values_list("created_at", "acknowledged_at", "resolved_at"))
    return Trends(
        level=level,
        columns=[str(Category(c).label) for c in categories],
        row_labels=row_labels,
        protected=protect(cells, len(categories)),
        acknowledge_hours_median=_hours([(c, a) for c, a, _r in timing]),
        resolve_hours_median=_hours([(c, r) for c, _a, r in timing]),
        total=len(timing),
    )


# The FAQ


def faq_entries(actor: Actor) -> QuerySet[FaqEntry]:
    """The network's entries: editors see drafts and retired ones too, others approved."""
    if actor.network_id is None:
        return FaqEntry.objects.none()
    entries = FaqEntry.objects.filter(network_id=actor.network_id)
    if not may_edit(actor):
        entries = entries.filter(status=FaqStatus.APPROVED)
    return entries.prefetch_related("texts")


def faq_entry(actor: Actor, entry_id: str | uuid.UUID) -> FaqEntry:
    try:
        pk = uuid.UUID(str(entry_id))
    except ValueError:
        raise Http404 from None
    entry = faq_entries(actor).filter(pk=pk).first()
    if entry is None:
        raise Http404
    return entry


@dataclass(frozen=True)
class Hit:
    entry: FaqEntry
    text: FaqText


def search_faq(actor: Actor, query: str, language: str, *, limit: int = 20) -> list[Hit]:
    """Approved entries (and drafts for editors) in one language matching the query."""
    entries = faq_entries(actor).exclude(status=FaqStatus.RETIRED)
    return _search(entries, query, language, limit)


def _search(entries: QuerySet[FaqEntry], query: str, language: str, limit: int) -> list[Hit]:
    texts = FaqText.objects.filter(entry__in=entries, language=language)
    candidates = list(texts.values_list("pk", flat=True))
    found = search.matching_text_ids(query, candidates, limit)
    by_id = {t.pk: t for t in texts.filter(pk__in=found).select_related("entry")}
    return [Hit(by_id[pk].entry, by_id[pk]) for pk in found if pk in by_id]


def public_faq(network: Network, language: str, query: str = "") -> list[Hit]:
    """Approved public entries for the pages of people on the move."""
    entries = FaqEntry.objects.filter(network=network, status=FaqStatus.APPROVED, public=True)
    if query:
        return _search(entries, query, language, 30)
    texts = FaqText.objects.filter(entry__in=entries, language=language).select_related("entry")
    return [Hit(text.entry, text) for text in texts.order_by("question")]


def questions_of(actor: Actor, entry: FaqEntry) -> list[Feedback]:
    """The questions that prompted the entry, those the actor handles (the others are
    counted, not shown)."""
    linked = entry.questions.select_related("about_society", "about_point").order_by("-created_at")
    return [item for item in linked[:200] if may_handle(actor, item)]


def asked_this_month(entry: FaqEntry, today: dt.date | None = None) -> int:
    today = today or timezone.now().date()
    first = dt.datetime.combine(today.replace(day=1), dt.time(), dt.UTC)
    return entry.questions.filter(created_at__gte=first).count()
