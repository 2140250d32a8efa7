# ruff: noqa: RUF001 - word lists in Arabic script use its letters
"""The words the bot listens for, in each language people on the routes write (not
translations of the bot's own texts, which live in ``core.person_texts``): what stops messages,
what says yes or no, what asks for a person, and what signals danger.

Matching is on folded text (``fold``: lower case, accents and Arabic-script diacritics removed,
Arabic and Persian letter variants made one), whole words or whole phrases, never substrings:
"stop" must not match "bus stop?" inside a longer question, so the stop words count only
when they are the whole message. Danger words count anywhere in a message: a missed danger
costs more than a person answering a message that did not need one."""

from __future__ import annotations

import re
import unicodedata

from routecare.core.person_texts import PERSON_LANGUAGES

# The language menu, in each language's own name, in the order the numbers give.
LANGUAGE_NAMES: dict[str, str] = {
    "en": "English",
    "es": "Español",
    "fr": "Français",
    "ar": "العربية",
    "fa": "فارسی",
    "ps": "پښتو",
    "ur": "اردو",
    "ht": "Kreyòl ayisyen",
}
# Other ways of naming a language (folded), so "spanish" or "farsi" picks it too.
LANGUAGE_ALIASES: dict[str, tuple[str, ...]] = {
    "en": ("english", "ingles", "anglais", "en"),
    "es": ("espanol", "spanish", "castellano", "es"),
    "fr": ("francais", "french", "frances", "fr"),
    "ar": ("العربيه", "عربي", "arabic", "arabe", "ar"),
    "fa": ("فارسی", "فارسي", "دری", "farsi", "persian", "dari", "fa"),
    "ps": ("پښتو", "pashto", "pashtu", "ps"),
    "ur": ("اردو", "urdu", "ur"),
    "ht": ("kreyol", "creole", "kreyol ayisyen", "haitian", "ht"),
}

# The whole message: stop every update (and the confirmation is the last message sent).
STOP_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("stop", "unsubscribe", "stop all", "cancel"),
    "es": ("baja", "alto", "parar", "detener", "cancelar"),
    "fr": ("arret", "arreter", "stop", "desabonner"),
    "ar": ("توقف", "ايقاف", "الغاء"),
    "fa": ("توقف", "لغو", "بس"),
    "ps": ("ودروه", "بس", "لغوه"),
    "ur": ("رکو", "بند", "منسوخ"),
    "ht": ("rete", "kanpe", "anile"),
}
YES_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("yes", "y", "ok", "i agree", "agree"),
    "es": ("si", "sí", "de acuerdo", "acepto", "ok"),
    "fr": ("oui", "d'accord", "j'accepte", "ok"),
    "ar": ("نعم", "موافق", "اوافق", "اي"),
    "fa": ("بله", "اره", "موافقم", "باشه"),
    "ps": ("هو", "هوکې", "موافق یم"),
    "ur": ("ہاں", "جی", "جی ہاں", "منظور"),
    "ht": ("wi", "dakò", "mwen dakò"),
}
NO_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("no", "n", "i do not agree", "don't"),
    "es": ("no", "no acepto"),
    "fr": ("non", "je refuse"),
    "ar": ("لا", "غير موافق"),
    "fa": ("نه", "خیر", "موافق نیستم"),
    "ps": ("نه", "موافق نه یم"),
    "ur": ("نہیں", "نہیں جی"),
    "ht": ("non", "mwen pa dakò"),
}
# Anywhere in the message: ask for a person.
PERSON_WORDS: dict[str, tuple[str, ...]] = {
    "en": (
        "talk to a person",
        "a human",
        "an agent",
        "speak to someone",
        "real person",
        "operator",
        "talk to someone",
    ),
    "es": ("hablar con una persona", "con una persona", "un humano", "un agente", "operador"),
    "fr": ("parler a une personne", "a une personne", "un humain", "un agent", "conseiller"),
    "ar": ("التحدث مع شخص", "مع شخص", "مع موظف", "مع انسان"),
    "fa": ("صحبت با یک نفر", "با یک نفر", "با یک انسان", "با کارمند", "اپراتور"),
    "ps": ("له یو کس سره خبرې", "له یو کس سره", "له انسان سره", "کارکوونکي سره"),
    "ur": ("کسی انسان سے بات", "انسان سے", "کسی سے بات", "نمائندے سے"),
    "ht": ("pale ak yon moun", "ak yon moun", "yon ajan"),
}
# Anywhere in the message: violence, abuse, trafficking, a missing child, suicide. The
# conversation goes to the protection queue at once, and the bot sends the emergency number.
DANGER_WORDS: dict[str, tuple[str, ...]] = {
    "en": (
        "violence", "violent", "beaten", "beat me", "rape", "raped", "abuse", "abused",
        "assault", "attacked", "trafficking", "trafficked", "smuggler", "kidnapped", "kidnap",
        "missing child", "lost my child", "child is missing", "suicide", "kill myself",
        "want to die", "end my life", "threatened", "forced to work", "sexual abuse",
        "sexual assault",
    ),
    "es": (
        "violencia", "violento", "golpearon", "me pegan", "violacion", "violaron", "abuso",
        "abusaron", "agresion", "atacaron", "trata de personas", "traficante", "coyote me",
        "secuestro",
        "secuestrado", "secuestraron", "nino perdido", "nina perdida", "perdi a mi hijo",
        "perdi a mi hija", "desaparecido", "suicidio", "matarme", "quiero morir",
        "quitarme la vida", "amenazaron", "amenaza", "obligaron a trabajar", "abuso sexual",
        "acoso sexual",
    ),
    "fr": (
        "violence", "violent", "frappe", "viol", "violee", "abus", "agression", "attaque",
        "traite", "passeur", "enleve", "enlevement", "kidnappe", "enfant disparu",
        "perdu mon enfant", "suicide", "me tuer", "veux mourir", "menace", "force a travailler",
        "abus sexuel", "agression sexuelle",
    ),
    "ar": (
        "عنف", "ضرب", "ضربني", "اغتصاب", "اعتداء", "تحرش", "اتجار", "مهرب", "خطف", "اختطاف",
        "طفل مفقود", "فقدت طفلي", "انتحار", "اقتل نفسي", "اريد ان اموت", "تهديد", "هددني",
    ),
    "fa": (
        "خشونت", "کتک", "تجاوز", "آزار", "سوءاستفاده", "قاچاق", "قاچاقچی", "آدم ربایی",
        "ربودن", "ربودند", "کودک گمشده", "بچه ام گم", "بچه‌ام گم", "خودکشی", "خودم را بکشم",
        "میخواهم بمیرم", "می‌خواهم بمیرم", "تهدید", "مجبور به کار",
    ),
    "ps": (
        "تاوتریخوالی", "وهل", "ووهلم", "جنسي تیری", "ځورونه", "قاچاق", "قاچاقبر", "تښتول",
        "وتښتول", "ورک ماشوم", "ماشوم مې ورک", "ځان وژنه", "ځان ووژنم", "مړ شم", "ګواښ",
    ),
    "ur": (
        "تشدد", "مارپیٹ", "زیادتی", "ریپ", "بدسلوکی", "اسمگلنگ", "اسمگلر", "انسانی اسمگلنگ",
        "اغوا", "گمشدہ بچہ", "بچہ گم", "خودکشی", "خود کو مار", "مرنا چاہتا", "مرنا چاہتی",
        "دھمکی", "زبردستی کام",
    ),
    "ht": (
        "vyolans", "bat mwen", "kadejak", "vyole", "abi", "atake", "trafik", "trafikan",
        "kidnape", "timoun pedi", "pitit mwen pedi", "swisid", "touye tet mwen", "vle mouri",
        "menase", "fose travay", "abi seksyel",
    ),
}  # fmt: skip
# Anywhere: the feedback flow, with the category already chosen.
COMPLAINT_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("complain", "complaint"),
    "es": ("queja", "quejarme", "reclamo"),
    "fr": ("plainte", "reclamation", "me plaindre"),
    "ar": ("شكوى", "اشتكي"),
    "fa": ("شکایت",),
    "ps": ("شکایت", "سر ټکوونه"),
    "ur": ("شکایت",),
    "ht": ("plent", "pote plent"),
}
THANKS_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("thank", "thanks", "thank you"),
    "es": ("gracias", "agradecer", "agradezco"),
    "fr": ("merci", "remercier"),
    "ar": ("شكرا", "اشكركم"),
    "fa": ("ممنون", "مرسی", "سپاس", "متشکرم"),
    "ps": ("مننه", "ډیره مننه"),
    "ur": ("شکریہ", "مہربانی"),
    "ht": ("mesi", "remesye"),
}
# Anywhere: is a point open?
OPEN_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("open", "opened", "closed", "hours"),
    "es": ("abierto", "abierta", "abre", "cerrado", "cerrada", "horario"),
    "fr": ("ouvert", "ouverte", "ferme", "fermee", "horaires"),
    "ar": ("مفتوح", "مغلق", "يفتح", "مواعيد"),
    "fa": ("باز", "بسته", "ساعت کار"),
    "ps": ("خلاص", "بند", "وخت"),
    "ur": ("کھلا", "بند", "اوقات"),
    "ht": ("louvri", "fèmen", "fenmen", "lè"),
}
# The whole message: show the menu again.
MENU_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("menu", "hi", "hello", "help", "start", "/start"),
    "es": ("menu", "hola", "ayuda", "inicio"),
    "fr": ("menu", "bonjour", "salut", "aide"),
    "ar": ("قائمة", "مرحبا", "السلام عليكم", "مساعدة"),
    "fa": ("منو", "سلام", "کمک"),
    "ps": ("مینو", "سلام", "مرسته"),
    "ur": ("مینو", "سلام", "ہیلو", "مدد"),
    "ht": ("meni", "bonjou", "ed"),
}

# Words people use for a service beyond its name (the names come from person_texts).
SERVICE_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "health-primary": {
        "en": ("doctor", "clinic", "sick", "nurse", "ill"),
        "es": ("medico", "doctor", "clinica", "enfermo", "enferma"),
        "fr": ("medecin", "docteur", "clinique", "malade"),
        "ar": ("طبيب", "دكتور", "عيادة", "مريض"),
        "fa": ("دکتر", "پزشک", "درمانگاه", "مریض", "بیمار"),
        "ps": ("ډاکټر", "روغتون", "ناروغ"),
        "ur": ("ڈاکٹر", "کلینک", "بیمار", "ہسپتال"),
        "ht": ("dokte", "klinik", "malad"),
    },
    "medicines": {
        "en": ("medicine", "pills", "pharmacy", "drugs"),
        "es": ("medicina", "medicinas", "pastillas", "farmacia"),
        "fr": ("medicament", "pharmacie", "medicaments"),
        "ar": ("دواء", "ادوية", "صيدلية"),
        "fa": ("دارو", "داروخانه", "قرص"),
        "ps": ("درمل", "دوا"),
        "ur": ("دوا", "دوائی", "ادویات"),
        "ht": ("medikaman", "famasi", "grenn"),
    },
    "water": {
        "en": ("water", "drink"), "es": ("agua",), "fr": ("eau", "boire"),
        "ar": ("ماء", "مياه"), "fa": ("آب",), "ps": ("اوبه",), "ur": ("پانی",), "ht": ("dlo",),
    },
    "food": {
        "en": ("food", "eat", "hungry"), "es": ("comida", "comer", "hambre"),
        "fr": ("nourriture", "manger", "faim"), "ar": ("طعام", "اكل", "جوعان"),
        "fa": ("غذا", "نان", "گرسنه"), "ps": ("خواړه", "ډوډۍ"), "ur": ("کھانا", "بھوک"),
        "ht": ("manje", "grangou"),
    },
    "shelter": {
        "en": ("sleep", "bed", "shelter"), "es": ("dormir", "albergue", "refugio"),
        "fr": ("dormir", "hebergement", "abri"), "ar": ("ماوى", "نوم", "مبيت"),
        "fa": ("خواب", "سرپناه", "خوابیدن"), "ps": ("سرپناه", "خوب"), "ur": ("پناہ", "سونا"),
        "ht": ("domi", "abri"),
    },
    "connectivity": {
        "en": ("wifi", "internet", "charge", "phone"), "es": ("wifi", "cargar", "telefono"),
        "fr": ("wifi", "recharger", "telephone"), "ar": ("شحن", "انترنت", "واي فاي"),
        "fa": ("شارژ", "اینترنت", "وای فای"), "ps": ("چارج", "انټرنیټ"),
        "ur": ("چارج", "انٹرنیٹ"), "ht": ("chaje", "entenet", "wifi"),
    },
}  # fmt: skip

_ARABIC_VARIANTS = str.maketrans(
    {"ي": "ی", "ى": "ی", "ك": "ک", "ة": "ه", "أ": "ا", "إ": "ا", "آ": "ا", "ۀ": "ه", "ہ": "ه",
     "ھ": "ه", "ے": "ی", "\u200c": " ", "\u200d": ""}
)  # fmt: skip
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
_WORD = re.compile(r"[\w']+", re.UNICODE)


def fold(text: str) -> str:
    """Lower case, no accents or Arabic-script marks, one form of each letter variant, Eastern
    digits as 0–9, words separated by single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_ARABIC_VARIANTS))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_WORD.findall(plain.translate(_DIGITS)))


def _folded(lists: dict[str, tuple[str, ...]], language: str) -> set[str]:
    # A person may write in English whatever their menu language.
    return {fold(word) for code in {language, "en"} for word in lists.get(code, ())}


def is_whole(lists: dict[str, tuple[str, ...]], language: str, text: str) -> bool:
    return fold(text) in _folded(lists, language)


def mentions(lists: dict[str, tuple[str, ...]], language: str, text: str) -> bool:
    """A listed word or phrase appears in the text as whole words."""
    padded = f" {fold(text)} "
    return any(f" {word} " in padded for word in _folded(lists, language) if word)


def mentions_danger(text: str, language: str) -> bool:
    """Danger words of every language count, whatever the menu language: a person in
    distress may write in the language that comes first."""
    padded = f" {fold(text)} "
    return any(f" {fold(word)} " in padded for words in DANGER_WORDS.values() for word in words)


def is_stop(text: str, language: str) -> bool:
    folded = fold(text)
    return any(folded in {fold(word) for word in words} for words in STOP_WORDS.values()) or (
        folded in _folded(STOP_WORDS, language)
    )


def language_chosen(text: str) -> str | None:
    """The language a reply to the menu names: its number or its name."""
    folded = fold(text)
    if folded.isascii() and folded.isdecimal() and 1 <= int(folded) <= len(PERSON_LANGUAGES):
        return PERSON_LANGUAGES[int(folded) - 1]
    for code in PERSON_LANGUAGES:
        if folded in {fold(LANGUAGE_NAMES[code]), *(fold(a) for a in LANGUAGE_ALIASES[code])}:
            return code
    return None


def every_language_has_words() -> bool:
    lists = (STOP_WORDS, YES_WORDS, NO_WORDS, PERSON_WORDS, DANGER_WORDS, COMPLAINT_WORDS,
             THANKS_WORDS, OPEN_WORDS, MENU_WORDS, LANGUAGE_ALIASES)  # fmt: skip
    return all(set(PERSON_LANGUAGES) <= set(words) for words in lists)
