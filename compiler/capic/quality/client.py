"""Reading the Dataset Quality API: ``GET /{version}/dataset_quality`` for one dataset.

The only network call outside delivery, made when the user runs ``capic quality``. The access
token travels as the ``access_token`` query parameter (the documented way for a Graph API
read, capi-facts §1.1) and never appears in an error message: every text that could hold the
request is scrubbed. Which permission the token needs is not verified in capic's facts [U].
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from capic.meta import catalog
from capic.runtime.delivery.retry import error_fields
from capic.runtime.delivery.transport import appsecret_proof, scrub
from capic.runtime.secrets import Secret

__all__ = ["DEFAULT_FIELDS", "QualityAnswer", "QualityError", "fetch_quality"]

#: Codes that say the token may read nothing here (permissions, token, object access).
_REFUSALS = frozenset({10, 190, 294, 100, *range(200, 300)})
_DEPRECATED = 2635
VERSION_WARNING = "x-ad-api-version-warning"
PERMISSION_NOTE = (
    "the permission the Dataset Quality API needs is not verified in capic's facts [U]: Meta's "
    "page has a system user with the Manage Pixel permission on the dataset generate the token"
)


@functools.cache
def _request() -> tuple[str, str]:
    doc = catalog.schema("dataset_quality")
    return str(doc["x-capic-request-path"]), str(doc["x-capic-request-fields"])


DEFAULT_FIELDS = _request()[1]


class QualityError(Exception):
    """Meta refused, or could not be reached: one line, never the token."""


@dataclass(frozen=True, slots=True)
class QualityAnswer:
    data: Any
    #: The ``X-Ad-Api-Version-Warning`` header, when Meta upgraded the call.
    version_warning: str | None = None


def fetch_quality(
    client: httpx.Client,
    *,
    endpoint: str,
    version: str,
    dataset_id: str,
    token: Secret,
    app_secret: Secret | None = None,
    agent_name: str = "capic",
    fields: str | None = None,
) -> QualityAnswer:
    """Meta's answer for one dataset; raises :class:`QualityError` with one line."""
    path, default_fields = _request()
    params = {
        "dataset_id": dataset_id,
        "agent_name": agent_name,
        "fields": fields or default_fields,
        "access_token": token.reveal(),
    }
    if app_secret is not None:
        params["appsecret_proof"] = appsecret_proof(app_secret.reveal(), token.reveal())
    url = f"{endpoint.rstrip('/')}/{version}/{path}"
    where = f"dataset {dataset_id}"
    try:
        response = client.get(url, params=params)
    except httpx.HTTPError as exc:
        text = scrub(f"{type(exc).__name__}: {exc}".rstrip(": "), token)
        raise QualityError(f"{where}: cannot reach {endpoint} ({text})") from None
    try:
        data = orjson.loads(response.content) if response.content else None
    except orjson.JSONDecodeError:
        data = None
    err = error_fields(data)
    if err is not None or response.status_code >= 400 or data is None:
        raise QualityError(_refusal(where, version, response.status_code, err, token))
    return QualityAnswer(data, response.headers.get(VERSION_WARNING))


def _refusal(
    where: str, version: str, status: int, err: dict[str, Any] | None, token: Secret
) -> str:
    if err is None:
        return f"{where}: the Graph API answered HTTP {status} without a usable body"
    code = err.get("code")
    message = scrub(str(err.get("error_user_msg") or err.get("message") or "").strip(), token)
    trace = err.get("fbtrace_id")
    tail = f" (fbtrace_id {trace})" if isinstance(trace, str) else ""
    text = f"{where}: Meta refused (code {code}): {message}{tail}"
    if code == _DEPRECATED:
        return f"{text}; Graph API {version} is deprecated: set api_version to a current version"
    if code in _REFUSALS:
        return f"{text}; {PERMISSION_NOTE}"
    return text
