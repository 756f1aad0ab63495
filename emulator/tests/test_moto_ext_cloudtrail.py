"""Tests of emulator/moto_ext_cloudtrail.py (event selectors, trails by name or ARN,
organization trails), through real boto3 clients against a real `moto_ext.py` server.

    ~/.cache/hubfix/venv/bin/python -m unittest discover -s emulator/tests -v

The server is started and stopped the way test_moto_ext.py does it (its module fixtures).
"""

import unittest

import boto3
from botocore.exceptions import ClientError

import test_moto_ext as base

setUpModule = base.setUpModule  # noqa: N816 - unittest's name
tearDownModule = base.tearDownModule  # noqa: N816 - unittest's name

DEFAULT = [
    {
        "ReadWriteType": "All",
        "IncludeManagementEvents": True,
        "DataResources": [],
        "ExcludeManagementEventSources": [],
    }
]

S3_WRITES = [
    {
        "Name": "S3 writes",
        "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
            {"Field": "readOnly", "Equals": ["false"]},
        ],
    }
]


def code_of(ctx):
    return ctx.exception.response["Error"]["Code"]


def member_clients(account):
    """CloudTrail, S3 and Organizations clients acting in `account`."""
    sts = base.client("sts")
    creds = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/admin", RoleSessionName="member"
    )["Credentials"]
    credentials = {
        "aws_access_key_id": creds["AccessKeyId"],
        "aws_secret_access_key": creds["SecretAccessKey"],
        "aws_session_token": creds["SessionToken"],
    }
    return (
        base.client("cloudtrail", credentials=credentials),
        base.client("s3", credentials=credentials),
        base.client("organizations", credentials=credentials),
    )


class CloudTrailTestCase(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        status, _ = base.http("POST", "/moto-api/reset")
        self.assertEqual(status, 200)
        self.ct = base.client("cloudtrail")
        self.s3 = base.client("s3")
        self.s3.create_bucket(Bucket="trail-logs")

    def trail(self, name="main", **kwargs):
        return self.ct.create_trail(Name=name, S3BucketName="trail-logs", **kwargs)


class EventSelectorTest(CloudTrailTestCase):
    def test_a_new_trail_has_the_default_selector(self):
        arn = self.trail()["TrailARN"]
        for name in ("main", arn):
            got = self.ct.get_event_selectors(TrailName=name)
            self.assertEqual(got["EventSelectors"], DEFAULT)
            self.assertNotIn("AdvancedEventSelectors", got)
        self.assertFalse(self.ct.get_trail(Name="main")["Trail"]["HasCustomEventSelectors"])

    def test_one_kind_replaces_the_other(self):
        self.trail()
        put = self.ct.put_event_selectors(TrailName="main", AdvancedEventSelectors=S3_WRITES)
        self.assertEqual(put["AdvancedEventSelectors"], S3_WRITES)
        self.assertNotIn("EventSelectors", put)
        got = self.ct.get_event_selectors(TrailName="main")
        self.assertEqual(got["AdvancedEventSelectors"], S3_WRITES)
        self.assertNotIn("EventSelectors", got)
        self.assertTrue(self.ct.get_trail(Name="main")["Trail"]["HasCustomEventSelectors"])
        listed = self.ct.describe_trails()["trailList"][0]
        self.assertTrue(listed["HasCustomEventSelectors"])

        basic = [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": False,
                  "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}]
        self.ct.put_event_selectors(TrailName="main", EventSelectors=basic)
        got = self.ct.get_event_selectors(TrailName="main")
        self.assertNotIn("AdvancedEventSelectors", got)
        self.assertEqual(got["EventSelectors"][0]["ReadWriteType"], "WriteOnly")
        self.assertEqual(got["EventSelectors"][0]["DataResources"][0]["Values"], ["arn:aws:s3"])

    def test_both_kinds_or_neither_is_refused(self):
        self.trail()
        with self.assertRaises(ClientError) as ctx:
            self.ct.put_event_selectors(
                TrailName="main", EventSelectors=DEFAULT, AdvancedEventSelectors=S3_WRITES
            )
        self.assertEqual(code_of(ctx), "InvalidParameterCombinationException")
        with self.assertRaises(ClientError) as ctx:
            self.ct.put_event_selectors(TrailName="main")
        self.assertEqual(code_of(ctx), "InvalidParameterCombinationException")
        with self.assertRaises(ClientError) as ctx:
            self.ct.put_event_selectors(TrailName="nope", AdvancedEventSelectors=S3_WRITES)
        self.assertEqual(code_of(ctx), "TrailNotFoundException")


class TrailByNameOrArnTest(CloudTrailTestCase):
    def test_logging_by_name_or_arn_and_unknown_trails(self):
        arn = self.trail()["TrailARN"]
        self.ct.start_logging(Name=arn)
        self.assertTrue(self.ct.get_trail_status(Name="main")["IsLogging"])
        self.ct.stop_logging(Name=arn)
        self.assertFalse(self.ct.get_trail_status(Name=arn)["IsLogging"])
        unknown = arn.replace("trail/main", "trail/gone")
        for call in (self.ct.start_logging, self.ct.stop_logging, self.ct.delete_trail,
                     self.ct.get_trail, self.ct.get_trail_status):
            for name in ("gone", unknown):
                with self.assertRaises(ClientError) as ctx:
                    call(Name=name)
                self.assertEqual(code_of(ctx), "TrailNotFoundException", (call, name))

    def test_a_multi_region_trail_is_read_anywhere_and_changed_in_its_home_region(self):
        arn = self.trail(IsMultiRegionTrail=True)["TrailARN"]
        away = boto3.client(
            "cloudtrail", endpoint_url=base.ENDPOINT, region_name="eu-west-1",
            aws_access_key_id="testing", aws_secret_access_key="testing",
        )
        self.assertEqual([t["TrailARN"] for t in away.describe_trails()["trailList"]], [arn])
        self.assertEqual(away.get_trail(Name=arn)["Trail"]["HomeRegion"], base.REGION)
        self.assertFalse(away.get_trail_status(Name=arn)["IsLogging"])
        self.assertEqual(away.get_event_selectors(TrailName=arn)["EventSelectors"], DEFAULT)
        for call, kwargs in (
            (away.start_logging, {"Name": arn}),
            (away.stop_logging, {"Name": arn}),
            (away.delete_trail, {"Name": arn}),
            (away.update_trail, {"Name": arn, "EnableLogFileValidation": True}),
            (away.put_event_selectors, {"TrailName": arn, "AdvancedEventSelectors": S3_WRITES}),
        ):
            with self.assertRaises(ClientError) as ctx:
                call(**kwargs)
            self.assertEqual(code_of(ctx), "InvalidHomeRegionException", call)

    def test_delete_by_arn_and_home_region(self):
        arn = self.trail(IsMultiRegionTrail=True)["TrailARN"]
        self.assertEqual(self.ct.get_trail(Name="main")["Trail"]["HomeRegion"], base.REGION)
        self.ct.delete_trail(Name=arn)
        self.assertEqual(self.ct.describe_trails()["trailList"], [])


class OrganizationTrailTest(CloudTrailTestCase):
    def test_an_organization_trail_needs_the_management_account_and_trusted_access(self):
        with self.assertRaises(ClientError) as ctx:
            self.trail("org", IsOrganizationTrail=True, IsMultiRegionTrail=True)
        self.assertEqual(code_of(ctx), "OrganizationsNotInUseException")
        org = base.client("organizations")
        org.create_organization(FeatureSet="ALL")
        with self.assertRaises(ClientError) as ctx:
            self.trail("org", IsOrganizationTrail=True, IsMultiRegionTrail=True)
        self.assertEqual(code_of(ctx), "CloudTrailAccessNotEnabledException")
        self.trail("plain")
        with self.assertRaises(ClientError) as ctx:
            self.ct.update_trail(Name="plain", IsOrganizationTrail=True)
        self.assertEqual(code_of(ctx), "CloudTrailAccessNotEnabledException")
        org.enable_aws_service_access(ServicePrincipal="cloudtrail.amazonaws.com")
        made = self.trail("org", IsOrganizationTrail=True, IsMultiRegionTrail=True)
        self.assertTrue(made["IsOrganizationTrail"])

        # A member account sees it (by ARN too), and cannot change it.
        member = org.create_account(AccountName="m", Email="m@example.com")
        member_id = member["CreateAccountStatus"]["AccountId"]
        ct, s3, member_org = member_clients(member_id)
        listed = ct.describe_trails()["trailList"]
        self.assertEqual([t["TrailARN"] for t in listed], [made["TrailARN"]])
        self.assertTrue(listed[0]["IsOrganizationTrail"])
        self.assertEqual(ct.get_trail(Name=made["TrailARN"])["Trail"]["Name"], "org")
        self.assertFalse(ct.get_trail_status(Name=made["TrailARN"])["IsLogging"])
        self.assertEqual(ct.get_event_selectors(TrailName=made["TrailARN"])["EventSelectors"],
                         DEFAULT)
        for call, kwargs in (
            (ct.start_logging, {"Name": made["TrailARN"]}),
            (ct.update_trail, {"Name": made["TrailARN"], "EnableLogFileValidation": True}),
            (ct.put_event_selectors, {"TrailName": made["TrailARN"],
                                      "AdvancedEventSelectors": S3_WRITES}),
            (ct.delete_trail, {"Name": made["TrailARN"]}),
        ):
            with self.assertRaises(ClientError) as ctx:
                call(**kwargs)
            self.assertEqual(code_of(ctx), "NotOrganizationMasterAccountException", call)
        # The member is not the management account: it cannot make one either.
        s3.create_bucket(Bucket="member-logs")
        with self.assertRaises(ClientError) as ctx:
            ct.create_trail(Name="mine", S3BucketName="member-logs", IsOrganizationTrail=True)
        self.assertEqual(code_of(ctx), "NotOrganizationMasterAccountException")
        self.assertEqual(member_org.describe_organization()["Organization"]["MasterAccountId"],
                         base.ACCOUNT)
        # Logging started by the management account shows in the member's view.
        self.ct.start_logging(Name="org")
        self.assertTrue(ct.get_trail_status(Name=made["TrailARN"])["IsLogging"])


if __name__ == "__main__":
    unittest.main()
