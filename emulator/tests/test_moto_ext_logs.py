"""Tests of emulator/moto_ext_logs.py (PutMetricFilter), through real boto3 clients against
a real `moto_ext.py` server.

    ~/.cache/hubfix/venv/bin/python -m unittest discover -s emulator/tests -v
"""

import unittest

import botocore.exceptions

import test_moto_ext as base

setUpModule = base.setUpModule  # noqa: N816 - unittest's name
tearDownModule = base.tearDownModule  # noqa: N816 - unittest's name

TRANSFORM = [{"metricName": "RootUse", "metricNamespace": "CISBenchmark", "metricValue": "1"}]


class MetricFilterTest(unittest.TestCase):
    def setUp(self):
        status, _ = base.http("POST", "/moto-api/reset")
        self.assertEqual(status, 200)
        self.logs = base.client("logs")
        self.logs.create_log_group(logGroupName="trail")

    def test_a_missing_log_group_is_not_found(self):
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            self.logs.put_metric_filter(
                logGroupName="gone",
                filterName="root",
                filterPattern='{ $.userIdentity.type = "Root" }',
                metricTransformations=TRANSFORM,
            )
        self.assertEqual(caught.exception.response["Error"]["Code"], "ResourceNotFoundException")
        self.assertEqual(self.logs.describe_metric_filters()["metricFilters"], [])

    def test_the_same_name_replaces_the_filter(self):
        for pattern in ['{ $.userIdentity.type = "Root" }', '{ $.eventName = "ConsoleLogin" }']:
            self.logs.put_metric_filter(
                logGroupName="trail",
                filterName="root",
                filterPattern=pattern,
                metricTransformations=TRANSFORM,
            )
        self.logs.put_metric_filter(
            logGroupName="trail",
            filterName="other",
            filterPattern="",
            metricTransformations=TRANSFORM,
        )
        filters = self.logs.describe_metric_filters(logGroupName="trail")["metricFilters"]
        by_name = {f["filterName"]: f["filterPattern"] for f in filters}
        self.assertEqual(len(filters), 2, filters)
        self.assertEqual(by_name["root"], '{ $.eventName = "ConsoleLogin" }')


if __name__ == "__main__":
    unittest.main()
