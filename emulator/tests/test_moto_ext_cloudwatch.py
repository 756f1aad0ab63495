"""Tests of emulator/moto_ext_cloudwatch.py (CloudWatch over Smithy RPC v2 CBOR), through
real boto3 clients (botocore speaks `smithy-rpc-v2-cbor` to CloudWatch, as the Rust SDK
does) against a real `moto_ext.py` server.

    ~/.cache/hubfix/venv/bin/python -m unittest discover -s emulator/tests -v
"""

import json
import tempfile
import unittest
from pathlib import Path

import boto3
import botocore.exceptions
import botocore.session
from botocore.config import Config

import test_moto_ext as base

setUpModule = base.setUpModule  # noqa: N816 - unittest's name
tearDownModule = base.tearDownModule  # noqa: N816 - unittest's name

TOPIC = f"arn:aws:sns:{base.REGION}:{base.ACCOUNT}:alerts"


def alarm(name, metric="RootAccountUsage", namespace="CISBenchmark", **fields):
    return {
        "AlarmName": name,
        "MetricName": metric,
        "Namespace": namespace,
        "Statistic": "Sum",
        "Period": 300,
        "EvaluationPeriods": 1,
        "Threshold": 1.0,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "AlarmActions": [TOPIC],
        "TreatMissingData": "notBreaching",
        **fields,
    }


_MODEL_DIR = None


def cbor_client(validate=True, credentials=None):
    """A CloudWatch client that speaks Smithy RPC v2 CBOR, as aws-sdk-cloudwatch does.

    botocore lists `smithy-rpc-v2-cbor`, `json` and `query` for CloudWatch and prefers
    `json`; a copy of its own model narrowed to CBOR, first on the data path, makes it
    speak what the Rust SDK speaks."""
    global _MODEL_DIR
    session = botocore.session.Session()
    loader = session.get_component("data_loader")
    if _MODEL_DIR is None:
        version = loader.determine_latest_version("cloudwatch", "service-2")
        model = loader.load_service_model("cloudwatch", "service-2", version)
        model["metadata"]["protocols"] = ["smithy-rpc-v2-cbor"]
        model["metadata"]["protocol"] = "smithy-rpc-v2-cbor"
        _MODEL_DIR = tempfile.mkdtemp(prefix="hubfix-cw-model-")
        target = Path(_MODEL_DIR, "cloudwatch", version)
        target.mkdir(parents=True)
        (target / "service-2.json").write_text(json.dumps(model))
    loader.search_paths.insert(0, _MODEL_DIR)
    creds = credentials or {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    return boto3.Session(botocore_session=session).client(
        "cloudwatch",
        endpoint_url=base.ENDPOINT,
        region_name=base.REGION,
        config=Config(retries={"mode": "standard", "total_max_attempts": 1},
                      parameter_validation=validate),
        **creds,
    )


def code(ctx):
    return ctx.exception.response["Error"]["Code"]


class CborTest(unittest.TestCase):
    def setUp(self):
        status, _ = base.http("POST", "/moto-api/reset")
        self.assertEqual(status, 200)
        self.cw = cbor_client()
        self.assertEqual(self.cw.meta.service_model.resolved_protocol, "smithy-rpc-v2-cbor")

    def test_put_then_describe_round_trips_every_field(self):
        self.cw.put_metric_alarm(**alarm("root"))
        [got] = self.cw.describe_alarms()["MetricAlarms"]
        self.assertEqual(got["AlarmName"], "root")
        self.assertEqual(got["AlarmArn"], f"arn:aws:cloudwatch:{base.REGION}:{base.ACCOUNT}:alarm:root")
        self.assertEqual((got["MetricName"], got["Namespace"], got["Statistic"]),
                         ("RootAccountUsage", "CISBenchmark", "Sum"))
        self.assertEqual((got["Period"], got["EvaluationPeriods"], got["Threshold"]), (300, 1, 1.0))
        self.assertEqual(got["AlarmActions"], [TOPIC])
        self.assertEqual(got["TreatMissingData"], "notBreaching")
        self.assertTrue(got["ActionsEnabled"])
        # The same name replaces the alarm.
        self.cw.put_metric_alarm(**alarm("root", Threshold=5.0))
        [got] = self.cw.describe_alarms()["MetricAlarms"]
        self.assertEqual(got["Threshold"], 5.0)

    def test_filters_combine_and_pages_follow_the_token(self):
        for name in ["a1", "a2", "a3", "b1"]:
            self.cw.put_metric_alarm(**alarm(name))
        self.cw.put_metric_alarm(**alarm("a4", AlarmActions=["arn:aws:sns:us-east-1:1:other"]))
        names = lambda r: [a["AlarmName"] for a in r["MetricAlarms"]]  # noqa: E731
        self.assertEqual(names(self.cw.describe_alarms(AlarmNamePrefix="a", ActionPrefix=TOPIC)),
                         ["a1", "a2", "a3"])
        first = self.cw.describe_alarms(AlarmNamePrefix="a", MaxRecords=2)
        self.assertEqual(names(first), ["a1", "a2"])
        second = self.cw.describe_alarms(AlarmNamePrefix="a", MaxRecords=2, NextToken=first["NextToken"])
        self.assertEqual(names(second), ["a3", "a4"])
        self.assertNotIn("NextToken", second)
        self.assertEqual(names(self.cw.describe_alarms(AlarmNames=["b1", "zz"])), ["b1"])
        self.assertEqual(self.cw.describe_alarms(AlarmTypes=["CompositeAlarm"])["MetricAlarms"], [])
        self.assertEqual(names(self.cw.describe_alarms(StateValue="ALARM")), [])
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            self.cw.describe_alarms(AlarmNames=["a1"], AlarmNamePrefix="a")
        self.assertEqual(code(caught), "InvalidParameterCombination")
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            self.cw.describe_alarms(NextToken="garbage")
        self.assertEqual(code(caught), "InvalidNextToken")

    def test_alarms_for_a_metric_and_deletion(self):
        self.cw.put_metric_alarm(**alarm("root"))
        self.cw.put_metric_alarm(**alarm("vpc", metric="VPCChanges"))
        got = self.cw.describe_alarms_for_metric(MetricName="VPCChanges", Namespace="CISBenchmark")
        self.assertEqual([a["AlarmName"] for a in got["MetricAlarms"]], ["vpc"])
        self.cw.delete_alarms(AlarmNames=["vpc", "never-was"])
        got = self.cw.describe_alarms_for_metric(MetricName="VPCChanges", Namespace="CISBenchmark")
        self.assertEqual(got["MetricAlarms"], [])
        self.assertEqual(len(self.cw.describe_alarms()["MetricAlarms"]), 1)

    def test_invalid_alarms_are_refused(self):
        bad = cbor_client(validate=False)
        for fields, expected in [
            ({"ComparisonOperator": "Equal"}, "ValidationError"),
            ({"EvaluationPeriods": 0}, "ValidationError"),
            ({"Statistic": "Median"}, "InvalidParameterValue"),
            ({"AlarmActions": [TOPIC] * 6}, "ValidationError"),
        ]:
            with self.assertRaises(botocore.exceptions.ClientError) as caught:
                bad.put_metric_alarm(**alarm("x", **fields))
            self.assertEqual(code(caught), expected, fields)
        self.assertEqual(self.cw.describe_alarms()["MetricAlarms"], [])

    def test_accounts_are_apart(self):
        self.cw.put_metric_alarm(**alarm("root"))
        sts = base.client("sts")
        creds = sts.assume_role(RoleArn="arn:aws:iam::222222222222:role/x", RoleSessionName="other")["Credentials"]
        other = cbor_client(credentials={
            "aws_access_key_id": creds["AccessKeyId"],
            "aws_secret_access_key": creds["SecretAccessKey"],
            "aws_session_token": creds["SessionToken"],
        })
        self.assertEqual(other.describe_alarms()["MetricAlarms"], [])


if __name__ == "__main__":
    unittest.main()
