"""Reply templates: GlobalReplyTemplate (6 operations) and the personal reply templates of the Chat (ops 3-10),
Email (ops 21-28) and Sms (ops 46-51) tags, which all read the same per-employee folder tree of one media; the
twin adds ``PUT``/``DELETE …/replytemplates/template?filePath=`` so that an employee can keep their own files."""
from __future__ import annotations

from enum import Enum
from typing import Any, Callable, Optional
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request

from callyard.api.cx import admin_schemas as models, admin_wire, schemas
from callyard.api.cx.admin_common import AdminDep
from callyard.api.cx.common import Caller
from callyard.api.cx.edge import INT_MAX, field, json_body, offset_of
from callyard.core.errors import Invalid

router = APIRouter(responses=schemas.ERRORS)
GLOBAL: list[str | Enum] = ["GlobalReplyTemplate"]


# ---------------------------------------------------------------------- global reply templates
def _template_body(body: dict[str, Any]) -> dict[str, Any]:
    return {name: field(body, name) for name in ("customerText", "template", "templateText", "media", "tags",
                                                 "queues") if field(body, name, ...) is not ...}


@router.get("/globalreplytemplates", tags=GLOBAL, summary="OData Get global reply templates",
            responses=schemas.ok(schemas.collection(models.GlobalReplyTemplateModel)))
async def global_templates(request: Request, caller: Caller, admin: AdminDep,
                           offset: Optional[int] = None, siteId: Optional[str] = None, search: str = "",
                           skip: int = Query(0, ge=0, le=INT_MAX), top: int = Query(25, ge=0, le=INT_MAX),
                           media: Optional[str] = None) -> Any:
    offset_of(request)
    found, total = admin.global_templates.search(caller, search=search, media=media, skip=skip, top=top,
                                                 site_id=siteId)
    query = {k: v for k, v in request.query_params.items()}
    out_links: dict[str, Any] = {"self": {"href": str(request.url.path) + (f"?{request.url.query}"
                                                                            if request.url.query else "")}}
    if top and skip + top < total:
        out_links["next"] = {"href": request.url.path + "?" + urlencode({**query, "skip": str(skip + top)})}
    return {"_links": out_links, "count": total,
            "_embedded": {"items": [admin_wire.global_reply_template(t) for t in found]}}


@router.post("/globalreplytemplates", tags=GLOBAL, summary="Create a new Global Reply Template.",
             responses=schemas.ok(models.GlobalReplyTemplateModel),
             openapi_extra=schemas.body(models.GLOBAL_REPLY_TEMPLATE))
async def create_global_template(request: Request, caller: Caller, admin: AdminDep) -> Any:
    body = _template_body(await json_body(request))
    return admin_wire.global_reply_template(await admin.global_templates.create(caller, body))


@router.get("/globalreplytemplates/tags", tags=GLOBAL, summary="GlobalReplyTemplate_GetGlobalReplyTemplateTags",
            responses=schemas.ok(schemas.collection(models.Tag)))
async def global_template_tags(request: Request, caller: Caller, admin: AdminDep) -> Any:
    items = admin.global_templates.tags(caller)
    return {"_links": {"self": {"href": request.url.path}}, "count": len(items), "_embedded": {"items": items}}


@router.get("/globalreplytemplates/{id}", tags=GLOBAL, summary="Get a single global reply template.",
            responses=schemas.ok(models.GlobalReplyTemplateModel))
async def global_template(id: str, caller: Caller, admin: AdminDep) -> Any:
    return admin_wire.global_reply_template(admin.global_templates.get(caller, id))


@router.put("/globalreplytemplates/{id}", tags=GLOBAL, summary="Update a Global Reply Template.",
            responses=schemas.ok(models.GlobalReplyTemplateModel),
            openapi_extra=schemas.body(models.GLOBAL_REPLY_TEMPLATE))
async def update_global_template(id: str, request: Request, caller: Caller, admin: AdminDep) -> Any:
    body = _template_body(await json_body(request))
    return admin_wire.global_reply_template(await admin.global_templates.update(caller, id, body))


@router.delete("/globalreplytemplates/{id}", tags=GLOBAL, summary="Delete a Global Reply Template.",
               responses=schemas.ok(str))
async def delete_global_template(id: str, caller: Caller, admin: AdminDep) -> Any:
    await admin.global_templates.delete(caller, id)
    return "OK"


# ---------------------------------------------------------------------- personal reply templates
FILE_PATH = Query(..., alias="filePath", description="Relative to the base directory ('/' or '\\' separated)")


def _personal(segment: str, media: str, access_checks: bool) -> None:
    tags: list[str | Enum] = [media]
    base = f"/{segment}/replytemplates"

    async def folders(caller: Caller, admin: AdminDep) -> Any:
        return admin_wire.reply_template_folder(admin.personal_templates.folders(caller, media))

    async def templates(caller: Caller, admin: AdminDep) -> Any:
        return [admin_wire.reply_template(t) for t in admin.personal_templates.templates(caller, media)]

    async def base_directory(caller: Caller, admin: AdminDep) -> Any:
        return admin.personal_templates.base_directory(caller, media)

    async def template(caller: Caller, admin: AdminDep, file_path: str = FILE_PATH) -> Any:
        return admin_wire.reply_template(admin.personal_templates.template(caller, media, file_path))

    async def can_access_file(caller: Caller, admin: AdminDep, file_path: str = FILE_PATH) -> Any:
        return "true" if admin.personal_templates.can_access_file(caller, media, file_path) else "false"

    async def can_access_directory(caller: Caller, admin: AdminDep, file_path: str = FILE_PATH) -> Any:
        return "true" if admin.personal_templates.can_access_directory(caller, media, file_path) else "false"

    async def file_names(caller: Caller, admin: AdminDep) -> Any:
        return admin.personal_templates.file_names(caller, media)

    async def content(caller: Caller, admin: AdminDep,
                      file_name: str = Query(..., alias="fileName", description="Relative to the base directory")
                      ) -> Any:
        return {"string": admin.personal_templates.template(caller, media, file_name)["template"]}

    async def save(request: Request, caller: Caller, admin: AdminDep, file_path: str = FILE_PATH) -> Any:
        body = await json_body(request)
        text = field(body, "template")
        if not isinstance(text, str):
            raise Invalid("InvalidTemplate", "template (the file's text) is required")
        return admin_wire.reply_template(admin.personal_templates.save(caller, media, file_path, text))

    async def remove(caller: Caller, admin: AdminDep, file_path: str = FILE_PATH) -> Any:
        admin.personal_templates.remove(caller, media, file_path)
        return "OK"

    routes: list[tuple[str, str, Callable[..., Any], Any, str, dict[str, Any] | None]] = [
        ("GET", "/folders", folders, models.ReplyTemplateFolder, "Get a list of Personal Reply Template folders",
         None),
        ("GET", "", templates, list[models.ReplyTemplateFile], "Get a list of Personal Reply Templates", None),
        ("GET", "/basedirectory", base_directory, str, f"{media}_GetReplyTemplatesBaseDirectory", None),
        ("GET", "/template", template, models.ReplyTemplateFile, f"{media}_GetReplyTemplate", None),
        ("GET", "/filenames", file_names, list[str], "Get a list of personal reply template file names", None),
        ("GET", "/content", content, models.StringModel, "Get personal reply template content File name", None),
        ("PUT", "/template", save, models.ReplyTemplateFile,
         "Save a personal reply template file (the twin's addition)", schemas.body(models.REPLY_TEMPLATE_FILE)),
        ("DELETE", "/template", remove, str, "Delete a personal reply template file or an empty folder (the "
                                             "twin's addition)", None),
    ]
    if access_checks:
        routes[4:4] = [
            ("GET", "/canaccessfile", can_access_file, str,
             "Check to see if the MICCSDK can access the desired reply template file", None),
            ("GET", "/canaccessdirectory", can_access_directory, str,
             "Check to see if the MICCSDK can access the desired reply template directory", None)]
    for method, suffix, handler, model, summary, extra in routes:
        router.add_api_route(base + suffix, handler, methods=[method], tags=tags, summary=summary,
                             responses=schemas.ok(model), openapi_extra=extra,
                             operation_id=f"{media}_{handler.__name__}_{method.lower()}")


_personal("chat", "Chat", access_checks=True)
_personal("email", "Email", access_checks=True)
_personal("sms", "Sms", access_checks=False)
