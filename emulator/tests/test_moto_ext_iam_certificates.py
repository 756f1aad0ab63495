"""Tests of emulator/moto_ext_iam_certificates.py (IAM server certificates: real expiry,
duplicate names, DeleteConflict while a load balancer uses one), through real boto3
clients against a real `moto_ext.py` server.

    ~/.cache/hubfix/venv/bin/python -m unittest discover -s emulator/tests -v
"""

import datetime
import unittest

from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import test_moto_ext as base

setUpModule = base.setUpModule  # noqa: N816 - unittest's name
tearDownModule = base.tearDownModule  # noqa: N816 - unittest's name


def pem_pair(not_after):
    """A self-signed certificate valid until `not_after` and its key, as PEM text."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "example.com")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_after - datetime.timedelta(days=365))
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    return (
        cert.public_bytes(serialization.Encoding.PEM).decode(),
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                          serialization.NoEncryption()).decode(),
    )


EXPIRED = datetime.datetime(2021, 3, 1, 12, 0, 0, tzinfo=datetime.UTC)
VALID = datetime.datetime(2099, 1, 1, 0, 0, 0, tzinfo=datetime.UTC)


def code(ctx):
    return ctx.exception.response["Error"]["Code"]


class ServerCertificateTest(unittest.TestCase):
    def setUp(self):
        status, _ = base.http("POST", "/moto-api/reset")
        self.assertEqual(status, 200)
        self.iam = base.client("iam")

    def upload(self, name, not_after, path="/"):
        body, key = pem_pair(not_after)
        return self.iam.upload_server_certificate(
            ServerCertificateName=name, CertificateBody=body, PrivateKey=key, Path=path,
        )["ServerCertificateMetadata"]

    def test_expiration_is_the_certificates_own(self):
        old = self.upload("old", EXPIRED, path="/web/")
        self.assertEqual(old["Expiration"], EXPIRED)
        self.assertTrue(old["ServerCertificateId"].startswith("ASCA"))
        self.assertEqual(old["Arn"], f"arn:aws:iam::{base.ACCOUNT}:server-certificate/web/old")
        self.upload("new", VALID)
        listed = {c["ServerCertificateName"]: c for c in
                  self.iam.list_server_certificates()["ServerCertificateMetadataList"]}
        self.assertEqual((listed["old"]["Expiration"], listed["new"]["Expiration"]), (EXPIRED, VALID))
        self.assertNotEqual(listed["old"]["ServerCertificateId"], listed["new"]["ServerCertificateId"])
        self.assertEqual(
            [c["ServerCertificateName"] for c in
             self.iam.list_server_certificates(PathPrefix="/web/")["ServerCertificateMetadataList"]],
            ["old"])
        got = self.iam.get_server_certificate(ServerCertificateName="new")["ServerCertificate"]
        self.assertEqual(got["ServerCertificateMetadata"]["Expiration"], VALID)
        uploaded = got["ServerCertificateMetadata"]["UploadDate"]
        self.assertLess(abs(uploaded - datetime.datetime.now(datetime.UTC)), datetime.timedelta(minutes=5))

    def test_bodies_must_be_certificates_and_names_unique(self):
        _, key = pem_pair(VALID)
        with self.assertRaises(ClientError) as ctx:
            self.iam.upload_server_certificate(ServerCertificateName="junk",
                                               CertificateBody="not a certificate", PrivateKey=key)
        self.assertEqual(code(ctx), "MalformedCertificate")
        self.upload("site", VALID)
        with self.assertRaises(ClientError) as ctx:
            self.upload("site", EXPIRED)
        self.assertEqual(code(ctx), "EntityAlreadyExists")
        [only] = self.iam.list_server_certificates()["ServerCertificateMetadataList"]
        self.assertEqual(only["Expiration"], VALID)

    def test_a_certificate_a_load_balancer_uses_is_not_deleted(self):
        arn = self.upload("in-use", EXPIRED)["Arn"]
        self.upload("unused", EXPIRED)
        ec2 = base.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
        subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24",
                                     AvailabilityZone=f"{base.REGION}{z}")["Subnet"]["SubnetId"]
                   for i, z in ((1, "a"), (2, "b"))]
        elb = base.client("elbv2")
        lb = elb.create_load_balancer(Name="web", Subnets=subnets)["LoadBalancers"][0]
        group = elb.create_target_group(Name="web", Protocol="HTTP", Port=80, VpcId=vpc)
        listener = elb.create_listener(
            LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTPS", Port=443,
            Certificates=[{"CertificateArn": arn}],
            DefaultActions=[{"Type": "forward",
                             "TargetGroupArn": group["TargetGroups"][0]["TargetGroupArn"]}],
        )["Listeners"][0]
        with self.assertRaises(ClientError) as ctx:
            self.iam.delete_server_certificate(ServerCertificateName="in-use")
        self.assertEqual(code(ctx), "DeleteConflict")
        self.assertEqual(ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"], 409)
        self.iam.delete_server_certificate(ServerCertificateName="unused")
        self.assertEqual(
            [c["ServerCertificateName"] for c in
             self.iam.list_server_certificates()["ServerCertificateMetadataList"]],
            ["in-use"])
        # Once the listener is gone, so can the certificate be.
        elb.delete_listener(ListenerArn=listener["ListenerArn"])
        self.iam.delete_server_certificate(ServerCertificateName="in-use")
        self.assertEqual(self.iam.list_server_certificates()["ServerCertificateMetadataList"], [])
        with self.assertRaises(ClientError) as ctx:
            self.iam.delete_server_certificate(ServerCertificateName="in-use")
        self.assertEqual(code(ctx), "NoSuchEntity")

    def test_a_classic_load_balancer_counts_too(self):
        arn = self.upload("classic", EXPIRED)["Arn"]
        base.client("elb").create_load_balancer(
            LoadBalancerName="legacy", AvailabilityZones=[f"{base.REGION}a"],
            Listeners=[{"Protocol": "HTTPS", "LoadBalancerPort": 443, "InstanceProtocol": "HTTP",
                        "InstancePort": 80, "SSLCertificateId": arn}],
        )
        with self.assertRaises(ClientError) as ctx:
            self.iam.delete_server_certificate(ServerCertificateName="classic")
        self.assertEqual(code(ctx), "DeleteConflict")

    def test_a_cloudfront_distribution_counts_too(self):
        cert = self.upload("cdn", EXPIRED)
        cloudfront = base.client("cloudfront")
        dist = cloudfront.create_distribution(DistributionConfig={
            "CallerReference": "hubfix-test",
            "Comment": "uses the certificate",
            "Enabled": True,
            "Origins": {"Quantity": 1, "Items": [{
                "Id": "site", "DomainName": "example.com",
                "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443,
                                       "OriginProtocolPolicy": "https-only"},
            }]},
            "DefaultCacheBehavior": {"TargetOriginId": "site",
                                     "ViewerProtocolPolicy": "redirect-to-https"},
            "ViewerCertificate": {"IAMCertificateId": cert["ServerCertificateId"],
                                  "SSLSupportMethod": "sni-only"},
        })["Distribution"]
        with self.assertRaises(ClientError) as ctx:
            self.iam.delete_server_certificate(ServerCertificateName="cdn")
        self.assertEqual(code(ctx), "DeleteConflict")
        self.assertIn(dist["ARN"], ctx.exception.response["Error"]["Message"])
        # Another certificate of the account is not held by it.
        self.upload("other", EXPIRED)
        self.iam.delete_server_certificate(ServerCertificateName="other")


if __name__ == "__main__":
    unittest.main()
