"""The conversation engine: what the bot answers to one inbound message. It knows no platform;
it reads the message, the contact's step, and RouteCare's data, and returns the texts to send.

The steps: a first message gets the language menu (the web chat knows the language from its
address); the chosen language gets the privacy notice (not for emergencies, the emergency
number, that the platform processes messages and metadata, what is kept and for how long) and
the consent question; then the menu and free questions. Danger words, in any language and at
any step, send the emergency number at once and hand the conversation to the society's
protection and safeguarding focal points; "talk to a person", or a question the bot cannot
answer, hands it to the society's helpdesk. While a conversation waits for staff or is
assigned, the bot is silent."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from routecare.core import person_texts
from routecare.core.languages import country_name_in
from routecare.feedback import actions as feedback
from routecare.feedback.models import Category
from routecare.feedback.models import Channel as FeedbackChannel
from routecare.messaging import actions, answers, channels, words
from routecare.messaging.models import (
    ChannelKind,
    Contact,
    Conversation,
    ConversationState,
    Message,
    MessageKind,
    Queue,
    Subscription,
)
from routecare.orgs.models import NationalSociety


class Step(enum.StrEnum):
    NEW = ""
    LANGUAGE = "language"
    CONSENT = "consent"
    READY = "ready"
    WHERE = "where"  # a service was asked for without a place
    POINT = "point"  # "is it open?" without a place
    FEEDBACK_KIND = "feedback_kind"
    FEEDBACK_TEXT = "feedback_text"
    SUBSCRIBE = "subscribe"


STEPS = frozenset(step.value for step in Step)
FEEDBACK_CHOICES = {"1": Category.COMPLAINT, "2": Category.PRAISE, "3": Category.SUGGESTION}


@dataclass
class Turn:
    """One inbound message being answered."""

    message: Message
    contact: Contact
    conversation: Conversation
    now: dt.datetime
    replies: list[str] = field(default_factory=list)
    urgent: bool = False  # the emergency number: sent whatever the rate limit

    @property
    def language(self) -> str:
        return self.contact.language if self.contact.language in words.LANGUAGE_NAMES else "en"

    @property
    def text(self) -> str:
        body = self.message.body
        if self.message.kind == MessageKind.CHOICE:
            return str(body.get("id") or body.get("title") or "")
        return str(body.get("text", "")) if self.message.kind == MessageKind.TEXT else ""

    @property
    def said(self) -> str:
        """Every word the person wrote, a photo's caption included (danger and STOP are
        looked for in it)."""
        return self.text or str(self.message.body.get("caption", ""))

    def say(self, key: str, **values: object) -> None:
        self.replies.append(person_texts.text(key, self.language, **values))

    def go(self, step: Step, **pending: object) -> None:
        self.contact.step = step.value
        self.contact.pending = dict(pending)


@dataclass(frozen=True)
class Reply:
    texts: list[str]
    urgent: bool = False  # the emergency number: sent whatever the rate limit


def answer(message: Message, conversation: Conversation, now: dt.datetime | None = None) -> Reply:
    """The texts the bot sends back (none while staff hold the conversation)."""
    contact = message.contact
    turn = Turn(message, contact, conversation, now or timezone.now())
    if turn.said and words.is_stop(turn.said, turn.language):
        # STOP works whoever holds the conversation, from the very next send.
        Subscription.objects.filter(contact=contact).delete()
        turn.say("bot_stopped")
    elif turn.said and words.mentions_danger(turn.said, turn.language):
        _danger(turn)
    elif conversation.state != ConversationState.BOT:
        return Reply([])
    else:
        _step(turn)
    contact.save(update_fields=["language", "step", "pending", "consented_at"])
    return Reply(turn.replies, turn.urgent)


def _step(turn: Turn) -> None:
    step = Step(turn.contact.step) if turn.contact.step in STEPS else Step.NEW
    if step is Step.NEW:
        if turn.message.channel.kind == ChannelKind.WEB and turn.contact.language:
            _notice(turn)
        else:
            _language_menu(turn)
    elif step is Step.LANGUAGE:
        chosen = words.language_chosen(turn.text)
        if chosen is None and words.mentions(words.PERSON_WORDS, turn.language, turn.text):
            _hand_off(turn)
        elif chosen is None:
            _language_menu(turn)
        else:
            turn.contact.language = chosen
            _notice(turn)
    elif step is Step.CONSENT:
        _consent(turn)
    else:
        _ready(turn, step)


def _language_menu(turn: Turn) -> None:
    lines = [person_texts.text("bot_pick_language", code) for code in words.LANGUAGE_NAMES]
    menu = [f"{n}. {name}" for n, name in enumerate(words.LANGUAGE_NAMES.values(), start=1)]
    turn.replies.append("\n".join([*dict.fromkeys(lines), "", *menu]))
    turn.go(Step.LANGUAGE)


def _menu(turn: Turn) -> None:
    """The menu, with the link to register before reaching a point (issue 24) on its last line:
    an absolute address, as the person opens it from their messaging app."""
    link = f"{settings.ROUTECARE_BASE_URL.rstrip('/')}/{turn.language}/register/"
    menu = person_texts.text("bot_menu", turn.language)
    turn.replies.append(f"{menu}\n{person_texts.text('bot_register', turn.language, link=link)}")


def _notice(turn: Turn) -> None:
    channel = turn.message.channel
    number = channel.emergency_number
    parts = [person_texts.text("bot_welcome", turn.language)]
    if number:
        parts.append(person_texts.text("bot_not_emergency_number", turn.language, number=number))
    else:
        parts.append(person_texts.text("bot_not_emergency", turn.language))
    platform = channels.adapter(channel.kind).PLATFORM_NAME
    if platform:
        parts.append(person_texts.text("bot_platform", turn.language, platform=platform))
    parts.append(person_texts.text("bot_kept_day", turn.language))
    turn.replies.append("\n\n".join(parts))
    turn.say("bot_consent", days=channel.retention_days)
    turn.go(Step.CONSENT)


def _consent(turn: Turn) -> None:
    text, language = turn.text, turn.language
    days = turn.message.channel.retention_days
    if words.fold(text) == "1" or words.is_whole(words.YES_WORDS, language, text):
        turn.contact.consented_at = turn.now
        turn.say("bot_consent_yes", days=days)
        _menu(turn)
        turn.go(Step.READY)
    elif words.fold(text) == "2" or words.is_whole(words.NO_WORDS, language, text):
        turn.contact.consented_at = None  # a "no" later withdraws an earlier "yes"
        turn.say("bot_consent_no")
        _menu(turn)
        turn.go(Step.READY)
    else:  # a question straight away: answered, and nothing kept beyond a day
        turn.go(Step.READY)
        _ready(turn, Step.READY)


def _ready(turn: Turn, step: Step) -> None:
    text, language = turn.text, turn.language
    choice = words.fold(text)
    number = choice if choice.isascii() and choice.isdecimal() else ""
    menu = choice == "0" or words.is_whole(words.MENU_WORDS, language, text)
    person = bool(text) and words.mentions(words.PERSON_WORDS, language, text)
    if turn.message.kind == MessageKind.LOCATION:
        _location(turn)
    elif turn.message.kind == MessageKind.UNSUPPORTED:
        turn.say("bot_unsupported")
    elif menu:
        _menu(turn)
        turn.go(Step.READY)
    elif person:
        _hand_off(turn)
    elif step is Step.FEEDBACK_KIND and number in FEEDBACK_CHOICES:
        turn.say("bot_feedback_write")
        turn.go(Step.FEEDBACK_TEXT, category=FEEDBACK_CHOICES[number].value)
    elif step is Step.FEEDBACK_TEXT and choice:
        _feedback(turn, str(turn.contact.pending.get("category", Category.COMPLAINT)))
    elif step is Step.SUBSCRIBE and number:
        _subscribe(turn, int(number))
    elif number in ("1", "2", "3", "4", "5", "6"):
        _menu_choice(turn, number)
    elif words.mentions(words.COMPLAINT_WORDS, language, text):
        turn.say("bot_feedback_write")
        turn.go(Step.FEEDBACK_TEXT, category=Category.COMPLAINT.value)
    elif words.mentions(words.THANKS_WORDS, language, text) and len(choice.split()) <= 3:
        # "Thanks" alone may close a conversation or open feedback: the person chooses.
        turn.say("bot_feedback_choose")
        turn.go(Step.FEEDBACK_KIND)
    else:
        _question(turn, step)


def _menu_choice(turn: Turn, choice: str) -> None:
    if choice == "1":
        turn.say("bot_ask_need")
        turn.go(Step.READY)
    elif choice == "2":
        turn.say("bot_ask_point")
        turn.go(Step.POINT)
    elif choice == "3":
        _hand_off(turn)
    elif choice == "4":
        turn.say("bot_feedback_choose")
        turn.go(Step.FEEDBACK_KIND)
    elif choice == "5":
        _countries_menu(turn)
    else:
        _language_menu(turn)


def _question(turn: Turn, step: Step) -> None:
    """Free text: the directory first (a service and a place, a place alone), then the FAQ;
    what neither answers goes to a person."""
    channel, language = turn.message.channel, turn.language
    understood = answers.understand(turn.text, language, answers.public_points(channel))
    services = understood.services or list(turn.contact.pending.get("services", []))
    reply: str | None = None
    if services and understood.places:
        reply = answers.along(
            answers.Understood(services, understood.places, False), language, turn.now
        )
    elif understood.places and (understood.asks_open or step in (Step.POINT, Step.WHERE)):
        reply = answers.at_place(understood, language, turn.now)
    elif understood.services:
        turn.say("bot_ask_place")
        turn.go(Step.WHERE, services=understood.services)
        return
    if reply is None:
        reply = answers.faq(channel, turn.text, language)
    if reply is None and understood.places:
        reply = answers.at_place(understood, language, turn.now)
    if reply is None:
        turn.say("bot_nothing_found")
        _hand_off(turn, quiet=True)
        return
    turn.replies.append(reply)
    turn.go(Step.READY)


def _location(turn: Turn) -> None:
    at = turn.message.body.get("at")
    services = list(turn.contact.pending.get("services", []))
    reply = None
    if isinstance(at, list) and len(at) == 2:
        reply = answers.nearest(
            turn.message.channel, (float(at[0]), float(at[1])), services, turn.language, turn.now
        )
    if reply is None:
        turn.say("bot_nothing_found")
        _hand_off(turn, quiet=True)
    else:
        turn.replies.append(reply)
        turn.go(Step.READY)


def _hand_off(turn: Turn, *, quiet: bool = False) -> None:
    actions.hand_off(turn.conversation, Queue.ORDINARY, turn.now)
    if not quiet:
        turn.say("bot_handoff")
    turn.go(Step.READY)


def _danger(turn: Turn) -> None:
    """The emergency number at once, and the protection queue; once protection staff hold
    the conversation, they answer (the bot does not interrupt them)."""
    conversation = turn.conversation
    already = conversation.queue == Queue.PROTECTION and conversation.state in (
        ConversationState.WAITING, ConversationState.ASSIGNED,
    )  # fmt: skip
    if not already:
        number = turn.message.channel.emergency_number
        if number:
            turn.say("bot_danger_number", number=number)
        else:
            turn.say("bot_danger")
        turn.urgent = True
    actions.hand_off(conversation, Queue.PROTECTION, turn.now)
    turn.go(Step.READY)


def _feedback(turn: Turn, category: str) -> None:
    society = turn.message.channel.national_society
    try:
        item, _new = feedback.submit_feedback(
            about=feedback.About(society.network, society, None),
            category=category if category in Category.values else Category.COMPLAINT,
            text=turn.text,
            language=turn.language,
            form_token=f"messaging-{turn.message.pk}",
            channel=FeedbackChannel.MESSAGING,
            received_by=society,
        )
    except ValidationError:
        turn.say("bot_feedback_write")
        return
    turn.say("bot_feedback_kept", reference=item.reference)
    turn.go(Step.READY)


def _countries(society: NationalSociety) -> list[str]:
    codes = NationalSociety.objects.filter(network_id=society.network_id).values_list(
        "country_code", flat=True
    )
    return sorted(set(codes))


def _countries_menu(turn: Turn) -> None:
    codes = _countries(turn.message.channel.national_society)
    lines = [
        f"{n}. {country_name_in(code, turn.language)}" for n, code in enumerate(codes, start=1)
    ]
    turn.replies.append(
        "\n".join([person_texts.text("bot_subscribe_choose", turn.language), *lines])
    )
    turn.go(Step.SUBSCRIBE)


def _subscribe(turn: Turn, number: int) -> None:
    codes = _countries(turn.message.channel.national_society)
    if not 1 <= number <= len(codes):
        _countries_menu(turn)
        return
    code = codes[number - 1]
    Subscription.objects.get_or_create(contact=turn.contact, country_code=code)
    turn.say("bot_subscribed", country=country_name_in(code, turn.language))
    turn.go(Step.READY)
