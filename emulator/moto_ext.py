#!/usr/bin/env python3
"""hubfix's extension of moto: `moto_server` plus what hubfix needs and moto 5.2.5 lacks.

    <venv>/bin/python emulator/moto_ext.py -H 127.0.0.1 -p 5055     # same CLI as moto_server

The module patches moto in-process (it depends on moto internals, which is why
requirements.txt pins moto exactly), then runs moto's own server `main()`. Everything
not listed here is stock moto.

Security Hub
  * BatchUpdateFindings (PATCH /findings/batchupdate), validated like AWS.
  * GetFindings: Filters, SortCriteria, MaxResults 1..100 and NextToken paging.
  * BatchImportFindings: 1..100 findings; a re-import keeps Note, UserDefinedFields,
    VerificationState and Workflow; documented automatic Workflow.Status transitions.
  * Every finding created or updated by BatchImportFindings / BatchUpdateFindings puts
    one "Security Hub Findings - Imported" event on the default EventBridge bus of the
    request's account and region, through moto's events backend (rules and their
    targets see it). Emitted events are recorded: GET/DELETE /moto-ext/events.
EventBridge
  * Array-aware pattern matching as AWS documents it; `$or`, `exists`, and the named
    filters (prefix, anything-but, numeric, ...) delegated to moto's own code.
  * TestEventPattern returns {"Result": bool}.
  * Disabled rules deliver nothing (moto delivered to them).
  * Lambda and Step Functions targets no longer make PutEvents fail with HTTP 500:
    they are invoked / started through moto, and recorded: GET/DELETE /moto-ext/deliveries.
Lambda (simple backend)
  * A queued result with "__function_error__" comes back as a function error.
IAM Access Analyzer (moto has none): moto_ext_accessanalyzer.py.
Security Hub v2 (GetFindingsV2, BatchUpdateFindingsV2, OCSF import and "Findings Imported
V2" events; moto has none): moto_ext_securityhub_v2.py.
IAM server certificates (real expiry, DeleteConflict while in use): moto_ext_iam_certificates.py.
HTTP middleware
  * Fault injection: POST/GET/DELETE /moto-ext/faults.
  * Request statistics: GET/DELETE /moto-ext/requests, and per access key id
    /moto-ext/requests/by-access-key.
  * POST /moto-api/reset also clears all of the extension's state.

emulator/README.md documents the endpoints; emulator/tests/ tests all of it.
"""

import base64
import copy
import datetime
import hashlib
import io
import itertools
import json
import os
import re
import sys
import threading
import time
import traceback
import uuid
import weakref
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

import moto
import moto.securityhub.urls as securityhub_urls
import moto.server as moto_server
from moto.awslambda.models import LambdaBackend
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.core.utils import iso_8601_datetime_without_milliseconds, utcfromtimestamp
from moto.events import models as events_models
from moto.events.exceptions import InvalidEventPatternException
from moto.events.models import events_backends
from moto.events.responses import EventsHandler
from moto.securityhub.exceptions import SecurityHubClientError
from moto.securityhub.models import Finding, SecurityHubBackend
from moto.securityhub.responses import SecurityHubResponse
from moto.utilities.arns import parse_arn


def _log(message):
    print(f"moto_ext: {message}", file=sys.stderr, flush=True)


def _iso_now():
    """Now as AWS writes timestamps in findings: 2024-05-01T12:00:00.123Z."""
    now = datetime.datetime.now(datetime.UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


# =====================================================================================
# The extension's own state: faults, recorded events and deliveries, request counts.
# moto serves each request on a thread of its own, so every access holds `lock`.


class ExtState:
    def __init__(self):
        self.lock = threading.Lock()
        self.faults = []  # FaultRule, in the order they were added
        self.next_fault_id = 1
        self.events = []  # events emitted by Security Hub
        self.deliveries = []  # EventBridge deliveries to Lambda / Step Functions, failures
        self.requests = {}  # "<METHOD> <PATH>..." -> {"<status>": count}
        self.requests_by_access_key = {}  # access key id -> the same, for its requests

    def clear(self):
        with self.lock:
            self.faults.clear()
            self.next_fault_id = 1
            self.events.clear()
            self.deliveries.clear()
            self.requests.clear()
            self.requests_by_access_key.clear()

    def record_event(self, event):
        with self.lock:
            self.events.append(event)

    def record_delivery(self, delivery):
        with self.lock:
            self.deliveries.append(delivery)

    def count_request(self, key, status, access_key=None):
        with self.lock:
            counts = [self.requests]
            if access_key:
                counts.append(self.requests_by_access_key.setdefault(access_key, {}))
            for requests in counts:
                by_status = requests.setdefault(key, {})
                by_status[status] = by_status.get(status, 0) + 1


STATE = ExtState()


# =====================================================================================
# Security Hub
#
# moto keeps findings as `Finding(id, data)` objects in `SecurityHubBackend.findings`,
# one backend per account and region. All reads and writes below hold `_SH_LOCK`, so
# that concurrent BatchUpdateFindings calls (the pipeline makes them) cannot interleave.

_SH_LOCK = threading.RLock()
_SEQ = itertools.count(1)  # creation order of findings, the paging tiebreak


def _invalid(message):
    return SecurityHubClientError("InvalidInputException", message)


def _find(backend, identifier):
    """The stored finding for a {"Id", "ProductArn"} identifier, or None.

    Looked up in an index by (Id, ProductArn), rebuilt whenever the backend's list no
    longer matches it (findings are only ever appended), so a pipeline updating ten
    thousand findings is not quadratic."""
    index = getattr(backend, "_ext_index", None)
    if index is None or backend._ext_indexed != len(backend.findings):
        index = {(f.id, f.data.get("ProductArn")): f for f in backend.findings}
        backend._ext_index = index
        backend._ext_indexed = len(backend.findings)
    return index.get((identifier.get("Id"), identifier.get("ProductArn")))


# -------------------------------------------------------------------------------------
# GetFindings filters. Each filter name maps to a getter returning every value the
# finding has at that path (a path through a list, e.g. Resources[].Type, yields one
# value per element).


def _path(*keys):
    def get(finding):
        current = [finding]
        for key in keys:
            found = []
            for node in current:
                for item in node if isinstance(node, list) else [node]:
                    if isinstance(item, dict) and key in item:
                        value = item[key]
                        found.extend(value if isinstance(value, list) else [value])
            current = found
        return current

    return get


STRING_FILTERS = {
    "AwsAccountId": _path("AwsAccountId"),
    "AwsAccountName": _path("AwsAccountName"),
    "CompanyName": _path("CompanyName"),
    "ComplianceAssociatedStandardsId": _path("Compliance", "AssociatedStandards", "StandardsId"),
    "ComplianceSecurityControlId": _path("Compliance", "SecurityControlId"),
    "ComplianceStatus": _path("Compliance", "Status"),
    "Description": _path("Description"),
    "GeneratorId": _path("GeneratorId"),
    "Id": _path("Id"),
    "NoteText": _path("Note", "Text"),
    "NoteUpdatedBy": _path("Note", "UpdatedBy"),
    "ProductArn": _path("ProductArn"),
    "ProductName": _path("ProductName"),
    "RecommendationText": _path("Remediation", "Recommendation", "Text"),
    "RecordState": _path("RecordState"),
    "Region": _path("Region"),
    "RelatedFindingsId": _path("RelatedFindings", "Id"),
    "RelatedFindingsProductArn": _path("RelatedFindings", "ProductArn"),
    "ResourceId": _path("Resources", "Id"),
    "ResourcePartition": _path("Resources", "Partition"),
    "ResourceRegion": _path("Resources", "Region"),
    "ResourceType": _path("Resources", "Type"),
    "SeverityLabel": _path("Severity", "Label"),
    "SourceUrl": _path("SourceUrl"),
    "Title": _path("Title"),
    "Type": _path("Types"),
    "VerificationState": _path("VerificationState"),
    "WorkflowState": _path("WorkflowState"),
    "WorkflowStatus": _path("Workflow", "Status"),
}
NUMBER_FILTERS = {
    "Confidence": _path("Confidence"),
    "Criticality": _path("Criticality"),
    "SeverityNormalized": _path("Severity", "Normalized"),
    "SeverityProduct": _path("Severity", "Product"),
}
DATE_FILTERS = {
    "CreatedAt": _path("CreatedAt"),
    "FirstObservedAt": _path("FirstObservedAt"),
    "LastObservedAt": _path("LastObservedAt"),
    "NoteUpdatedAt": _path("Note", "UpdatedAt"),
    "ProcessedAt": _path("ProcessedAt"),
    "UpdatedAt": _path("UpdatedAt"),
}
BOOLEAN_FILTERS = {"Sample": _path("Sample")}
# Map filters: where the {key: value} maps are.
MAP_FILTERS = {
    "ProductFields": _path("ProductFields"),
    "ResourceTags": _path("Resources", "Tags"),
    "UserDefinedFields": _path("UserDefinedFields"),
}

POSITIVE = ("EQUALS", "PREFIX", "CONTAINS")
NEGATIVE = ("NOT_EQUALS", "PREFIX_NOT_EQUALS", "NOT_CONTAINS")


def _compare(value, comparison, wanted):
    value = str(value)
    return {
        "EQUALS": value == wanted,
        "PREFIX": value.startswith(wanted),
        "CONTAINS": wanted in value,
        "NOT_EQUALS": value != wanted,
        "PREFIX_NOT_EQUALS": not value.startswith(wanted),
        "NOT_CONTAINS": wanted not in value,
    }[comparison]


def _check_comparisons(name, conditions, allowed):
    comparisons = set()
    for condition in conditions:
        comparison = condition.get("Comparison")
        if comparison not in allowed:
            raise _invalid(f"Filter '{name}': invalid Comparison {comparison!r}")
        if not isinstance(condition.get("Value"), str):
            raise _invalid(f"Filter '{name}': every condition needs a string Value")
        comparisons.add(comparison)
    # AWS refuses these combinations on one field (StringFilter documentation).
    if {"CONTAINS", "NOT_CONTAINS"} <= comparisons or (
        "EQUALS" in comparisons and comparisons & {"NOT_EQUALS", "PREFIX_NOT_EQUALS"}
    ):
        raise _invalid(f"Filter '{name}': conflicting positive and negative comparisons")


def _string_matches(values, conditions):
    """Positive conditions are OR-ed, negative ones AND-ed (as AWS documents)."""
    positive = [c for c in conditions if c["Comparison"] in POSITIVE]
    negative = [c for c in conditions if c["Comparison"] in NEGATIVE]
    any_positive = not positive or any(
        _compare(v, c["Comparison"], c["Value"]) for c in positive for v in values
    )
    all_negative = all(_compare(v, c["Comparison"], c["Value"]) for c in negative for v in values)
    return any_positive and all_negative


def _number_matches(values, conditions):
    def one(value, c):
        return (
            ("Eq" not in c or value == c["Eq"])
            and ("Gt" not in c or value > c["Gt"])
            and ("Gte" not in c or value >= c["Gte"])
            and ("Lt" not in c or value < c["Lt"])
            and ("Lte" not in c or value <= c["Lte"])
        )

    numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return any(one(v, c) for c in conditions for v in numbers)


def _parse_date(text):
    """An ISO 8601 timestamp as an aware datetime (naive ones are taken as UTC)."""
    try:
        parsed = datetime.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed


def _date_matches(name, values, conditions):
    dates = [d for d in (_parse_date(v) for v in values) if d is not None]
    for c in conditions:
        if "DateRange" in c:
            date_range = c["DateRange"]
            if date_range.get("Unit", "DAYS") != "DAYS":
                raise _invalid(f"Filter '{name}': DateRange.Unit must be DAYS")
            end = datetime.datetime.now(datetime.UTC)
            start = end - datetime.timedelta(days=date_range["Value"])
        else:
            start = _parse_date(c["Start"]) if c.get("Start") else None
            end = _parse_date(c["End"]) if c.get("End") else None
        if any((start is None or d >= start) and (end is None or d <= end) for d in dates):
            return True
    return False


def _map_matches(maps, conditions):
    maps = [m for m in maps if isinstance(m, dict)] or [{}]

    def one(m, c):
        value = m.get(c["Key"])
        comparison = c["Comparison"]
        if comparison == "EQUALS":
            return value == c["Value"]
        if comparison == "CONTAINS":
            return value is not None and c["Value"] in value
        if comparison == "NOT_EQUALS":
            return value != c["Value"]
        return value is None or c["Value"] not in value  # NOT_CONTAINS

    positive = [c for c in conditions if c["Comparison"] in ("EQUALS", "CONTAINS")]
    negative = [c for c in conditions if c["Comparison"] in ("NOT_EQUALS", "NOT_CONTAINS")]
    return (not positive or any(one(m, c) for c in positive for m in maps)) and all(
        one(m, c) for c in negative for m in maps
    )


def validate_filters(filters):
    """Raises InvalidInputException for a filter AWS (or this emulator) does not take."""
    for name, conditions in (filters or {}).items():
        if not isinstance(conditions, list):
            raise _invalid(f"Filter '{name}' must be a list of conditions")
        if name in STRING_FILTERS:
            _check_comparisons(name, conditions, POSITIVE + NEGATIVE)
        elif name in MAP_FILTERS:
            _check_comparisons(
                name, conditions, ("EQUALS", "NOT_EQUALS", "CONTAINS", "NOT_CONTAINS")
            )
            if any("Key" not in c for c in conditions):
                raise _invalid(f"Filter '{name}': every condition needs a Key")
        elif name in DATE_FILTERS:
            for c in conditions:
                if "DateRange" in c:
                    if not _is_int((c["DateRange"] or {}).get("Value")):
                        raise _invalid(f"Filter '{name}': DateRange needs an integer Value")
                elif not (c.get("Start") or c.get("End")):
                    raise _invalid(f"Filter '{name}': give Start, End or DateRange")
        elif name in NUMBER_FILTERS:
            for c in conditions:
                bounds = set(c) & {"Eq", "Gt", "Gte", "Lt", "Lte"}
                if not bounds or any(
                    not isinstance(c[b], (int, float)) or isinstance(c[b], bool) for b in bounds
                ):
                    raise _invalid(f"Filter '{name}': give numbers for Eq, Gt, Gte, Lt or Lte")
        elif name in BOOLEAN_FILTERS:
            if any(not isinstance(c.get("Value"), bool) for c in conditions):
                raise _invalid(f"Filter '{name}': every condition needs a boolean Value")
        else:
            raise _invalid(f"Filter '{name}' is not supported by the hubfix emulator")


def finding_matches(finding, filters):
    for name, conditions in (filters or {}).items():
        if not conditions:
            continue
        if name in STRING_FILTERS:
            ok = _string_matches(STRING_FILTERS[name](finding), conditions)
        elif name in NUMBER_FILTERS:
            ok = _number_matches(NUMBER_FILTERS[name](finding), conditions)
        elif name in DATE_FILTERS:
            ok = _date_matches(name, DATE_FILTERS[name](finding), conditions)
        elif name in BOOLEAN_FILTERS:
            values = BOOLEAN_FILTERS[name](finding)
            ok = any(v is c.get("Value") for c in conditions for v in values)
        else:
            ok = _map_matches(MAP_FILTERS[name](finding), conditions)
        if not ok:
            return False
    return True


# -------------------------------------------------------------------------------------
# GetFindings sorting and paging.


def _sort_key_getter(field):
    if field in DATE_FILTERS:
        getter = DATE_FILTERS[field]
        return lambda f: next((d for d in map(_parse_date, getter(f)) if d), None)
    if field in NUMBER_FILTERS:
        getter = NUMBER_FILTERS[field]
        return lambda f: next((v for v in getter(f) if isinstance(v, (int, float))), None)
    getter = STRING_FILTERS.get(field) or _path(*field.split("."))
    return lambda f: next((str(v) for v in getter(f)), None)


def _sorted(entries, sort_criteria):
    """`entries` ((seq, finding) pairs in creation order) ordered by the criteria.
    Findings without the field come last in either order; ties keep creation order."""
    for criterion in reversed(sort_criteria or []):
        key = _sort_key_getter(criterion.get("Field", ""))
        order = str(criterion.get("SortOrder", "asc")).lower()
        if order not in ("asc", "desc"):
            raise _invalid(f"SortOrder must be asc or desc, not {order!r}")
        present = [e for e in entries if key(e[1]) is not None]
        missing = [e for e in entries if key(e[1]) is None]
        present.sort(key=lambda e: key(e[1]), reverse=order == "desc")
        entries = present + missing
    return entries


def _query_hash(filters, sort_criteria):
    text = json.dumps([filters or {}, sort_criteria or []], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _encode_token(seq, query):
    raw = json.dumps({"after": seq, "query": query}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_token(token, query):
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        seq = int(data["after"])
    except Exception:  # noqa: BLE001 - any malformed token is the caller's error
        raise _invalid("The NextToken is not valid") from None
    if data.get("query") != query:
        raise _invalid("The NextToken belongs to a request with other Filters or SortCriteria")
    return seq


def get_findings(self, filters=None, sort_criteria=None, max_results=None, next_token=None):
    """Returns (findings, next_token). The token is a cursor: the next page starts after
    the last finding returned, so findings that stop matching the filters in between
    (the pipeline updates what it pages through) do not make later pages skip any."""
    validate_filters(filters)
    if max_results is None:
        max_results = 100
    if not isinstance(max_results, int) or not 1 <= max_results <= 100:
        raise _invalid("MaxResults must be a number between 1 and 100")
    query = _query_hash(filters, sort_criteria)
    with _SH_LOCK:
        entries = [(getattr(f, "ext_seq", i), f.data) for i, f in enumerate(self.findings)]
        ordered = _sorted(entries, sort_criteria)
        start = 0
        if next_token:
            after = _decode_token(next_token, query)
            positions = [i for i, (seq, _) in enumerate(ordered) if seq == after]
            if not positions:
                raise _invalid("The NextToken is not valid")
            start = positions[0] + 1
        page, more = [], False
        for seq, finding in ordered[start:]:
            if finding_matches(finding, filters):
                if len(page) == max_results:
                    more = True
                    break
                page.append((seq, finding))
        findings = copy.deepcopy([f for _, f in page])
    token = _encode_token(page[-1][0], query) if more else None
    return findings, token


def response_get_findings(self):
    params = json.loads(self.body) if self.body else {}
    findings, token = self.securityhub_backend.get_findings(
        filters=params.get("Filters"),
        sort_criteria=params.get("SortCriteria"),
        max_results=params.get("MaxResults"),
        next_token=params.get("NextToken"),
    )
    response = {"Findings": findings}
    if token:
        response["NextToken"] = token
    return json.dumps(response)


# -------------------------------------------------------------------------------------
# BatchImportFindings

# A re-import by the finding provider never overwrites what customers set through
# BatchUpdateFindings (WorkflowState is the deprecated twin of Workflow).
PRESERVED_ON_REIMPORT = (
    "Note",
    "UserDefinedFields",
    "VerificationState",
    "Workflow",
    "WorkflowState",
)
REQUIRED_FIELDS = (
    "SchemaVersion",
    "Id",
    "ProductArn",
    "GeneratorId",
    "AwsAccountId",
    "CreatedAt",
    "UpdatedAt",
    "Title",
    "Description",
)
WORKFLOW_STATES = {
    "NEW": "NEW",
    "NOTIFIED": "ASSIGNED",
    "RESOLVED": "RESOLVED",
    "SUPPRESSED": "DEFERRED",
}


def _is_control_finding(data):
    return bool((data.get("Compliance") or {}).get("SecurityControlId")) or str(
        data.get("ProductArn", "")
    ).endswith("product/aws/securityhub")


def _automatic_workflow(data, old_record, old_compliance):
    """The documented automatic Workflow.Status changes (findings-workflow-status):
    NOTIFIED or RESOLVED go back to NEW when RecordState changes from ARCHIVED to ACTIVE
    or Compliance.Status from PASSED to FAILED, WARNING or NOT_AVAILABLE; a control
    finding whose Compliance.Status is PASSED becomes RESOLVED. SUPPRESSED never changes."""
    workflow = data.setdefault("Workflow", {"Status": "NEW"})
    status = workflow.get("Status", "NEW")
    record = data.get("RecordState")
    compliance = (data.get("Compliance") or {}).get("Status")
    if status in ("NOTIFIED", "RESOLVED") and (
        (old_record == "ARCHIVED" and record == "ACTIVE")
        or (old_compliance == "PASSED" and compliance in ("FAILED", "WARNING", "NOT_AVAILABLE"))
    ):
        status = "NEW"
    if status in ("NEW", "NOTIFIED") and compliance == "PASSED" and _is_control_finding(data):
        status = "RESOLVED"
    if status != workflow.get("Status"):
        workflow["Status"] = status
        data["WorkflowState"] = WORKFLOW_STATES[status]


def batch_import_findings(self, findings):
    if not isinstance(findings, list) or not 1 <= len(findings) <= 100:
        count = len(findings) if isinstance(findings, list) else 0
        raise _invalid(f"Findings must contain between 1 and 100 items, got {count}")
    failed, imported = [], []
    with _SH_LOCK:
        for incoming in findings:
            try:
                missing = [k for k in REQUIRED_FIELDS if k not in incoming]
                if missing:
                    raise ValueError(f"Finding is missing required field(s) {', '.join(missing)}")
                if not isinstance(incoming.get("Resources"), list) or not incoming["Resources"]:
                    raise ValueError(
                        "Finding must contain at least one resource in the Resources array"
                    )
            except ValueError as err:
                failed.append(
                    {
                        "Id": incoming.get("Id", ""),
                        "ErrorCode": "InvalidInput",
                        "ErrorMessage": str(err),
                    }
                )
                continue
            existing = _find(self, incoming)
            if existing is None:
                data = copy.deepcopy(incoming)
                data.setdefault("RecordState", "ACTIVE")
                data.setdefault("Workflow", {"Status": "NEW"})
                data.setdefault(
                    "WorkflowState", WORKFLOW_STATES[data["Workflow"].get("Status", "NEW")]
                )
                _automatic_workflow(data, None, None)
                finding = Finding(data["Id"], data)
                finding.ext_seq = next(_SEQ)
                self.findings.append(finding)
                self._ext_index[(finding.id, data.get("ProductArn"))] = finding
                self._ext_indexed = len(self.findings)
            else:
                data = existing.data
                kept = {k: data[k] for k in PRESERVED_ON_REIMPORT if k in data}
                old_record = data.get("RecordState")
                old_compliance = (data.get("Compliance") or {}).get("Status")
                data.update(copy.deepcopy(incoming))
                data.update(kept)
                _automatic_workflow(data, old_record, old_compliance)
            imported.append(copy.deepcopy(data))
    emit_findings_imported(self.account_id, self.region_name, imported)
    return len(failed), len(imported), failed


# -------------------------------------------------------------------------------------
# BatchUpdateFindings (PATCH /findings/batchupdate)

UPDATABLE = (
    "Confidence",
    "Criticality",
    "Note",
    "RelatedFindings",
    "Severity",
    "Types",
    "UserDefinedFields",
    "VerificationState",
    "Workflow",
)
SEVERITY_LABELS = {"INFORMATIONAL": 0, "LOW": 1, "MEDIUM": 40, "HIGH": 70, "CRITICAL": 90}
VERIFICATION_STATES = ("UNKNOWN", "TRUE_POSITIVE", "FALSE_POSITIVE", "BENIGN_POSITIVE")


def _label_for(normalized):
    if normalized == 0:
        return "INFORMATIONAL"
    if normalized < 40:
        return "LOW"
    if normalized < 70:
        return "MEDIUM"
    if normalized < 90:
        return "HIGH"
    return "CRITICAL"


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _validate_update(body):
    """Validates a BatchUpdateFindings request as the API reference documents it."""
    identifiers = body.get("FindingIdentifiers")
    if not isinstance(identifiers, list) or not 1 <= len(identifiers) <= 100:
        count = len(identifiers) if isinstance(identifiers, list) else 0
        raise _invalid(f"FindingIdentifiers must contain between 1 and 100 items, got {count}")
    for ident in identifiers:
        if not isinstance(ident, dict) or not ident.get("Id") or not ident.get("ProductArn"):
            raise _invalid("Each FindingIdentifier needs an Id and a ProductArn")
    if not any(k in body for k in UPDATABLE):
        raise _invalid("At least one finding field must be updated")
    if "Note" in body:
        note = body["Note"]
        if not isinstance(note, dict) or not note.get("Text") or not note.get("UpdatedBy"):
            raise _invalid("Note requires Text and UpdatedBy")
        if len(note["Text"]) > 512:
            raise _invalid("Note.Text must be at most 512 characters")
        if len(note["UpdatedBy"]) > 128:
            raise _invalid("Note.UpdatedBy must be at most 128 characters")
    if "Workflow" in body:
        status = (body["Workflow"] or {}).get("Status")
        if status not in WORKFLOW_STATES:
            raise _invalid(
                f"Workflow.Status must be one of {', '.join(WORKFLOW_STATES)}, not {status!r}"
            )
    if "Severity" in body:
        severity = body["Severity"] or {}
        label, normalized = severity.get("Label"), severity.get("Normalized")
        if label is not None and label not in SEVERITY_LABELS:
            raise _invalid(
                f"Severity.Label must be one of {', '.join(SEVERITY_LABELS)}, not {label!r}"
            )
        if normalized is not None and not (_is_int(normalized) and 0 <= normalized <= 100):
            raise _invalid("Severity.Normalized must be an integer from 0 to 100")
        if label is None and normalized is None and "Product" not in severity:
            raise _invalid("Severity needs Label, Normalized or Product")
    for field in ("Confidence", "Criticality"):
        if field in body and not (_is_int(body[field]) and 0 <= body[field] <= 100):
            raise _invalid(f"{field} must be an integer from 0 to 100")
    if "VerificationState" in body and body["VerificationState"] not in VERIFICATION_STATES:
        raise _invalid(f"VerificationState must be one of {', '.join(VERIFICATION_STATES)}")
    if "Types" in body and (not isinstance(body["Types"], list) or len(body["Types"]) > 50):
        raise _invalid("Types must be a list of at most 50 types")
    if "RelatedFindings" in body and (
        not isinstance(body["RelatedFindings"], list) or len(body["RelatedFindings"]) > 10
    ):
        raise _invalid("RelatedFindings must be a list of at most 10 findings")
    if "UserDefinedFields" in body and not isinstance(body["UserDefinedFields"], dict):
        raise _invalid("UserDefinedFields must be a map of strings")


def _apply_update(data, body, now):
    for field in UPDATABLE:
        if field not in body:
            continue
        value = copy.deepcopy(body[field])
        if field == "Note":
            data["Note"] = {
                "Text": value["Text"],
                "UpdatedBy": value["UpdatedBy"],
                "UpdatedAt": now,
            }
        elif field == "Workflow":
            data["Workflow"] = dict(data.get("Workflow") or {}, **value)
            data["WorkflowState"] = WORKFLOW_STATES[value["Status"]]
        elif field == "Severity":
            severity = dict(data.get("Severity") or {}, **value)
            # Derived as the ASFF Severity documentation describes.
            if "Label" in value and "Normalized" not in value:
                severity["Normalized"] = SEVERITY_LABELS[value["Label"]]
            elif "Normalized" in value and "Label" not in value:
                severity["Label"] = _label_for(value["Normalized"])
            data["Severity"] = severity
        else:
            data[field] = value
    # As the API reference says, BatchUpdateFindings leaves UpdatedAt alone.


def _unprocessed(identifier, code, message):
    return {"FindingIdentifier": identifier, "ErrorCode": code, "ErrorMessage": message}


def batch_update_findings(self, body):
    _validate_update(body)
    identifiers = body["FindingIdentifiers"]
    keys = [(i["Id"], i["ProductArn"]) for i in identifiers]
    now = _iso_now()
    processed, unprocessed, updated = [], [], []
    with _SH_LOCK:
        for ident, key in zip(identifiers, keys, strict=True):
            identifier = {"Id": ident["Id"], "ProductArn": ident["ProductArn"]}
            if keys.count(key) > 1:
                unprocessed.append(
                    _unprocessed(
                        identifier,
                        "DuplicatedFindingIdentifier",
                        "The request included this FindingIdentifier more than once",
                    )
                )
                continue
            finding = _find(self, ident)
            if finding is None:
                unprocessed.append(_unprocessed(identifier, "FindingNotFound", "Finding Not Found"))
                continue
            _apply_update(finding.data, body, now)
            processed.append(identifier)
            updated.append(copy.deepcopy(finding.data))
    emit_findings_imported(self.account_id, self.region_name, updated)
    return processed, unprocessed


def response_batch_update_findings(self):
    body = json.loads(self.body) if self.body else {}
    processed, unprocessed = self.securityhub_backend.batch_update_findings(body)
    return json.dumps({"ProcessedFindings": processed, "UnprocessedFindings": unprocessed})


# -------------------------------------------------------------------------------------
# Events: "Security Hub Findings - Imported", one per finding created or updated.

FINDINGS_IMPORTED = "Security Hub Findings - Imported"


def emit_findings_imported(account_id, region, findings):
    """Puts one event per finding on the default bus of `account_id`/`region` through
    moto's events backend (so rules and their targets receive it), and records it.
    A delivery problem never fails the Security Hub call, as in AWS."""
    if not findings:
        return
    backend = events_backends[account_id][region]
    for finding in findings:
        when = time.time()
        detail = {"findings": [finding]}
        entry = {
            "Source": "aws.securityhub",
            "DetailType": FINDINGS_IMPORTED,
            "Detail": json.dumps(detail),
            "Resources": [finding["Id"]],
            "Time": when,
        }
        event_id = None
        try:
            result = backend.put_events([entry])
            event_id = result[0].get("EventId")
        except Exception as err:  # noqa: BLE001 - log it, never fail the caller
            _log(f"could not put a Security Hub event: {type(err).__name__}: {err}")
        STATE.record_event(
            {
                "version": "0",
                "id": event_id or str(uuid.uuid4()),
                "detail-type": FINDINGS_IMPORTED,
                "source": "aws.securityhub",
                "account": account_id,
                "time": iso_8601_datetime_without_milliseconds(utcfromtimestamp(when)),
                "region": region,
                "resources": [finding["Id"]],
                "detail": detail,
            }
        )


SecurityHubBackend.get_findings = get_findings
SecurityHubBackend.batch_import_findings = batch_import_findings
SecurityHubBackend.batch_update_findings = batch_update_findings
SecurityHubResponse.get_findings = response_get_findings
SecurityHubResponse.batch_update_findings = response_batch_update_findings
securityhub_urls.url_paths["{0}/findings/batchupdate$"] = SecurityHubResponse.dispatch


# =====================================================================================
# EventBridge
#
# AWS: "If the value in the event is an array, then the event pattern matches if the
# intersection of the event pattern array and the event array is non-empty." Arrays of
# objects are traversed the same way: every field path collects the values of all the
# elements, and each pattern field is matched against that collection on its own.


def _values_at(node, path):
    """Every value at `path` in `node`, descending through arrays at any depth."""
    if isinstance(node, list):
        return [value for item in node for value in _values_at(item, path)]
    if not path:
        return [node]
    if isinstance(node, dict) and path[0] in node:
        return _values_at(node[path[0]], path[1:])
    return []


def _same_scalar(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, dict) or isinstance(b, dict):
        return False
    return a == b


def _condition_matches(values, condition):
    if isinstance(condition, dict):
        name, wanted = next(iter(condition.items()))
        if name == "exists":
            # Only leaf values count: "exists" does not match intermediate objects.
            leaves = [v for v in values if not isinstance(v, dict)]
            return bool(leaves) == bool(wanted)
        if not values:
            return False
        # prefix, suffix, anything-but, numeric, cidr, wildcard, equals-ignore-case:
        # moto's own implementation, which already tries each value of a list.
        return events_models.EventPattern._does_item_match_named_filter(values, condition)
    return any(_same_scalar(v, condition) for v in values)


def pattern_matches(event, pattern, path=()):
    for key, wanted in pattern.items():
        if key == "$or":
            if not any(pattern_matches(event, alternative, path) for alternative in wanted):
                return False
        elif isinstance(wanted, dict):
            if not pattern_matches(event, wanted, path + (key,)):
                return False
        elif isinstance(wanted, list):
            values = _values_at(event, list(path + (key,)))
            if not any(_condition_matches(values, c) for c in wanted):
                return False
        else:
            return False
    return True


def matches_event(self, event):
    if not self._pattern:
        return True
    return pattern_matches(json.loads(json.dumps(event, default=str)), self._pattern)


events_models.EventPattern.matches_event = matches_event

# Targets moto delivers to itself; the others are handled below.
_MOTO_TARGETS = {"logs", "sqs", "events"}
_original_send_to_targets = events_models.Rule.send_to_targets


def _target_payload(target, event):
    if target.get("Input"):
        return json.loads(target["Input"])
    transformer = target.get("InputTransformer")
    if transformer:
        return events_models.EventTemplateParser.parse(
            input_template=transformer.get("InputTemplate"),
            input_paths_map=transformer.get("InputPathsMap", {}),
            event=event,
        )
    payload = copy.deepcopy(event)
    if isinstance(payload.get("time"), (int, float)):
        payload["time"] = iso_8601_datetime_without_milliseconds(utcfromtimestamp(payload["time"]))
    return payload


def send_to_targets(self, original_event, transform_input=True):
    if self.state == "DISABLED" or not self.event_pattern.matches_event(original_event):
        return
    all_targets = self.targets
    for target in all_targets:
        arn = parse_arn(target["Arn"])
        record = {
            "rule": self.name,
            "rule_arn": self.arn,
            "target_id": target["Id"],
            "target_arn": target["Arn"],
            "time": _iso_now(),
        }
        try:
            if arn.service in _MOTO_TARGETS:
                # One target at a time, so one failing target does not starve the others.
                self.targets = [target]
                try:
                    _original_send_to_targets(self, original_event, transform_input)
                finally:
                    self.targets = all_targets
                continue
            payload = _target_payload(target, original_event)
            record["event"] = payload
            body = payload if isinstance(payload, str) else json.dumps(payload)
            if arn.service == "states":
                from moto.stepfunctions.responses import get_backend as sfn_backend

                execution = sfn_backend(arn.account, arn.region).start_execution(
                    target["Arn"], name=f"evb-{uuid.uuid4().hex[:16]}", execution_input=body
                )
                record["result"] = f"started {execution.execution_arn}"
            elif arn.service == "lambda":
                from moto.awslambda.utils import get_backend as lambda_backend

                out = lambda_backend(arn.account, arn.region).invoke(
                    target["Arn"], None, body, {}, {}
                )
                record["result"] = f"invoked, returned {out!r}"[:500]
            else:
                record["result"] = "recorded only"
        except Exception as err:  # noqa: BLE001 - a failed delivery never fails PutEvents
            record["result"] = f"error: {type(err).__name__}: {err}"
            _log(f"delivery to {target['Arn']} failed: {record['result']}")
        STATE.record_delivery(record)


events_models.Rule.send_to_targets = send_to_targets


def test_event_pattern(self):
    raw_pattern = self._get_param("EventPattern")
    pattern = events_models.EventPattern.load(raw_pattern)
    try:
        event = json.loads(self._get_param("Event") or "")
    except ValueError:
        raise InvalidEventPatternException(reason="Event is not valid JSON") from None
    if not isinstance(event, dict):
        raise InvalidEventPatternException(reason="Event must be a JSON object")
    for field in ("id", "account", "source", "time", "region", "resources", "detail-type"):
        if field not in event:
            raise InvalidEventPatternException(reason=f"Event is missing the field '{field}'")
    return json.dumps({"Result": pattern.matches_event(event)})


EventsHandler.test_event_pattern = test_event_pattern


# =====================================================================================
# Lambda, simple backend (/moto-api/config {"lambda": {"use_docker": false}}): a result
# queued at /moto-api/static/lambda-simple/response that is a JSON object with
# "__function_error__": "Unhandled" comes back as a function error (X-Amz-Function-Error),
# so Step Functions Retry/Catch on errorType and SDK FunctionError handling can be tested.

_original_simple_invoke = LambdaSimpleBackend.invoke


def simple_invoke(self, function_name, qualifier, body, headers, response_headers):
    out = _original_simple_invoke(self, function_name, qualifier, body, headers, response_headers)
    try:
        result = json.loads(out)
    except ValueError:
        return out
    if isinstance(result, dict) and "__function_error__" in result:
        response_headers["x-amz-function-error"] = result.pop("__function_error__")
        return json.dumps(result).encode()
    return out


LambdaSimpleBackend.invoke = simple_invoke


# =====================================================================================
# Lambda Runtime API: real function code, run as a local process
#
# moto's Lambda cannot run code without Docker. A process built on the Lambda runtime
# (lambda_runtime in Rust) can run it here: started with
#     AWS_LAMBDA_RUNTIME_API=http://127.0.0.1:PORT/moto-ext/runtime/FUNCTION_NAME
# it polls `GET .../2018-06-01/runtime/invocation/next` and answers with
# `POST .../invocation/{id}/response` or `.../error`, as documented in the AWS Lambda
# "Runtime API" reference. While such a process is attached, `Invoke` of a function of
# that name (which must exist: moto looks it up first) is delivered to it, and its answer
# returned: a result as the payload, an error as a function error (X-Amz-Function-Error:
# Unhandled, payload {"errorType", "errorMessage"}), as AWS does.

RUNTIME_PREFIX = "/moto-ext/runtime/"
_RUNTIME_TIMEOUT_S = 120


class _Invocation:
    def __init__(self, function_arn, payload):
        self.id = str(uuid.uuid4())
        self.function_arn = function_arn
        self.payload = payload
        self.done = threading.Event()
        self.result = None  # (is_error, bytes)


class _Runtimes:
    """Runtime processes by function name. A runtime counts as attached while it waits
    for an invocation, and for a few seconds after its last answer (the moment between
    answering and polling again)."""

    GRACE_S = 5

    def __init__(self):
        self.lock = threading.Condition()
        self.waiting = {}  # function name -> runtimes waiting in next()
        self.last_seen = {}  # function name -> time of the last poll or answer
        self.pending = {}  # function name -> [invocation]
        self.running = {}  # request id -> (function name, invocation)

    def attached(self):
        with self.lock:
            now = time.time()
            return sorted(
                name
                for name in set(self.waiting) | set(self.last_seen)
                if self.waiting.get(name, 0) > 0 or now - self.last_seen.get(name, 0) < self.GRACE_S
            )

    def is_attached(self, name):
        return name in self.attached()

    def next(self, name):
        with self.lock:
            self.waiting[name] = self.waiting.get(name, 0) + 1
            self.last_seen[name] = time.time()
            try:
                while not self.pending.get(name):
                    self.lock.wait()
            finally:
                self.waiting[name] -= 1
            invocation = self.pending[name].pop(0)
            self.running[invocation.id] = (name, invocation)
            return invocation

    def submit(self, name, invocation):
        with self.lock:
            self.pending.setdefault(name, []).append(invocation)
            self.lock.notify_all()

    def finish(self, request_id, is_error, body):
        with self.lock:
            name, invocation = self.running.pop(request_id, (None, None))
            if invocation is None:
                return False
            self.last_seen[name] = time.time()
        invocation.result = (is_error, body)
        invocation.done.set()
        return True


RUNTIMES = _Runtimes()


def _function_name(function_name):
    return function_name.split(":function:", 1)[-1].split(":", 1)[0]


def _runtime_first(invoke_without_runtime):
    def invoke(self, function_name, qualifier, body, headers, response_headers):
        if not RUNTIMES.is_attached(_function_name(function_name)):
            return invoke_without_runtime(self, function_name, qualifier, body, headers, response_headers)
        return runtime_invoke(self, function_name, qualifier, body, response_headers)

    return invoke


def runtime_invoke(self, function_name, qualifier, body, response_headers):
    name = _function_name(function_name)
    function = self.get_function(function_name, qualifier)  # raises as moto does for unknown functions
    payload = body if isinstance(body, bytes) else (body or "").encode()
    invocation = _Invocation(function.function_arn, payload)
    RUNTIMES.submit(name, invocation)
    if not invocation.done.wait(_RUNTIME_TIMEOUT_S):
        response_headers["x-amz-function-error"] = "Unhandled"
        return json.dumps({"errorType": "Sandbox.Timedout",
                           "errorMessage": f"Task timed out after {_RUNTIME_TIMEOUT_S}.00 seconds"}).encode()
    is_error, answer = invocation.result
    if is_error:
        response_headers["x-amz-function-error"] = "Unhandled"
    return answer


# Both backends: the simple one (`{"lambda": {"use_docker": false}}`) and the Docker one.
LambdaSimpleBackend.invoke = _runtime_first(LambdaSimpleBackend.invoke)
LambdaBackend.invoke = _runtime_first(LambdaBackend.invoke)


def runtime_endpoint(environ, start_response):
    """`/moto-ext/runtime/{function}/2018-06-01/runtime/...`: the Runtime API."""
    rest = environ.get("PATH_INFO", "")[len(RUNTIME_PREFIX):]
    name, _, api = rest.partition("/2018-06-01/runtime/")
    method = environ["REQUEST_METHOD"]

    def reply(status, body=b"", headers=()):
        start_response(status, [("Content-Type", "application/json"),
                                ("Content-Length", str(len(body)))] + list(headers))
        return [body]

    if not name and method == "GET":
        # `GET /moto-ext/runtime/`: the functions a runtime is attached to.
        return reply("200 OK", json.dumps(RUNTIMES.attached()).encode())
    if method == "GET" and api == "invocation/next":
        invocation = RUNTIMES.next(name)
        deadline = int((time.time() + _RUNTIME_TIMEOUT_S) * 1000)
        return reply("200 OK", invocation.payload, [
            ("Lambda-Runtime-Aws-Request-Id", invocation.id),
            ("Lambda-Runtime-Deadline-Ms", str(deadline)),
            ("Lambda-Runtime-Invoked-Function-Arn", invocation.function_arn),
            ("Lambda-Runtime-Trace-Id", f"Root=1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]}"),
        ])
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    if method == "POST" and api.startswith("invocation/"):
        request_id, _, kind = api[len("invocation/"):].partition("/")
        if kind in ("response", "error") and RUNTIMES.finish(request_id, kind == "error", body):
            return reply("202 Accepted", b'{"status":"OK"}')
        return reply("400 Bad Request", json.dumps({"errorType": "InvalidRequestID",
                                                    "errorMessage": request_id}).encode())
    if method == "POST" and api == "init/error":
        _log(f"runtime for {name} failed to start: {body[:500]!r}")
        return reply("202 Accepted", b'{"status":"OK"}')
    return reply("404 Not Found", b'{"errorType":"NotFound"}')



# =====================================================================================
# SQS at scale
#
# The pipeline queues one message per finding update, tens of thousands at once. moto
# computes every queue attribute, including message counts that walk every message, on
# each SendMessage (only to read ContentBasedDeduplication), and checks each message's
# visibility through datetime conversions: sending N messages is quadratic, and slow.
# Same semantics, made linear: SendMessage reads only the attribute it needs, and the
# visibility checks compare plain epoch milliseconds.

from moto.sqs import models as sqs_models  # noqa: E402

_SQS_SENDING = threading.local()
_orig_queue_attributes = sqs_models.Queue.attributes.fget
_orig_send_message = sqs_models.SQSBackend.send_message


def _queue_attributes(self):
    if getattr(_SQS_SENDING, "active", False):
        if self.fifo_queue:
            return {
                "ContentBasedDeduplication": str(
                    getattr(self, "content_based_deduplication", False)
                ).lower()
            }
        return {}
    return _orig_queue_attributes(self)


def _send_message(self, *args, **kwargs):
    _SQS_SENDING.active = True
    try:
        return _orig_send_message(self, *args, **kwargs)
    finally:
        _SQS_SENDING.active = False


sqs_models.Queue.attributes = property(_queue_attributes)
sqs_models.SQSBackend.send_message = _send_message

# ReceiveMessage checks each message's retention through GetQueueAttributes (all counts
# again); DeleteMessage walks every message twice. Both look up what they need directly.
_RECEIPTS = weakref.WeakValueDictionary()  # receipt handle -> message
_orig_mark_received = sqs_models.Message.mark_received


def _mark_received(self, visibility_timeout=None):
    _orig_mark_received(self, visibility_timeout)
    _RECEIPTS[self.receipt_handle] = self


def _retention_ok(self, queue_name, message):
    queue = self.get_queue(queue_name)
    retention = int(getattr(queue, "message_retention_period", 86400 * 4))
    return retention + message.sent_timestamp / 1000 > time.time()


def _delete_message(self, receipt_handle):
    if receipt_handle in self.deleted_messages:
        return  # already deleted: AWS accepts it again
    message = _RECEIPTS.get(receipt_handle)
    try:
        # Messages compare by identity: index() is a C-level scan.
        position = self._messages.index(message)
    except ValueError:
        raise sqs_models.ReceiptHandleIsInvalid() from None
    self.pending_messages.discard(message)
    self.deleted_messages.update(message.all_receipt_handles)
    # A new list, as moto does, so a concurrent reader keeps a consistent one.
    self._messages = self._messages[:position] + self._messages[position + 1 :]


sqs_models.Message.mark_received = _mark_received
sqs_models.SQSBackend.is_message_valid_based_on_retention_period = _retention_ok
sqs_models.Queue.delete_message = _delete_message
sqs_models.Message.visible = property(lambda self: time.time() * 1000.0 > self.visible_at)
sqs_models.Message.delayed = property(lambda self: time.time() * 1000.0 < self.delayed_until)


# =====================================================================================
# HTTP middleware: the /moto-ext/* endpoints, fault injection, request statistics.

_SIGV4_SERVICE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request")

# Per protocol: the default error code and HTTP status of an injected fault, chosen as
# each service family throttles in AWS.
_DEFAULT_FAULT = {
    "rest-json": ("TooManyRequestsException", 429),
    "json": ("ThrottlingException", 400),
    "query": ("Throttling", 400),
    "ec2": ("RequestLimitExceeded", 503),
    "s3": ("SlowDown", 503),
}


class FaultRuleError(ValueError):
    pass


class FaultRule:
    """One fault rule. A request matches when its SigV4 service equals `service` (if
    given) and `match` is found in its description "<METHOD> <PATH> <X-Amz-Target>
    <Action=...>". Then it fails if this is one of the first `count` matches, or (with
    `every`) every `every`-th match; `limit` caps the total number of failures."""

    def __init__(self, rule_id, spec):
        if not isinstance(spec, dict):
            raise FaultRuleError("a fault rule is a JSON object")
        unknown = set(spec) - {
            "service",
            "match",
            "count",
            "every",
            "limit",
            "status",
            "code",
            "message",
        }
        if unknown:
            raise FaultRuleError(f"unknown field(s): {', '.join(sorted(unknown))}")
        if "count" in spec and "every" in spec:
            raise FaultRuleError("give either count or every, not both")
        self.id = rule_id
        self.service = spec.get("service")
        self.match = spec.get("match", "")
        try:
            self.regex = re.compile(self.match)
        except (re.error, TypeError) as err:
            raise FaultRuleError(f"match is not a valid regular expression: {err}") from None
        self.every = self._positive(spec, "every")
        self.count = None if self.every else (self._positive(spec, "count") or 1)
        self.limit = self._positive(spec, "limit")
        self.status = spec.get("status")
        if self.status is not None and not (_is_int(self.status) and 400 <= self.status <= 599):
            raise FaultRuleError("status must be an HTTP error status (400..599)")
        self.code = spec.get("code")
        self.message = spec.get("message", "Rate exceeded")
        self.matched = 0
        self.failed = 0

    @staticmethod
    def _positive(spec, name):
        value = spec.get(name)
        if value is not None and not (_is_int(value) and value > 0):
            raise FaultRuleError(f"{name} must be a positive integer")
        return value

    def applies_to(self, service, description):
        return (not self.service or self.service == service) and bool(
            self.regex.search(description)
        )

    def should_fail(self):
        """Called once per matching request, in order; counts it."""
        self.matched += 1
        if self.limit is not None and self.failed >= self.limit:
            return False
        fail = self.matched % self.every == 0 if self.every else self.failed < self.count
        if fail:
            self.failed += 1
        return fail

    def to_json(self):
        out = {"id": self.id, "service": self.service, "match": self.match}
        if self.every:
            out["every"] = self.every
        else:
            out["count"] = self.count
        out.update(
            {
                "limit": self.limit,
                "status": self.status,
                "code": self.code,
                "message": self.message,
                "matched": self.matched,
                "failed": self.failed,
            }
        )
        return out


def _protocol(service, environ):
    content_type = environ.get("CONTENT_TYPE", "")
    if environ.get("HTTP_X_AMZ_TARGET") or "x-amz-json" in content_type:
        return "json"
    if "x-www-form-urlencoded" in content_type or "Action=" in environ.get("QUERY_STRING", ""):
        return "ec2" if service == "ec2" else "query"
    if service == "s3":
        return "s3"
    return "rest-json"


def _error_response(rule, service, environ):
    """The error as that protocol's AWS SDKs parse it: (status, headers, body)."""
    protocol = _protocol(service, environ)
    default_code, default_status = _DEFAULT_FAULT[protocol]
    code, status = rule.code or default_code, rule.status or default_status
    message = rule.message
    request_id = str(uuid.uuid4())
    xml_code, xml_message = escape(code), escape(message)
    if protocol == "json":  # awsJson1_0 / awsJson1_1
        content_type = environ.get("CONTENT_TYPE") or "application/x-amz-json-1.1"
        headers = [("Content-Type", content_type), ("x-amzn-RequestId", request_id)]
        body = json.dumps({"__type": code, "message": message})
    elif protocol == "ec2":
        headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
        body = (
            f"<Response><Errors><Error><Code>{xml_code}</Code><Message>{xml_message}</Message>"
            "</Error>"
            f"</Errors><RequestID>{request_id}</RequestID></Response>"
        )
    elif protocol == "query":
        headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{xml_code}</Code><Message>{xml_message}"
            f"</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
    elif protocol == "s3":
        headers = [("Content-Type", "application/xml"), ("x-amz-request-id", request_id)]
        body = (
            f"<Error><Code>{xml_code}</Code><Message>{xml_message}</Message>"
            f"<RequestId>{request_id}</RequestId></Error>"
        )
    else:  # restJson1: the error type travels in a header
        headers = [
            ("Content-Type", "application/json"),
            ("x-amzn-ErrorType", code),
            ("x-amzn-RequestId", request_id),
        ]
        body = json.dumps({"Message": message, "Code": code})
    return status, headers, body.encode()


_REASONS = {
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def _status_line(status):
    return f"{status} {_REASONS.get(status, 'Error')}"


def _json_reply(start_response, status, payload):
    body = json.dumps(payload, default=str).encode()
    start_response(
        _status_line(status) if status != 200 else "200 OK",
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
        ],
    )
    return [body]


def _read_body(environ):
    """Reads the request body and puts it back for moto."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    raw = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(raw)
    return raw


def _faults_endpoint(environ, start_response):
    method = environ["REQUEST_METHOD"]
    if method == "POST":
        try:
            spec = json.loads(_read_body(environ) or b"{}")
            with STATE.lock:
                rule = FaultRule(STATE.next_fault_id, spec)
                STATE.next_fault_id += 1
                STATE.faults.append(rule)
        except (ValueError, FaultRuleError) as err:
            return _json_reply(start_response, 400, {"error": str(err)})
    elif method == "DELETE":
        with STATE.lock:
            STATE.faults.clear()
    elif method != "GET":
        return _json_reply(start_response, 405, {"error": f"{method} is not allowed"})
    with STATE.lock:
        rules = [rule.to_json() for rule in STATE.faults]
    return _json_reply(start_response, 200, rules)


def _list_endpoint(name):
    """GET returns the recorded list (or map), DELETE clears it and returns it empty."""

    def endpoint(environ, start_response):
        method = environ["REQUEST_METHOD"]
        if method not in ("GET", "DELETE"):
            return _json_reply(start_response, 405, {"error": f"{method} is not allowed"})
        with STATE.lock:
            if method == "DELETE":
                getattr(STATE, name).clear()
            payload = copy.deepcopy(getattr(STATE, name))
        return _json_reply(start_response, 200, payload)

    return endpoint


# Services moto lacks, by SigV4 service name: WSGI handlers the middleware calls instead
# of moto (after fault injection, counted like the rest), and what POST /moto-api/reset
# calls to clear them. Filled by the modules imported at the end.
SERVICE_APPS = {}
RESET_HOOKS = []
# Operations moto lacks of a service it has: (SigV4 service, path prefix) -> WSGI handler.
PATH_APPS = {}

ENDPOINTS = {
    "/moto-ext/faults": _faults_endpoint,
    "/moto-ext/events": _list_endpoint("events"),
    "/moto-ext/deliveries": _list_endpoint("deliveries"),
    "/moto-ext/requests": _list_endpoint("requests"),
    "/moto-ext/requests/by-access-key": _list_endpoint("requests_by_access_key"),
}


_SIGV4_ACCESS_KEY = re.compile(r"Credential=([^/,\s]+)/")


def _access_key(environ):
    """The access key id a request is signed with, if it is signed."""
    match = _SIGV4_ACCESS_KEY.search(environ.get("HTTP_AUTHORIZATION", ""))
    return match.group(1) if match else None


def _describe(environ):
    """(SigV4 service, "<METHOD> <PATH> <X-Amz-Target> <Action=...>", stats key)."""
    method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
    match = _SIGV4_SERVICE.search(environ.get("HTTP_AUTHORIZATION", ""))
    service = match.group(1) if match else None
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    action = ""
    if method == "POST" and "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", ""):
        form = parse_qs(_read_body(environ).decode(errors="replace"))
        action = form.get("Action", [""])[0]
    elif "Action=" in environ.get("QUERY_STRING", ""):
        action = parse_qs(environ["QUERY_STRING"]).get("Action", [""])[0]
    action = f"Action={action}" if action else ""
    description = f"{method} {path} {target} {action}"
    key = " ".join(part for part in (method, path, target, action) if part)
    return service, description, key


def extension_middleware(app):
    def middleware(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path in ENDPOINTS:
            return ENDPOINTS[path](environ, start_response)
        if path.startswith(RUNTIME_PREFIX) or path == RUNTIME_PREFIX.rstrip("/"):
            return runtime_endpoint(environ, start_response)

        service, description, key = _describe(environ)
        if not path.startswith("/moto-api/"):
            with STATE.lock:
                failing = None
                for rule in STATE.faults:
                    if not rule.applies_to(service, description):
                        continue
                    if failing is None:
                        failing = rule if rule.should_fail() else None
                    else:
                        rule.matched += 1  # already failing through an earlier rule
            if failing is not None:
                status, headers, body = _error_response(failing, service, environ)
                STATE.count_request(key, str(status), _access_key(environ))
                start_response(_status_line(status), headers + [("Content-Length", str(len(body)))])
                return [body]

        seen = {}

        def capture(status, headers, exc_info=None):
            seen["status"] = status.split(" ", 1)[0]
            return start_response(status, headers, exc_info)

        handler = next(
            (h for (svc, prefix), h in PATH_APPS.items() if svc == service and path.startswith(prefix)),
            SERVICE_APPS.get(service, app),
        )
        try:
            result = handler(environ, capture)
        except Exception:
            STATE.count_request(key, "500", _access_key(environ))
            raise
        STATE.count_request(key, seen.get("status", "500"), _access_key(environ))
        if path == "/moto-api/reset" and environ["REQUEST_METHOD"] == "POST":
            STATE.clear()
            for hook in RESET_HOOKS:
                hook()
        return result

    return middleware


class ExtendedApplication(moto_server.DomainDispatcherApplication):
    """moto's WSGI application behind the extension's middleware."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._with_extension = extension_middleware(super().__call__)

    def __call__(self, environ, start_response):
        return self._with_extension(environ, start_response)


# moto.server.main() builds its application from this module-level name.
moto_server.DomainDispatcherApplication = ExtendedApplication

# EC2 (network ACL entries, flow logs, instance metadata options): moto_ext_ec2.py.
import moto_ext_ec2  # noqa: E402,F401 - patches moto on import
import moto_ext_kms_config  # noqa: E402,F401 - patches moto on import (KMS, IAM, Config)
import moto_ext_cloudtrail  # noqa: E402,F401 - patches moto on import (CloudTrail)
import moto_ext_iam; ENDPOINTS.update(moto_ext_iam.ENDPOINTS)  # noqa: E402,E702 - POST /moto-ext/iam/backdate
import moto_ext_iam_certificates  # noqa: E402,F401 - patches moto on import (IAM server certificates)
import moto_ext_logs  # noqa: E402,F401 - patches moto on import (CloudWatch Logs metric filters)
import moto_ext_cloudwatch; ENDPOINTS.update(moto_ext_cloudwatch.ENDPOINTS)  # noqa: E402,E702 - CloudWatch over RPC v2 CBOR
import moto_ext_accessanalyzer  # noqa: E402 - IAM Access Analyzer, which moto lacks
SERVICE_APPS[moto_ext_accessanalyzer.SERVICE] = moto_ext_accessanalyzer.application
RESET_HOOKS.append(moto_ext_accessanalyzer.reset)
import moto_ext_securityhub_v2 as shv2  # noqa: E402 - Security Hub v2 (OCSF), which moto lacks
PATH_APPS[(shv2.SERVICE, shv2.PREFIX)] = shv2.application
ENDPOINTS.update(shv2.ENDPOINTS)
RESET_HOOKS.append(shv2.reset)
shv2.record_event = STATE.record_event


def main(argv):
    if "-p" in argv and "MOTO_PORT" not in os.environ:
        os.environ["MOTO_PORT"] = argv[argv.index("-p") + 1]
    _log(f"hubfix extension loaded (moto {moto.__version__})")
    moto_server.main(argv)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except Exception:  # noqa: BLE001 - make the cause visible in the server log
        traceback.print_exc()
        sys.exit(1)
