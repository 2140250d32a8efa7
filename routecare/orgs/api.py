import uuid

from django.http import HttpRequest
from ninja import Router, Schema

from routecare.access import Actor, Rule, api_rule, workable_service_points
from routecare.orgs.models import ServicePoint

router = Router(tags=["staff"])


class ServicePointOut(Schema):
    id: uuid.UUID
    code: str
    name: str
    kind: str
    status: str
    services: list[str]


class MeOut(Schema):
    username: str
    role: str
    national_society_id: uuid.UUID | None
    network_id: uuid.UUID | None
    service_point: ServicePointOut | None


@router.get("/me", response=MeOut, summary="Who the token acts as")
@api_rule(Rule.SIGNED_IN)
def me(request: HttpRequest) -> MeOut:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    point = actor.service_point
    return MeOut(
        username=actor.user.get_username(),
        role=actor.role,
        national_society_id=actor.national_society_id,
        network_id=actor.network_id,
        service_point=ServicePointOut.from_orm(point) if point else None,
    )


@router.get("/service-points", response=list[ServicePointOut], summary="Points you work at")
@api_rule(Rule.PERSONAL_RECORDS)
def my_service_points(request: HttpRequest) -> list[ServicePoint]:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    return list(workable_service_points(actor.user))
