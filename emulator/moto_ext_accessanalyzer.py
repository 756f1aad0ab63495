"""hubfix's IAM Access Analyzer for moto 5.2.5, which has none.

Access Analyzer speaks REST-JSON (SigV4 service `access-analyzer`). Imported by
`moto_ext.py`, which hands it every request signed for that service (after fault
injection, and counted like the rest). As the Access Analyzer API reference describes:

  * CreateAnalyzer (PUT /analyzer): `analyzerName` (1..255, `[A-Za-z][A-Za-z0-9_.-]*`) and
    `type` required; `tags`, `clientToken` (a retry with the same token and name returns
    the same analyzer); `archiveRules` and `configuration` are accepted and kept. A name
    already used is ConflictException (409); a second analyzer of the same type in the
    account and region is ServiceQuotaExceededException (402: "You can create only one
    analyzer per account per Region"). Analyzers are ACTIVE at once.
  * ListAnalyzers (GET /analyzer): `type` filter, pages of `maxResults` (1..1000,
    default 100) with `nextToken`.
  * GetAnalyzer (GET /analyzer/{name}), DeleteAnalyzer (DELETE /analyzer/{name}):
    ResourceNotFoundException (404) for an unknown name.

Errors carry `x-amzn-ErrorType` and a JSON body with `message` (and the fields the
model requires: `resourceId`/`resourceType`, `reason`). Timestamps are ISO 8601, as the
model says. Analyzers live per account (the one moto maps the access key to) and region
(the signature's); POST /moto-api/reset clears them.
"""

import json
import re
import threading
from urllib.parse import parse_qs, unquote

from moto.core.utils import iso_8601_datetime_with_milliseconds
from moto.iam.models import get_account_id_from
from moto.utilities.utils import get_partition

SERVICE = "access-analyzer"
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[0-9]{8}/([^/]+)/([^/]+)/aws4_request")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,254}")
_TYPES = {
    "ACCOUNT",
    "ORGANIZATION",
    "ACCOUNT_UNUSED_ACCESS",
    "ORGANIZATION_UNUSED_ACCESS",
    "ACCOUNT_INTERNAL_ACCESS",
    "ORGANIZATION_INTERNAL_ACCESS",
}
_STATUS = {200: "OK", 400: "Bad Request", 402: "Payment Required", 403: "Forbidden",
           404: "Not Found", 405: "Method Not Allowed", 409: "Conflict"}

_lock = threading.Lock()
# (account, region) -> {name: analyzer dict as the API returns it}, in creation order.
_analyzers = {}
# (account, region, clientToken) -> name
_tokens = {}


class ClientError(Exception):
    def __init__(self, status, code, message, **fields):
        super().__init__(message)
        self.status = status
        self.code = code
        self.body = {"message": message, **fields}


def _validation(message, field=None):
    fields = {"reason": "fieldValidationFailed" if field else "other"}
    if field:
        fields["fieldList"] = [{"name": field, "message": message}]
    return ClientError(400, "ValidationException", message, **fields)


def reset():
    with _lock:
        _analyzers.clear()
        _tokens.clear()


def _reply(start_response, status, payload, code=None):
    body = json.dumps(payload).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    if code:
        headers.append(("x-amzn-ErrorType", code))
    start_response(f"{status} {_STATUS[status]}", headers)
    return [body]


def _where(environ):
    match = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    if not match:
        raise ClientError(403, "AccessDeniedException", "the request is not signed")
    access_key, region, _service = match.groups()
    return get_account_id_from(access_key), region


def _name(value, field="analyzerName"):
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise _validation(f"{field} must be 1 to 255 characters matching [A-Za-z][A-Za-z0-9_.-]*", field)
    return value


def create_analyzer(where, body, _query):
    account, region = where
    name = _name(body.get("analyzerName"))
    kind = body.get("type")
    if kind not in _TYPES:
        raise _validation(f"type must be one of {', '.join(sorted(_TYPES))}", "type")
    tags = body.get("tags") or {}
    if not isinstance(tags, dict) or len(tags) > 50 or any(
        not isinstance(k, str) or not 1 <= len(k) <= 128 or k.startswith("aws:")
        or not isinstance(v, str) or len(v) > 256
        for k, v in tags.items()
    ):
        raise _validation("tags: at most 50, keys 1..128 characters not starting aws:, values at most 256", "tags")
    token = body.get("clientToken")
    with _lock:
        mine = _analyzers.setdefault((account, region), {})
        if token is not None and (account, region, token) in _tokens:
            earlier = _tokens[(account, region, token)]
            if earlier == name and name in mine:
                return {"arn": mine[name]["arn"]}
        if name in mine:
            raise ClientError(409, "ConflictException", f"Analyzer {name} already exists",
                              resourceId=name, resourceType="Analyzer")
        if any(a["type"] == kind for a in mine.values()):
            raise ClientError(402, "ServiceQuotaExceededException",
                              "You can create only one analyzer per account per Region",
                              resourceId=name, resourceType="Analyzer")
        arn = f"arn:{get_partition(region)}:access-analyzer:{region}:{account}:analyzer/{name}"
        analyzer = {"arn": arn, "name": name, "type": kind, "createdAt": iso_8601_datetime_with_milliseconds(),
                    "status": "ACTIVE", "tags": dict(tags)}
        if body.get("configuration") is not None:
            analyzer["configuration"] = body["configuration"]
        mine[name] = analyzer
        if token is not None:
            _tokens[(account, region, token)] = name
    return {"arn": arn}


def list_analyzers(where, _body, query):
    kind = query.get("type")
    if kind is not None and kind not in _TYPES:
        raise _validation(f"type must be one of {', '.join(sorted(_TYPES))}", "type")
    raw_max = query.get("maxResults", "100")
    if not raw_max.isdigit() or not 1 <= int(raw_max) <= 1000:
        raise _validation("maxResults must be 1 to 1000", "maxResults")
    size = int(raw_max)
    with _lock:
        found = [dict(a) for a in _analyzers.get(where, {}).values()
                 if kind is None or a["type"] == kind]
    start = 0
    token = query.get("nextToken")
    if token is not None:
        if not (token.isdigit() and int(token) <= len(found)):
            raise _validation("nextToken is not valid", "nextToken")
        start = int(token)
    out = {"analyzers": found[start:start + size]}
    if start + size < len(found):
        out["nextToken"] = str(start + size)
    return out


def _named(where, name):
    found = _analyzers.get(where, {}).get(name)
    if found is None:
        raise ClientError(404, "ResourceNotFoundException", f"Analyzer {name} not found",
                          resourceId=name, resourceType="Analyzer")
    return found


def get_analyzer(where, name):
    with _lock:
        return {"analyzer": dict(_named(where, name))}


def delete_analyzer(where, name):
    with _lock:
        _named(where, name)
        del _analyzers[where][name]
    return {}


def application(environ, start_response):
    """The WSGI handler of every request signed for `access-analyzer`."""
    method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
    try:
        where = _where(environ)
        query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        if path == "/analyzer":
            if method == "PUT":
                length = int(environ.get("CONTENT_LENGTH") or 0)
                raw = environ["wsgi.input"].read(length) if length else b"{}"
                try:
                    body = json.loads(raw or b"{}")
                except ValueError as err:
                    raise _validation(f"the body is not JSON: {err}")
                if not isinstance(body, dict):
                    raise _validation("the body is not a JSON object")
                return _reply(start_response, 200, create_analyzer(where, body, query))
            if method == "GET":
                return _reply(start_response, 200, list_analyzers(where, None, query))
        elif path.startswith("/analyzer/") and path.count("/") == 2:
            name = _name(unquote(path[len("/analyzer/"):]))
            if method == "GET":
                return _reply(start_response, 200, get_analyzer(where, name))
            if method == "DELETE":
                return _reply(start_response, 200, delete_analyzer(where, name))
        else:
            raise ClientError(404, "ResourceNotFoundException",
                              f"hubfix's emulator serves no Access Analyzer operation at {path}",
                              resourceId=path, resourceType="Operation")
        raise ClientError(405, "MethodNotAllowed", f"{method} {path} is not an operation")
    except ClientError as err:
        return _reply(start_response, err.status, err.body, code=err.code)
