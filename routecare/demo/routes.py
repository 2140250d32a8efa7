"""Demo networks from the routes in the programme reports, with approximate real coordinates."""

from __future__ import annotations

from typing import NamedTuple


class Point(NamedTuple):
    code: str
    name: str
    kind: str
    latitude: float
    longitude: float
    services: tuple[str, ...]
    languages: tuple[str, ...]
    visibility: str = "public"
    capacity: int | None = None


class Society(NamedTuple):
    country_code: str
    name: str
    points: tuple[Point, ...]

    @property
    def time_zone(self) -> str:
        return TIME_ZONES[self.country_code]


class RouteSpec(NamedTuple):
    slug: str
    name: str
    stops: tuple[tuple[str, float], ...]  # (service point code, hours from the previous stop)


class NetworkSpec(NamedTuple):
    slug: str
    name: str
    societies: tuple[Society, ...]
    routes: tuple[RouteSpec, ...]


TIME_ZONES = {
    "CO": "America/Bogota",
    "PA": "America/Panama",
    "CR": "America/Costa_Rica",
    "HN": "America/Tegucigalpa",
    "GT": "America/Guatemala",
    "MX": "America/Mexico_City",
    "SV": "America/El_Salvador",
    "GR": "Europe/Athens",
    "MK": "Europe/Skopje",
    "RS": "Europe/Belgrade",
    "SI": "Europe/Ljubljana",
}
# The general emergency number each demo society's helpdesk tells people (112 across Europe,
# 911 in most of Central America and Mexico, 123 in Colombia); Guatemala has no single one
# (110 police, 122 fire, 128 ambulance): its notice says "the local emergency number".
EMERGENCY_NUMBERS = {
    "CO": "123", "PA": "911", "CR": "911", "HN": "911", "MX": "911", "SV": "911",
    "GR": "112", "MK": "112", "RS": "112", "SI": "112",
}  # fmt: skip
BASIC = ("information", "connectivity", "first-aid", "water", "wash-hygiene", "rfl")
HEALTH = ("health-primary", "medicines", "psychosocial-support", "referral")
FAMILY = ("health-maternal-child", "safe-space-women-children", "dignity-kit", "nfi")

# ISO 3166-2 admin-1 codes of some demo points (the #adm1 of HXL exports); the others are
# left without one, as points whose data does not say.
ADMIN1 = {
    "hnd-las-manos": "HN-EP", "hnd-el-paraiso": "HN-EP", "hnd-danli": "HN-EP",
    "hnd-tegucigalpa": "HN-FM", "pan-lajas-blancas": "PA-5", "pan-san-vicente": "PA-5",
    "cri-paso-canoas": "CR-P",
}  # fmt: skip

AMERICAS = NetworkSpec(
    "americas",
    "Americas route",
    (
        Society("CO", "Colombian Red Cross", (
            Point("col-necocli", "Necoclí Red Cross service point", "fixed-hsp", 8.4265, -76.7836,
                  BASIC + HEALTH + ("food",), ("es",), capacity=400),
        )),
        Society("PA", "Red Cross Society of Panama", (
            Point("pan-lajas-blancas", "Lajas Blancas reception point", "transit-centre",
                  8.2690, -77.7530, BASIC + HEALTH + FAMILY, ("es", "en"), capacity=1500),
            Point("pan-san-vicente", "San Vicente reception point", "transit-centre",
                  8.2453, -77.9669, (*BASIC, "psychosocial-support"), ("es",), capacity=800),
        )),
        Society("CR", "Costa Rican Red Cross", (
            Point("cri-paso-canoas", "Paso Canoas Red Cross service point",
                  "fixed-hsp", 8.5353, -82.8386,
                  BASIC + HEALTH, ("es",), capacity=300),
        )),
        Society("HN", "Honduran Red Cross", (
            Point("hnd-las-manos", "Las Manos border Red Cross service point",
                  "fixed-hsp", 13.7950, -86.5560,
                  (*BASIC, "first-aid"), ("es",), capacity=200),
            Point("hnd-el-paraiso", "El Paraíso Red Cross mobile team",
                  "mobile-hsp", 13.8667, -86.5500,
                  BASIC, ("es",), "network"),
            Point("hnd-danli", "Danlí Red Cross service point", "fixed-hsp", 14.0333, -86.5833,
                  BASIC + HEALTH + FAMILY + ("cash-voucher",), ("es", "en", "fr"), capacity=500),
            Point("hnd-tegucigalpa", "Tegucigalpa branch", "branch", 14.0723, -87.1921,
                  BASIC + HEALTH + ("legal-information", "protection"), ("es", "en")),
        )),
        Society("GT", "Guatemalan Red Cross", (
            Point("gtm-agua-caliente", "Agua Caliente border Red Cross service point",
                  "fixed-hsp", 14.6036, -89.1930,
                  (*BASIC, "first-aid"), ("es",)),
            Point("gtm-esquipulas", "Esquipulas Red Cross service point",
                  "fixed-hsp", 14.5667, -89.3500,
                  BASIC + HEALTH, ("es",)),
            Point("gtm-guatemala-city", "Guatemala City Red Cross service point",
                  "fixed-hsp", 14.6349, -90.5069,
                  BASIC + HEALTH + ("shelter",), ("es", "en")),
            Point("gtm-tecun-uman", "Tecún Umán Red Cross service point",
                  "fixed-hsp", 14.6667, -92.1433,
                  BASIC + HEALTH + FAMILY, ("es",)),
        )),
        Society("MX", "Mexican Red Cross", (
            Point("mex-tapachula", "Tapachula Red Cross service point",
                  "fixed-hsp", 14.9067, -92.2631,
                  BASIC + HEALTH + ("legal-information", "integration"), ("es", "en", "fr", "ht")),
        )),
        Society("SV", "Salvadorean Red Cross", (
            Point("slv-airport-returnees", "San Salvador airport returnee reception",
                  "transit-centre", 13.4409, -89.0557,
                  ("information", "connectivity", "psychosocial-support", "food", "rfl"),
                  ("es",), "network"),
        )),
    ),
    (
        RouteSpec("darien-north", "Darién → Mexico", (
            ("col-necocli", 0), ("pan-lajas-blancas", 96), ("pan-san-vicente", 3),
            ("cri-paso-canoas", 14), ("hnd-las-manos", 20), ("hnd-el-paraiso", 1),
            ("hnd-danli", 1), ("hnd-tegucigalpa", 2), ("gtm-agua-caliente", 8),
            ("gtm-esquipulas", 0.5), ("gtm-guatemala-city", 4), ("gtm-tecun-uman", 5),
            ("mex-tapachula", 0.5),
        )),
    ),
)  # fmt: skip

BALKANS = NetworkSpec(
    "western-balkans",
    "Western Balkans route",
    (
        Society("GR", "Hellenic Red Cross", (
            Point("grc-athens", "Athens multifunctional centre", "fixed-hsp", 37.9838, 23.7275,
                  BASIC + HEALTH + FAMILY + ("integration",), ("el", "en", "ar", "fa")),
            Point("grc-thessaloniki", "Thessaloniki multifunctional centre", "fixed-hsp",
                  40.6401, 22.9444, BASIC + HEALTH, ("el", "en", "ar")),
        )),
        Society("MK", "Red Cross of North Macedonia", (
            Point("mkd-gevgelija", "Gevgelija transit centre", "transit-centre", 41.1392, 22.5025,
                  BASIC + HEALTH, ("mk", "en", "ar")),
            Point("mkd-skopje", "Skopje branch", "branch", 41.9981, 21.4254,
                  (*BASIC, "legal-information"), ("mk", "en")),
            Point("mkd-tabanovce", "Tabanovce transit centre", "transit-centre", 42.2127, 21.7035,
                  BASIC + HEALTH, ("mk", "en", "ar")),
            Point("mkd-lojane", "Lojane mobile team", "mobile-hsp", 42.2333, 21.6667,
                  BASIC, ("mk", "en"), "network"),
        )),
        Society("RS", "Red Cross of Serbia", (
            Point("srb-belgrade", "Belgrade info park Red Cross service point",
                  "fixed-hsp", 44.8125, 20.4612,
                  BASIC + HEALTH + ("food",), ("sr", "en", "ar", "fa")),
            Point("srb-palilula", "Palilula branch", "branch", 44.8167, 20.4800,
                  BASIC + FAMILY, ("sr", "en")),
            Point("srb-obrenovac", "Obrenovac reception centre", "transit-centre",
                  44.6548, 20.2003, BASIC + HEALTH, ("sr", "en", "ps", "ur")),
            Point("srb-sid", "Šid mobile team", "mobile-hsp", 45.1283, 19.2264,
                  (*BASIC, "first-aid"), ("sr", "en"), "network"),
        )),
        Society("SI", "Slovenian Red Cross", (
            Point("svn-ljubljana", "Ljubljana Red Cross service point",
                  "fixed-hsp", 46.0569, 14.5058,
                  BASIC + HEALTH + ("psychosocial-support",), ("sl", "en", "ar", "fa")),
            Point("svn-logatec", "Logatec asylum centre presence", "transit-centre",
                  45.9144, 14.2258, (*BASIC, "health-primary"), ("sl", "en")),
        )),
    ),
    (
        RouteSpec("balkans-north", "Greece → Slovenia", (
            ("grc-athens", 0), ("grc-thessaloniki", 6), ("mkd-gevgelija", 2), ("mkd-skopje", 3),
            ("mkd-tabanovce", 1), ("mkd-lojane", 0.5), ("srb-belgrade", 5), ("srb-palilula", 0.5),
            ("srb-obrenovac", 1), ("srb-sid", 2), ("svn-ljubljana", 8), ("svn-logatec", 0.5),
        )),
    ),
)  # fmt: skip

NETWORKS = (AMERICAS, BALKANS)


class PublicTexts(NamedTuple):
    """A demo point's address and directions, and its public name, address and directions
    in the languages people on its route read (issue 19: names stayed English, with no
    address)."""

    address: str
    directions: str = ""
    translations: dict[str, dict[str, str]] = {}  # read only: shared by every instance


def _es(name: str, address: str, directions: str = "") -> dict[str, dict[str, str]]:
    texts = {"name": name, "address": address, "directions": directions}
    return {"es": {key: value for key, value in texts.items() if value}}


PUBLIC_TEXTS: dict[str, PublicTexts] = {
    "col-necocli": PublicTexts(
        "Next to the municipal pier, Necoclí, Antioquia",
        "From the bus terminal walk towards the beach; the red tent is at the pier entrance.",
        _es("Punto de servicio de la Cruz Roja en Necoclí",
            "Junto al muelle municipal, Necoclí, Antioquia",
            "Desde la terminal de buses camine hacia la playa; la carpa roja está a la entrada "
            "del muelle."),
    ),
    "pan-lajas-blancas": PublicTexts(
        "Lajas Blancas migrant reception station, Darién",
        translations=_es("Estación de recepción migratoria de Lajas Blancas",
                         "Estación de Recepción Migratoria Lajas Blancas, Darién"),
    ),
    "pan-san-vicente": PublicTexts(
        "San Vicente migrant reception station, Metetí, Darién",
        translations=_es("Estación de recepción migratoria de San Vicente",
                         "Estación de Recepción Migratoria San Vicente, Metetí, Darién"),
    ),
    "cri-paso-canoas": PublicTexts(
        "Beside the border post, Paso Canoas, Corredores",
        translations=_es("Punto de servicio de la Cruz Roja en Paso Canoas",
                         "Junto al puesto fronterizo, Paso Canoas, Corredores"),
    ),
    "hnd-las-manos": PublicTexts(
        "Las Manos border crossing, El Paraíso department",
        "After the migration office, 100 m on the right, under the Red Cross flag.",
        _es("Punto de servicio de la Cruz Roja en la frontera de Las Manos",
            "Paso fronterizo de Las Manos, departamento de El Paraíso",
            "Después de la oficina de migración, 100 m a la derecha, bajo la bandera de la "
            "Cruz Roja."),
    ),
    "hnd-el-paraiso": PublicTexts(
        "Moves along the road between Las Manos and Danlí",
        translations=_es("Equipo móvil de la Cruz Roja en El Paraíso",
                         "Recorre la carretera entre Las Manos y Danlí"),
    ),
    "hnd-danli": PublicTexts(
        "Central bus terminal, Danlí, El Paraíso",
        "Inside the bus terminal, next to the ticket offices.",
        _es("Punto de servicio de la Cruz Roja en Danlí",
            "Terminal de buses central, Danlí, El Paraíso",
            "Dentro de la terminal de buses, junto a las taquillas."),
    ),
    "hnd-tegucigalpa": PublicTexts(
        "Honduran Red Cross headquarters, Comayagüela, Tegucigalpa",
        translations=_es("Filial de la Cruz Roja en Tegucigalpa",
                         "Sede de la Cruz Roja Hondureña, Comayagüela, Tegucigalpa"),
    ),
    "gtm-agua-caliente": PublicTexts(
        "Agua Caliente border post, Esquipulas, Chiquimula",
        translations=_es("Punto de servicio de la Cruz Roja en la frontera de Agua Caliente",
                         "Puesto fronterizo de Agua Caliente, Esquipulas, Chiquimula"),
    ),
    "gtm-esquipulas": PublicTexts(
        "Esquipulas town centre, Chiquimula",
        translations=_es("Punto de servicio de la Cruz Roja en Esquipulas",
                         "Centro de Esquipulas, Chiquimula"),
    ),
    "gtm-guatemala-city": PublicTexts(
        "Guatemalan Red Cross headquarters, zone 1, Guatemala City",
        translations=_es("Punto de servicio de la Cruz Roja en Ciudad de Guatemala",
                         "Sede de la Cruz Roja Guatemalteca, zona 1, Ciudad de Guatemala"),
    ),
    "gtm-tecun-uman": PublicTexts(
        "Next to the bridge over the Suchiate river, Tecún Umán",
        translations=_es("Punto de servicio de la Cruz Roja en Tecún Umán",
                         "Junto al puente sobre el río Suchiate, Tecún Umán"),
    ),
    "mex-tapachula": PublicTexts(
        "Central park area, Tapachula, Chiapas",
        translations={
            **_es("Punto de servicio de la Cruz Roja en Tapachula",
                  "Zona del parque central, Tapachula, Chiapas"),
            "fr": {"name": "Point de service de la Croix-Rouge à Tapachula",
                   "address": "Quartier du parc central, Tapachula, Chiapas"},
            "ht": {"name": "Pwen sèvis Kwa Wouj nan Tapachula",
                   "address": "Zòn pak santral la, Tapachula, Chiapas"},
        },
    ),
    "slv-airport-returnees": PublicTexts(
        "San Salvador international airport, arrivals hall",
        translations=_es("Recepción de personas retornadas en el aeropuerto de San Salvador",
                         "Aeropuerto internacional de San Salvador, sala de llegadas"),
    ),
    "grc-athens": PublicTexts(
        "Athens city centre",
        translations={
            "ar": {"name": "المركز متعدد الخدمات في أثينا", "address": "وسط مدينة أثينا"},
            "fa": {"name": "مرکز چندمنظورهٔ آتن", "address": "مرکز شهر آتن"},
        },
    ),
    "mkd-gevgelija": PublicTexts(
        "Vinojug transit centre, next to the railway station, Gevgelija",
        "Inside the transit centre; the Red Cross container is left of the entrance.",
        {
            "ar": {"name": "مركز العبور في جيفجيليا",
                   "address": "مركز فينويوغ للعبور، بجانب محطة القطار، جيفجيليا",
                   "directions": "داخل مركز العبور؛ حاوية الصليب الأحمر على يسار المدخل."},
            "fa": {"name": "مرکز ترانزیت گِوگلیا",
                   "address": "مرکز ترانزیت وینویوگ، کنار ایستگاه قطار، گِوگلیا",
                   "directions": "داخل مرکز ترانزیت؛ کانتینر صلیب سرخ سمت چپ ورودی است."},
        },
    ),
    "mkd-tabanovce": PublicTexts(
        "Tabanovce transit centre, near the Serbian border",
        translations={
            "ar": {"name": "مركز العبور في تابانوفتسه",
                   "address": "مركز العبور في تابانوفتسه، قرب الحدود الصربية"},
            "fa": {"name": "مرکز ترانزیت تابانوتسه",
                   "address": "مرکز ترانزیت تابانوتسه، نزدیک مرز صربستان"},
        },
    ),
    "srb-belgrade": PublicTexts(
        "Info park, near the main bus station, Belgrade",
        translations={
            "ar": {"name": "نقطة خدمة الصليب الأحمر في حديقة المعلومات في بلغراد",
                   "address": "حديقة المعلومات، قرب محطة الحافلات الرئيسية، بلغراد"},
            "fa": {"name": "نقطهٔ خدمات صلیب سرخ در پارک اطلاعات بلگراد",
                   "address": "پارک اطلاعات، نزدیک ایستگاه اصلی اتوبوس، بلگراد"},
        },
    ),
    "svn-ljubljana": PublicTexts(
        "Ljubljana city centre",
        translations={
            "ar": {"name": "نقطة خدمة الصليب الأحمر في ليوبليانا", "address": "وسط ليوبليانا"},
            "fa": {"name": "نقطهٔ خدمات صلیب سرخ در لیوبلیانا", "address": "مرکز لیوبلیانا"},
        },
    ),
}  # fmt: skip

# Each society's name as people read it on the public pages, where it differs from English.
SOCIETY_NAMES: dict[str, dict[str, str]] = {
    "CO": {"es": "Cruz Roja Colombiana", "fr": "Croix-Rouge colombienne",
           "ht": "Kwa Wouj Kolonbyen"},
    "PA": {"es": "Cruz Roja Panameña", "fr": "Croix-Rouge panaméenne",
           "ht": "Kwa Wouj Panameyen"},
    "CR": {"es": "Cruz Roja Costarricense", "fr": "Croix-Rouge costaricienne",
           "ht": "Kwa Wouj Kostariken"},
    "HN": {"es": "Cruz Roja Hondureña", "fr": "Croix-Rouge hondurienne",
           "ht": "Kwa Wouj Ondiryen"},
    "GT": {"es": "Cruz Roja Guatemalteca", "fr": "Croix-Rouge guatémaltèque",
           "ht": "Kwa Wouj Gwatemalteyen"},
    "MX": {"es": "Cruz Roja Mexicana", "fr": "Croix-Rouge mexicaine",
           "ht": "Kwa Wouj Meksiken"},
    "SV": {"es": "Cruz Roja Salvadoreña", "fr": "Croix-Rouge salvadorienne",
           "ht": "Kwa Wouj Salvadoryen"},
    "GR": {"ar": "الصليب الأحمر اليوناني", "fa": "صلیب سرخ یونان", "fr": "Croix-Rouge hellénique"},
    "MK": {"ar": "الصليب الأحمر في مقدونيا الشمالية", "fa": "صلیب سرخ مقدونیه شمالی",
           "fr": "Croix-Rouge de Macédoine du Nord"},
    "RS": {"ar": "الصليب الأحمر الصربي", "fa": "صلیب سرخ صربستان",
           "fr": "Croix-Rouge de Serbie"},
    "SI": {"ar": "الصليب الأحمر السلوفيني", "fa": "صلیب سرخ اسلوونی",
           "fr": "Croix-Rouge slovène"},
}  # fmt: skip
