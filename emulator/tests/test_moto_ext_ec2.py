"""Tests of emulator/moto_ext_ec2.py (network ACL entries, flow logs, instance metadata
options), through real boto3 clients against a real `moto_ext.py` server.

    ~/.cache/hubfix/venv/bin/python -m unittest discover -s emulator/tests -v

The server is started and stopped the way test_moto_ext.py does it (its module fixtures).
"""

import unittest

from botocore.exceptions import ClientError

import test_moto_ext as base

setUpModule = base.setUpModule  # noqa: N816 - unittest's name
tearDownModule = base.tearDownModule  # noqa: N816 - unittest's name


def code_of(ctx):
    return ctx.exception.response["Error"]["Code"]


class Ec2TestCase(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        status, _ = base.http("POST", "/moto-api/reset")
        self.assertEqual(status, 200)
        self.ec2 = base.client("ec2")
        vpcs = self.ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])
        self.vpc = vpcs["Vpcs"][0]["VpcId"]


class NetworkAclTest(Ec2TestCase):
    def entries(self, acl):
        found = self.ec2.describe_network_acls(NetworkAclIds=[acl])["NetworkAcls"][0]
        return sorted(
            (e["RuleNumber"], e["Egress"], e["RuleAction"], e["Protocol"], e.get("CidrBlock"))
            for e in found["Entries"]
        )

    def test_a_new_acl_has_the_deny_all_entries(self):
        acl = self.ec2.create_network_acl(VpcId=self.vpc)["NetworkAcl"]["NetworkAclId"]
        self.assertEqual(
            self.entries(acl),
            [(32767, False, "deny", "-1", "0.0.0.0/0"), (32767, True, "deny", "-1", "0.0.0.0/0")],
        )

    def test_missing_entries_and_acls_are_not_found(self):
        acl = self.ec2.create_network_acl(VpcId=self.vpc)["NetworkAcl"]["NetworkAclId"]
        with self.assertRaises(ClientError) as ctx:
            self.ec2.replace_network_acl_entry(
                NetworkAclId=acl, RuleNumber=555, Protocol="-1", RuleAction="deny",
                Egress=False, CidrBlock="0.0.0.0/0",
            )
        self.assertEqual(code_of(ctx), "InvalidNetworkAclEntry.NotFound")
        with self.assertRaises(ClientError) as ctx:
            self.ec2.delete_network_acl_entry(NetworkAclId=acl, RuleNumber=555, Egress=False)
        self.assertEqual(code_of(ctx), "InvalidNetworkAclEntry.NotFound")
        # An ingress entry is not found as an egress one.
        self.ec2.create_network_acl_entry(
            NetworkAclId=acl, RuleNumber=100, Protocol="6", RuleAction="allow", Egress=False,
            CidrBlock="0.0.0.0/0", PortRange={"From": 80, "To": 80},
        )
        with self.assertRaises(ClientError) as ctx:
            self.ec2.delete_network_acl_entry(NetworkAclId=acl, RuleNumber=100, Egress=True)
        self.assertEqual(code_of(ctx), "InvalidNetworkAclEntry.NotFound")
        with self.assertRaises(ClientError) as ctx:
            self.ec2.describe_network_acls(NetworkAclIds=["acl-0123456789abcdef0"])
        self.assertEqual(code_of(ctx), "InvalidNetworkAclID.NotFound")

    def test_rule_numbers_are_1_to_32766(self):
        acl = self.ec2.create_network_acl(VpcId=self.vpc)["NetworkAcl"]["NetworkAclId"]
        for number in (0, 32767, 40000):
            with self.assertRaises(ClientError) as ctx:
                self.ec2.create_network_acl_entry(
                    NetworkAclId=acl, RuleNumber=number, Protocol="-1", RuleAction="deny",
                    Egress=False, CidrBlock="0.0.0.0/0",
                )
            self.assertEqual(code_of(ctx), "InvalidParameterValue", number)
        with self.assertRaises(ClientError) as ctx:
            self.ec2.replace_network_acl_entry(
                NetworkAclId=acl, RuleNumber=32767, Protocol="-1", RuleAction="allow",
                Egress=False, CidrBlock="0.0.0.0/0",
            )
        self.assertEqual(code_of(ctx), "InvalidParameterValue")
        self.ec2.create_network_acl_entry(
            NetworkAclId=acl, RuleNumber=32766, Protocol="-1", RuleAction="deny",
            Egress=False, CidrBlock="0.0.0.0/0",
        )

    def test_replace_and_delete_change_only_their_entry(self):
        acls = self.ec2.describe_network_acls(
            Filters=[{"Name": "vpc-id", "Values": [self.vpc]}, {"Name": "default", "Values": ["true"]}]
        )
        acl = acls["NetworkAcls"][0]["NetworkAclId"]
        self.ec2.replace_network_acl_entry(
            NetworkAclId=acl, RuleNumber=100, Protocol="6", RuleAction="deny", Egress=False,
            CidrBlock="0.0.0.0/0", PortRange={"From": 22, "To": 22},
        )
        self.assertEqual(
            self.entries(acl),
            [
                (100, False, "deny", "6", "0.0.0.0/0"),
                (100, True, "allow", "-1", "0.0.0.0/0"),
                (32767, False, "deny", "-1", "0.0.0.0/0"),
                (32767, True, "deny", "-1", "0.0.0.0/0"),
            ],
        )
        self.ec2.delete_network_acl_entry(NetworkAclId=acl, RuleNumber=100, Egress=True)
        self.assertEqual(
            self.entries(acl),
            [
                (100, False, "deny", "6", "0.0.0.0/0"),
                (32767, False, "deny", "-1", "0.0.0.0/0"),
                (32767, True, "deny", "-1", "0.0.0.0/0"),
            ],
        )


class FlowLogsTest(Ec2TestCase):
    def create(self, **kwargs):
        return self.ec2.create_flow_logs(
            ResourceIds=[self.vpc], ResourceType="VPC", TrafficType="REJECT", **kwargs
        )

    def test_an_s3_destination_may_have_a_folder(self):
        s3 = base.client("s3")
        s3.create_bucket(Bucket="hubfix-flow-logs")
        plain = self.create(LogDestinationType="s3", LogDestination="arn:aws:s3:::hubfix-flow-logs")
        folder = self.create(
            LogDestinationType="s3", LogDestination="arn:aws:s3:::hubfix-flow-logs/vpc/"
        )
        missing = self.create(
            LogDestinationType="s3", LogDestination="arn:aws:s3:::no-such-bucket/vpc/"
        )
        self.assertEqual((len(plain["FlowLogIds"]), len(folder["FlowLogIds"])), (1, 1))
        self.assertEqual(missing["FlowLogIds"], [])
        self.assertIn("does not exist", missing["Unsuccessful"][0]["Error"]["Message"])
        logs = self.ec2.describe_flow_logs(
            Filters=[{"Name": "resource-id", "Values": [self.vpc]}]
        )["FlowLogs"]
        self.assertEqual(
            sorted(log["LogDestination"] for log in logs),
            ["arn:aws:s3:::hubfix-flow-logs", "arn:aws:s3:::hubfix-flow-logs/vpc/"],
        )
        # The same folder twice is still a duplicate.
        with self.assertRaises(ClientError) as ctx:
            self.create(LogDestinationType="s3", LogDestination="arn:aws:s3:::hubfix-flow-logs/vpc/")
        self.assertEqual(code_of(ctx), "FlowLogAlreadyExists")

    def test_a_log_group_arn_names_its_group(self):
        logs = base.client("logs")
        logs.create_log_group(logGroupName="hubfix-flow-logs")
        role = f"arn:aws:iam::{base.ACCOUNT}:role/hubfix-flow-logs"
        for group in ("hubfix-flow-logs", "absent-group"):
            self.create(
                LogDestinationType="cloud-watch-logs",
                LogDestination=f"arn:aws:logs:{base.REGION}:{base.ACCOUNT}:log-group:{group}",
                DeliverLogsPermissionArn=role,
            )
        found = self.ec2.describe_flow_logs(
            Filters=[{"Name": "resource-id", "Values": [self.vpc]}]
        )["FlowLogs"]
        by_group = {log["LogGroupName"]: log for log in found}
        self.assertEqual(by_group["hubfix-flow-logs"]["DeliverLogsStatus"], "SUCCESS")
        self.assertEqual(by_group["absent-group"]["DeliverLogsStatus"], "FAILED")
        self.assertTrue(by_group["hubfix-flow-logs"]["LogDestination"].endswith(":hubfix-flow-logs"))


class InstanceMetadataOptionsTest(Ec2TestCase):
    def setUp(self):
        super().setUp()
        images = self.ec2.describe_images(
            Owners=["amazon"], Filters=[{"Name": "name", "Values": ["amzn2-ami-hvm-*-x86_64-gp2"]}]
        )["Images"]
        self.image = images[0]["ImageId"]

    def run_instance(self, **options):
        out = self.ec2.run_instances(
            ImageId=self.image, MinCount=1, MaxCount=1, MetadataOptions=options
        )
        return out["Instances"][0]["InstanceId"]

    def options(self, instance):
        found = self.ec2.describe_instances(InstanceIds=[instance])["Reservations"][0]
        return found["Instances"][0]["MetadataOptions"]

    def test_options_not_given_keep_their_values(self):
        instance = self.run_instance(
            HttpTokens="optional", HttpPutResponseHopLimit=3, InstanceMetadataTags="enabled"
        )
        self.ec2.modify_instance_metadata_options(InstanceId=instance, HttpTokens="required")
        options = self.options(instance)
        self.assertEqual(
            (
                options["HttpTokens"],
                options["HttpPutResponseHopLimit"],
                options["HttpEndpoint"],
                options["InstanceMetadataTags"],
            ),
            ("required", 3, "enabled", "enabled"),
        )
        self.ec2.modify_instance_metadata_options(InstanceId=instance, HttpPutResponseHopLimit=2)
        options = self.options(instance)
        self.assertEqual((options["HttpTokens"], options["HttpPutResponseHopLimit"]), ("required", 2))

    def test_bad_values_and_terminated_instances_are_refused(self):
        instance = self.run_instance(HttpTokens="optional")
        for kwargs in (
            {"HttpTokens": "always"},
            {"HttpPutResponseHopLimit": 65},
            {"HttpPutResponseHopLimit": 0},
            {"HttpEndpoint": "on"},
        ):
            with self.assertRaises(ClientError) as ctx:
                self.ec2.modify_instance_metadata_options(InstanceId=instance, **kwargs)
            self.assertEqual(code_of(ctx), "InvalidParameterValue", kwargs)
        self.assertEqual(self.options(instance)["HttpTokens"], "optional")
        self.ec2.terminate_instances(InstanceIds=[instance])
        with self.assertRaises(ClientError) as ctx:
            self.ec2.modify_instance_metadata_options(InstanceId=instance, HttpTokens="required")
        self.assertEqual(code_of(ctx), "IncorrectInstanceState")


if __name__ == "__main__":
    unittest.main()
