"""Stock of a point and transfer requests between the points of a society."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from routecare.access import Rule, StaffRequest, staff_view
from routecare.core import fields
from routecare.core.http import add_validation_errors, posted
from routecare.flows import stock, stock_use
from routecare.flows.models import StockItem, StockKind, TransferRequest
from routecare.orgs.models import ServicePoint
from routecare.orgs.taxonomy import Service


class ItemForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=StockKind.choices)
    name = fields.STOCK_ITEM_NAME.form_field(label=gettext_lazy("Item"))
    unit = fields.STOCK_UNIT.form_field(label=gettext_lazy("Unit"), initial="units")
    level = forms.IntegerField(label=gettext_lazy("In stock"), min_value=0, max_value=1_000_000)
    minimum = forms.IntegerField(
        label=gettext_lazy("Minimum level"), min_value=0, max_value=1_000_000, initial=0
    )
    service = forms.ChoiceField(
        label=gettext_lazy("Taken out by encounters delivering"),
        choices=[("", "—"), *Service.choices],
        required=False,
    )


class LevelForm(forms.Form):
    level = forms.IntegerField(label=gettext_lazy("Counted"), min_value=0, max_value=1_000_000)


class TransferForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Request"), choices=TransferRequest.Kind.choices)
    supplying_point = forms.ModelChoiceField(
        label=gettext_lazy("From the point"), queryset=ServicePoint.objects.none(), required=False
    )
    item_kind = forms.ChoiceField(
        label=gettext_lazy("Kind"), choices=[("", "—"), *StockKind.choices], required=False
    )
    item_name = fields.STOCK_ITEM_NAME.form_field(label=gettext_lazy("Item"), required=False)
    quantity = forms.IntegerField(
        label=gettext_lazy("Quantity (units or staff)"), min_value=1, max_value=1_000_000
    )
    needed_by = forms.DateField(
        label=gettext_lazy("Needed by"), required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )  # fmt: skip
    note = fields.TRANSFER_NOTE.form_field(
        label=gettext_lazy("Note (no personal data)"), widget=forms.TextInput
    )

    def __init__(self, point: ServicePoint, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["supplying_point"]
        field.queryset = ServicePoint.objects.filter(
            national_society_id=point.national_society_id
        ).exclude(pk=point.pk)


@staff_view(Rule.COORDINATION)
def stock_page(request: StaffRequest) -> HttpResponse:
    actor = request.actor
    point = actor.service_point
    if point is None:
        return redirect(reverse("accounts:pick_point") + "?next=" + request.path)
    form = ItemForm(posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            stock.save_item(actor, point, **data)
        except ValidationError as error:
            add_validation_errors(form, error)
        except PermissionError:
            messages.error(request, _("Only this point's coordinators keep its stock."))
        else:
            messages.success(request, _("Item added."))
            return redirect("flows:stock")
    return render(
        request,
        "flows/stock.html",
        {
            "form": form,
            "items": stock.items_at(actor, point),
            "point": point,
            "waiting": stock_use.waiting_at(point),
        },
    )


@staff_view(Rule.COORDINATION)
@require_POST
def count_item(request: StaffRequest, item_id: uuid.UUID) -> HttpResponse:
    actor = request.actor
    item = get_object_or_404(StockItem, pk=item_id, service_point=actor.service_point)
    form = LevelForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter a number from 0 to 1000000."))
    else:
        try:
            stock.count_level(actor, item, form.cleaned_data["level"])
        except PermissionError:
            messages.error(request, _("Only this point's coordinators keep its stock."))
        else:
            messages.success(request, _("Level saved."))
    return redirect("flows:stock")


@staff_view(Rule.COORDINATION)
def transfers(request: StaffRequest) -> HttpResponse:
    actor = request.actor
    point = actor.service_point
    if point is None:
        return redirect(reverse("accounts:pick_point") + "?next=" + request.path)
    form = TransferForm(point, posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            stock.request_transfer(actor, **form.cleaned_data)
        except ValidationError as error:
            add_validation_errors(form, error)
        except PermissionError:
            messages.error(request, _("Only this point's coordinators make requests."))
        else:
            messages.success(request, _("Request sent."))
            return redirect("flows:transfers")
    return render(
        request,
        "flows/transfers.html",
        {
            "form": form,
            "rows": [(t, stock.next_steps(actor, t)) for t in stock.transfers_for(actor)],
        },
    )


@staff_view(Rule.COORDINATION)
@require_POST
def advance_transfer(request: StaffRequest, transfer_id: uuid.UUID, status: str) -> HttpResponse:
    actor = request.actor
    transfer = stock.transfer_for(actor, transfer_id)
    try:
        stock.advance_transfer(actor, transfer, status)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except PermissionError:
        messages.error(request, _("That step is for the other point."))
    else:
        messages.success(request, _("Request updated."))
    return redirect("flows:transfers")
