"""CloudLink Admin API façade (contract: reference/cloudlink-apis.md §3 and the seed 000 Admin tutorial).

Routes that exist both in the token's account (``/users``, ``/groups``) and in an explicit account
(``/accounts/{accountId}/users``, …) share one handler; without ``accountId`` the core uses the caller's
account.
"""
from __future__ import annotations

from typing import Any, Callable

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from callyard.api.cloudlink import schemas
from callyard.api.cloudlink.wire import (account_wire, client_wire, contact_wire, group_wire, member_wire,
                                         user_wire)
from callyard.api.cloudlink.edge import BASE_PATH
from callyard.api.cloudlink.edge.body import read_json
from callyard.api.cloudlink.edge.errors import ERRORS
from callyard.api.cloudlink.edge.odata import collection
from callyard.api.common.errors import ERROR_RESPONSES
from callyard.api.common.security import principal
from callyard.api.hot import Decline, HotRequest, HotRoute
from callyard.api.deps import CoreDep, MailerDep
from callyard.core import context
from callyard.core.errors import CoreError, Invalid, NotFound
from callyard.core.principal import Principal
from callyard.api.cloudlink.edge.hosts import arrived_path

router = APIRouter(tags=["admin"], responses=ERROR_RESPONSES)
ACCOUNT_SCOPES = ("", "/accounts/{accountId}")
TAG_VALUE_NEEDED = "a JSON tag value is required"


def _params(request: Request) -> dict[str, str]:
    return dict(request.query_params)


def _route(paths: list[str], method: str, status: int = 200, **kwargs: Any) -> Callable[[Any], Any]:
    def register(fn: Any) -> Any:
        for path in paths:
            router.add_api_route(path, fn, methods=[method], status_code=status, **kwargs)
        return fn
    return register


# ---------------------------------------------------------------------------- accounts
@router.get("/accounts", summary="Accounts visible to the caller")
async def list_accounts(request: Request, core: CoreDep, actor: Principal = Depends(principal)) -> dict[str, Any]:
    items = [account_wire(a) for a in core.directory.list_accounts(actor)]
    return collection(items, _params(request), arrived_path(request.scope), expandable=("tags",))


@router.post("/accounts", status_code=201, summary="Create a customer account (PARTNER_ADMIN)")
async def create_account(body: schemas.AccountCreate, request: Request, core: CoreDep,
                         actor: Principal = Depends(principal)) -> dict[str, Any]:
    return account_wire(await core.directory.create_account(actor, schemas.fields(body)))


@router.get("/accounts/{accountId}")
async def get_account(accountId: str, request: Request, core: CoreDep,
                      actor: Principal = Depends(principal)) -> dict[str, Any]:
    return account_wire(core.directory.get_account(actor, accountId))


@router.put("/accounts/{accountId}")
async def update_account(accountId: str, body: schemas.AccountUpdate, request: Request, core: CoreDep,
                         actor: Principal = Depends(principal)) -> dict[str, Any]:
    return account_wire(await core.directory.update_account(actor, accountId, schemas.fields(body)))


@router.delete("/accounts/{accountId}")
async def delete_account(accountId: str, request: Request, core: CoreDep,
                         actor: Principal = Depends(principal)) -> dict[str, Any]:
    return account_wire(await core.directory.delete_account(actor, accountId))


@router.put("/accounts/{accountId}/tags/{tagId}")
async def put_account_tag(accountId: str, tagId: str, request: Request, core: CoreDep,
                          actor: Principal = Depends(principal)) -> dict[str, Any]:
    directory = core.directory
    account = directory.access.account(actor, accountId, "ACCOUNT_ADMIN")
    value = await read_json(request, missing=TAG_VALUE_NEEDED)
    return account_wire(await directory.put_tag(actor, "account", account, tagId, value))


@router.delete("/accounts/{accountId}/tags/{tagId}")
async def delete_account_tag(accountId: str, tagId: str, request: Request, core: CoreDep,
                             actor: Principal = Depends(principal)) -> dict[str, Any]:
    directory = core.directory
    account = directory.access.account(actor, accountId, "ACCOUNT_ADMIN")
    return account_wire(await directory.delete_tag(actor, "account", account, tagId))


# ---------------------------------------------------------------------------- users
@_route([p + "/users" for p in ACCOUNT_SCOPES], "GET", summary="Users of the account")
async def list_users(request: Request, core: CoreDep, accountId: str | None = None,
                     actor: Principal = Depends(principal)) -> dict[str, Any]:
    items = [user_wire(u, request) for u in core.directory.list_users(actor, accountId)]
    return collection(items, _params(request), arrived_path(request.scope), expandable=("tags",))


async def hot_list_users(hot: HotRequest) -> dict[str, Any]:
    """``GET /users`` (the token's account) served hot; with an ``accountId`` query, FastAPI's route answers."""
    request = hot.request
    if "accountId" in request.query_params:
        raise Decline()
    return await list_users(request, hot.twin.core, None, hot.principal())


HOT_ROUTES = (HotRoute("GET", f"{BASE_PATH}/users", hot_list_users),)


@router.post("/accounts/{accountId}/users", status_code=201, summary="Create a user in the account (recommended)")
async def create_user(accountId: str, body: schemas.UserCreate, request: Request, core: CoreDep,
                      actor: Principal = Depends(principal)) -> dict[str, Any]:
    data = schemas.fields(body)
    data.pop("accountId", None)
    return user_wire(await core.directory.create_user(actor, accountId, data), request)


@router.post("/users", status_code=201, summary="Create a USER in the account named in the body (legacy)")
async def create_user_legacy(body: schemas.UserCreate, request: Request, core: CoreDep,
                             actor: Principal = Depends(principal)) -> dict[str, Any]:
    data = schemas.fields(body)
    account = data.pop("accountId", None)
    return user_wire(await core.directory.create_user(actor, account, data, restricted=True), request)


@router.patch("/accounts/{accountId}/users", summary="Bulk create, update and delete users")
async def bulk_users(accountId: str, body: schemas.BulkRequest, request: Request, core: CoreDep,
                     actor: Principal = Depends(principal)) -> dict[str, Any]:
    directory = core.directory
    directory.access.account(actor, accountId, "ACCOUNT_ADMIN")
    correlation = context.correlation_id.get() or ""
    results = []
    for index, operation in enumerate(body.operations):
        headers = {"x-mitel-correlation-id": f"{correlation}-{index}"}
        try:
            if operation.op in ("create", "add"):
                user = await directory.create_user(actor, accountId, dict(operation.body or {}))
                results.append({"statusCode": 201, "headers": headers, "body": user_wire(user, request)})
                continue
            if not operation.id:
                raise Invalid("ValidationError", f"operations[{index}].id is required for {operation.op}")
            if operation.op in ("update", "replace"):
                user = await directory.update_user(actor, operation.id, dict(operation.body or {}), accountId)
            else:
                user = await directory.delete_user(actor, operation.id, accountId)
            results.append({"statusCode": 200, "headers": headers, "body": user_wire(user, request)})
        except CoreError as exc:
            results.append({"statusCode": ERRORS.status_of(exc), "headers": headers,
                            "body": {"name": exc.name, "message": exc.message}})
    return {"operations": results}


@_route([p + "/users/{userId}" for p in ACCOUNT_SCOPES], "GET")
async def get_user(userId: str, request: Request, core: CoreDep, accountId: str | None = None,
                   actor: Principal = Depends(principal)) -> dict[str, Any]:
    return user_wire(core.directory.get_user(actor, userId, accountId), request)


@_route([p + "/users/{userId}" for p in ACCOUNT_SCOPES], "PUT")
async def update_user(userId: str, body: schemas.UserUpdate, request: Request, core: CoreDep,
                      accountId: str | None = None,
                      actor: Principal = Depends(principal)) -> dict[str, Any]:
    updated = await core.directory.update_user(actor, userId, schemas.fields(body), accountId)
    return user_wire(updated, request)


@_route([p + "/users/{userId}" for p in ACCOUNT_SCOPES], "DELETE")
async def delete_user(userId: str, request: Request, core: CoreDep, accountId: str | None = None,
                      actor: Principal = Depends(principal)) -> dict[str, Any]:
    return user_wire(await core.directory.delete_user(actor, userId, accountId), request)


@_route([p + "/users/{userId}/tags/{tagId}" for p in ACCOUNT_SCOPES], "GET")
async def get_user_tag(userId: str, tagId: str, request: Request, core: CoreDep, accountId: str | None = None,
                       actor: Principal = Depends(principal)) -> dict[str, Any]:
    user = core.directory.get_user(actor, userId, accountId)
    if tagId not in (user.get("tags") or {}):
        raise NotFound("TagNotFound", f"tag {tagId} was not found")
    return {"id": tagId, "value": user["tags"][tagId],
            "_links": {"self": f"{BASE_PATH}/users/{userId}/tags/{tagId}"}}


@_route([p + "/users/{userId}/tags/{tagId}" for p in ACCOUNT_SCOPES], "PUT")
async def put_user_tag(userId: str, tagId: str, request: Request, core: CoreDep, accountId: str | None = None,
                       actor: Principal = Depends(principal)) -> dict[str, Any]:
    directory = core.directory
    user = directory.get_user(actor, userId, accountId)
    value = await read_json(request, missing=TAG_VALUE_NEEDED)
    return user_wire(await directory.put_tag(actor, "user", user, tagId, value), request)


@_route([p + "/users/{userId}/tags/{tagId}" for p in ACCOUNT_SCOPES], "DELETE")
async def delete_user_tag(userId: str, tagId: str, request: Request, core: CoreDep, accountId: str | None = None,
                          actor: Principal = Depends(principal)) -> dict[str, Any]:
    directory = core.directory
    user = directory.get_user(actor, userId, accountId)
    return user_wire(await directory.delete_tag(actor, "user", user, tagId), request)


@router.post("/accounts/{accountId}/users/{userId}/welcome", status_code=202,
             summary="Send the welcome (activation) e-mail")
async def welcome(accountId: str, userId: str, request: Request, core: CoreDep, mailer: MailerDep,
                  body: schemas.WelcomeRequest | None = None,
                  actor: Principal = Depends(principal)) -> dict[str, Any]:
    language = body.languageCode if body else None
    mail = await core.directory.send_welcome(actor, accountId, userId, language)
    mailer.deliver(mail)
    return {"mailId": mail["mailId"], "userId": userId, "accountId": mail["accountId"], "to": mail["to"],
            "languageCode": mail["languageCode"], "status": "queued"}


# ---------------------------------------------------------------------------- photos
@_route([p + "/users/{userId}/photo" for p in ACCOUNT_SCOPES], "PUT",
        summary="Upload the user's photo (the body is the image bytes)")
async def put_user_photo(userId: str, request: Request, core: CoreDep, accountId: str | None = None,
                         actor: Principal = Depends(principal)) -> dict[str, Any]:
    directory = core.directory
    user = directory.get_user(actor, userId, accountId)
    return user_wire(await directory.put_photo(actor, "user", user, await request.body()), request)


@_route([p + "/users/{userId}/photo" for p in ACCOUNT_SCOPES], "DELETE")
async def delete_user_photo(userId: str, request: Request, core: CoreDep, accountId: str | None = None,
                            actor: Principal = Depends(principal)) -> dict[str, Any]:
    directory = core.directory
    user = directory.get_user(actor, userId, accountId)
    return user_wire(await directory.delete_photo(actor, "user", user), request)


@_route([p + "/contacts/{contactId}/photo" for p in ACCOUNT_SCOPES], "PUT")
async def put_contact_photo(contactId: str, request: Request, core: CoreDep, accountId: str | None = None,
                            actor: Principal = Depends(principal)) -> dict[str, Any]:
    directory = core.directory
    contact = directory.get_contact(actor, contactId, accountId)
    return contact_wire(await directory.put_photo(actor, "contact", contact, await request.body()), request)


@_route([p + "/contacts/{contactId}/photo" for p in ACCOUNT_SCOPES], "DELETE")
async def delete_contact_photo(contactId: str, request: Request, core: CoreDep, accountId: str | None = None,
                               actor: Principal = Depends(principal)) -> dict[str, Any]:
    directory = core.directory
    contact = directory.get_contact(actor, contactId, accountId)
    return contact_wire(await directory.delete_photo(actor, "contact", contact), request)


# ---------------------------------------------------------------------------- groups
@_route([p + "/groups" for p in ACCOUNT_SCOPES], "GET")
async def list_groups(request: Request, core: CoreDep, accountId: str | None = None,
                      actor: Principal = Depends(principal)) -> dict[str, Any]:
    items = [group_wire(g) for g in core.directory.list_groups(actor, accountId)]
    return collection(items, _params(request), arrived_path(request.scope))


@_route([p + "/groups" for p in ACCOUNT_SCOPES], "POST", status=201)
async def create_group(body: schemas.GroupCreate, request: Request, core: CoreDep, accountId: str | None = None,
                       actor: Principal = Depends(principal)) -> dict[str, Any]:
    return group_wire(await core.directory.create_group(actor, accountId, schemas.fields(body)))


@_route([p + "/groups/{groupId}" for p in ACCOUNT_SCOPES], "GET")
async def get_group(groupId: str, request: Request, core: CoreDep, accountId: str | None = None,
                    actor: Principal = Depends(principal)) -> dict[str, Any]:
    return group_wire(core.directory.get_group(actor, groupId, accountId))


@_route([p + "/groups/{groupId}" for p in ACCOUNT_SCOPES], "PUT")
async def update_group(groupId: str, body: schemas.GroupUpdate, request: Request, core: CoreDep,
                       accountId: str | None = None,
                       actor: Principal = Depends(principal)) -> dict[str, Any]:
    return group_wire(await core.directory.update_group(actor, groupId, accountId, schemas.fields(body)))


@_route([p + "/groups/{groupId}" for p in ACCOUNT_SCOPES], "DELETE")
async def delete_group(groupId: str, request: Request, core: CoreDep, accountId: str | None = None,
                       actor: Principal = Depends(principal)) -> dict[str, Any]:
    return group_wire(await core.directory.delete_group(actor, groupId, accountId))


@_route([p + "/groups/{groupId}/members" for p in ACCOUNT_SCOPES], "GET")
async def list_members(groupId: str, request: Request, core: CoreDep, accountId: str | None = None,
                       actor: Principal = Depends(principal)) -> dict[str, Any]:
    group = core.directory.get_group(actor, groupId, accountId)
    return collection([member_wire(group, m) for m in group["members"]], _params(request), arrived_path(request.scope))


@_route([p + "/groups/{groupId}/members" for p in ACCOUNT_SCOPES], "POST", status=201,
        summary="Add one member (an object) or several (an array)")
async def add_members(groupId: str, body: schemas.Member | list[schemas.Member], request: Request, core: CoreDep,
                      accountId: str | None = None, actor: Principal = Depends(principal)) -> dict[str, Any]:
    members = [m.model_dump(exclude_none=True) for m in (body if isinstance(body, list) else [body])]
    return group_wire(await core.directory.add_members(actor, groupId, accountId, members))


@_route([p + "/groups/{groupId}/members/{memberId}" for p in ACCOUNT_SCOPES], "DELETE")
async def remove_member(groupId: str, memberId: str, request: Request, core: CoreDep, accountId: str | None = None,
                        actor: Principal = Depends(principal)) -> dict[str, Any]:
    return group_wire(await core.directory.remove_member(actor, groupId, accountId, memberId))


# ---------------------------------------------------------------------------- contacts
@_route([p + "/contacts" for p in ACCOUNT_SCOPES], "GET")
async def list_contacts(request: Request, core: CoreDep, accountId: str | None = None,
                        actor: Principal = Depends(principal)) -> dict[str, Any]:
    items = [contact_wire(c, request) for c in core.directory.list_contacts(actor, accountId)]
    return collection(items, _params(request), arrived_path(request.scope))


@_route([p + "/contacts" for p in ACCOUNT_SCOPES], "POST", status=201)
async def create_contact(body: schemas.ContactCreate, request: Request, core: CoreDep, accountId: str | None = None,
                         actor: Principal = Depends(principal)) -> dict[str, Any]:
    return contact_wire(await core.directory.create_contact(actor, accountId, schemas.fields(body)), request)


@_route([p + "/contacts/{contactId}" for p in ACCOUNT_SCOPES], "GET")
async def get_contact(contactId: str, request: Request, core: CoreDep, accountId: str | None = None,
                      actor: Principal = Depends(principal)) -> dict[str, Any]:
    return contact_wire(core.directory.get_contact(actor, contactId, accountId), request)


@_route([p + "/contacts/{contactId}" for p in ACCOUNT_SCOPES], "PUT")
async def update_contact(contactId: str, body: schemas.ContactUpdate, request: Request, core: CoreDep,
                         accountId: str | None = None,
                         actor: Principal = Depends(principal)) -> dict[str, Any]:
    updated = await core.directory.update_contact(actor, contactId, accountId, schemas.fields(body))
    return contact_wire(updated, request)


@_route([p + "/contacts/{contactId}" for p in ACCOUNT_SCOPES], "DELETE")
async def delete_contact(contactId: str, request: Request, core: CoreDep, accountId: str | None = None,
                         actor: Principal = Depends(principal)) -> dict[str, Any]:
    return contact_wire(await core.directory.delete_contact(actor, contactId, accountId), request)


# ---------------------------------------------------------------------------- clients
@router.get("/accounts/{accountId}/clients", summary="Clients (applications) of the account")
async def list_clients(accountId: str, request: Request, core: CoreDep,
                       actor: Principal = Depends(principal)) -> dict[str, Any]:
    account = core.directory.access.account(actor, accountId, "ACCOUNT_ADMIN")
    items = [client_wire(r) for r in core.applications.in_account(account["accountId"])]
    return collection(items, _params(request), arrived_path(request.scope))


@router.post("/accounts/{accountId}/clients", status_code=201,
             summary="Create a client for client_credentials; the secret is shown once")
async def create_client(accountId: str, body: schemas.ClientCreate, request: Request, core: CoreDep,
                        actor: Principal = Depends(principal)) -> JSONResponse:
    record, secret = await core.applications.register(actor, schemas.fields(body), account_ref=accountId,
                                                                 as_client=True)
    return JSONResponse({**client_wire(record), "clientSecret": secret}, status_code=201)


@router.get("/accounts/{accountId}/clients/{clientId}")
async def get_client(accountId: str, clientId: str, request: Request, core: CoreDep,
                     actor: Principal = Depends(principal)) -> dict[str, Any]:
    core.directory.access.account(actor, accountId, "ACCOUNT_ADMIN")
    return client_wire(core.applications.get(actor, clientId, accountId))


@router.delete("/accounts/{accountId}/clients/{clientId}")
async def delete_client(accountId: str, clientId: str, request: Request, core: CoreDep,
                        actor: Principal = Depends(principal)) -> dict[str, Any]:
    return client_wire(await core.applications.delete(actor, clientId, accountId))

