"""cloudlink-client: a Python client for the Mitel CloudLink platform APIs that follows the platform's
best practices (seeds 001 and 002): the X-Mitel-App header, token refresh before expiry and on 401, the
retry rules, and errors captured and logged with their correlation ids.

    from cloudlink_client import CloudLink, ClientCredentials

    with CloudLink("crm", "server", "1.4.0", grant=ClientCredentials(client_id, secret)) as client:
        for user in client.admin.iter_users():
            print(user["email"])
"""
from cloudlink_client._async import AsyncCloudLink
from cloudlink_client._sync import CloudLink
from cloudlink_client.app_header import OS_VALUES, SESSION_ID
from cloudlink_client.auth import ClientCredentials, Password, Pkce, RefreshToken, make_pkce
from cloudlink_client.core import SERVICES, odata, service_urls
from cloudlink_client.errors import (AuthenticationRequired, BadRequest, ClientError, CloudLinkError, Conflict,
                                     Forbidden, GatewayTimeout, Gone, MethodNotAllowed, NotFound,
                                     NotImplementedByService, RateLimited, RequestTimeout, RetriesExhausted,
                                     ServerError, ServiceUnavailable, TransportFailure, Unauthorized,
                                     log_to_stderr)
from cloudlink_client.mqtt import AsyncNotificationStream, NotificationStream, StreamClosed, StreamError
from cloudlink_client.retry import RetryPolicy, parse_retry_after
from cloudlink_client.times import iso_time, parse_time, utc_now_iso
from cloudlink_client.webhooks import (SeenIds, WebhookDelivery, WebhookVerificationError, handle_webhook,
                                      verify_delivery, verify_webhook, webhook_handler)

__version__ = "0.2.0"

__all__ = [
    "AsyncCloudLink", "CloudLink", "OS_VALUES", "SESSION_ID", "SERVICES", "ClientCredentials", "Password", "Pkce",
    "RefreshToken", "make_pkce", "odata", "service_urls", "RetryPolicy", "parse_retry_after",
    "CloudLinkError", "ClientError", "BadRequest", "Unauthorized", "Forbidden", "NotFound", "MethodNotAllowed",
    "RequestTimeout", "Conflict", "Gone", "RateLimited", "ServerError", "NotImplementedByService",
    "ServiceUnavailable", "GatewayTimeout", "TransportFailure", "AuthenticationRequired", "RetriesExhausted",
    "NotificationStream", "AsyncNotificationStream", "StreamClosed", "StreamError",
    "WebhookVerificationError", "WebhookDelivery", "SeenIds", "verify_webhook", "verify_delivery", "handle_webhook",
    "webhook_handler", "iso_time", "parse_time", "utc_now_iso", "log_to_stderr", "__version__",
]
