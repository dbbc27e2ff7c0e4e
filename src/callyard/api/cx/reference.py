"""ReasonCode, Status, Extension, Dnis, Site, Directory and WarningReason (15 operations)."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from callyard.api.cx import schemas, wire
from callyard.api.cx.common import Caller, DeskDep, page
from callyard.api.cx.edge import field, json_body
from callyard.core.errors import Invalid

router = APIRouter(responses=schemas.ERRORS)


@router.get("/reasoncodes", responses=schemas.ok(schemas.collection(schemas.ReasonCodeModel)), tags=["ReasonCode"],
            summary="OData Get reason codes")
async def reason_codes(request: Request, caller: Caller, desk: DeskDep) -> Any:
    return page(request, [wire.reason_code(r) for r in desk.reason_codes(caller)])


@router.get("/reasoncodes/{id}", responses=schemas.ok(schemas.ReasonCodeModel), tags=["ReasonCode"],
            summary="Get a reason code")
async def reason_code(id: str, caller: Caller, desk: DeskDep) -> Any:
    return wire.reason_code(desk.reason_code(caller, id))


@router.get("/status", responses=schemas.ok(schemas.StatusModel), tags=["Status"],
            summary="Returns status information of the server.")
async def status(caller: Caller, desk: DeskDep) -> Any:
    return wire.status(desk.status())


@router.get("/extensions", responses=schemas.ok(schemas.collection(schemas.ExtensionModel)), tags=["Extension"],
            summary="OData Get all extensions.")
async def extensions(request: Request, caller: Caller, desk: DeskDep) -> Any:
    return page(request, [wire.extension(e) for e in desk.extensions(caller)])


@router.get("/extensions/{id}", responses=schemas.ok(schemas.ExtensionModel), tags=["Extension"],
            summary="Get an extension.")
async def extension(id: str, caller: Caller, desk: DeskDep) -> Any:
    return wire.extension(desk.extension(caller, id))


@router.get("/dnis", responses=schemas.ok(schemas.collection(schemas.DnisModel)), tags=["Dnis"],
            summary="OData Get dnis numbers")
async def dnis_numbers(request: Request, caller: Caller, desk: DeskDep) -> Any:
    return page(request, [wire.dnis(d) for d in desk.dnis_numbers(caller)])


@router.get("/dnis/{id}", responses=schemas.ok(schemas.DnisModel), tags=["Dnis"], summary="Get a dnis number")
async def dnis(id: str, caller: Caller, desk: DeskDep) -> Any:
    return wire.dnis(desk.dnis(caller, id))


@router.get("/sites", responses=schemas.ok(schemas.collection(schemas.SiteModel)), tags=["Site"],
            summary="OData Get sites / tenants in the system")
async def sites(request: Request, caller: Caller, desk: DeskDep) -> Any:
    return page(request, [wire.site(s) for s in desk.sites(caller)])


@router.get("/sites/{id}", responses=schemas.ok(schemas.SiteModel), tags=["Site"], summary="Get a site")
async def site(id: str, caller: Caller, desk: DeskDep) -> Any:
    return wire.site(desk.site(caller, id))


def _bool(request: Request, name: str) -> None:
    raw = request.query_params.get(name)
    if raw is not None and raw.lower() not in ("true", "false"):
        raise Invalid("InvalidRequest", f"{name} is true or false")


@router.get("/directory", responses=schemas.ok(schemas.collection(schemas.DirectoryEntryModel)), tags=["Directory"],
            summary="OData Get all directory entries.")
async def directory(request: Request, caller: Caller, desk: DeskDep) -> Any:
    _bool(request, "voiceOnly")
    items = [wire.directory_entry(e) for e in desk.directory(caller)]
    if request.query_params.get("voiceOnly", "false").lower() == "true":
        items = [e for e in items if e["phone"]]
    return page(request, items)


def _entry(body: dict[str, Any]) -> dict[str, Any]:
    return {k: field(body, k) for k in ("name", "email", "phone", "mobilePhone", "extension", "custom")
            if field(body, k) is not None}


@router.post("/directory", responses=schemas.ok(schemas.DirectoryEntryModel), tags=["Directory"],
             summary="Create a new directory entry.",
             openapi_extra=schemas.body(schemas.DIRECTORY_ENTRY))
async def create_entry(request: Request, caller: Caller, desk: DeskDep) -> Any:
    return wire.directory_entry(await desk.create_directory_entry(caller, _entry(await json_body(request))))


@router.get("/directory/{id}", responses=schemas.ok(schemas.DirectoryEntryModel), tags=["Directory"],
            summary="OData Get a single directory entry.")
async def directory_entry(id: str, caller: Caller, desk: DeskDep) -> Any:
    return wire.directory_entry(desk.directory_entry(caller, id))


@router.put("/directory/{id}", responses=schemas.ok(schemas.DirectoryEntryModel), tags=["Directory"],
            summary="Update a directory entry.",
            openapi_extra=schemas.body(schemas.DIRECTORY_ENTRY))
async def update_entry(id: str, request: Request, caller: Caller, desk: DeskDep) -> Any:
    return wire.directory_entry(await desk.update_directory_entry(caller, id, _entry(await json_body(request))))


@router.get("/warningreasons", responses=schemas.ok(schemas.collection(schemas.WarningReasonModel)),
            tags=["WarningReason"], summary="OData Get warning reasons")
async def warning_reasons(request: Request, caller: Caller, desk: DeskDep) -> Any:
    return page(request, [wire.warning_reason(w) for w in desk.warning_reasons(caller)])


@router.get("/warningreasons/{id}", responses=schemas.ok(schemas.WarningReasonModel), tags=["WarningReason"],
            summary="Get a warning reason")
async def warning_reason(id: str, caller: Caller, desk: DeskDep) -> Any:
    return wire.warning_reason(desk.warning_reason(caller, id))
