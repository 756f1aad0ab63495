"""Tests of emulator/moto_ext_kms_config.py (AWS managed keys, key rotation refusals, the
Config service-linked role, delivery channel buckets), through real boto3 clients against
a real `moto_ext.py` server.

    ~/.cache/hubfix/venv/bin/python -m unittest discover -s emulator/tests -v

The server is started and stopped the way test_moto_ext.py does it (its module fixtures).
"""

import json
import unittest

from botocore.exceptions import ClientError

import test_moto_ext as base

setUpModule = base.setUpModule  # noqa: N816 - unittest's name
tearDownModule = base.tearDownModule  # noqa: N816 - unittest's name


def code_of(ctx):
    return ctx.exception.response["Error"]["Code"]


class Reset(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        status, _ = base.http("POST", "/moto-api/reset")
        self.assertEqual(status, 200)


class AwsManagedKeyTest(Reset):
    def test_the_key_behind_an_aws_alias_is_aws_managed_and_rotates(self):
        kms = base.client("kms")
        key = kms.describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]
        self.assertEqual(key["KeyManager"], "AWS")
        self.assertEqual(key["KeySpec"], "SYMMETRIC_DEFAULT")
        self.assertIn("EBS volumes", key["Description"])
        self.assertTrue(kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"])
        # Its policy lets EBS use it for the account; nobody may administer it.
        policy = json.loads(kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"])
        conditions = policy["Statement"][0]["Condition"]["StringEquals"]
        self.assertEqual(conditions["kms:ViaService"], f"ec2.{base.REGION}.amazonaws.com")
        self.assertEqual(conditions["kms:CallerAccount"], base.ACCOUNT)
        self.assertFalse(any(s["Action"] == "kms:*" for s in policy["Statement"]))
        # The same key on every use of the alias.
        again = kms.describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]
        self.assertEqual(again["KeyId"], key["KeyId"])

    def test_created_keys_stay_customer_managed(self):
        kms = base.client("kms")
        key = kms.create_key()["KeyMetadata"]
        self.assertEqual(key["KeyManager"], "CUSTOMER")
        self.assertFalse(kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"])


class KeyRotationTest(Reset):
    def setUp(self):
        super().setUp()
        self.kms = base.client("kms")

    def refused(self, key_id, code):
        for call in (self.kms.enable_key_rotation, self.kms.disable_key_rotation):
            with self.assertRaises(ClientError) as ctx:
                call(KeyId=key_id)
            self.assertEqual(code_of(ctx), code, call)

    def test_symmetric_keys_rotate(self):
        key = self.kms.create_key()["KeyMetadata"]["Arn"]
        self.kms.enable_key_rotation(KeyId=key)
        self.assertTrue(self.kms.get_key_rotation_status(KeyId=key)["KeyRotationEnabled"])
        self.kms.disable_key_rotation(KeyId=key)
        self.assertFalse(self.kms.get_key_rotation_status(KeyId=key)["KeyRotationEnabled"])

    def test_asymmetric_and_hmac_keys_cannot_rotate(self):
        for spec, usage in (
            ("RSA_2048", "SIGN_VERIFY"),
            ("RSA_2048", "ENCRYPT_DECRYPT"),
            ("ECC_NIST_P256", "SIGN_VERIFY"),
            ("HMAC_256", "GENERATE_VERIFY_MAC"),
        ):
            key = self.kms.create_key(KeySpec=spec, KeyUsage=usage)["KeyMetadata"]["KeyId"]
            self.refused(key, "UnsupportedOperationException")
            self.assertFalse(self.kms.get_key_rotation_status(KeyId=key)["KeyRotationEnabled"])

    def test_imported_key_material_cannot_rotate(self):
        key = self.kms.create_key(Origin="EXTERNAL")["KeyMetadata"]["KeyId"]
        self.refused(key, "UnsupportedOperationException")

    def test_disabled_and_deleted_keys_are_refused(self):
        disabled = self.kms.create_key()["KeyMetadata"]["KeyId"]
        self.kms.disable_key(KeyId=disabled)
        self.refused(disabled, "DisabledException")
        deleted = self.kms.create_key()["KeyMetadata"]["KeyId"]
        self.kms.schedule_key_deletion(KeyId=deleted, PendingWindowInDays=7)
        self.refused(deleted, "KMSInvalidStateException")
        self.assertFalse(self.kms.get_key_rotation_status(KeyId=deleted)["KeyRotationEnabled"])

    def test_a_missing_key_is_not_found(self):
        with self.assertRaises(ClientError) as ctx:
            self.kms.enable_key_rotation(KeyId="0badc0de-0000-4000-8000-000000000000")
        self.assertEqual(code_of(ctx), "NotFoundException")


class PublicKeyTest(Reset):
    def test_get_public_key_names_the_key_spec_and_arn(self):
        kms = base.client("kms")
        meta = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
        out = kms.get_public_key(KeyId=meta["KeyId"])
        self.assertEqual(out["KeySpec"], "ECC_NIST_P256")
        self.assertEqual(out["KeyId"], meta["Arn"])
        self.assertEqual(out["SigningAlgorithms"], ["ECDSA_SHA_256"])
        self.assertEqual(out["KeyUsage"], "SIGN_VERIFY")


class ServiceLinkedRoleTest(Reset):
    def test_config_gets_aws_service_role_for_config_once(self):
        iam = base.client("iam")
        role = iam.create_service_linked_role(AWSServiceName="config.amazonaws.com")["Role"]
        self.assertEqual(role["RoleName"], "AWSServiceRoleForConfig")
        self.assertEqual(role["Path"], "/aws-service-role/config.amazonaws.com/")
        self.assertEqual(
            role["Arn"],
            f"arn:aws:iam::{base.ACCOUNT}:role/aws-service-role/config.amazonaws.com/"
            "AWSServiceRoleForConfig",
        )
        with self.assertRaises(ClientError) as ctx:
            iam.create_service_linked_role(AWSServiceName="config.amazonaws.com")
        self.assertEqual(code_of(ctx), "InvalidInput")
        self.assertIn(
            "Service role name AWSServiceRoleForConfig has been taken in this account",
            ctx.exception.response["Error"]["Message"],
        )
        # Other services keep moto's names; a second one of theirs is refused the same way.
        other = iam.create_service_linked_role(AWSServiceName="autoscaling.amazonaws.com")
        self.assertEqual(other["Role"]["RoleName"], "AWSServiceRoleForAutoScaling")
        with self.assertRaises(ClientError) as ctx:
            iam.create_service_linked_role(AWSServiceName="autoscaling.amazonaws.com")
        self.assertEqual(code_of(ctx), "InvalidInput")


class DeliveryChannelTest(Reset):
    def setUp(self):
        super().setUp()
        self.config = base.client("config")
        self.config.put_configuration_recorder(
            ConfigurationRecorder={
                "name": "default",
                "roleARN": f"arn:aws:iam::{base.ACCOUNT}:role/config",
                "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True},
            }
        )

    def test_the_bucket_must_exist(self):
        with self.assertRaises(ClientError) as ctx:
            self.config.put_delivery_channel(
                DeliveryChannel={"name": "default", "s3BucketName": "no-such-bucket-here"}
            )
        self.assertEqual(code_of(ctx), "NoSuchBucketException")
        base.client("s3").create_bucket(Bucket="config-delivery-bucket")
        self.config.put_delivery_channel(
            DeliveryChannel={"name": "default", "s3BucketName": "config-delivery-bucket"}
        )
        channels = self.config.describe_delivery_channels()["DeliveryChannels"]
        self.assertEqual([c["s3BucketName"] for c in channels], ["config-delivery-bucket"])
        self.config.start_configuration_recorder(ConfigurationRecorderName="default")
        status = self.config.describe_configuration_recorder_status()
        self.assertTrue(status["ConfigurationRecordersStatus"][0]["recording"])


if __name__ == "__main__":
    unittest.main()
