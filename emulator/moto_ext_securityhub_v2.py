"""hubfix's Security Hub v2 (OCSF findings) for moto 5.2.5, which has none.

Security Hub v2 speaks REST-JSON under the same SigV4 service as v1 (`securityhub`);
`moto_ext.py` hands it every request signed for that service whose path starts with
`/findingsv2` (after fault injection, and counted like the rest). As the Security Hub API
reference describes:

  * GetFindingsV2 (POST /findingsv2): `Filters` (`CompositeFilters`, at most 10, each with
    at most 20 `StringFilters` / `NumberFilters` / `DateFilters` / `BooleanFilters` and
    `NestedCompositeFilters`, combined by its `Operator`; `CompositeOperator` between
    them; AND by default), `SortCriteria`, `MaxResults` 1..100 (default 100) and
    `NextToken` paging. Field names are OCSF paths (`compliance.control`,
    `resources.uid`); a path through an array matches when any element does. The token is
    a cursor, so updates between pages do not make a page skip findings.
  * BatchUpdateFindingsV2 (PATCH /findingsv2/batchupdatev2): `FindingIdentifiers`
    (`CloudAccountUid`, `FindingInfoUid`, `MetadataProductUid`) or `MetadataUids`, 1..100;
    `Comment` (at most 512 characters), `SeverityId`, `StatusId`; at least one of the
    three. Unknown findings come back in `UnprocessedFindings` (ResourceNotFoundException),
    a repeated identifier as ValidationException.

Security Hub v2 has no import API (findings come from AWS services), so the emulator has
one of its own: POST /moto-ext/securityhub/v2/findings with `{"account", "region",
"findings": [...]}` stores OCSF findings for that account and region (a re-import keeps
the finding's `status_id`, `status` and `comment`, as analysts' updates survive in AWS).
Every finding imported or updated puts one "Findings Imported V2" event on the default
EventBridge bus of the account and region, recorded like the v1 events. POST
/moto-api/reset clears the findings.
"""

import base64
import copy
import hashlib
import json
import re
import threading
import time
import uuid

from moto.core.utils import iso_8601_datetime_without_milliseconds, utcfromtimestamp
from moto.events.models import events_backends
from moto.iam.models import get_account_id_from

SERVICE = "securityhub"
PREFIX = "/findingsv2"
IMPORT_PATH = "/moto-ext/securityhub/v2/findings"
FINDINGS_IMPORTED_V2 = "Findings Imported V2"

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[0-9]{8}/([^/]+)/([^/]+)/aws4_request")
_STATUS = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed"}
# OCSF status_id -> status (the Compliance Finding class's enumeration).
STATUS_NAMES = {0: "Unknown", 1: "New", 2: "In Progress", 3: "Suppressed", 4: "Resolved",
                5: "Archived", 6: "Deleted", 99: "Other"}
SEVERITY_NAMES = {0: "Unknown", 1: "Informational", 2: "Low", 3: "Medium", 4: "High",
                  5: "Critical", 6: "Fatal", 99: "Other"}
STRING_COMPARISONS = ("EQUALS", "PREFIX", "NOT_EQUALS", "PREFIX_NOT_EQUALS", "CONTAINS",
                      "NOT_CONTAINS", "CONTAINS_WORD")
FILTER_KINDS = ("StringFilters", "NumberFilters", "DateFilters", "BooleanFilters")

_lock = threading.Lock()
_seq = iter(range(1, 1 << 62))
# (account, region) -> list of [seq, finding]
_findings = {}

# Set by moto_ext.py: records an emitted event (GET /moto-ext/events).
record_event = None


class ClientError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status = status
        self.code = code
        self.body = {"Message": message, "Code": code}


def _validation(message):
    return ClientError(400, "ValidationException", message)


def reset():
    with _lock:
        _findings.clear()


def _reply(start_response, status, payload, code=None):
    body = json.dumps(payload).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    if code:
        headers.append(("x-amzn-ErrorType", code))
    start_response(f"{status} {_STATUS[status]}", headers)
    return [body]


def _body(environ):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length) if length else b"{}"
    try:
        body = json.loads(raw or b"{}")
    except ValueError as err:
        raise _validation(f"the body is not JSON: {err}") from None
    if not isinstance(body, dict):
        raise _validation("the body is not a JSON object")
    return body


def _where(environ):
    match = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    if not match:
        raise ClientError(403, "AccessDeniedException", "the request is not signed")
    access_key, region, _service = match.groups()
    return get_account_id_from(access_key), region


def _at(node, path):
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _values(node, path):
    """Every value at the dotted `path`, through arrays at any depth."""
    if isinstance(node, list):
        return [v for item in node for v in _values(item, path)]
    if not path:
        return [node]
    if isinstance(node, dict) and path[0] in node:
        return _values(node[path[0]], path[1:])
    return []


def identifier_of(finding):
    return {
        "CloudAccountUid": _at(finding, ("cloud", "account", "uid")),
        "FindingInfoUid": _at(finding, ("finding_info", "uid")),
        "MetadataProductUid": _at(finding, ("metadata", "product", "uid")),
    }


def _key(identifier):
    return (identifier.get("CloudAccountUid"), identifier.get("FindingInfoUid"),
            identifier.get("MetadataProductUid"))


def _emit(account, region, findings):
    """One "Findings Imported V2" event per finding on the default bus; a delivery
    problem never fails the call, as in AWS."""
    backend = events_backends[account][region]
    for finding in findings:
        when = time.time()
        detail = {"findings": [finding]}
        resources = [finding["finding_info"]["uid"]]
        event_id = None
        try:
            result = backend.put_events([{
                "Source": "aws.securityhub", "DetailType": FINDINGS_IMPORTED_V2,
                "Detail": json.dumps(detail), "Resources": resources, "Time": when,
            }])
            event_id = result[0].get("EventId")
        except Exception:  # noqa: BLE001 - never fail the caller
            pass
        if record_event:
            record_event({
                "version": "0", "id": event_id or str(uuid.uuid4()),
                "detail-type": FINDINGS_IMPORTED_V2, "source": "aws.securityhub",
                "account": account,
                "time": iso_8601_datetime_without_milliseconds(utcfromtimestamp(when)),
                "region": region, "resources": resources, "detail": detail,
            })


# Kept on re-import: what analysts (and hubfix) set through BatchUpdateFindingsV2.
PRESERVED_ON_REIMPORT = ("status_id", "status", "comment")


def import_findings(account, region, findings):
    """Stores OCSF findings for (account, region); returns (imported, failed)."""
    if not isinstance(findings, list) or not 1 <= len(findings) <= 100:
        raise _validation("findings must be a list of 1 to 100 OCSF findings")
    imported, failed = [], []
    with _lock:
        stored = _findings.setdefault((account, region), [])
        for incoming in findings:
            ident = identifier_of(incoming) if isinstance(incoming, dict) else {}
            if not all(isinstance(v, str) and v for v in ident.values()) or \
                    not isinstance(incoming.get("class_uid"), int):
                failed.append({"FindingIdentifier": ident, "ErrorCode": "ValidationException",
                               "ErrorMessage": "an OCSF finding needs class_uid, "
                               "finding_info.uid, metadata.product.uid and cloud.account.uid"})
                continue
            existing = next((e for e in stored if _key(identifier_of(e[1])) == _key(ident)), None)
            data = copy.deepcopy(incoming)
            if existing is None:
                data.setdefault("status_id", 1)
                data.setdefault("status", STATUS_NAMES.get(data["status_id"], "Other"))
                stored.append([next(_seq), data])
            else:
                kept = {k: existing[1][k] for k in PRESERVED_ON_REIMPORT if k in existing[1]}
                data.update(kept)
                existing[1] = data
            imported.append(copy.deepcopy(data))
    _emit(account, region, imported)
    return imported, failed


# -------------------------------------------------------------------------------------
# GetFindingsV2


def _string_matches(values, f):
    wanted, how = f.get("Value"), f.get("Comparison")
    if not isinstance(wanted, str) or how not in STRING_COMPARISONS:
        raise _validation(f"a string filter needs a Value and a Comparison in {STRING_COMPARISONS}")
    texts = [v for v in values if isinstance(v, str)]
    if how == "EQUALS":
        return wanted in texts
    if how == "NOT_EQUALS":
        return wanted not in texts
    if how == "PREFIX":
        return any(t.startswith(wanted) for t in texts)
    if how == "PREFIX_NOT_EQUALS":
        return not any(t.startswith(wanted) for t in texts)
    if how == "CONTAINS":
        return any(wanted in t for t in texts)
    if how == "NOT_CONTAINS":
        return not any(wanted in t for t in texts)
    return any(wanted in re.split(r"\W+", t) for t in texts)  # CONTAINS_WORD


def _number_matches(values, f):
    bounds = {k: f[k] for k in ("Eq", "Gt", "Gte", "Lt", "Lte") if k in f}
    if not bounds or not all(isinstance(v, (int, float)) for v in bounds.values()):
        raise _validation("a number filter needs one of Eq, Gt, Gte, Lt, Lte")
    ops = {"Eq": lambda v, b: v == b, "Gt": lambda v, b: v > b, "Gte": lambda v, b: v >= b,
           "Lt": lambda v, b: v < b, "Lte": lambda v, b: v <= b}
    numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return any(all(ops[k](v, b) for k, b in bounds.items()) for v in numbers)


def _date(text, field):
    try:
        import datetime as dt
        return dt.datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise _validation(f"{field} is not an ISO 8601 date-time") from None


def _date_matches(values, f):
    now = time.time()
    if "DateRange" in f:
        rng = f["DateRange"] or {}
        if rng.get("Unit") != "DAYS" or not isinstance(rng.get("Value"), int):
            raise _validation("DateRange needs Unit DAYS and an integer Value")
        start, end = now - rng["Value"] * 86400, now
    elif "Start" in f or "End" in f:
        start = _date(f["Start"], "Start") if "Start" in f else float("-inf")
        end = _date(f["End"], "End") if "End" in f else float("inf")
    else:
        raise _validation("a date filter needs Start, End or DateRange")
    times = []
    for v in values:
        try:
            times.append(_date(v, "the finding's date"))
        except ClientError:
            continue
    return any(start <= t <= end for t in times)


def _composite_matches(finding, composite):
    if not isinstance(composite, dict):
        raise _validation("a composite filter is an object")
    operator = composite.get("Operator", "AND")
    if operator not in ("AND", "OR"):
        raise _validation(f"Operator must be AND or OR, not {operator!r}")
    results = []
    for kind in FILTER_KINDS:
        filters = composite.get(kind) or []
        if len(filters) > 20:
            raise _validation(f"at most 20 {kind} per composite filter")
        for entry in filters:
            field = entry.get("FieldName")
            if not isinstance(field, str) or not field:
                raise _validation(f"every entry of {kind} needs a FieldName")
            values = _values(finding, field.split("."))
            f = entry.get("Filter") or {}
            if kind == "StringFilters":
                results.append(_string_matches(values, f))
            elif kind == "NumberFilters":
                results.append(_number_matches(values, f))
            elif kind == "DateFilters":
                results.append(_date_matches(values, f))
            else:
                if not isinstance(f.get("Value"), bool):
                    raise _validation("a boolean filter needs a boolean Value")
                results.append(f["Value"] in values)
    for nested in composite.get("NestedCompositeFilters") or []:
        results.append(_composite_matches(finding, nested))
    if not results:
        return True
    return all(results) if operator == "AND" else any(results)


def finding_matches(finding, filters):
    composites = (filters or {}).get("CompositeFilters") or []
    if len(composites) > 10:
        raise _validation("at most 10 CompositeFilters")
    operator = (filters or {}).get("CompositeOperator", "AND")
    if operator not in ("AND", "OR"):
        raise _validation(f"CompositeOperator must be AND or OR, not {operator!r}")
    if not composites:
        return True
    results = [_composite_matches(finding, c) for c in composites]
    return all(results) if operator == "AND" else any(results)


def _query_hash(body):
    text = json.dumps([body.get("Filters") or {}, body.get("SortCriteria") or []], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def get_findings_v2(where, body):
    max_results = body.get("MaxResults", 100)
    if not isinstance(max_results, int) or not 1 <= max_results <= 100:
        raise _validation("MaxResults must be a number between 1 and 100")
    query = _query_hash(body)
    with _lock:
        entries = [(seq, f) for seq, f in _findings.get(where, [])]
    for criterion in reversed(body.get("SortCriteria") or []):
        path = str(criterion.get("Field", "")).split(".")
        order = str(criterion.get("SortOrder", "asc")).lower()
        if order not in ("asc", "desc"):
            raise _validation(f"SortOrder must be asc or desc, not {order!r}")
        present = [e for e in entries if _at(e[1], path) is not None]
        missing = [e for e in entries if _at(e[1], path) is None]
        present.sort(key=lambda e: str(_at(e[1], path)), reverse=order == "desc")
        entries = present + missing
    start = 0
    if body.get("NextToken"):
        try:
            token = json.loads(base64.urlsafe_b64decode(body["NextToken"].encode()))
            after = int(token["after"])
        except Exception:  # noqa: BLE001 - a malformed token is the caller's error
            raise _validation("The NextToken is not valid") from None
        if token.get("query") != query:
            raise _validation("The NextToken belongs to a request with other Filters or SortCriteria")
        positions = [i for i, (seq, _) in enumerate(entries) if seq == after]
        if not positions:
            raise _validation("The NextToken is not valid")
        start = positions[0] + 1
    page, more = [], False
    for seq, finding in entries[start:]:
        if finding_matches(finding, body.get("Filters")):
            if len(page) == max_results:
                more = True
                break
            page.append((seq, finding))
    out = {"Findings": copy.deepcopy([f for _, f in page])}
    if more:
        raw = json.dumps({"after": page[-1][0], "query": query}).encode()
        out["NextToken"] = base64.urlsafe_b64encode(raw).decode()
    return out


# -------------------------------------------------------------------------------------
# BatchUpdateFindingsV2


def batch_update_findings_v2(where, body):
    identifiers = body.get("FindingIdentifiers")
    metadata_uids = body.get("MetadataUids")
    if (identifiers is None) == (metadata_uids is None):
        raise _validation("give exactly one of FindingIdentifiers and MetadataUids")
    targets = identifiers if identifiers is not None else metadata_uids
    if not isinstance(targets, list) or not 1 <= len(targets) <= 100:
        raise _validation("FindingIdentifiers or MetadataUids must hold 1 to 100 items")
    if identifiers is not None:
        for ident in identifiers:
            if not isinstance(ident, dict) or not all(
                isinstance(ident.get(k), str) and ident[k].strip()
                for k in ("CloudAccountUid", "FindingInfoUid", "MetadataProductUid")
            ):
                raise _validation("each FindingIdentifier needs CloudAccountUid, "
                                  "FindingInfoUid and MetadataProductUid")
    comment, severity_id, status_id = (body.get(k) for k in ("Comment", "SeverityId", "StatusId"))
    if comment is None and severity_id is None and status_id is None:
        raise _validation("at least one of Comment, SeverityId and StatusId must be given")
    if comment is not None and (not isinstance(comment, str) or len(comment) > 512):
        raise _validation("Comment must be a string of at most 512 characters")
    if status_id is not None and status_id not in STATUS_NAMES:
        raise _validation(f"StatusId must be one of {sorted(STATUS_NAMES)}")
    if severity_id is not None and severity_id not in SEVERITY_NAMES:
        raise _validation(f"SeverityId must be one of {sorted(SEVERITY_NAMES)}")
    processed, unprocessed, updated = [], [], []
    with _lock:
        stored = _findings.get(where, [])
        keys = [_key(t) if identifiers is not None else t for t in targets]
        for target, key in zip(targets, keys, strict=True):
            entry = {"FindingIdentifier": target} if identifiers is not None else {"MetadataUid": target}
            if keys.count(key) > 1:
                unprocessed.append(dict(entry, ErrorCode="ValidationException",
                                        ErrorMessage="the request names this finding more than once"))
                continue
            if identifiers is not None:
                found = next((f for _, f in stored if _key(identifier_of(f)) == key), None)
            else:
                found = next((f for _, f in stored if _at(f, ("metadata", "uid")) == key), None)
            if found is None:
                unprocessed.append(dict(entry, ErrorCode="ResourceNotFoundException",
                                        ErrorMessage="Finding not found"))
                continue
            if comment is not None:
                found["comment"] = comment
            if status_id is not None:
                found["status_id"] = status_id
                found["status"] = STATUS_NAMES[status_id]
            if severity_id is not None:
                found["severity_id"] = severity_id
                found["severity"] = SEVERITY_NAMES[severity_id]
            processed.append(entry)
            updated.append(copy.deepcopy(found))
    _emit(where[0], where[1], updated)
    return {"ProcessedFindings": processed, "UnprocessedFindings": unprocessed}


def application(environ, start_response):
    """The WSGI handler of Security Hub requests under /findingsv2."""
    method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
    try:
        where = _where(environ)
        if path == PREFIX and method == "POST":
            return _reply(start_response, 200, get_findings_v2(where, _body(environ)))
        if path == PREFIX + "/batchupdatev2" and method == "PATCH":
            return _reply(start_response, 200, batch_update_findings_v2(where, _body(environ)))
        raise ClientError(404, "ResourceNotFoundException",
                          f"hubfix's emulator serves no Security Hub v2 operation at {method} {path}")
    except ClientError as err:
        return _reply(start_response, err.status, err.body, code=err.code)


def import_endpoint(environ, start_response):
    """POST /moto-ext/securityhub/v2/findings: {"account", "region", "findings"}."""
    try:
        if environ["REQUEST_METHOD"] != "POST":
            raise ClientError(405, "MethodNotAllowed", "POST findings to import them")
        body = _body(environ)
        account, region = body.get("account"), body.get("region")
        if not (isinstance(account, str) and re.fullmatch(r"[0-9]{12}", account)):
            raise _validation("account must be 12 digits")
        if not (isinstance(region, str) and re.fullmatch(r"[a-z]{2}(-[a-z]+)+-[0-9]", region)):
            raise _validation("region must be a region name")
        imported, failed = import_findings(account, region, body.get("findings"))
        return _reply(start_response, 200, {"imported": len(imported), "failed": failed})
    except ClientError as err:
        return _reply(start_response, err.status, err.body, code=err.code)


ENDPOINTS = {IMPORT_PATH: import_endpoint}
