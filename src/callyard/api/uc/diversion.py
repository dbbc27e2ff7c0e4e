"""Diversion (seed 003, 11 operations) and Activity Diversion Mapping (5): the user's diversion rules per line,
the active diversion number and the diversion per presence activity — the extension's own forwarding
settings, executed by the engine (core/devices/diversion.py). Both PUT and POST set, as the seed says."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from callyard.api.deps import CoreDep
from callyard.api.uc.edge.auth import UcCaller
from callyard.api.uc.edge.errors import ERROR_RESPONSES, invalid
from callyard.api.uc.presence import inline, json_body, validated
from callyard.api.uc.presence_schemas import (DiversionMapping, DiversionMappingItem, DiversionMappingPatch,
                                              DiversionNumber, DiversionNumberBody, DiversionRules,
                                              DiversionRulesChange, LineOrder, OneRule, OneRuleChange, RuleType)
from callyard.api.uc.user_access import caller_any, flag
from callyard.api.uc.user_schemas import ValidationResultOk

router = APIRouter(prefix="/api/diversion/{domain}/{userId}", tags=["Diversion"], responses=ERROR_RESPONSES)
mapping_router = APIRouter(prefix="/api/activitydiversion/{domain}/{userId}", tags=["Activity Diversion Mapping"],
                           responses=ERROR_RESPONSES)
Caller = Annotated[UcCaller, Depends(caller_any("USER", user="userId"))]
OK: dict[str, Any] = {"field": [], "warning": [], "generated-id": ""}
Line = Annotated[LineOrder, Path(description="PRIMARY (the extension) or SECONDARY (the mobile)")]
Rule = Annotated[RuleType, Path(description="The diversion rule type")]


def _set(path: str, **kwargs: Any) -> Any:
    """A PUT and a POST doing the same (the seed: "Both PUT and POST can be used")."""
    def wrap(handler: Any) -> Any:
        router.put(path, **kwargs)(handler)
        router.post(path, **{**kwargs, "operation_id": f"{kwargs['operation_id']}ByPost"})(handler)
        return handler
    return wrap


# ---------------------------------------------------------------------------- rules
@router.get("/rules", response_model=DiversionRules, response_model_exclude_none=True,
            operation_id="getDiversionRules", summary="The user's diversion rules on every line")
async def rules(who: Caller, core: CoreDep) -> dict[str, Any]:
    return core.diversions.rules(who.principal, who.account_id, who.user["userId"])


@_set("/rules", response_model=DiversionRules, response_model_exclude_none=True,
      operation_id="setDiversionRules", summary="Update the user's diversion rules (a rule without a number is "
                                                "cleared; rules not listed are kept)")
async def set_rules(body: DiversionRulesChange, who: Caller, core: CoreDep) -> dict[str, Any]:
    return await core.diversions.set_rules(who.principal, who.account_id, who.user["userId"],
                                           body.model_dump(exclude_none=True))


@router.delete("/rules", response_model=ValidationResultOk, operation_id="deleteDiversionRules",
               summary="Delete all of the user's diversion rules")
async def delete_rules(who: Caller, core: CoreDep) -> dict[str, Any]:
    await core.diversions.clear(who.principal, who.account_id, who.user["userId"])
    return OK


@router.get("/rules/{lineOrderType}", response_model=DiversionRules, response_model_exclude_none=True,
            operation_id="getLineDiversionRules", summary="The diversion rules of one line")
async def line_rules(lineOrderType: Line, who: Caller, core: CoreDep) -> dict[str, Any]:
    return core.diversions.rules(who.principal, who.account_id, who.user["userId"], lineOrderType)


@_set("/rules/{lineOrderType}", response_model=ValidationResultOk, operation_id="setLineDiversionRules",
      summary="Create or update the diversion rules of one line")
async def set_line_rules(lineOrderType: Line, body: DiversionRulesChange, who: Caller,
                         core: CoreDep) -> dict[str, Any]:
    await core.diversions.set_rules(who.principal, who.account_id, who.user["userId"],
                                    body.model_dump(exclude_none=True), lineOrderType)
    return OK


@router.delete("/rules/{lineOrderType}", response_model=ValidationResultOk, operation_id="deleteLineDiversionRules",
               summary="Delete the diversion rules of one line")
async def delete_line_rules(lineOrderType: Line, who: Caller, core: CoreDep) -> dict[str, Any]:
    await core.diversions.clear(who.principal, who.account_id, who.user["userId"], lineOrderType)
    return OK


@router.get("/rules/{lineOrderType}/{diversionRuleType}", response_model=OneRule, response_model_exclude_none=True,
            operation_id="getDiversionRule", summary="One rule of a line (no phoneNumber: not set)")
async def one_rule(lineOrderType: Line, diversionRuleType: Rule, who: Caller, core: CoreDep) -> dict[str, Any]:
    return core.diversions.rule(who.principal, who.account_id, who.user["userId"], lineOrderType, diversionRuleType)


@_set("/rules/{lineOrderType}/{diversionRuleType}", response_model=ValidationResultOk,
      operation_id="setDiversionRule", summary="Create or update one rule of a line (no phoneNumber or NONE: "
                                               "cleared)")
async def set_one_rule(lineOrderType: Line, diversionRuleType: Rule, body: OneRuleChange, who: Caller,
                       core: CoreDep) -> dict[str, Any]:
    await core.diversions.set_rule(who.principal, who.account_id, who.user["userId"], lineOrderType,
                                   diversionRuleType, body.model_dump(exclude_none=True))
    return OK


@router.delete("/rules/{lineOrderType}/{diversionRuleType}", response_model=ValidationResultOk,
               operation_id="deleteDiversionRule", summary="Delete one rule of a line")
async def delete_one_rule(lineOrderType: Line, diversionRuleType: Rule, who: Caller,
                          core: CoreDep) -> dict[str, Any]:
    await core.diversions.clear(who.principal, who.account_id, who.user["userId"], lineOrderType, diversionRuleType)
    return OK


# ---------------------------------------------------------------------------- the active diversion number
@router.get("/number", response_model=DiversionNumber, operation_id="getDiversionNumber",
            summary="The user's active diversion number ('' = none)")
async def number(who: Caller, core: CoreDep) -> dict[str, Any]:
    return core.diversions.number(who.principal, who.account_id, who.user["userId"])


@_set("/number", response_model=DiversionNumber, operation_id="setDiversionNumber",
      summary="Set the user's active diversion number ('' clears it)",
      openapi_extra={"requestBody": {"required": False, "content": {
          "application/json": {"schema": inline(DiversionNumberBody.model_json_schema())}}}})
async def set_number(request: Request, who: Caller, core: CoreDep,
                     phoneNumber: Annotated[str | None, Query(max_length=32, description="The number ('' clears; "
                                                              "or a JSON body {phoneNumber, activityScoped})")
                                            ] = None,
                     activityScoped: Annotated[str | None, Query(description="'true': cleared on the next "
                                                                             "activity change")] = None
                     ) -> dict[str, Any]:
    scoped = flag(activityScoped)
    if phoneNumber is None:
        data = await json_body(request)
        if data is not None:
            body = validated(DiversionNumberBody, data)
            phoneNumber = body.phoneNumber
            if body.activityScoped is not None:
                scoped = body.activityScoped
    return await core.diversions.set_number(who.principal, who.account_id, who.user["userId"], phoneNumber, scoped)


# ---------------------------------------------------------------------------- activity diversion mapping
def _mset(path: str, **kwargs: Any) -> Any:
    def wrap(handler: Any) -> Any:
        mapping_router.put(path, **kwargs)(handler)
        mapping_router.post(path, **{**kwargs, "operation_id": f"{kwargs['operation_id']}ByPost"})(handler)
        return handler
    return wrap


@mapping_router.get("", response_model=DiversionMapping, operation_id="getActivityDiversions",
                    summary="All activity diversions of the user")
async def mapping(who: Caller, core: CoreDep) -> dict[str, Any]:
    return {"diversion-mapping": core.diversions.mapping(who.principal, who.account_id, who.user["userId"])}


@_mset("", response_model=DiversionMapping, operation_id="setActivityDiversions",
       summary="Replace all activity diversions of the user")
async def set_mapping(body: DiversionMapping, who: Caller, core: CoreDep) -> dict[str, Any]:
    items = [item.model_dump() for item in body.diversion_mapping]
    return {"diversion-mapping": await core.diversions.set_mapping(who.principal, who.account_id,
                                                                   who.user["userId"], items, replace=True)}


@mapping_router.get("/{activityId}", response_model=DiversionMappingItem, operation_id="getActivityDiversion",
                    summary="The diversion number of one activity")
async def one_mapping(activityId: str, who: Caller, core: CoreDep) -> dict[str, Any]:
    return core.diversions.mapped(who.principal, who.account_id, who.user["userId"], activityId)


@_mset("/{activityId}", response_model=DiversionMappingItem, operation_id="setActivityDiversion",
       summary="Set the diversion of one activity")
async def set_one_mapping(activityId: str, body: DiversionMappingPatch, who: Caller, core: CoreDep) -> dict[str, Any]:
    if body.activityId not in (None, activityId):
        invalid("activityId", "activityId.not.valid", "the body's activityId is the path's", body.activityId)
    await core.diversions.set_mapping(who.principal, who.account_id, who.user["userId"],
                                      [{"activityId": activityId, "phoneNumber": body.phoneNumber}], replace=False)
    return core.diversions.mapped(who.principal, who.account_id, who.user["userId"], activityId)


@mapping_router.delete("/{activityId}", status_code=204, response_class=Response,
                       operation_id="deleteActivityDiversion", summary="Delete the diversion of one activity")
async def delete_mapping(activityId: str, who: Caller, core: CoreDep) -> Response:
    await core.diversions.delete_mapping(who.principal, who.account_id, who.user["userId"], activityId)
    return Response(status_code=204)
