"""hubfix's CloudWatch extension to moto 5.2.5: the Smithy RPC v2 CBOR protocol.

The AWS SDKs now call CloudWatch with `smithy-rpcv2-cbor` (`POST
/service/GraniteServiceVersion20100801/operation/<Operation>`, CBOR bodies, header
`smithy-protocol: rpc-v2-cbor`); moto 5.2.5 serves only the query protocol on `/`, so every
call of aws-sdk-cloudwatch got an HTML 404. Imported by `moto_ext.py`, which adds
`ENDPOINTS` to its own. These operations run against moto's own CloudWatch backend (the
same alarms the query protocol sees), as the CloudWatch API reference describes them:

  * PutMetricAlarm: creates or replaces the alarm of that name.
  * DescribeAlarms: `AlarmNames`, `AlarmNamePrefix` (not both), `ActionPrefix`,
    `StateValue` and `AlarmTypes` all apply together; pages of `MaxRecords` (1..100,
    default 50) with `NextToken` (moto never paged and used one filter only).
  * DescribeAlarmsForMetric: the alarms on `MetricName` in `Namespace` (every page at once).
  * DeleteAlarms: the alarms named (unknown names are ignored, as in AWS).

Errors are CBOR `{"__type": code, "message": text}` with HTTP 400 (`ValidationError`,
`InvalidParameterValue`, `InvalidNextToken`, `MissingParameter`). The account is the one
moto maps the request's access key to; the region is the signature's.
"""

import datetime
import re

import cbor2
from moto.cloudwatch.models import cloudwatch_backends
from moto.core.exceptions import ServiceException
from moto.iam.models import get_account_id_from

PREFIX = "/service/GraniteServiceVersion20100801/operation/"
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[0-9]{8}/([^/]+)/([^/]+)/aws4_request")
_STATISTICS = {"SampleCount", "Average", "Sum", "Minimum", "Maximum"}
_OPERATORS = {
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
    "LessThanLowerOrGreaterThanUpperThreshold",
    "LessThanLowerThreshold",
    "GreaterThanUpperThreshold",
}
_STATES = {"OK", "ALARM", "INSUFFICIENT_DATA"}


class ClientError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def _reply(start_response, status, payload):
    body = cbor2.dumps(payload)
    reason = {200: "OK", 400: "Bad Request", 405: "Method Not Allowed"}
    start_response(f"{status} {reason[status]}", [
        ("Content-Type", "application/cbor"),
        ("smithy-protocol", "rpc-v2-cbor"),
        ("Content-Length", str(len(body))),
    ])
    return [body]


def _backend(environ):
    match = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    if not match:
        raise ClientError("MissingAuthenticationToken", "the request is not signed")
    access_key, region, _service = match.groups()
    return cloudwatch_backends[get_account_id_from(access_key)][region]


def _timestamp(moment):
    """A Smithy RPC v2 CBOR timestamp: tag 1 over epoch seconds (moto keeps naive UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return cbor2.CBORTag(1, moment.timestamp())


def _required(params, name):
    value = params.get(name)
    if value is None or value == "":
        raise ClientError("MissingParameter", f"The parameter {name} is required.")
    return value


def _alarm(alarm):
    out = {
        "AlarmName": alarm.name,
        "AlarmArn": alarm.alarm_arn,
        "ActionsEnabled": bool(alarm.actions_enabled),
        "OKActions": list(alarm.ok_actions),
        "AlarmActions": list(alarm.alarm_actions or []),
        "InsufficientDataActions": list(alarm.insufficient_data_actions),
        "StateValue": alarm.state_value,
        "StateReason": alarm.state_reason,
        "StateUpdatedTimestamp": _timestamp(alarm.state_updated_timestamp),
        "AlarmConfigurationUpdatedTimestamp": _timestamp(alarm.configuration_updated_timestamp),
        "EvaluationPeriods": int(alarm.evaluation_periods),
        "ComparisonOperator": alarm.comparison_operator,
        "Dimensions": [{"Name": d.name, "Value": d.value} for d in alarm.dimensions],
    }
    for key, value in (
        ("AlarmDescription", alarm.description),
        ("MetricName", alarm.metric_name),
        ("Namespace", alarm.namespace),
        ("Statistic", alarm.statistic),
        ("ExtendedStatistic", alarm.extended_statistic),
        ("TreatMissingData", alarm.treat_missing_data),
        ("Unit", alarm.unit),
    ):
        if value:
            out[key] = value
    if alarm.period is not None:
        out["Period"] = int(alarm.period)
    if alarm.threshold is not None:
        out["Threshold"] = float(alarm.threshold)
    if alarm.datapoints_to_alarm is not None:
        out["DatapointsToAlarm"] = int(alarm.datapoints_to_alarm)
    return out


def put_metric_alarm(backend, params):
    name = _required(params, "AlarmName")
    if not 1 <= len(name) <= 255:
        raise ClientError("ValidationError", "AlarmName must be 1 to 255 characters")
    operator = _required(params, "ComparisonOperator")
    if operator not in _OPERATORS:
        raise ClientError("ValidationError", f"Invalid ComparisonOperator {operator}")
    evaluation_periods = _required(params, "EvaluationPeriods")
    if not isinstance(evaluation_periods, int) or evaluation_periods < 1:
        raise ClientError("ValidationError", "EvaluationPeriods must be at least 1")
    statistic = params.get("Statistic")
    if statistic is not None and statistic not in _STATISTICS:
        raise ClientError("InvalidParameterValue", f"Invalid Statistic {statistic}")
    if params.get("Metrics") is None:
        _required(params, "MetricName")
        _required(params, "Namespace")
        if statistic is None and params.get("ExtendedStatistic") is None:
            raise ClientError("MissingParameter", "The parameter Statistic is required.")
        _required(params, "Period")
    if len(params.get("AlarmActions") or []) > 5:
        raise ClientError("ValidationError", "AlarmActions may hold at most 5 actions")
    backend.put_metric_alarm(
        name=name,
        namespace=params.get("Namespace"),
        metric_name=params.get("MetricName"),
        comparison_operator=operator,
        evaluation_periods=evaluation_periods,
        period=params.get("Period"),
        threshold=params.get("Threshold"),
        statistic=statistic,
        description=params.get("AlarmDescription"),
        dimensions=params.get("Dimensions") or [],
        alarm_actions=params.get("AlarmActions") or [],
        datapoints_to_alarm=params.get("DatapointsToAlarm"),
        extended_statistic=params.get("ExtendedStatistic"),
        ok_actions=params.get("OKActions") or [],
        insufficient_data_actions=params.get("InsufficientDataActions") or [],
        unit=params.get("Unit"),
        actions_enabled=params.get("ActionsEnabled", True),
        treat_missing_data=params.get("TreatMissingData"),
        tags=params.get("Tags") or [],
    )
    return {}


def describe_alarms(backend, params):
    names = params.get("AlarmNames")
    prefix = params.get("AlarmNamePrefix")
    if names and prefix:
        raise ClientError(
            "InvalidParameterCombination",
            "AlarmNames and AlarmNamePrefix cannot be given together",
        )
    max_records = params.get("MaxRecords", 50)
    if not isinstance(max_records, int) or not 1 <= max_records <= 100:
        raise ClientError("InvalidParameterValue", "MaxRecords must be 1 to 100")
    state = params.get("StateValue")
    if state is not None and state not in _STATES:
        raise ClientError("InvalidParameterValue", f"Invalid StateValue {state}")
    types = params.get("AlarmTypes") or ["MetricAlarm"]
    alarms = []
    if "MetricAlarm" in types:
        alarms = sorted(backend.describe_alarms(), key=lambda a: a.name)
        if names:
            alarms = [a for a in alarms if a.name in names]
        if prefix:
            alarms = [a for a in alarms if a.name.startswith(prefix)]
        if params.get("ActionPrefix"):
            action = params["ActionPrefix"]
            alarms = [a for a in alarms if any(x.startswith(action) for x in a.alarm_actions or [])]
        if state:
            alarms = [a for a in alarms if a.state_value == state]
    start = 0
    token = params.get("NextToken")
    if token is not None:
        if not (isinstance(token, str) and token.isdigit() and int(token) <= len(alarms)):
            raise ClientError("InvalidNextToken", "The NextToken is not valid")
        start = int(token)
    page = alarms[start:start + max_records]
    out = {"MetricAlarms": [_alarm(a) for a in page], "CompositeAlarms": []}
    if start + max_records < len(alarms):
        out["NextToken"] = str(start + max_records)
    return out


def describe_alarms_for_metric(backend, params):
    metric = _required(params, "MetricName")
    namespace = _required(params, "Namespace")
    alarms = [
        a
        for a in sorted(backend.describe_alarms(), key=lambda a: a.name)
        if a.metric_name == metric and a.namespace == namespace
    ]
    return {"MetricAlarms": [_alarm(a) for a in alarms]}


def delete_alarms(backend, params):
    names = params.get("AlarmNames") or []
    backend.delete_alarms([n for n in names if n in backend.alarms])
    return {}


OPERATIONS = {
    "PutMetricAlarm": put_metric_alarm,
    "DescribeAlarms": describe_alarms,
    "DescribeAlarmsForMetric": describe_alarms_for_metric,
    "DeleteAlarms": delete_alarms,
}


def _endpoint(operation):
    def handler(environ, start_response):
        if environ["REQUEST_METHOD"] != "POST":
            return _reply(start_response, 405, {"__type": "MethodNotAllowed", "message": "POST only"})
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(length) if length else b""
            try:
                params = cbor2.loads(raw) if raw else {}
            except Exception as err:  # noqa: BLE001 - any decoding failure is the client's
                raise ClientError("SerializationException", f"the body is not CBOR: {err}")
            if not isinstance(params, dict):
                raise ClientError("SerializationException", "the body is not a CBOR map")
            result = operation(_backend(environ), params)
        except ClientError as err:
            return _reply(start_response, 400, {"__type": err.code, "message": err.message})
        except ServiceException as err:  # moto's own validation (ExtendedStatistic, ...)
            code = getattr(err, "code", None) or "ValidationError"
            return _reply(start_response, 400, {"__type": code, "message": getattr(err, "message", str(err))})
        return _reply(start_response, 200, result)

    return handler


ENDPOINTS = {PREFIX + name: _endpoint(op) for name, op in OPERATIONS.items()}
