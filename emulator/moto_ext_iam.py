"""hubfix's IAM credential-age extension to moto 5.2.5, for the iam-stale-credentials
plugin (IAM.3, IAM.8, IAM.22) and its scenarios.

Imported by `moto_ext.py`, which adds `ENDPOINTS` to its own. moto stamps every access key,
user and login profile with the time it was created and never records a key's or password's
use unless moto itself is called with that key, so a scenario cannot make a 100-day-old key
or one used yesterday. One endpoint sets those dates, as AWS would report them after time
had passed:

    POST /moto-ext/iam/backdate
    {"AccountId": "123456789012", "UserName": "alice",
     "AccessKeyId": "AKIA...",        # optional: the key the *KeyDaysAgo fields are about
     "CreatedDaysAgo": 100,           # the key's CreateDate; without AccessKeyId the user's
                                      # (moto reports it as the login profile's CreateDate)
     "LastUsedDaysAgo": 1,            # the key's AccessKeyLastUsed (service s3); needs the key
     "PasswordLastUsedDaysAgo": 200}  # the user's PasswordLastUsed

Answers 200 with the dates set (ISO 8601), 400 for a bad request, 404 for an unknown user
or key. Nothing else of moto changes.
"""

import datetime
import io
import json

from moto.iam.models import AccessKeyLastUsed, iam_backends

_FIELDS = {"AccountId", "UserName", "AccessKeyId", "CreatedDaysAgo", "LastUsedDaysAgo",
           "PasswordLastUsedDaysAgo"}
_DAYS = ("CreatedDaysAgo", "LastUsedDaysAgo", "PasswordLastUsedDaysAgo")


def _reply(start_response, status, payload):
    body = json.dumps(payload).encode()
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}
    start_response(f"{status} {reason[status]}", [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(body))),
    ])
    return [body]


def _days_ago(days):
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None) - datetime.timedelta(days=days)


def backdate(spec):
    """Applies one backdate request; returns (status, payload)."""
    if not isinstance(spec, dict):
        return 400, {"error": "the body is a JSON object"}
    unknown = set(spec) - _FIELDS
    if unknown:
        return 400, {"error": f"unknown fields: {sorted(unknown)}"}
    account, user_name = spec.get("AccountId"), spec.get("UserName")
    if not isinstance(account, str) or not isinstance(user_name, str):
        return 400, {"error": "AccountId and UserName are required strings"}
    for field in _DAYS:
        value = spec.get(field)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                  or not 0 <= value <= 36500):
            return 400, {"error": f"{field} is a whole number of days, 0..36500"}
    if not any(spec.get(f) is not None for f in _DAYS):
        return 400, {"error": f"nothing to set: give one of {list(_DAYS)}"}
    key_id = spec.get("AccessKeyId")
    if spec.get("LastUsedDaysAgo") is not None and key_id is None:
        return 400, {"error": "LastUsedDaysAgo needs AccessKeyId"}
    backend = iam_backends[account]["aws"]
    user = backend.users.get(user_name)
    if user is None:
        return 404, {"error": f"no user {user_name} in account {account}"}
    done = {}
    if key_id is not None:
        key = next((k for k in user.access_keys if k.access_key_id == key_id), None)
        if key is None:
            return 404, {"error": f"user {user_name} has no access key {key_id}"}
        if spec.get("CreatedDaysAgo") is not None:
            key.create_date = _days_ago(spec["CreatedDaysAgo"])
            done["CreateDate"] = key.create_date.isoformat()
        if spec.get("LastUsedDaysAgo") is not None:
            key.last_used = AccessKeyLastUsed(
                timestamp=_days_ago(spec["LastUsedDaysAgo"]), service="s3",
                region=user.region_name or "us-east-1")
            done["LastUsedDate"] = key.last_used.timestamp.isoformat()
    elif spec.get("CreatedDaysAgo") is not None:
        user.create_date = _days_ago(spec["CreatedDaysAgo"])
        done["UserCreateDate"] = user.create_date.isoformat()
    if spec.get("PasswordLastUsedDaysAgo") is not None:
        user.password_last_used = _days_ago(spec["PasswordLastUsedDaysAgo"])
        done["PasswordLastUsed"] = user.password_last_used.isoformat()
    return 200, done


def _backdate_endpoint(environ, start_response):
    if environ["REQUEST_METHOD"] != "POST":
        return _reply(start_response, 405, {"error": "POST only"})
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    raw = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(raw)
    try:
        spec = json.loads(raw or b"{}")
    except ValueError as err:
        return _reply(start_response, 400, {"error": f"not JSON: {err}"})
    status, payload = backdate(spec)
    return _reply(start_response, status, payload)


ENDPOINTS = {"/moto-ext/iam/backdate": _backdate_endpoint}
