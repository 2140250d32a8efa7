from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, QueryDict


def posted(request: HttpRequest) -> QueryDict | None:
    """Form data of a POST, even an empty one (``request.POST or None`` would drop it)."""
    return request.POST if request.method == "POST" else None


def add_validation_errors(
    form: Any, error: ValidationError, renamed: dict[str, str] | None = None
) -> None:
    """Put a domain ``ValidationError`` on a form: on the field it names when the form has it
    (``renamed`` maps an action's field names to the form's), else on the whole form."""
    if hasattr(error, "error_dict"):
        for field, field_errors in error.error_dict.items():
            target = (renamed or {}).get(field, field)
            form.add_error(target if target in form.fields else None, field_errors)
    else:
        form.add_error(None, error)
