"""The console's routes: the home page at ``/``, the screens under ``/_callyard/console/{screen}``, their live
streams (``/stream/{screen}``, SSE), the actions (``POST /act/{action}``) and the static files.

Every screen and stream shows one account the viewer may see (``?account=``, checked server-side on each
request and on each re-render of a stream); every action runs the core operation the APIs and the simulator
run (``Engine`` verbs, ``ContactCenter.set_agent``, ``Outbox.replay``, ``Faults.add``, …) as the viewer, and
needs the session's CSRF token. An action answers with a one-line message for the page's status region (an
htmx request), or redirects back to the screen (a plain form post)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Awaitable, Callable
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from pydantic import ValidationError

from callyard.api.common.errors import HTTP_STATUSES
from callyard.api.console import landing, views
from callyard.api.console.live import Hub
from callyard.api.console.scenarios import Scenarios
from callyard.api.console.session import COOKIE, Sessions, SignInRequired, Viewer, cookie_args
from callyard.api.deps import twin_of
from callyard.core.engine.dialplan import is_external
from callyard.core.engine.model import EXTERNAL
from callyard.core.errors import CoreError, Forbidden, Invalid, NotFound
from callyard.core.principal import Principal
from callyard.faults.spec import FaultSpec

BASE = "/_callyard/console"
HERE = Path(__file__).parent
STATIC = HERE / "static"
STATIC_TYPES = {".js": "text/javascript", ".css": "text/css", ".txt": "text/plain"}
SCREENS = (("switchboard", "Switchboard"), ("contact-center", "Contact center"), ("events", "Events & deliveries"),
           ("requests", "Requests"), ("control", "Control"), ("directory", "Directory"))
BLURBS = {"switchboard": "extensions, groups and the trunk with their phone state, live calls as legs, a softphone "
                         "per extension and an outside caller",
          "contact-center": "queues with what waits in them, agents and their state per media, service level",
          "events": "webhook deliveries with every attempt and a replay button, subscriptions, the event stream",
          "requests": "the request journal with filters, and the best-practice audit beside it",
          "control": "the virtual clock, faults and their hits, reset, export and import, scenario runs, mail and SMS "
                     "outboxes",
          "directory": "accounts, users, groups and applications"}
MEDIA = (("voice", "Voice"), ("chat", "Chat"), ("email", "E-mail"), ("sms", "SMS"), ("openMedia", "Open media"))
SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "x-frame-options": "DENY", "x-content-type-options": "nosniff", "referrer-policy": "same-origin",
    "cache-control": "no-store"}
# Behaviour profiles of the outside-caller panel (sim/profiles.py): what the caller does once answered.
CALLER_PROFILES: dict[str, dict[str, Any] | None] = {"": None, "brief": {"mode": "manual", "talkSeconds": 10},
                                                     "chatty": {"mode": "manual", "talkSeconds": [60, 180]}}
PHONE_ACTIONS = {"answer": "answer", "reject": "busy", "busy": "busy", "hangup": "hangup", "hold": "hold",
                 "retrieve": "retrieve"}

router = APIRouter(include_in_schema=False)
templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True),
                        trim_blocks=False, lstrip_blocks=False)


def compile_templates() -> None:
    """Compile every template once, when the twin is built, so no request pays for it."""
    for name in templates.list_templates():
        templates.get_template(name)


# ============================================================================ plumbing
def sessions(request: Request) -> Sessions:
    found: Sessions = twin_of(request).family_state["console.sessions"]
    return found


def hub(request: Request) -> Hub:
    found: Hub = twin_of(request).family_state["console.hub"]
    return found


def scenarios(request: Request) -> Scenarios:
    found: Scenarios = twin_of(request).family_state["console.scenarios"]
    return found


def viewer_of(request: Request) -> tuple[Viewer, str | None]:
    """The viewer, and a new session id to set as the cookie (open control: a session without sign-in)."""
    store = sessions(request)
    try:
        return store.viewer(request), None
    except SignInRequired:
        if not twin_of(request).settings.open_control:
            raise
    session = store.open_session()
    request.cookies[COOKIE] = session.session_id
    return store.viewer(request), session.session_id


def render(name: str, **context: Any) -> str:
    return templates.get_template(name).render(base=BASE, screens=SCREENS, media=MEDIA, **context)


def html(request: Request, body: str, status: int = 200, new_session: str | None = None) -> HTMLResponse:
    response = HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)
    if new_session is not None:
        response.set_cookie(value=new_session, max_age=None, **cookie_args(request))
    return response


def to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"{BASE}/login?{urlencode({'next': target})}", status_code=303)


def status_of(error: CoreError) -> int:
    return HTTP_STATUSES.get(error.kind, 400)


def page_context(request: Request, viewer: Viewer, account: dict[str, Any] | None, current: str,
                 title: str) -> dict[str, Any]:
    return {"viewer": viewer, "account": account, "acct": account["accountId"] if account else "",
            "current": current, "title": title, "scripts": True,
            "open_control": twin_of(request).settings.open_control}


def has_sms_outbox(request: Request) -> bool:
    return any(str(getattr(route, "path", "")).startswith("/_callyard/sms") for route in request.app.routes)


# ============================================================================ screens: what each renders
def _screen(request: Request, viewer: Viewer) -> views.Screen:
    return views.Screen(twin_of(request), viewer, viewer.account(request.query_params.get("account")))


def _filters(request: Request) -> dict[str, str]:
    return {k: request.query_params.get(k, "")[:100] for k in ("family", "status", "principal", "app")}


FRAGMENTS = {"switchboard": "_switchboard.html", "contact-center": "_contact_center.html", "events": "_events.html",
             "requests": "_requests.html", "control": "_control.html", "clock": "_clock.html"}


async def screen_data(request: Request, name: str, screen: views.Screen) -> dict[str, Any]:
    """What screen ``name`` shows (its page and its live part alike)."""
    if name == "switchboard":
        return {"board": views.switchboard(screen)}
    if name == "contact-center":
        return {"cc": views.contact_center(screen)}
    if name == "events":
        return {"ev": views.events(screen, await hub(request).recent(screen.twin.core.rt.store, screen.account_id))}
    if name == "requests":
        filters = _filters(request)
        return {"entries": views.journal_entries(screen, **filters), "audit": views.audit(screen),
                "filters": filters}
    if name in ("control", "clock"):
        return {"ctl": views.control(screen, has_sms_outbox(request)),
                "runs": [r.view() for r in scenarios(request).of({screen.account_id})]}
    if name == "directory":
        return {"dir": views.directory(screen)}
    raise NotFound("ScreenNotFound", f"no console screen {name}")


async def fragment(request: Request, name: str, viewer: Viewer) -> tuple[str, views.Screen]:
    """The live part of screen ``name`` for ``viewer`` (the same markup the page embeds and the stream sends)."""
    if name not in FRAGMENTS:
        raise NotFound("ScreenNotFound", f"no live console screen {name}")
    screen = _screen(request, viewer)
    data = await screen_data(request, name, screen)
    return render(FRAGMENTS[name], viewer=viewer, account=screen.account, acct=screen.account_id, **data), screen


# ============================================================================ home, sign-in
@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> Response:
    twin = twin_of(request)
    viewer: Viewer | None = None
    new_session = None
    try:
        viewer, new_session = viewer_of(request)
        account: dict[str, Any] | None = viewer.account(None)
    except (SignInRequired, CoreError):
        account = None
    body = render("home.html", title="Home", viewer=viewer, account=None, acct=account["accountId"] if account else "",
                  current="", scripts=False, blurbs=BLURBS, open_control=twin.settings.open_control,
                  **landing.home(twin, str(request.base_url).rstrip("/")))
    return html(request, body, new_session=new_session)


@router.get(BASE, response_class=HTMLResponse)
@router.get(BASE + "/", response_class=HTMLResponse)
async def console_root(request: Request) -> Response:
    return RedirectResponse(f"{BASE}/switchboard", status_code=303)


@router.get(BASE + "/login", response_class=HTMLResponse)
async def login_form(request: Request) -> Response:
    if twin_of(request).settings.open_control:
        return RedirectResponse(f"{BASE}/switchboard", status_code=303)
    return html(request, render("login.html", title="Sign in", viewer=None, scripts=False))


def _safe_next(value: str) -> str:
    """Where to go after signing in: a console path of this site only."""
    parts = urlsplit(value or "")
    if parts.scheme or parts.netloc or not parts.path.startswith(BASE + "/") or "\\" in value:
        return f"{BASE}/switchboard"
    return value


@router.post(BASE + "/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    form = await request.form()
    store = sessions(request)
    try:
        origin = request.headers.get("origin")
        if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host", ""):
            raise Forbidden("CrossOriginRequest", "sign in from the console's own page")
        if form.get("mode") == "operator":
            session = store.sign_in_operator(str(form.get("token") or ""))
        else:
            session = await store.sign_in_admin(str(form.get("username") or "").strip(),
                                                str(form.get("password") or ""))
    except CoreError as error:
        body = render("login.html", title="Sign in", viewer=None, scripts=False, error=error)
        return html(request, body, status=status_of(error))
    referer_next = urlsplit(request.headers.get("referer", "")).query
    wanted = dict(parse_qsl(referer_next)).get("next", "")
    response = RedirectResponse(_safe_next(wanted), status_code=303)
    response.set_cookie(value=session.session_id, max_age=None, **cookie_args(request))
    return response


@router.post(BASE + "/logout")
async def logout(request: Request) -> Response:
    store = sessions(request)
    session = store.find(request)
    if session is not None:
        form = await request.form()
        try:
            store.check_csrf(request, session, dict(form))
        except CoreError as error:
            return html(request, render("flash.html", error=error), status=status_of(error))
        store.end(request)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


# ============================================================================ static files
@router.get(BASE + "/static/{asset}")
async def static(asset: str) -> Response:
    path = STATIC / asset
    if "/" in asset or "\\" in asset or asset.startswith(".") or not path.is_file() \
            or path.suffix not in STATIC_TYPES:
        raise NotFound("AssetNotFound", f"no console asset {asset}")
    return FileResponse(path, media_type=STATIC_TYPES[path.suffix], headers={"cache-control": "public, max-age=3600",
                                                                             "x-content-type-options": "nosniff"})


# ============================================================================ state export (a download)
@router.get(BASE + "/state/export")
async def export_state(request: Request) -> Response:
    try:
        viewer, _ = viewer_of(request)
    except SignInRequired:
        return to_login(request)
    snapshot = twin_of(request).core.export_state(viewer.scope)
    return JSONResponse(snapshot, headers={"content-disposition": 'attachment; filename="callyard-state.json"',
                                           "cache-control": "no-store"})


# ============================================================================ live streams
@router.get(BASE + "/stream/{screen}")
async def stream(screen: str, request: Request) -> Response:
    name = screen
    try:
        viewer, _ = viewer_of(request)
        _, shown = await fragment(request, name, viewer)
    except SignInRequired:
        return html(request, "sign in again", status=401)
    except CoreError as error:
        return html(request, render("flash.html", error=error), status=status_of(error))
    store = sessions(request)

    async def again() -> str | None:
        try:
            current = store.viewer(request)    # the session may have ended, or the token been revoked
            body, _ = await fragment(request, name, current)
        except (SignInRequired, CoreError):
            return None                        # the stream ends
        return body

    return hub(request).stream(name, {shown.account_id} if name != "clock" else None, again,
                               request.is_disconnected)


@router.get(BASE + "/{screen}", response_class=HTMLResponse)
async def screen_page(screen: str, request: Request) -> Response:
    name = screen
    titles = dict(SCREENS)
    if name not in titles:
        raise NotFound("ScreenNotFound", f"no console screen {name}; see {BASE}/switchboard")
    try:
        viewer, new_session = viewer_of(request)
        shown = _screen(request, viewer)
    except SignInRequired:
        return to_login(request)
    except CoreError as error:
        return html(request, render("flash.html", error=error), status=status_of(error))
    context = page_context(request, viewer, shown.account, name, titles[name])
    extra: dict[str, Any] = {}
    if name == "requests":
        extra = {"families": [f.name for f in shown.twin.families.all if f.name != "console"],
                 "query": urlencode({"account": shown.account_id, **_filters(request)})}
    elif name == "control":
        extra = {"examples": Scenarios.examples()}
    body = render(f"{name.replace('-', '_')}.html", **await screen_data(request, name, shown), **extra, **context)
    return html(request, body, new_session=new_session)


# ============================================================================ actions
Action = Callable[[Request, views.Screen, dict[str, Any]], Awaitable[str]]
ACTIONS: dict[str, Action] = {}


def action(name: str) -> Callable[[Action], Action]:
    def register(handler: Action) -> Action:
        ACTIONS[name] = handler
        return handler
    return register


@router.post(BASE + "/act/{action}")
async def act(action: str, request: Request) -> Response:
    name = action
    handler = ACTIONS.get(name)
    htmx = request.headers.get("hx-request") == "true"
    try:
        viewer, _ = viewer_of(request)
        form = dict(await request.form())
        sessions(request).check_csrf(request, viewer.session, form)
        if handler is None:
            raise NotFound("ActionNotFound", f"no console action {name}")
        screen = _screen(request, viewer)
        message = await handler(request, screen, form)
        status = 200
        body = render("flash.html", message=message)
    except SignInRequired:
        if not htmx:
            return to_login(request)
        status, body = 401, render("flash.html", error=Forbidden("SignInRequired", "sign in again"))
    except ValidationError as invalid:
        first = invalid.errors()[0] if invalid.errors() else {"msg": "invalid"}
        where = ".".join(str(p) for p in first.get("loc", ()))
        status, body = 400, render("flash.html", error=Invalid("ValidationError",
                                                                f"{where}: {first.get('msg')}".strip(": ")))
    except CoreError as error:
        status, body = status_of(error), render("flash.html", error=error)
    if htmx:
        return html(request, body, status=status)
    if status >= 400:
        page = render("base.html", title="Console", viewer=None, flash=Markup(body))   # body: rendered, escaped
        return html(request, page, status=status)
    referer = request.headers.get("referer", "")
    back = referer if urlsplit(referer).netloc == request.headers.get("host") else f"{BASE}/switchboard"
    return RedirectResponse(back, status_code=303)


def _text(form: dict[str, Any], key: str, limit: int = 200) -> str:
    value = form.get(key)
    return str(value).strip()[:limit] if isinstance(value, str) else ""


def acting(screen: views.Screen) -> Principal:
    """Who an engine operation acts as: the signed-in admin, or the operator bound to the shown account."""
    if screen.viewer.operator:
        return Principal(principal_id="callyard", account_id=screen.account_id, role="GLOBAL_ADMIN", kind="control")
    return screen.viewer.principal


async def _phone(screen: views.Screen, number: str, intent: str) -> dict[str, Any]:
    engine = screen.twin.core.engine
    actor, acct = acting(screen), screen.account_id
    endpoint = engine.sim_endpoint(actor, number, acct)
    leg_id = engine.target_leg(endpoint, intent)
    if intent == "answer":
        return await engine.answer(actor, number, leg_id, sim=True, account_ref=acct)
    if intent == "hold":
        return await engine.hold(actor, number, leg_id, sim=True, account_ref=acct)
    if intent == "retrieve":
        return await engine.retrieve(actor, number, leg_id, sim=True, account_ref=acct)
    return await engine.end(actor, number, leg_id, sim=True, account_ref=acct)


@action("phone")
async def phone_action(request: Request, screen: views.Screen, form: dict[str, Any]) -> str:
    number, verb = _text(form, "endpoint", 32), _text(form, "action", 20)
    if verb not in PHONE_ACTIONS:
        raise Invalid("InvalidAction", f"action is one of {', '.join(PHONE_ACTIONS)}")
    leg = await _phone(screen, number, PHONE_ACTIONS[verb])
    return f"{number}: {verb} — call {leg['legId']} is {leg['state']}"


@action("softphone")
async def softphone(request: Request, screen: views.Screen, form: dict[str, Any]) -> str:
    engine = screen.twin.core.engine
    actor, acct = acting(screen), screen.account_id
    number, verb, other = _text(form, "endpoint", 32), _text(form, "action", 20), _text(form, "number", 40)
    digit = _text(form, "digit", 64)
    if not number:
        raise Invalid("MissingEndpoint", "choose the extension whose phone acts")
    if digit:
        endpoint = engine.sim_endpoint(actor, number, acct)
        leg_id = engine.target_leg(endpoint, "hold")
        await engine.send_dtmf(actor, number, leg_id, digit, sim=True, account_ref=acct)
        return f"{number}: sent DTMF {digit}"
    if verb in PHONE_ACTIONS:
        leg = await _phone(screen, number, PHONE_ACTIONS[verb])
        return f"{number}: {verb} — call {leg['legId']} is {leg['state']}"
    if verb in ("dial", "transfer", "consult") and not other:
        raise Invalid("MissingNumber", f"enter the number to {verb}")
    if verb == "dial":
        leg = await engine.originate(acting(screen), number, other)
        return f"{number} dials {other}: call {leg['legId']}"
    endpoint = engine.sim_endpoint(actor, number, acct)
    talking = engine.target_leg(endpoint, "hold")
    if verb == "transfer":
        await engine.blind_transfer(actor, number, talking, other, sim=True, account_ref=acct)
        return f"{number} transferred the call to {other}"
    if verb == "consult":
        leg = await engine.consult(actor, number, talking, other, sim=True, account_ref=acct)
        return f"{number} holds the call and consults {other} (call {leg['legId']})"
    if verb == "complete":
        await engine.supervised_transfer(actor, number, talking, sim=True, account_ref=acct)
        return f"{number} joined its two calls and left (transfer complete)"
    if verb == "conference":
        await engine.conference(actor, number, talking, sim=True, account_ref=acct)
        return f"{number} joined its held and consultation calls into a conference"
    raise Invalid("InvalidAction", "the softphone dials, answers, rejects, hangs up, holds, retrieves, transfers, "
                                   "consults, completes a transfer, conferences or sends DTMF")


@action("call")
async def outside_call(request: Request, screen: views.Screen, form: dict[str, Any]) -> str:
    engine = screen.twin.core.engine
    actor, acct = acting(screen), screen.account_id
    caller, to, name = _text(form, "from", 32), _text(form, "to", 32), _text(form, "fromName", 80)
    profile_name = _text(form, "profile", 20)
    if profile_name not in CALLER_PROFILES:
        raise Invalid("InvalidProfile", f"profile is one of {', '.join(p or 'none' for p in CALLER_PROFILES)}")
    if not is_external(caller):
        raise Invalid("InvalidFrom", "from is an outside number: 7 to 15 digits, optionally with a leading +")
    if not to:
        raise Invalid("MissingDestination", "enter the DID, extension or group to call")
    wanted = CALLER_PROFILES[profile_name]
    known = engine.endpoint(acct, caller)
    if known is not None and known.kind != EXTERNAL:
        raise Invalid("InvalidFrom", f"{caller} is a number of this account, not an outside number")
    if (engine.profile(known) if known is not None else None) != wanted:   # stored only when it changes
        await engine.configure_endpoint(actor, caller, {}, wanted, account_ref=acct, sim=True)
    leg = await engine.inbound(actor, caller, to, from_name=name, account_ref=acct)
    return f"{caller} calls {to}: call {leg['callId']}"


@action("agent")
async def agent(request: Request, screen: views.Screen, form: dict[str, Any]) -> str:
    user_id, change, reason = _text(form, "userId", 64), _text(form, "change", 20), _text(form, "reason", 80)
    changes: dict[str, dict[str, Any]] = {
        "login": {"logged_in": True, "ready": True}, "logout": {"logged_in": False},
        "ready": {"ready": True, "reason": None}, "notready": {"ready": False, "reason": reason or None}}
    if change not in changes:
        raise Invalid("InvalidChange", "change is login, logout, ready or notready")
    saved = await screen.twin.core.contact_center.set_agent(screen.viewer.principal, user_id,
                                                             account_ref=screen.account_id, **changes[change])
    state = ("logged in" if saved.get("loggedIn") else "logged out") + (", ready" if saved.get("ready") else "")
    return f"agent {user_id}: {state}{' (' + reason + ')' if reason and change == 'notready' else ''}"


@action("replay")
async def replay(request: Request, screen: views.Screen, form: dict[str, Any]) -> str:
    outbox = screen.twin.core.outbox
    delivery_id = _text(form, "deliveryId", 64)
    found = outbox.delivery(screen.viewer.principal, delivery_id)
    if found["accountId"] != screen.account_id:
        raise NotFound("DeliveryNotFound", f"delivery {delivery_id} was not found")
    await outbox.replay(screen.viewer.principal, delivery_id)
    return f"delivery {delivery_id} queued again (same webhook-id)"


@action("clock")
async def advance(request: Request, screen: views.Screen, form: dict[str, Any]) -> str:
    if not screen.viewer.operator:
        raise Forbidden("OperatorRequired", "the clock is the whole twin's: it needs the operator")
    try:
        seconds = float(_text(form, "seconds", 20))
    except ValueError:
        raise Invalid("InvalidSeconds", "seconds is a number") from None
    if not 0 <= seconds <= 10 * 365 * 86400:
        raise Invalid("InvalidSeconds", "seconds is between 0 and ten years")
    try:
        await screen.twin.core.scheduler.advance(seconds)
    except ValueError as exc:
        raise Invalid("ClockNotManual", str(exc)) from None
    return f"clock advanced {seconds:g} s: now {screen.twin.core.rt.now_iso()}"


@action("reset")
async def reset(request: Request, screen: views.Screen, form: dict[str, Any]) -> str:
    twin, accounts = screen.twin, screen.viewer.scope
    if accounts is None:
        await twin.core.reset()
    else:
        await twin.core.reset_accounts(accounts)
    twin.journal.clear(accounts)
    twin.faults.clear(accounts)
    twin.audit.clear(accounts)
    return "reset to the tenant baseline" + ("" if accounts is None else f" ({len(accounts)} account(s))")


@action("import")
async def import_state(request: Request, screen: views.Screen, form: dict[str, Any]) -> str:
    upload: Any = form.get("snapshot")
    raw = await upload.read() if hasattr(upload, "read") else str(upload or "").encode()
    try:
        snapshot = json.loads(raw)
    except ValueError:
        raise Invalid("MalformedJSON", "the snapshot is not valid JSON") from None
    counts = await screen.twin.core.import_state(snapshot, screen.viewer.principal, screen.viewer.scope)
    return f"imported {sum(counts.values()) if isinstance(counts, dict) else counts} document(s)"


@action("fault")
async def fault(request: Request, screen: views.Screen, form: dict[str, Any]) -> str:
    spec: dict[str, Any] = {"kind": _text(form, "kind", 30) or "http"}
    for key in ("route", "method", "subscriptionId"):
        if _text(form, key, 500):
            spec[key] = _text(form, key, 500)
    for key in ("status", "count"):
        if _text(form, key):
            try:
                spec[key] = int(_text(form, key))
            except ValueError:
                raise Invalid("ValidationError", f"{key} is a whole number") from None
    if _text(form, "retryAfter"):
        spec["retryAfter"] = _text(form, "retryAfter")
    if _text(form, "ratio"):
        spec["ratio"] = _text(form, "ratio")
    if _text(form, "latencyMs"):
        spec["latency"] = {"distribution": "fixed", "ms": _text(form, "latencyMs")}
    if spec["kind"] != "http":
        spec.pop("status", None)
    validated = FaultSpec.model_validate(spec)
    accounts = screen.viewer.scope
    if accounts is not None and validated.subscriptionId is not None:
        screen.twin.core.notifications.get(screen.viewer.principal, validated.subscriptionId)
    made = screen.twin.faults.add(validated.model_dump(exclude_none=True),
                                  None if accounts is None else frozenset(accounts))
    return f"fault {made.fault_id} injected ({made.kind} {made.method or ''} {made.route or ''})".replace("  ", " ")


@action("fault-remove")
async def fault_remove(request: Request, screen: views.Screen, form: dict[str, Any]) -> str:
    removed = screen.twin.faults.remove(_text(form, "faultId", 64), screen.viewer.scope)
    return f"fault {removed.fault_id} removed after {removed.hits} hit(s)"


@action("endpoint")
async def endpoint_setting(request: Request, screen: views.Screen, form: dict[str, Any]) -> str:
    engine = screen.twin.core.engine
    number, setting = _text(form, "endpoint", 32), _text(form, "setting", 20)
    if setting == "forward":
        target = _text(form, "forward", 32) or None
        await engine.configure_endpoint(acting(screen), number, {"forwardAlways": target}, ...,
                                        account_ref=screen.account_id, sim=True)
        return f"{number}: forwards every call to {target}" if target else f"{number}: no forwarding"
    key = {"dnd-toggle": "dnd", "oos-toggle": "outOfService"}.get(setting)
    if key is None:
        raise Invalid("InvalidSetting", "setting is dnd-toggle, oos-toggle or forward")
    endpoint = engine.sim_endpoint(acting(screen), number, screen.account_id)
    value = not engine.settings(endpoint)[key]
    await engine.configure_endpoint(acting(screen), number, {key: value}, ..., account_ref=screen.account_id, sim=True)
    return f"{number}: {key} {'on' if value else 'off'}"


@action("scenario")
async def start_scenario(request: Request, screen: views.Screen, form: dict[str, Any]) -> str:
    text = form.get("yaml") if isinstance(form.get("yaml"), str) else ""
    example = _text(form, "example", 100)
    if not str(text).strip():
        if not example:
            raise Invalid("MissingScenario", "paste a scenario's YAML or choose an example")
        text = Scenarios.example(example)
    seed_text = _text(form, "seed", 12)
    try:
        seed = int(seed_text) if seed_text else None
    except ValueError:
        raise Invalid("InvalidSeed", "seed is a whole number") from None
    viewer = screen.viewer
    run = await scenarios(request).start(str(text), screen.account_id, operator=viewer.operator,
                                         token=viewer.session.token, who=viewer.label,
                                         virtual=form.get("virtual") in ("on", "true", "1"), seed=seed)
    return f"scenario {run.name} started (run {run.run_id}{', virtual clock' if run.virtual else ''})"


@action("scenario-stop")
async def stop_scenario(request: Request, screen: views.Screen, form: dict[str, Any]) -> str:
    try:
        run_id = int(_text(form, "runId", 12))
    except ValueError:
        raise Invalid("InvalidRun", "runId is a whole number") from None
    run = scenarios(request).stop(run_id, {screen.account_id})
    return f"scenario run {run.run_id} ({run.name}) stopping"


@action("employee")
async def employee_state(request: Request, screen: views.Screen, form: dict[str, Any]) -> str:
    """A contact-center employee's state on every media (log in, busy or DND with a reason, away, log out): the
    Desk's rule, as a supervisor of the account."""
    employee_id, state, reason = _text(form, "employeeId", 64), _text(form, "state", 20), _text(form, "reason", 64)
    change: dict[str, Any] = {"state": state}
    if reason:
        change["reason"] = reason
    if state == "Available":
        change["availableReason"] = "Login"
    saved = await screen.twin.core.contact_center.desk.set_employee_state(screen.desk_actor, employee_id, change)
    aggregate = (saved.get("presence") or {}).get("aggregate") or {}
    return f"{saved.get('name', employee_id)}: {aggregate.get('state', state)}" + (
        f" ({aggregate['reasonName']})" if aggregate.get("reasonName") else "")
