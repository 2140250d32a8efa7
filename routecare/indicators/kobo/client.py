"""Reading submissions: from a Kobo server's data API (`/api/v2/assets/{uid}/data/`, paged
with ``start``/``limit``, ``Authorization: Token …``) or from an exported JSON or XLSX file.
Everything is read before anything is imported, so a failure half-way imports nothing."""

from __future__ import annotations

import io
import json
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl import load_workbook

PAGE_SIZE = 1000
TIMEOUT_SECONDS = 30
MAX_SUBMISSIONS = 200_000
Submission = dict[str, Any]


class KoboError(Exception):
    """Why nothing could be read: shown to the focal point as it is."""


def check_server_url(url: str) -> None:
    parts = urlsplit(url)
    allowed = ("https",) + (("http",) if settings.KOBO_ALLOW_HTTP else ())
    if parts.scheme not in allowed or not parts.hostname:
        raise KoboError(_("The server address must start with https://."))


def normalise_server_url(url: str) -> str:
    """One spelling per server (scheme and host in lower case, no default port, no trailing
    slash), so the same form connected as ``https://KF.kobotoolbox.org/`` is recognised."""
    parts = urlsplit(url.strip())
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        raise KoboError(_("The server address must start with https://.")) from None
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    default = {"https": 443, "http": 80}.get(scheme)
    netloc = host if port in (None, default) else f"{host}:{port}"
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}"


def _page(client: httpx.Client, url: str, start: int) -> tuple[list[Submission], bool]:
    try:
        response = client.get(url, params={"format": "json", "start": start, "limit": PAGE_SIZE})
    except httpx.HTTPError as error:
        raise KoboError(
            _("Could not reach the Kobo server: %(error)s") % {"error": error}
        ) from None
    if response.status_code in (401, 403):
        raise KoboError(_("The Kobo server refused the API token."))
    if response.status_code == 404:
        raise KoboError(_("The Kobo server has no form with that asset uid."))
    if response.status_code != 200:
        raise KoboError(
            _("The Kobo server answered with status %(status)d.") % {"status": response.status_code}
        )
    try:
        data = response.json()
    except ValueError:
        raise KoboError(_("The Kobo server did not answer with JSON.")) from None
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, list):
        raise KoboError(_("The Kobo server's answer has no list of results."))
    return results, bool(data.get("next")) and bool(results)


def fetch(server_url: str, token: str, asset_uid: str) -> list[Submission]:
    """Every submission of the form, page by page. Paging follows ``start`` on the same
    address rather than the ``next`` link the server sends, so a server cannot send the
    token elsewhere."""
    check_server_url(server_url)
    url = f"{server_url.rstrip('/')}/api/v2/assets/{asset_uid}/data/"
    submissions: list[Submission] = []
    headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
    with httpx.Client(timeout=TIMEOUT_SECONDS, headers=headers, follow_redirects=False) as client:
        more = True
        while more:
            page, more = _page(client, url, len(submissions))
            submissions.extend(page)
            if len(submissions) > MAX_SUBMISSIONS:
                raise KoboError(_("The form has more submissions than one import takes."))
    return submissions


def read_file(name: str, content: bytes) -> list[Submission]:
    """A Kobo export: JSON (the data API's answer, or a list of submissions) or XLSX with
    XML values and headers (the first sheet; repeat groups need the JSON export)."""
    if name.lower().endswith(".json"):
        try:
            data = json.loads(content)
        except (ValueError, UnicodeDecodeError):
            raise KoboError(_("The file is not valid JSON.")) from None
        results = data.get("results") if isinstance(data, dict) else data
        if not isinstance(results, list):
            raise KoboError(_("The JSON file holds no list of submissions."))
        return results
    if name.lower().endswith(".xlsx"):
        try:
            book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception:  # openpyxl raises many kinds for a damaged file
            raise KoboError(_("The file is not a readable XLSX workbook.")) from None
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = [str(cell) if cell is not None else "" for cell in next(rows, ())]
        if not header or "_uuid" not in header:
            raise KoboError(_("The workbook's first row has no _uuid column."))
        return [
            {
                key: value
                for key, value in zip(header, row, strict=False)
                if key and value is not None
            }
            for row in rows
            if any(value is not None for value in row)
        ]
    raise KoboError(_("Upload a .json or .xlsx export."))
