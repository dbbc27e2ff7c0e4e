"""The rules the audit checks, each with the seed text it enforces and the fix it suggests."""
from __future__ import annotations

from dataclasses import dataclass

from callyard.api.cloudlink.edge import BASE_PATH

SEED_001 = "001_9b2b6110a71a7f44.txt"
SEED_002 = "002_992dd2f1eacf9d60.txt"

RETRYABLE = frozenset({408, 429, 503, 504, 598, 599})
MIN_RETRY_GAP = 2.0         # seconds between attempts (seed 002)
MAX_RETRIES = 5             # retries of one request (seed 002)
RETRY_WINDOW = 120.0        # an identical request within this many seconds of a failure is a retry of it
POLL_COUNT = 5              # identical successful GETs …
POLL_WINDOW = 60.0          # … within this many seconds are polling
REFRESH_LOOP = 3            # token requests right after a 401, within REFRESH_LOOP_WINDOW: more is a loop
REFRESH_LOOP_WINDOW = 60.0
SERVER_FLAVORS = frozenset({"server", "service", "svc", "backend", "daemon", "worker", "bot", "integration",
                            "connector", "middleware", "cli"})


@dataclass(frozen=True)
class Rule:
    rule_id: str
    title: str
    severity: str          # "error": the platform may block the app; "warning": a practice it asks for
    seed: str
    quote: str
    fix: str

    def wire(self) -> dict[str, str]:
        return {"rule": self.rule_id, "title": self.title, "severity": self.severity, "seed": self.seed,
                "quote": self.quote, "fix": self.fix}


RULES = {rule.rule_id: rule for rule in (
    Rule("app-header-missing", "Requests without the X-Mitel-App header", "error", SEED_001,
         "Any application or integration built using CloudLink APIs must contain a unique header that identifies "
         "the application to the platform, labelled \"X-Mitel-App\". Applications or integrations built without "
         "this information will be rejected/blocked from using the platform.",
         "Send `X-Mitel-App: <app>-<flavor>/<version>;platform=<os>/<osVersion>;session-id=<guid>` on every "
         "request, all lower case, with one session GUID generated per process."),
    Rule("app-header-malformed", "A malformed X-Mitel-App header", "error", SEED_001,
         "appName should use a pattern of \"app-flavor\" in all lower case … os - one of the following exact "
         "values: windows, linux, mac, ios, android. No abbreviations are accepted … session will consist of an "
         "automatically generated 128-bit GUID … Important: The entire string must be lower case.",
         "Build the header from its parts: `<app>-<flavor>/<version>;platform=<os>/<osVersion>;"
         "session-id=<uuid4>`, lower case, os from the fixed list, the exact OS version."),
    Rule("retry-too-soon", "Retried sooner than 2 seconds (or than Retry-After)", "error", SEED_002,
         "For valid retry scenarios, a delay of a minimum of 2 seconds should be introduced before retry with a "
         "maximum of 5 retry attempts.",
         "Wait at least 2 s before each retry, and at least the Retry-After delay when the response carries one."),
    Rule("too-many-retries", "More than 5 retries of one request", "error", SEED_002,
         "For valid retry scenarios, a delay of a minimum of 2 seconds should be introduced before retry with a "
         "maximum of 5 retry attempts.",
         "Stop after 5 retries; log the error with its correlation id and surface it."),
    Rule("retry-not-retryable", "Retried a status that is not worth retrying", "error", SEED_002,
         "The context of the error should be evaluated to determine if there is a reasonable chance of success "
         "on retry. If there is no reasonable chance of success, no further retry attempts should be made. The "
         "most appropriate errors for retries are: 408, 429, 503, 504, 598, 599 and anything that specifies a "
         "retry-after header.",
         "Retry only 408, 429, 503, 504, 598, 599 or a response with Retry-After; fix the request (or refresh "
         "the token, for 401) instead of sending it again."),
    Rule("no-refresh-after-401", "Kept using a token after it was refused with 401", "error", SEED_001,
         "Initiate the token refresh after receiving an HTTP 401 error on an API call. Retry the failed call and "
         "then resume normal function.",
         "On a 401, get a new token (refresh_token grant), then retry the call once with it."),
    Rule("refresh-loop", "Token refresh loop", "error", SEED_001,
         "Include an exit condition in your code to avoid a stuck retry loop if the above continues to fail "
         "after a reasonable number of re-attempts. This is important as Mitel may temporarily disable your "
         "CloudLink account if your application makes too many re-attempts!",
         "Refresh at most once per failed call; if the retried call is refused again, stop and report the "
         "error instead of refreshing again."),
    Rule("webhook-from-client", "Webhooks used by a client-side application", "error", SEED_002,
         "WebSocket connections must be utilized wherever possible. WebSockets are mandatory for client side "
         "connections to the Notification API. Webhooks can be utilized for sever side applications as a last "
         "resort.",
         "Create a connection (`POST /connections {\"transport\": \"websocket\"}`) and subscribe with "
         "`transport: websocket` and its connectionId; keep webhooks for server-side applications."),
    Rule("polling", "Polling instead of subscribing", "warning", SEED_002,
         "WebSocket connections must be utilized wherever possible. WebSockets are mandatory for client side "
         "connections to the Notification API.",
         "Subscribe to the topic that carries these changes (see the evidence) and react to publications "
         "instead of asking again and again."),
)}


def topic_for(path: str) -> str | None:
    """The notification topic that publishes changes of the resource at ``path`` (a bare /2017-09-01 path)."""
    rest = path.split(BASE_PATH, 1)[-1]
    if rest.startswith(("/endpoints", "/calls")):
        return "platform-api-media"
    if rest.startswith("/presentities"):
        return "platform-api-presence"
    if rest.startswith(("/conversations", "/users/me/conversations")):
        return "platform-api-conversations"
    if rest.startswith(("/users", "/groups", "/accounts", "/contacts")):
        return "platform-api-admin"
    return None
