"""Tests of emulator/moto_ext_securityhub_v2.py (Security Hub v2: OCSF findings), through
real boto3 clients against a real `moto_ext.py` server.

    ~/.cache/hubfix/venv/bin/python -m unittest discover -s emulator/tests -v
"""

import unittest

from botocore.exceptions import ClientError

import test_moto_ext as base

setUpModule = base.setUpModule  # noqa: N816 - unittest's name
tearDownModule = base.tearDownModule  # noqa: N816 - unittest's name

PRODUCT = "arn:aws:securityhub:us-east-1::productv2/aws/securityhub"


def ocsf(uid, control="EC2.53", account=base.ACCOUNT, status_id=1, resource="sg-0123abcd"):
    return {
        "class_uid": 2003,
        "status_id": status_id,
        "cloud": {"account": {"uid": account}, "provider": "AWS", "region": base.REGION},
        "compliance": {"control": control, "status": "Fail"},
        "finding_info": {"uid": uid, "created_time_dt": "2026-11-30T08:00:00Z"},
        "metadata": {"product": {"uid": PRODUCT}, "uid": f"meta-{uid}"},
        "resources": [{"type": "AWS::EC2::SecurityGroup", "uid": resource}],
    }


def ident(uid, account=base.ACCOUNT):
    return {"CloudAccountUid": account, "FindingInfoUid": uid, "MetadataProductUid": PRODUCT}


def string_filter(field, value, comparison="EQUALS"):
    return {"FieldName": field, "Filter": {"Value": value, "Comparison": comparison}}


class SecurityHubV2Test(unittest.TestCase):
    def setUp(self):
        status, _ = base.http("POST", "/moto-api/reset")
        self.assertEqual(status, 200)
        self.hub = base.client("securityhub")

    def import_findings(self, *findings, account=base.ACCOUNT):
        status, body = base.http("POST", "/moto-ext/securityhub/v2/findings",
                                 {"account": account, "region": base.REGION,
                                  "findings": list(findings)})
        self.assertEqual(status, 200, body)
        return body

    def all_findings(self, **kwargs):
        pages = self.hub.get_paginator("get_findings_v2").paginate(**kwargs)
        return [f for page in pages for f in page["Findings"]]

    def test_import_emits_findings_imported_v2_events(self):
        self.assertEqual(self.import_findings(ocsf("f-1"), ocsf("f-2"))["imported"], 2)
        _, events = base.http("GET", "/moto-ext/events")
        v2 = [e for e in events if e["detail-type"] == "Findings Imported V2"]
        self.assertEqual([e["detail"]["findings"][0]["finding_info"]["uid"] for e in v2],
                         ["f-1", "f-2"])
        self.assertEqual({e["source"] for e in v2}, {"aws.securityhub"})

    def test_import_refuses_what_is_not_an_ocsf_finding(self):
        body = self.import_findings(ocsf("ok"), {"Id": "asff"})
        self.assertEqual(body["imported"], 1)
        self.assertEqual(body["failed"][0]["ErrorCode"], "ValidationException")
        status, _ = base.http("POST", "/moto-ext/securityhub/v2/findings",
                              {"account": "12", "region": base.REGION, "findings": [ocsf("x")]})
        self.assertEqual(status, 400)

    def test_filters_combine_and_reach_into_arrays(self):
        self.import_findings(ocsf("a", "EC2.53"), ocsf("b", "EC2.53", status_id=4),
                             ocsf("c", "S3.1", resource="sg-0fff0000"))
        uids = lambda fs: sorted(f["finding_info"]["uid"] for f in fs)  # noqa: E731
        control = {"CompositeFilters": [{"StringFilters": [string_filter("compliance.control", "EC2.53")]}]}
        self.assertEqual(uids(self.all_findings(Filters=control)), ["a", "b"])
        new_ec2 = {"CompositeFilters": [{
            "StringFilters": [string_filter("compliance.control", "EC2.53")],
            "NumberFilters": [{"FieldName": "status_id", "Filter": {"Eq": 1}}]}]}
        self.assertEqual(uids(self.all_findings(Filters=new_ec2)), ["a"])
        either = {"CompositeOperator": "OR", "CompositeFilters": [
            {"StringFilters": [string_filter("resources.uid", "sg-0fff", "PREFIX")]},
            {"NumberFilters": [{"FieldName": "status_id", "Filter": {"Gte": 4}}]}]}
        self.assertEqual(uids(self.all_findings(Filters=either)), ["b", "c"])
        dated = {"CompositeFilters": [{"DateFilters": [{
            "FieldName": "finding_info.created_time_dt",
            "Filter": {"Start": "2026-11-01T00:00:00Z", "End": "2026-12-01T00:00:00Z"}}]}]}
        self.assertEqual(len(self.all_findings(Filters=dated)), 3)
        with self.assertRaises(ClientError) as ctx:
            self.hub.get_findings_v2(Filters={"CompositeFilters": [{"StringFilters": [
                string_filter("status", "New")] * 21}]})
        self.assertEqual(ctx.exception.response["Error"]["Code"], "ValidationException")

    def test_pages_do_not_skip_findings_updated_between_them(self):
        self.import_findings(*[ocsf(f"f-{i:02}") for i in range(25)])
        new = {"CompositeFilters": [{"NumberFilters": [{"FieldName": "status_id", "Filter": {"Eq": 1}}]}]}
        first = self.hub.get_findings_v2(Filters=new, MaxResults=10)
        self.assertEqual(len(first["Findings"]), 10)
        # Resolving what the first page returned must not shift the second page.
        self.hub.batch_update_findings_v2(
            FindingIdentifiers=[ident(f["finding_info"]["uid"]) for f in first["Findings"]],
            StatusId=4)
        second = self.hub.get_findings_v2(Filters=new, MaxResults=10, NextToken=first["NextToken"])
        self.assertEqual([f["finding_info"]["uid"] for f in second["Findings"]],
                         [f"f-{i:02}" for i in range(10, 20)])
        with self.assertRaises(ClientError):
            self.hub.get_findings_v2(MaxResults=10, NextToken=first["NextToken"])

    def test_batch_update_sets_status_and_comment_and_reports_the_unknown(self):
        self.import_findings(ocsf("f-1"), ocsf("f-2"))
        out = self.hub.batch_update_findings_v2(
            FindingIdentifiers=[ident("f-1"), ident("f-2"), ident("missing")],
            StatusId=4, Comment="hubfix: fixed")
        self.assertEqual(len(out["ProcessedFindings"]), 2)
        [unknown] = out["UnprocessedFindings"]
        self.assertEqual((unknown["FindingIdentifier"]["FindingInfoUid"], unknown["ErrorCode"]),
                         ("missing", "ResourceNotFoundException"))
        [f1] = [f for f in self.all_findings() if f["finding_info"]["uid"] == "f-1"]
        self.assertEqual((f1["status_id"], f1["status"], f1["comment"]),
                         (4, "Resolved", "hubfix: fixed"))
        # A re-import keeps what the update set.
        self.import_findings(ocsf("f-1"))
        [f1] = [f for f in self.all_findings() if f["finding_info"]["uid"] == "f-1"]
        self.assertEqual(f1["status_id"], 4)
        # By metadata uid too; a repeated identifier is refused for that finding.
        out = self.hub.batch_update_findings_v2(MetadataUids=["meta-f-2", "meta-f-2"], StatusId=2)
        self.assertEqual([u["ErrorCode"] for u in out["UnprocessedFindings"]],
                         ["ValidationException"] * 2)

    def test_batch_update_validates_like_the_api_reference(self):
        self.import_findings(ocsf("f-1"))
        for kwargs in ({"FindingIdentifiers": [ident("f-1")]},
                       {"FindingIdentifiers": [ident("f-1")], "Comment": "x" * 513},
                       {"FindingIdentifiers": [ident("f-1")], "StatusId": 7},
                       {"FindingIdentifiers": [ident(f"f-{i}") for i in range(101)], "StatusId": 4}):
            with self.assertRaises(ClientError, msg=str(kwargs)[:80]) as ctx:
                base.client("securityhub", validate=False).batch_update_findings_v2(**kwargs)
            self.assertEqual(ctx.exception.response["Error"]["Code"], "ValidationException")

    def test_findings_are_per_account(self):
        self.import_findings(ocsf("other", account="222222222222"), account="222222222222")
        self.assertEqual(self.all_findings(), [])


if __name__ == "__main__":
    unittest.main()
