"""Tests of emulator/moto_ext_accessanalyzer.py (IAM Access Analyzer, which moto lacks),
through real boto3 clients against a real `moto_ext.py` server.

    ~/.cache/hubfix/venv/bin/python -m unittest discover -s emulator/tests -v
"""

import unittest

import boto3

from botocore.exceptions import ClientError

import test_moto_ext as base

setUpModule = base.setUpModule  # noqa: N816 - unittest's name
tearDownModule = base.tearDownModule  # noqa: N816 - unittest's name



def other_account():
    """Credentials of account 222222222222 (moto maps assumed-role keys to their account)."""
    creds = base.client("sts").assume_role(
        RoleArn="arn:aws:iam::222222222222:role/x", RoleSessionName="other")["Credentials"]
    return {
        "aws_access_key_id": creds["AccessKeyId"],
        "aws_secret_access_key": creds["SecretAccessKey"],
        "aws_session_token": creds["SessionToken"],
    }


def code(ctx):
    return ctx.exception.response["Error"]["Code"]


def status(ctx):
    return ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"]


class AccessAnalyzerTest(unittest.TestCase):
    def setUp(self):
        status_, _ = base.http("POST", "/moto-api/reset")
        self.assertEqual(status_, 200)
        self.aa = base.client("accessanalyzer")

    def test_create_then_get_and_list(self):
        arn = self.aa.create_analyzer(analyzerName="hubfix-account", type="ACCOUNT",
                                      tags={"owner": "security"})["arn"]
        self.assertEqual(
            arn, f"arn:aws:access-analyzer:{base.REGION}:{base.ACCOUNT}:analyzer/hubfix-account")
        got = self.aa.get_analyzer(analyzerName="hubfix-account")["analyzer"]
        self.assertEqual((got["arn"], got["name"], got["type"], got["status"]),
                         (arn, "hubfix-account", "ACCOUNT", "ACTIVE"))
        self.assertEqual(got["tags"], {"owner": "security"})
        self.assertIsNotNone(got["createdAt"].tzinfo)  # ISO 8601 with its zone, parsed
        [listed] = self.aa.list_analyzers()["analyzers"]
        self.assertEqual(listed["arn"], arn)
        self.assertEqual(self.aa.list_analyzers(type="ACCOUNT_UNUSED_ACCESS")["analyzers"], [])

    def test_names_conflict_and_one_analyzer_per_type(self):
        self.aa.create_analyzer(analyzerName="first", type="ACCOUNT")
        with self.assertRaises(ClientError) as ctx:
            self.aa.create_analyzer(analyzerName="first", type="ACCOUNT_UNUSED_ACCESS")
        self.assertEqual((code(ctx), status(ctx)), ("ConflictException", 409))
        with self.assertRaises(ClientError) as ctx:
            self.aa.create_analyzer(analyzerName="second", type="ACCOUNT")
        self.assertEqual((code(ctx), status(ctx)), ("ServiceQuotaExceededException", 402))
        # Another type is another analyzer.
        self.aa.create_analyzer(analyzerName="unused", type="ACCOUNT_UNUSED_ACCESS")
        self.assertEqual(len(self.aa.list_analyzers()["analyzers"]), 2)

    def test_a_retry_with_the_same_client_token_returns_the_same_analyzer(self):
        first = self.aa.create_analyzer(analyzerName="a", type="ACCOUNT", clientToken="t-1")
        again = self.aa.create_analyzer(analyzerName="a", type="ACCOUNT", clientToken="t-1")
        self.assertEqual(first["arn"], again["arn"])
        self.assertEqual(len(self.aa.list_analyzers()["analyzers"]), 1)

    def test_invalid_input_is_a_validation_exception_naming_the_field(self):
        raw = base.client("accessanalyzer", validate=False)
        for name, kind, field in [("1abc", "ACCOUNT", "analyzerName"),
                                  ("a" * 256, "ACCOUNT", "analyzerName"),
                                  ("a b", "ACCOUNT", "analyzerName"),
                                  ("ok", "EVERYTHING", "type")]:
            with self.assertRaises(ClientError) as ctx:
                raw.create_analyzer(analyzerName=name, type=kind)
            self.assertEqual((code(ctx), status(ctx)), ("ValidationException", 400), name)
            self.assertEqual(ctx.exception.response["fieldList"][0]["name"], field)
        with self.assertRaises(ClientError) as ctx:
            raw.create_analyzer(analyzerName="ok", type="ACCOUNT", tags={"aws:x": "y"})
        self.assertEqual(code(ctx), "ValidationException")
        with self.assertRaises(ClientError) as ctx:
            raw.list_analyzers(maxResults=0)
        self.assertEqual(code(ctx), "ValidationException")
        self.assertEqual(self.aa.list_analyzers()["analyzers"], [])

    def test_unknown_analyzers_are_not_found_and_deletion_removes(self):
        with self.assertRaises(ClientError) as ctx:
            self.aa.get_analyzer(analyzerName="missing")
        self.assertEqual((code(ctx), status(ctx)), ("ResourceNotFoundException", 404))
        self.aa.create_analyzer(analyzerName="gone", type="ACCOUNT")
        self.aa.delete_analyzer(analyzerName="gone")
        self.assertEqual(self.aa.list_analyzers()["analyzers"], [])
        with self.assertRaises(ClientError) as ctx:
            self.aa.delete_analyzer(analyzerName="gone")
        self.assertEqual(code(ctx), "ResourceNotFoundException")

    def test_pages_follow_the_token(self):
        kinds = ["ACCOUNT", "ACCOUNT_UNUSED_ACCESS", "ACCOUNT_INTERNAL_ACCESS"]
        for i, kind in enumerate(kinds):
            self.aa.create_analyzer(analyzerName=f"a{i}", type=kind)
        first = self.aa.list_analyzers(maxResults=2)
        self.assertEqual([a["name"] for a in first["analyzers"]], ["a0", "a1"])
        rest = self.aa.list_analyzers(maxResults=2, nextToken=first["nextToken"])
        self.assertEqual([a["name"] for a in rest["analyzers"]], ["a2"])
        self.assertNotIn("nextToken", rest)
        pages = self.aa.get_paginator("list_analyzers").paginate(PaginationConfig={"PageSize": 1})
        self.assertEqual([a["name"] for p in pages for a in p["analyzers"]], ["a0", "a1", "a2"])

    def test_accounts_and_regions_are_apart_and_reset_clears(self):
        self.aa.create_analyzer(analyzerName="mine", type="ACCOUNT")
        other = base.client("accessanalyzer", credentials=other_account())
        self.assertEqual(other.list_analyzers()["analyzers"], [])
        theirs = other.create_analyzer(analyzerName="mine", type="ACCOUNT")["arn"]  # no conflict
        self.assertIn(":222222222222:analyzer/mine", theirs)
        west = boto3.client("accessanalyzer", endpoint_url=base.ENDPOINT, region_name="eu-west-1",
                            aws_access_key_id="testing", aws_secret_access_key="testing")
        self.assertEqual(west.list_analyzers()["analyzers"], [])
        self.assertEqual(base.http("POST", "/moto-api/reset")[0], 200)
        self.assertEqual(self.aa.list_analyzers()["analyzers"], [])

    def test_fault_injection_and_request_counts_see_access_analyzer(self):
        status_, _ = base.http("POST", "/moto-ext/faults",
                               {"service": "access-analyzer", "match": "GET /analyzer", "count": 1})
        self.assertEqual(status_, 200)
        with self.assertRaises(ClientError) as ctx:
            self.aa.list_analyzers()
        self.assertEqual(status(ctx), 429)
        self.aa.list_analyzers()
        _, counts = base.http("GET", "/moto-ext/requests")
        self.assertEqual(counts.get("GET /analyzer"), {"429": 1, "200": 1})


if __name__ == "__main__":
    unittest.main()
