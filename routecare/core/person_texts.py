"""Texts shown to people on the move, in the languages they read (not the staff interface's).

They live in their own gettext catalogue, ``person.po``, beside each language's ``django.po``:
people on the routes read Farsi, Pashto, Urdu and Haitian Creole, which the staff interface
does not offer. Pages get a dictionary of texts for one language (``texts_for``); a test checks
every text is translated in every language.
"""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path

from routecare.orgs.taxonomy import Service

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "person"
PERSON_LANGUAGES = ("en", "es", "fr", "ar", "fa", "ps", "ur", "ht")
RIGHT_TO_LEFT = frozenset({"ar", "fa", "ps", "ur"})
# Always printed on a card beside the person's own language.
CARD_LANGUAGES = ("en", "es", "fr", "ar")

TEXTS: dict[str, str] = {
    "not_an_id": "This card is not an identity document or a travel document.",
    "care_card": "Care card",
    "your_code": "Your code",
    "what_your_card_says": "What your card says",
    "show_card": (
        "Show this card at Red Cross and Red Crescent service points along your route, so that "
        "you do not have to tell your health story again."
    ),
    "who_can_read": (
        "Only Red Cross and Red Crescent service points of the network can read the code. "
        "Nobody else can."
    ),
    "if_lost": (
        "If you lose this card, tell any Red Cross or Red Crescent service point: they will "
        "cancel it and give you a new one."
    ),
    "allergies": "Allergies",
    "conditions": "Chronic conditions",
    "medicines": "Medicines",
    "days_left": "%(days)s days left",
    "pregnancy": "Pregnancy",
    "weeks": "%(weeks)s weeks",
    "expected_date": "Expected date",
    "child_growth": "Child growth",
    "weight": "Weight",
    "height": "Height",
    "muac": "Arm circumference",
    "vaccinations": "Vaccinations",
    "urgency": "Urgency",
    "red": "Red: urgent",
    "yellow": "Yellow: soon",
    "green": "Green: not urgent",
    "visits": "Visits",
    "for_next_point": "For the next service point",
    "issued": "Issued on %(date)s at %(point)s",
    "left_off": (
        "Not everything fitted on the card: some items were left off or shortened (…). The "
        "service point that issued it keeps them in full."
    ),
    "code_only": (
        "Your card carries only your code: you did not agree to share more with other countries."
    ),
    "nothing": "Nothing recorded",
    # The public service directory.
    "services_title": "Red Cross and Red Crescent services along the route",
    "services_intro": "Free help for people on the move, whatever their status.",
    "country": "Country",
    "all_countries": "All countries",
    "service": "Service",
    "all_services": "All services",
    "open_now": "Open now",
    "show": "Show",
    "next_along": "Next along my way",
    "from_point": "From",
    "towards": "Towards %(place)s",
    "status_open": "Open",
    "status_temporarily_closed": "Temporarily closed",
    "status_closed": "Closed",
    "hours": "Opening hours",
    "no_hours": "Ask on site for the opening hours.",
    "languages_spoken": "Languages spoken",
    "phone": "Phone",
    "whatsapp": "WhatsApp",
    "open_in_maps": "Open in maps",
    "share": "Share",
    "share_help": "Copy this text and send it to someone who needs it.",
    "last_checked": "Information checked on %(date)s.",
    "maybe_outdated": "This information may be out of date.",
    "no_points": "No service point matches. Try all services or all countries.",
    "distance": "%(km)s km, about %(hours)s hours",
    "offline_data": "You are offline. This is the information from %(date)s.",
    "language": "Language",
    "services_offered": "Services",
    "bad_filter": "A filter was not understood and was ignored.",
    "all_points": "All service points",
    "for_map_apps": "For map apps",
    "day_0": "Monday",
    "day_1": "Tuesday",
    "day_2": "Wednesday",
    "day_3": "Thursday",
    "day_4": "Friday",
    "day_5": "Saturday",
    "day_6": "Sunday",
    # Feedback and questions.
    "feedback_link": "Give feedback or ask a question",
    "feedback_title": "Tell us what happened",
    "feedback_intro": (
        "Tell us about the help you received from the Red Cross and Red Crescent anywhere on "
        "your route, also in countries you have already left. You do not need to give your "
        "name. Your message goes to the people responsible for that place."
    ),
    "no_names": "Do not write names, document numbers or where you are staying.",
    "about": "What is it about?",
    "about_general": "The Red Cross and Red Crescent in general",
    "whole_society": "%(society)s (in general)",
    "kind": "What kind of message is it?",
    "cat_complaint": "A complaint",
    "cat_praise": "Thanks or praise",
    "cat_question": "A question",
    "cat_suggestion": "A suggestion",
    "cat_sensitive": (
        "Abuse, exploitation or discrimination by staff or volunteers (handled confidentially "
        "by specially trained people only)"
    ),
    "your_message": "Your message",
    "answer_me": ("I want an answer. I agree to be contacted this way about this message only."),
    "contact_method": "How should we answer?",
    "contact_value": "Number with country code, Telegram username or email",
    "sms": "SMS (text message)",
    "email": "Email",
    "send": "Send",
    "thanks": "Thank you. Your message was sent to the people responsible.",
    "your_reference": "Your reference",
    "keep_reference": "Keep this reference: with it you can read the answer on this site.",
    "read_answer": "Read the answer to my message",
    "reference": "Reference",
    "status": "Status",
    "fb_status_new": "Received",
    "fb_status_acknowledged": "Seen",
    "fb_status_in_progress": "Being handled",
    "fb_status_resolved": "Resolved",
    "fb_status_closed": "Closed",
    "answer": "Answer",
    "no_answer_yet": "No answer yet. Please look again later.",
    "reference_unknown": "No message has this reference. Check it and try again.",
    "too_many": "Too many messages from this connection. Please try again in an hour.",
    "err_about": "Choose what your message is about.",
    "err_kind": "Choose what kind of message it is.",
    "err_text": "Write your message (up to 2000 characters).",
    "err_contact": (
        "To get an answer, tick the box, choose how and write a number with its country code, "
        "a Telegram username or an email."
    ),
    "err_expired": "The form expired. Please write your message again.",
    "choose_country": "Choose the country you are in",
    "faq_title": "Questions and answers",
    "search": "Search",
    "no_faq": "No answers found. You can ask your question with the feedback form.",
    # What a person is shown of their own record (a data-subject request).
    "held_title": "What the Red Cross and Red Crescent holds about you",
    "held_intro": (
        "This is everything %(society)s keeps about you in RouteCare. We never keep your name, "
        "your date of birth, your documents, photos or fingerprints."
    ),
    "held_printed": "Printed on %(date)s",
    "held_about_you": "About you",
    "held_registered": "First registered on %(date)s at %(point)s",
    "held_sex": "Sex",
    "sex_female": "Female",
    "sex_male": "Male",
    "sex_other": "Other",
    "sex_undisclosed": "Not said",
    "held_age": "Age group",
    "held_age_years": "%(band)s years",
    "held_birth_year": "Year of birth",
    "held_nationality": "Nationality",
    "held_languages": "Languages",
    "held_alias": "The name you asked us to call you",
    "held_travel": "Travelling",
    "travel_alone": "Alone",
    "travel_family": "With family",
    "travel_unaccompanied_minor": "Child travelling alone",
    "held_household": "People registered as travelling with you: %(count)s",
    "held_group": "Counted in our reports as",
    "group_on_the_move": "Person on the move",
    "group_returnee": "Person who returned home",
    "group_host_community": "Member of the host community",
    "held_needs": "Special needs noted",
    "need_pregnant": "Pregnant or breastfeeding",
    "need_disability": "Disability",
    "need_chronic_illness": "Chronic illness",
    "need_older_person_alone": "Older person alone",
    "need_separated_child": "Child separated from their family",
    "need_survivor_of_violence": "Survivor of violence",
    "need_trafficking_risk": "At risk of trafficking",
    "held_health": "Your health",
    "held_visit": "%(date)s at %(point)s",
    "held_notes": "Notes written by staff",
    "held_consents": "What you agreed to",
    "consent_care": "Care by this National Society",
    "consent_share_network": "Sharing with other Red Cross and Red Crescent societies on the route",
    "consent_share_partners": "Sharing with partner organisations",
    "consent_messaging": "Being contacted by message",
    "held_given": "Agreed on %(date)s",
    "held_withdrawn": "Withdrawn on %(date)s",
    "held_referrals": "Referrals to other services",
    "held_referral": "%(date)s: %(service)s, %(place)s",
    "held_family_links_team": "the family links team of %(society)s",
    "held_referral_restricted": (
        "Handled by the protection team. Ask the focal point to see the details with you."
    ),
    "held_cards": "Care cards",
    "held_card": "Card issued on %(date)s at %(point)s",
    "held_card_ended": "no longer valid",
    "held_card_carried": "Card of %(society)s that you showed us",
    "held_accesses": "Staff opened or changed your record %(count)s times. Each time is recorded.",
    "held_helpdesk": "Messages with our helpdesk",
    "held_helpdesk_line": "%(channel)s: %(count)s messages, from %(first)s to %(last)s",
    "channel_web": "Web chat",
    # Cash assistance enrolments (cash.selectors.held_enrolments): the status as the person
    # would put it, never the verdict or its score.
    "held_cash": "Cash assistance",
    "held_cash_enrolment": "%(round)s (%(starts)s to %(ends)s): enrolled on %(date)s at %(point)s",
    "cash_status_checking": "Being checked before payment",
    "cash_status_cleared": "Cleared for payment",
    "cash_status_paid": "Paid",
    "cash_status_duplicate": "Not paid: enrolled twice in this round",
    "held_cash_coded": (
        "For cash assistance we do not keep your name or your date of birth: only a coded form "
        "of them, used so that nobody is paid twice, with your year of birth and sex. The coded "
        "form is deleted when the round is closed."
    ),
    "held_erase": (
        "You can ask us to delete all of this at any time. Our reports keep only numbers (how "
        "many people we helped), with nothing that points to you."
    ),
    # The sticker (issue 19).
    "sticker_code_only": (
        "This sticker carries only your code. Your full care card is the paper card."
    ),
    # Opening times and the directory's words (issue 19).
    "open_until": "Open now, until %(time)s",
    "closed_opens_today": "Closed now, opens at %(time)s",
    "closed_opens_tomorrow": "Closed now, opens tomorrow at %(time)s",
    "closed_opens_on": "Closed now, opens %(day)s at %(time)s",
    "state_taken_at": "Open or closed: as at %(time)s. Check the opening hours.",
    "onward_points": "Further along the route",
    "address": "Address",
    "directions": "How to get there",
    # Public pages offline, tap targets and services by name (issue 19).
    "offline_title": "No connection",
    "offline_missing": (
        "This page was not kept on this phone and needs a connection. These pages work without one:"
    ),
    "offline_map": "The map needs a connection. The list of service points works without one.",
    "offline_kept": (
        "You have no connection. Your message is kept on this phone and will be sent by itself "
        "when the connection returns; then it is deleted from the phone."
    ),
    "offline_sensitive": (
        "Without a connection, reports of abuse, exploitation or discrimination cannot be sent: "
        "for your safety they are never kept on the phone. Send them when you have a connection."
    ),
    "offline_contact": (
        "Your contact details are never kept on the phone. To get an answer, send your message "
        "when you have a connection, or untick the box to send it without an answer."
    ),
    "offline_sent": "Your message written without a connection has been sent. Your reference:",
    # Staff pages shown to the person: registration, consents (issue 19).
    # The consent wording of people.consent (same version), for the person to read.
    "consent_intro": "You choose what you agree to. You can change your mind at any time.",
    "consent_wording_care": (
        "The Red Cross / Red Crescent keeps a short record of the help you receive here, "
        "without your name, so that we can care for you. You can ask us to delete it."
    ),
    "consent_wording_share_network": (
        "Red Cross / Red Crescent teams in the next countries on your route may see your "
        "care summary, so you do not have to repeat your story."
    ),
    "consent_wording_share_partners": (
        "Partner organisations we refer you to (for example a clinic) may receive the "
        "information they need to help you."
    ),
    "consent_wording_messaging": (
        "We may send you messages (for example by WhatsApp) about services and your follow-up."
    ),
    # The messaging helpdesk and the web chat (issue 23).
    "bot_pick_language": "Reply with the number of your language.",
    "bot_welcome": (
        "Hello. This is the Red Cross and Red Crescent helpdesk for people on the move. An "
        "automatic assistant answers first; a person from our team can also answer."
    ),
    "bot_not_emergency_number": (
        "This is not an emergency service. In an emergency, call %(number)s."
    ),
    "bot_not_emergency": (
        "This is not an emergency service. In an emergency, call the local emergency number."
    ),
    "bot_platform": (
        "%(platform)s processes your messages and their metadata (who writes, and when), as "
        "for every message you send with it."
    ),
    "bot_kept_day": (
        "We keep your messages only to answer them and delete them within a day. Do not send "
        "names, documents or photos."
    ),
    "bot_consent": (
        "May we keep this conversation for %(days)s days, so that our team can follow up? "
        "Reply 1 for yes or 2 for no."
    ),
    "bot_consent_yes": (
        "Thank you. We keep this conversation for %(days)s days. You can ask a person from our "
        "team to delete it at any time."
    ),
    "bot_consent_no": "Understood: we delete this conversation within a day.",
    "bot_menu": (
        "Reply with a number, or write your question:\n"
        "1. Find help: write what you need and the name of the town, or share your "
        "location\n"
        "2. Is a service point open? Write its town\n"
        "3. Talk to a person\n"
        "4. A complaint, thanks or a suggestion\n"
        "5. Updates about a country\n"
        "6. Change the language\n"
        "0. This menu"
    ),
    "bot_ask_need": (
        "Write what you need and the name of the town where you are, or share your location."
    ),
    "bot_ask_place": "Where are you? Write the town, or share your location.",
    "bot_ask_point": "Which service point? Write its town or its name.",
    "bot_found_near": "Service points nearest to you:",
    "bot_found_along": "%(service)s from %(place)s, along the route:",
    "bot_found_at": "Service points in %(place)s:",
    "bot_km": "%(km)s km",
    "bot_km_hours": "%(km)s km, about %(hours)s h along the route",
    "bot_checked": "Information checked on %(date)s.",
    "bot_nothing_found": (
        "I found no service point for that. A person from our team will answer you here."
    ),
    "bot_handoff": (
        "A person from our team will answer you here as soon as possible. You can keep writing."
    ),
    "bot_danger_number": (
        "If you are in danger now, call %(number)s. A person from our team will answer you "
        "here as soon as possible."
    ),
    "bot_danger": (
        "If you are in danger now, call the local emergency number. A person from our team "
        "will answer you here as soon as possible."
    ),
    "bot_stopped": "You will get no more updates from us. Write to us again at any time.",
    "bot_feedback_choose": (
        "Reply with a number: 1. a complaint, 2. thanks, 3. a suggestion. For abuse or "
        "exploitation by staff or volunteers, write it: a specially trained person answers."
    ),
    "bot_feedback_write": (
        "Write your message in one message. Do not include names or document numbers."
    ),
    "bot_feedback_kept": (
        "Thank you. Your message goes to the people responsible. Your reference: %(reference)s"
    ),
    "bot_subscribe_choose": (
        "Updates about which country (closures, changes of opening hours, alerts)? Reply "
        "with a number:"
    ),
    "bot_subscribed": (
        "You will get updates about %(country)s. Write STOP at any time to stop them."
    ),
    "bot_update_status": "Update: %(point)s (%(place)s) is now: %(status)s.",
    # An alert marked public (flows.Alert.public_texts), as the updates job sends it.
    "bot_alert": "Red Cross and Red Crescent alert (%(kind)s, until %(until)s): %(text)s",
    "bot_alert_only_in": "This alert is only available in %(language_name)s.",
    "alert_kind_closure": "closure",
    "alert_kind_outbreak": "disease outbreak",
    "alert_kind_route_change": "route change",
    "alert_kind_security": "security",
    "bot_unsupported": (
        "I can read only text and shared locations. We do not keep photos, voice messages or "
        "files. Please write your question."
    ),
    "bot_faq_more": "Write 3 to talk to a person, or 0 for the menu.",
    "chat_title": "Ask the Red Cross and Red Crescent",
    "chat_intro": (
        "Write your question. No account is needed. This chat is kept only on our server, "
        "never on this phone."
    ),
    "chat_message": "Your message",
    "chat_send": "Send",
    "chat_you": "You",
    "chat_us": "Red Cross / Red Crescent",
    "chat_waiting": "Waiting for an answer. This page refreshes by itself.",
    "chat_refresh": "Refresh",
    "chat_unavailable": "The chat is not available for this country.",
    "chat_end": "End this chat",
    "chat_too_long": "The message is too long: at most 1,000 characters.",
    "chat_empty": "Write a message first.",
    "chat_busy": "Too many messages. Wait a minute and try again.",
    # Pre-registration from the person's own phone (issue 24, part 1).
    "prereg_title": "Register before you reach a service point",
    "prereg_intro": (
        "Fill this in while you wait. You get a code to show at any Red Cross or Red Crescent "
        "service point, so that registering there takes less time. Do not write your name or "
        "any document number."
    ),
    "prereg_age": "Your age",
    "prereg_or_age_band": "Or choose your age group (years):",
    "prereg_travel": "Who are you travelling with?",
    "prereg_languages": "Languages you speak",
    "prereg_services": "What help do you need today?",
    "prereg_health": "Allergies and medicines (optional)",
    "prereg_health_help": (
        "Only if you want the team to know. They are kept encrypted, and only a service point "
        "you show your code to can read them."
    ),
    "prereg_one_per_line": "one per line",
    "prereg_health_offline": (
        "You have no connection: allergies, medicines and a phone number are never kept on "
        "this phone. Tell them at the service point, or send the form when you have a "
        "connection."
    ),
    "prereg_consent_title": "What you agree to",
    "prereg_phone": (
        "Your phone number with the country code, only if you want an answer by message (tick "
        "the last box too)"
    ),
    "prereg_submit": "Get my code",
    "prereg_offline_kept": (
        "You have no connection. Your answers are kept on this phone, without allergies, "
        "medicines or phone number, and sent by themselves when the connection returns; then "
        "they are deleted from the phone and your code is shown here."
    ),
    "prereg_show_at_point": (
        "Show this code at the service point. A volunteer checks your answers with you before "
        "anything is recorded."
    ),
    "prereg_valid_until": (
        "Valid once, until %(date)s. If you do not use it, your answers are deleted then."
    ),
    "prereg_keep_code": "Take a photo of this screen or write the code down.",
    "prereg_already_sent": (
        "This form was already sent. Show the code you received at the service point."
    ),
    "prereg_too_many": "Too many registrations from this connection. Please try again in an hour.",
    "prereg_unavailable": (
        "Registering in advance is not available at the moment. A volunteer will register you "
        "at the service point."
    ),
    "prereg_err_sex": "Choose one answer for sex.",
    "prereg_err_age": "Give your year of birth or choose an age group.",
    "prereg_err_travel": "Say who you are travelling with.",
    "prereg_err_care": (
        "To register in advance, tick the first box (care). The others are your choice."
    ),
    "prereg_err_health": "Allergies and medicines: one per line, short (at most 50 lines).",
    "prereg_err_phone": (
        "Write a phone number with its country code and tick the box for messages, or leave "
        "the number empty."
    ),
    "prereg_err_expired": "The form expired. Please fill it in again.",
    "prereg_err_form": (
        "Something in the form was not understood. Check your answers and send it again."
    ),
    "bot_register": "Register before you reach a service point (less waiting there): %(link)s",
}
# Service names, for what a person received.
SERVICE_TEXTS: dict[str, str] = {
    "information": "Information",
    "connectivity": "Phone charging, WiFi and calls",
    "cash-voucher": "Cash and vouchers",
    "psychosocial-support": "Someone to talk to (psychosocial support)",
    "first-aid": "First aid",
    "health-primary": "Health care",
    "health-maternal-child": "Care for mothers and children",
    "medicines": "Medicines",
    "referral": "Referral to another service",
    "food": "Food",
    "water": "Water",
    "rfl": "Finding and contacting family",
    "safe-space-women-children": "Safe space for women and children",
    "shelter": "Shelter",
    "wash-hygiene": "Toilets, showers and hygiene",
    "nfi": "Clothes, shoes and blankets",
    "dignity-kit": "Hygiene kit for women",
    "protection": "Protection and safety",
    "transport-medical": "Transport to a health centre",
    "legal-information": "Legal information",
    "integration": "Language courses, work and school",
    "social-inclusion": "Social activities",
    "first-aid-training": "First aid training",
    "self-care-messages": "Advice to look after yourself",
}
if set(SERVICE_TEXTS) != set(Service.values):  # pragma: no cover - caught by any import
    raise ImportError("every service needs a person-facing name")


@cache
def _catalogue(language: str) -> gettext.NullTranslations:
    return gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[language], fallback=True)


def person_language(languages: list[str] | tuple[str, ...], fallback: str = "en") -> str:
    """The first of a person's languages we have texts in."""
    return next((code for code in languages if code in PERSON_LANGUAGES), fallback)


def texts_for(language: str) -> dict[str, str]:
    catalogue = _catalogue(language if language in PERSON_LANGUAGES else "en")
    texts = {key: catalogue.gettext(message) for key, message in TEXTS.items()}
    texts.update(
        {f"service:{code}": catalogue.gettext(name) for code, name in SERVICE_TEXTS.items()}
    )
    return texts


def service_name(code: str, language: str) -> str:
    catalogue = _catalogue(language if language in PERSON_LANGUAGES else "en")
    return catalogue.gettext(SERVICE_TEXTS.get(code, code))


def text(key: str, language: str, **values: object) -> str:
    message = _catalogue(language if language in PERSON_LANGUAGES else "en").gettext(TEXTS[key])
    return message % values if values else message


def is_rtl(language: str) -> bool:
    return language in RIGHT_TO_LEFT


def all_messages() -> list[str]:
    return [*TEXTS.values(), *SERVICE_TEXTS.values()]
