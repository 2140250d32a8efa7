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
BASIC = ("information", "connectivity", "first-aid", "water", "wash-hygiene", "rfl")
HEALTH = ("health-primary", "medicines", "psychosocial-support", "referral")
FAMILY = ("health-maternal-child", "safe-space-women-children", "dignity-kit", "nfi")

AMERICAS = NetworkSpec(
    "americas",
    "Americas route",
    (
        Society("CO", "Colombian Red Cross", (
            Point("col-necocli", "Necoclí HSP", "fixed-hsp", 8.4265, -76.7836,
                  BASIC + HEALTH + ("food",), ("es",), capacity=400),
        )),
        Society("PA", "Red Cross Society of Panama", (
            Point("pan-lajas-blancas", "Lajas Blancas reception point", "transit-centre",
                  8.2690, -77.7530, BASIC + HEALTH + FAMILY, ("es", "en"), capacity=1500),
            Point("pan-san-vicente", "San Vicente reception point", "transit-centre",
                  8.2453, -77.9669, (*BASIC, "psychosocial-support"), ("es",), capacity=800),
        )),
        Society("CR", "Costa Rican Red Cross", (
            Point("cri-paso-canoas", "Paso Canoas HSP", "fixed-hsp", 8.5353, -82.8386,
                  BASIC + HEALTH, ("es",), capacity=300),
        )),
        Society("HN", "Honduran Red Cross", (
            Point("hnd-las-manos", "Las Manos border HSP", "fixed-hsp", 13.7950, -86.5560,
                  (*BASIC, "first-aid"), ("es",), capacity=200),
            Point("hnd-el-paraiso", "El Paraíso mobile HSP", "mobile-hsp", 13.8667, -86.5500,
                  BASIC, ("es",), "network"),
            Point("hnd-danli", "Danlí HSP", "fixed-hsp", 14.0333, -86.5833,
                  BASIC + HEALTH + FAMILY + ("cash-voucher",), ("es", "en", "fr"), capacity=500),
            Point("hnd-tegucigalpa", "Tegucigalpa branch", "branch", 14.0723, -87.1921,
                  BASIC + HEALTH + ("legal-information", "protection"), ("es", "en")),
        )),
        Society("GT", "Guatemalan Red Cross", (
            Point("gtm-agua-caliente", "Agua Caliente border HSP", "fixed-hsp", 14.6036, -89.1930,
                  (*BASIC, "first-aid"), ("es",)),
            Point("gtm-esquipulas", "Esquipulas HSP", "fixed-hsp", 14.5667, -89.3500,
                  BASIC + HEALTH, ("es",)),
            Point("gtm-guatemala-city", "Guatemala City HSP", "fixed-hsp", 14.6349, -90.5069,
                  BASIC + HEALTH + ("shelter",), ("es", "en")),
            Point("gtm-tecun-uman", "Tecún Umán HSP", "fixed-hsp", 14.6667, -92.1433,
                  BASIC + HEALTH + FAMILY, ("es",)),
        )),
        Society("MX", "Mexican Red Cross", (
            Point("mex-tapachula", "Tapachula HSP", "fixed-hsp", 14.9067, -92.2631,
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
            Point("srb-belgrade", "Belgrade info park HSP", "fixed-hsp", 44.8125, 20.4612,
                  BASIC + HEALTH + ("food",), ("sr", "en", "ar", "fa")),
            Point("srb-palilula", "Palilula branch", "branch", 44.8167, 20.4800,
                  BASIC + FAMILY, ("sr", "en")),
            Point("srb-obrenovac", "Obrenovac reception centre", "transit-centre",
                  44.6548, 20.2003, BASIC + HEALTH, ("sr", "en", "ps", "ur")),
            Point("srb-sid", "Šid mobile team", "mobile-hsp", 45.1283, 19.2264,
                  (*BASIC, "first-aid"), ("sr", "en"), "network"),
        )),
        Society("SI", "Slovenian Red Cross", (
            Point("svn-ljubljana", "Ljubljana HSP", "fixed-hsp", 46.0569, 14.5058,
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
