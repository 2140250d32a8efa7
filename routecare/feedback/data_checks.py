"""The stored feedback, staff notes, answers and FAQ texts against today's field rules
(``routecare check-data``)."""

from __future__ import annotations

from collections.abc import Iterator

from routecare.core import data_check, fields
from routecare.core.data_check import Finding, findings, owner_of, rows
from routecare.feedback.models import FaqText, Feedback, FeedbackNote, FeedbackResponse


def check_feedback() -> Iterator[Finding]:
    # Feedback belongs to the society it is about (the network's, when about RouteCare).
    for item in rows(Feedback.objects.select_related("about_society", "network")):
        contact = item.contact.get("value") if isinstance(item.contact, dict) else None
        yield from findings(
            owner_of(item.about_society, item.network),
            item,
            [
                ("text", fields.FEEDBACK_TEXT.broken_rule(item.text)),
                ("contact.value", fields.CONTACT_VALUE.broken_rule(contact)),
            ],
        )
    handled = "feedback__about_society", "feedback__network"
    for note in rows(FeedbackNote.objects.select_related(*handled)):
        owner = owner_of(note.feedback.about_society, note.feedback.network)
        yield from findings(owner, note, [("text", fields.FEEDBACK_NOTE.broken_rule(note.text))])
    for answer in rows(FeedbackResponse.objects.select_related(*handled)):
        owner = owner_of(answer.feedback.about_society, answer.feedback.network)
        rule = fields.FEEDBACK_ANSWER.broken_rule(answer.text)
        yield from findings(owner, answer, [("text", rule)])
    for text in rows(FaqText.objects.select_related("entry__network")):
        yield from findings(
            owner_of(None, text.entry.network),
            text,
            [
                ("question", fields.FAQ_QUESTION.broken_rule(text.question)),
                ("answer", fields.FAQ_ANSWER.broken_rule(text.answer)),
            ],
        )


def register() -> None:
    data_check.register(check_feedback)
