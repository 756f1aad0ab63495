"""Tests of emulator/moto_ext.py, through real boto3 clients against a real server.

    ~/.cache/hubfix/venv/bin/python -m unittest discover -s emulator/tests -v

The module starts `moto_ext.py` once on a free port (setUpModule) and stops it at the
end; every test starts from `POST /moto-api/reset`.
"""

import contextlib
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

MOTO_EXT = Path(__file__).resolve().parents[1] / "moto_ext.py"
ACCOUNT = "123456789012"
OTHER_ACCOUNT = "222222222222"
REGION = "us-east-1"
PRODUCT_ARN = f"arn:aws:securityhub:{REGION}:{ACCOUNT}:product/{ACCOUNT}/default"
CONTROL_PRODUCT_ARN = f"arn:aws:securityhub:{REGION}::product/aws/securityhub"
IMPORTED = "Security Hub Findings - Imported"

SERVER = None
LOG = None
ENDPOINT = None


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def setUpModule():  # noqa: N802 - unittest's name
    global SERVER, LOG, ENDPOINT
    # Real credentials or profiles in the environment must not reach these clients.
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)
    port = _free_port()
    ENDPOINT = f"http://127.0.0.1:{port}"
    # Open for the whole module: the server writes its log there.
    LOG = tempfile.NamedTemporaryFile(prefix="moto-ext-test-", suffix=".log", delete=False)  # noqa: SIM115
    SERVER = subprocess.Popen(
        [sys.executable, str(MOTO_EXT), "-H", "127.0.0.1", "-p", str(port)],
        stdout=LOG,
        stderr=subprocess.STDOUT,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    deadline = time.monotonic() + 30
    while True:
        if SERVER.poll() is not None:
            raise RuntimeError(f"moto_ext.py exited ({SERVER.returncode}):\n{_log_text()}")
        try:
            with urllib.request.urlopen(f"{ENDPOINT}/moto-api/", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            tearDownModule()
            raise RuntimeError(f"moto_ext.py did not answer within 30 s:\n{_log_text()}")
        time.sleep(0.1)


def tearDownModule():  # noqa: N802 - unittest's name
    if SERVER is not None and SERVER.poll() is None:
        SERVER.terminate()
        try:
            SERVER.wait(timeout=10)
        except subprocess.TimeoutExpired:
            SERVER.kill()
            SERVER.wait()
    if LOG is not None:
        LOG.close()
        os.unlink(LOG.name)


def _log_text():
    LOG.flush()
    return Path(LOG.name).read_text(errors="replace")[-4000:]


# ---------------------------------------------------------------------------------
# Helpers


def http(method, path, body=None):
    """(status, decoded JSON or text) of a plain request to the server."""
    data = (
        None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    )
    request = urllib.request.Request(f"{ENDPOINT}{path}", data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")


def signed_request(method, path, body, service="securityhub"):
    """(status, JSON body, headers) of a hand-made request that looks SigV4-signed
    (the emulator does not check signatures unless IAM enforcement is on)."""
    request = urllib.request.Request(
        f"{ENDPOINT}{path}",
        method=method,
        data=json.dumps(body).encode(),
        headers={
            "Content-Type": "application/json",
            "Authorization": "AWS4-HMAC-SHA256 "
            f"Credential=testing/20240101/{REGION}/{service}/aws4_request, "
            "SignedHeaders=host, Signature=0",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null"), response.headers
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null"), err.headers


def client(service, retries=1, validate=True, credentials=None):
    """A boto3 client for the server; by default it makes exactly one attempt."""
    creds = credentials or {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    return boto3.client(
        service,
        endpoint_url=ENDPOINT,
        region_name=REGION,
        config=Config(
            retries={"mode": "standard", "total_max_attempts": retries},
            parameter_validation=validate,
            s3={"addressing_style": "path"},
        ),
        **creds,
    )


def finding(finding_id, account=ACCOUNT, product_arn=PRODUCT_ARN, **fields):
    data = {
        "SchemaVersion": "2018-10-08",
        "Id": finding_id,
        "ProductArn": product_arn,
        "GeneratorId": "hubfix-test",
        "AwsAccountId": account,
        "Types": ["Software and Configuration Checks"],
        "CreatedAt": "2024-01-01T00:00:00.000Z",
        "UpdatedAt": "2024-01-01T00:00:00.000Z",
        "Severity": {"Label": "LOW", "Normalized": 1},
        "Title": f"Title of {finding_id}",
        "Description": f"Description of {finding_id}",
        "Resources": [
            {"Type": "AwsEc2SecurityGroup", "Id": f"arn:aws:ec2:{REGION}:{account}:sg/{finding_id}"}
        ],
    }
    data.update(fields)
    return data


def ident(finding_id, product_arn=PRODUCT_ARN):
    return {"Id": finding_id, "ProductArn": product_arn}


def error_of(ctx):
    err = ctx.exception.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]


class ExtTestCase(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        status, _ = http("POST", "/moto-api/reset")
        self.assertEqual(status, 200)
        self.sh = client("securityhub")

    def import_findings(self, *findings, sh=None):
        result = (sh or self.sh).batch_import_findings(Findings=list(findings))
        self.assertEqual(result["FailedCount"], 0, result)
        return result

    def stored(self, finding_id, sh=None):
        found = (sh or self.sh).get_findings(
            Filters={"Id": [{"Value": finding_id, "Comparison": "EQUALS"}]}
        )["Findings"]
        self.assertEqual(len(found), 1, found)
        return found[0]

    def all_ids(self, **kwargs):
        return [f["Id"] for f in self.sh.get_findings(**kwargs)["Findings"]]


# ---------------------------------------------------------------------------------
# Security Hub: BatchUpdateFindings


class BatchUpdateFindingsTest(ExtTestCase):
    def test_updates_every_field_and_leaves_updated_at_alone(self):
        self.import_findings(finding("f-1"), finding("f-2"))
        result = self.sh.batch_update_findings(
            FindingIdentifiers=[ident("f-1"), ident("f-2")],
            Workflow={"Status": "NOTIFIED"},
            Note={"Text": "remediation started", "UpdatedBy": "hubfix"},
            Severity={"Label": "HIGH"},
            VerificationState="TRUE_POSITIVE",
            Confidence=80,
            Criticality=60,
            Types=["Effects/Data Exposure"],
            UserDefinedFields={"hubfix": "pending"},
            RelatedFindings=[ident("f-2")],
        )
        self.assertEqual(sorted(p["Id"] for p in result["ProcessedFindings"]), ["f-1", "f-2"])
        self.assertEqual(result["UnprocessedFindings"], [])
        stored = self.stored("f-1")
        self.assertEqual(stored["Workflow"], {"Status": "NOTIFIED"})
        self.assertEqual(stored["WorkflowState"], "ASSIGNED")
        self.assertEqual(stored["Note"]["Text"], "remediation started")
        self.assertEqual(stored["Note"]["UpdatedBy"], "hubfix")
        self.assertTrue(stored["Note"]["UpdatedAt"].endswith("Z"))
        # Normalized follows the label, as the ASFF Severity documentation says.
        self.assertEqual(stored["Severity"], {"Label": "HIGH", "Normalized": 70})
        self.assertEqual(stored["VerificationState"], "TRUE_POSITIVE")
        self.assertEqual((stored["Confidence"], stored["Criticality"]), (80, 60))
        self.assertEqual(stored["Types"], ["Effects/Data Exposure"])
        self.assertEqual(stored["UserDefinedFields"], {"hubfix": "pending"})
        self.assertEqual(stored["RelatedFindings"], [ident("f-2")])
        # "Updates from BatchUpdateFindings do not affect the value of UpdatedAt."
        self.assertEqual(stored["UpdatedAt"], "2024-01-01T00:00:00.000Z")

    def test_severity_label_follows_normalized(self):
        self.import_findings(finding("f-1"))
        self.sh.batch_update_findings(
            FindingIdentifiers=[ident("f-1")], Severity={"Normalized": 95}
        )
        self.assertEqual(self.stored("f-1")["Severity"], {"Label": "CRITICAL", "Normalized": 95})

    def test_more_than_100_identifiers_is_invalid_input(self):
        self.import_findings(finding("f-1"))
        with self.assertRaises(ClientError) as ctx:
            self.sh.batch_update_findings(
                FindingIdentifiers=[ident(f"f-{i}") for i in range(101)],
                Workflow={"Status": "NOTIFIED"},
            )
        self.assertEqual(error_of(ctx)[0], "InvalidInputException")
        self.assertEqual(self.stored("f-1")["Workflow"]["Status"], "NEW")

    def test_no_identifiers_is_invalid_input(self):
        raw = client("securityhub", validate=False)
        with self.assertRaises(ClientError) as ctx:
            raw.batch_update_findings(FindingIdentifiers=[], Workflow={"Status": "NOTIFIED"})
        self.assertEqual(error_of(ctx)[0], "InvalidInputException")

    def test_exactly_100_identifiers_are_accepted(self):
        self.import_findings(*[finding(f"f-{i}") for i in range(100)])
        result = self.sh.batch_update_findings(
            FindingIdentifiers=[ident(f"f-{i}") for i in range(100)],
            Workflow={"Status": "RESOLVED"},
        )
        self.assertEqual(len(result["ProcessedFindings"]), 100)

    def test_unknown_ids_are_unprocessed(self):
        self.import_findings(finding("f-1"))
        result = self.sh.batch_update_findings(
            FindingIdentifiers=[
                ident("f-1"),
                ident("nope"),
                ident("f-1", product_arn=CONTROL_PRODUCT_ARN),
            ],
            Workflow={"Status": "SUPPRESSED"},
        )
        self.assertEqual(result["ProcessedFindings"], [ident("f-1")])
        self.assertEqual(
            [(u["FindingIdentifier"], u["ErrorCode"]) for u in result["UnprocessedFindings"]],
            [
                (ident("nope"), "FindingNotFound"),
                (ident("f-1", CONTROL_PRODUCT_ARN), "FindingNotFound"),
            ],
        )
        self.assertEqual(self.stored("f-1")["Workflow"]["Status"], "SUPPRESSED")

    def test_duplicated_identifiers_are_unprocessed(self):
        self.import_findings(finding("f-1"))
        result = self.sh.batch_update_findings(
            FindingIdentifiers=[ident("f-1"), ident("f-1")], Workflow={"Status": "NOTIFIED"}
        )
        self.assertEqual(result["ProcessedFindings"], [])
        self.assertEqual(
            {u["ErrorCode"] for u in result["UnprocessedFindings"]}, {"DuplicatedFindingIdentifier"}
        )

    def test_note_text_longer_than_512_is_invalid_input(self):
        self.import_findings(finding("f-1"))
        self.sh.batch_update_findings(
            FindingIdentifiers=[ident("f-1")], Note={"Text": "x" * 512, "UpdatedBy": "hubfix"}
        )
        with self.assertRaises(ClientError) as ctx:
            self.sh.batch_update_findings(
                FindingIdentifiers=[ident("f-1")], Note={"Text": "y" * 513, "UpdatedBy": "hubfix"}
            )
        self.assertEqual(error_of(ctx), ("InvalidInputException", 400))
        self.assertEqual(self.stored("f-1")["Note"]["Text"], "x" * 512)

    def test_note_needs_text_and_updated_by(self):
        self.import_findings(finding("f-1"))
        raw = client("securityhub", validate=False)
        for note in ({"Text": "only text"}, {"UpdatedBy": "only author"}):
            with self.assertRaises(ClientError) as ctx:
                raw.batch_update_findings(FindingIdentifiers=[ident("f-1")], Note=note)
            self.assertEqual(error_of(ctx)[0], "InvalidInputException", note)

    def test_bad_values_are_invalid_input(self):
        self.import_findings(finding("f-1"))
        raw = client("securityhub", validate=False)
        for update in (
            {"Workflow": {"Status": "DONE"}},
            {"Confidence": 101},
            {"Severity": {"Label": "SEVERE"}},
            {"VerificationState": "MAYBE"},
            {},  # nothing to update
        ):
            with self.assertRaises(ClientError) as ctx:
                raw.batch_update_findings(FindingIdentifiers=[ident("f-1")], **update)
            self.assertEqual(error_of(ctx)[0], "InvalidInputException", update)


# ---------------------------------------------------------------------------------
# Security Hub: GetFindings


class GetFindingsTest(ExtTestCase):
    def setUp(self):
        super().setUp()
        self.import_findings(
            finding(
                "a-1",
                Title="S3 bucket is public",
                Severity={"Label": "CRITICAL", "Normalized": 90},
                UpdatedAt="2024-03-01T00:00:00Z",
                ProductFields={"Owner": "team-a"},
                Compliance={"Status": "FAILED", "SecurityControlId": "S3.1"},
                Resources=[
                    {"Type": "AwsS3Bucket", "Id": "arn:aws:s3:::a", "Tags": {"env": "prod"}}
                ],
            ),
            finding(
                "a-2",
                Title="Security group open",
                Severity={"Label": "HIGH", "Normalized": 70},
                UpdatedAt="2024-02-01T00:00:00Z",
                ProductFields={"Owner": "team-b"},
                Compliance={"Status": "FAILED", "SecurityControlId": "EC2.19"},
                Resources=[
                    {"Type": "AwsEc2Instance", "Id": "i-1"},
                    {"Type": "AwsEc2SecurityGroup", "Id": "sg-1", "Tags": {"env": "dev"}},
                ],
            ),
            finding(
                "b-3",
                Title="IAM password policy",
                Severity={"Label": "MEDIUM", "Normalized": 40},
                UpdatedAt="2024-01-01T00:00:00Z",
                Resources=[{"Type": "AwsAccount", "Id": "AWS::::Account:123456789012"}],
            ),
            finding(
                "b-4",
                Title="S3 bucket unencrypted",
                Severity={"Label": "LOW", "Normalized": 1},
                UpdatedAt="2023-12-01T00:00:00Z",
            ),
        )

    def ids(self, **filters):
        return sorted(self.all_ids(Filters=filters))

    def test_string_filters(self):
        def cond(value, comparison="EQUALS"):
            return [{"Value": value, "Comparison": comparison}]

        self.assertEqual(self.ids(Id=cond("a-2")), ["a-2"])
        self.assertEqual(self.ids(Id=cond("a-", "PREFIX")), ["a-1", "a-2"])
        self.assertEqual(self.ids(Title=cond("bucket", "CONTAINS")), ["a-1", "b-4"])
        self.assertEqual(self.ids(Id=cond("a-1", "NOT_EQUALS")), ["a-2", "b-3", "b-4"])
        self.assertEqual(self.ids(Id=cond("a-", "PREFIX_NOT_EQUALS")), ["b-3", "b-4"])
        self.assertEqual(self.ids(Title=cond("S3", "NOT_CONTAINS")), ["a-2", "b-3"])
        # Positive conditions on one field are OR-ed, negative ones AND-ed.
        either = [
            {"Value": "a-1", "Comparison": "EQUALS"},
            {"Value": "b-3", "Comparison": "EQUALS"},
        ]
        self.assertEqual(self.ids(Id=either), ["a-1", "b-3"])
        neither = [
            {"Value": "a-1", "Comparison": "NOT_EQUALS"},
            {"Value": "b-", "Comparison": "PREFIX_NOT_EQUALS"},
        ]
        self.assertEqual(self.ids(Id=neither), ["a-2"])
        # Fields inside lists: any resource counts for a positive condition.
        self.assertEqual(self.ids(ResourceType=cond("AwsEc2Instance")), ["a-2"])
        self.assertEqual(self.ids(ResourceType=cond("AwsEc2SecurityGroup")), ["a-2", "b-4"])
        self.assertEqual(self.ids(ComplianceSecurityControlId=cond("S3.1")), ["a-1"])
        self.assertEqual(self.ids(SeverityLabel=cond("HIGH"), WorkflowStatus=cond("NEW")), ["a-2"])
        self.assertEqual(self.ids(SeverityLabel=cond("HIGH"), WorkflowStatus=cond("RESOLVED")), [])

    def test_number_filters(self):
        self.assertEqual(self.ids(SeverityNormalized=[{"Gte": 70}]), ["a-1", "a-2"])
        self.assertEqual(self.ids(SeverityNormalized=[{"Gte": 2, "Lte": 70}]), ["a-2", "b-3"])
        self.assertEqual(self.ids(SeverityNormalized=[{"Eq": 1}, {"Eq": 90}]), ["a-1", "b-4"])
        self.assertEqual(self.ids(SeverityNormalized=[{"Gt": 90}]), [])

    def test_date_filters(self):
        window = [{"Start": "2024-01-15T00:00:00Z", "End": "2024-02-15T00:00:00.000Z"}]
        self.assertEqual(self.ids(UpdatedAt=window), ["a-2"])
        self.assertEqual(
            self.ids(UpdatedAt=[{"Start": "2024-01-01T00:00:00Z"}]), ["a-1", "a-2", "b-3"]
        )
        self.assertEqual(self.ids(UpdatedAt=[{"End": "2023-12-31T00:00:00Z"}]), ["b-4"])
        # All fixtures are older than a week; a finding updated now is not.
        self.import_findings(
            finding("c-5", UpdatedAt=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        )
        self.assertEqual(self.ids(UpdatedAt=[{"DateRange": {"Value": 7, "Unit": "DAYS"}}]), ["c-5"])

    def test_map_filters(self):
        self.assertEqual(
            self.ids(ProductFields=[{"Key": "Owner", "Value": "team-a", "Comparison": "EQUALS"}]),
            ["a-1"],
        )
        self.assertEqual(
            self.ids(
                ProductFields=[{"Key": "Owner", "Value": "team-a", "Comparison": "NOT_EQUALS"}]
            ),
            ["a-2", "b-3", "b-4"],
        )
        self.assertEqual(
            self.ids(ResourceTags=[{"Key": "env", "Value": "dev", "Comparison": "EQUALS"}]), ["a-2"]
        )

    def test_unknown_or_unsupported_filter_is_invalid_input(self):
        # boto3 cannot even serialize an unknown name: send the request by hand.
        status, body, headers = signed_request(
            "POST",
            "/findings",
            {"Filters": {"NoSuchFilter": [{"Value": "x", "Comparison": "EQUALS"}]}},
        )
        self.assertEqual(status, 400)
        self.assertEqual(headers["x-amzn-ErrorType"], "InvalidInputException")
        self.assertIn("NoSuchFilter", json.dumps(body))
        # A real AWS filter the emulator does not implement is refused, never ignored.
        with self.assertRaises(ClientError) as ctx:
            self.sh.get_findings(
                Filters={
                    "ResourceAwsEc2InstanceType": [{"Value": "t3.micro", "Comparison": "EQUALS"}]
                }
            )
        self.assertEqual(error_of(ctx)[0], "InvalidInputException")
        self.assertIn("not supported", ctx.exception.response["Error"]["Message"])

    def test_conflicting_comparisons_are_invalid_input(self):
        with self.assertRaises(ClientError) as ctx:
            self.sh.get_findings(
                Filters={
                    "Title": [
                        {"Value": "S3", "Comparison": "CONTAINS"},
                        {"Value": "IAM", "Comparison": "NOT_CONTAINS"},
                    ]
                }
            )
        self.assertEqual(error_of(ctx)[0], "InvalidInputException")

    def test_malformed_conditions_are_invalid_input(self):
        # Sent by hand: boto3 would not serialize most of these.
        for filters in (
            {"SeverityNormalized": [{"Gte": "high"}]},
            {"SeverityNormalized": [{}]},
            {"Id": [{"Value": 7, "Comparison": "EQUALS"}]},
            {"Id": [{"Value": "a", "Comparison": "LIKE"}]},
            {"UpdatedAt": [{"DateRange": {"Unit": "DAYS"}}]},
            {"ProductFields": [{"Value": "x", "Comparison": "EQUALS"}]},
            {"Sample": [{"Value": "yes"}]},
        ):
            status, body, headers = signed_request("POST", "/findings", {"Filters": filters})
            self.assertEqual(status, 400, filters)
            self.assertEqual(headers["x-amzn-ErrorType"], "InvalidInputException", body)

    def test_sort_criteria(self):
        self.assertEqual(
            self.all_ids(SortCriteria=[{"Field": "SeverityNormalized", "SortOrder": "desc"}]),
            ["a-1", "a-2", "b-3", "b-4"],
        )
        self.assertEqual(
            self.all_ids(SortCriteria=[{"Field": "UpdatedAt", "SortOrder": "asc"}]),
            ["b-4", "b-3", "a-2", "a-1"],
        )
        self.assertEqual(
            self.all_ids(SortCriteria=[{"Field": "Title", "SortOrder": "asc"}]),
            ["b-3", "a-1", "b-4", "a-2"],
        )
        # Ties on the first criterion are ordered by the second.
        self.sh.batch_update_findings(
            FindingIdentifiers=[ident("b-3"), ident("b-4")], Workflow={"Status": "NOTIFIED"}
        )
        self.assertEqual(
            self.all_ids(
                SortCriteria=[
                    {"Field": "WorkflowStatus", "SortOrder": "asc"},
                    {"Field": "SeverityNormalized", "SortOrder": "asc"},
                ]
            ),
            ["a-2", "a-1", "b-4", "b-3"],
        )

    def test_paging(self):
        pages, token = [], None
        while True:
            kwargs = {"MaxResults": 3, "SortCriteria": [{"Field": "Id", "SortOrder": "desc"}]}
            if token:
                kwargs["NextToken"] = token
            response = self.sh.get_findings(**kwargs)
            pages.append([f["Id"] for f in response["Findings"]])
            token = response.get("NextToken")
            if not token:
                break
        self.assertEqual(pages, [["b-4", "b-3", "a-2"], ["a-1"]])

    def test_paging_survives_findings_that_stop_matching(self):
        """The pipeline pages through NEW findings and updates each page: no finding
        may be skipped because the earlier ones no longer match."""
        new = {"WorkflowStatus": [{"Value": "NEW", "Comparison": "EQUALS"}]}
        seen, token = [], None
        while True:
            kwargs = {"Filters": new, "MaxResults": 1}
            if token:
                kwargs["NextToken"] = token
            response = self.sh.get_findings(**kwargs)
            ids = [f["Id"] for f in response["Findings"]]
            seen.extend(ids)
            if ids:
                self.sh.batch_update_findings(
                    FindingIdentifiers=[ident(i) for i in ids], Workflow={"Status": "NOTIFIED"}
                )
            token = response.get("NextToken")
            if not token:
                break
        self.assertEqual(seen, ["a-1", "a-2", "b-3", "b-4"])

    def test_max_results_bounds_and_bad_tokens(self):
        raw = client("securityhub", validate=False)
        for bad in (0, 101):
            with self.assertRaises(ClientError) as ctx:
                raw.get_findings(MaxResults=bad)
            self.assertEqual(error_of(ctx)[0], "InvalidInputException", bad)
        self.assertEqual(len(self.sh.get_findings(MaxResults=100)["Findings"]), 4)
        token = self.sh.get_findings(MaxResults=1)["NextToken"]
        with self.assertRaises(ClientError) as ctx:
            self.sh.get_findings(
                MaxResults=1,
                NextToken=token,
                Filters={"Id": [{"Value": "a", "Comparison": "PREFIX"}]},
            )
        self.assertEqual(error_of(ctx)[0], "InvalidInputException")
        with self.assertRaises(ClientError) as ctx:
            self.sh.get_findings(NextToken="garbage")
        self.assertEqual(error_of(ctx)[0], "InvalidInputException")


# ---------------------------------------------------------------------------------
# Security Hub: BatchImportFindings


class BatchImportFindingsTest(ExtTestCase):
    def test_more_than_100_findings_is_invalid_input(self):
        with self.assertRaises(ClientError) as ctx:
            self.sh.batch_import_findings(Findings=[finding(f"f-{i}") for i in range(101)])
        self.assertEqual(error_of(ctx)[0], "InvalidInputException")
        self.assertEqual(self.sh.get_findings()["Findings"], [])

    def test_invalid_findings_are_reported_not_stored(self):
        bad = finding("bad")
        del bad["Title"]
        raw = client("securityhub", validate=False)
        result = raw.batch_import_findings(Findings=[finding("good"), bad])
        self.assertEqual((result["SuccessCount"], result["FailedCount"]), (1, 1))
        self.assertEqual(result["FailedFindings"][0]["Id"], "bad")
        self.assertEqual(self.all_ids(), ["good"])

    def test_new_findings_start_new_and_active(self):
        self.import_findings(finding("f-1"))
        stored = self.stored("f-1")
        self.assertEqual((stored["Workflow"]["Status"], stored["RecordState"]), ("NEW", "ACTIVE"))

    def test_reimport_keeps_customer_fields(self):
        self.import_findings(finding("f-1"))
        self.sh.batch_update_findings(
            FindingIdentifiers=[ident("f-1")],
            Workflow={"Status": "NOTIFIED"},
            Note={"Text": "working on it", "UpdatedBy": "hubfix"},
            UserDefinedFields={"ticket": "T-1"},
            VerificationState="TRUE_POSITIVE",
        )
        self.import_findings(
            finding(
                "f-1",
                Title="new title",
                Workflow={"Status": "NEW"},
                Note={"Text": "provider", "UpdatedBy": "p", "UpdatedAt": "2024-01-01T00:00:00Z"},
                UserDefinedFields={},
                VerificationState="UNKNOWN",
                UpdatedAt="2024-06-01T00:00:00Z",
            )
        )
        stored = self.stored("f-1")
        self.assertEqual(stored["Title"], "new title")
        self.assertEqual(stored["UpdatedAt"], "2024-06-01T00:00:00Z")
        self.assertEqual(stored["Workflow"]["Status"], "NOTIFIED")
        self.assertEqual(stored["Note"]["Text"], "working on it")
        self.assertEqual(stored["UserDefinedFields"], {"ticket": "T-1"})
        self.assertEqual(stored["VerificationState"], "TRUE_POSITIVE")
        self.assertEqual(len(self.sh.get_findings()["Findings"]), 1)

    def test_documented_workflow_transitions(self):
        failed = {"Status": "FAILED"}
        self.import_findings(
            finding("resolved", Compliance={"Status": "PASSED"}),
            finding("notified", RecordState="ARCHIVED"),
            finding("suppressed", Compliance={"Status": "PASSED"}),
        )
        self.sh.batch_update_findings(
            FindingIdentifiers=[ident("resolved")], Workflow={"Status": "RESOLVED"}
        )
        self.sh.batch_update_findings(
            FindingIdentifiers=[ident("notified")], Workflow={"Status": "NOTIFIED"}
        )
        self.sh.batch_update_findings(
            FindingIdentifiers=[ident("suppressed")], Workflow={"Status": "SUPPRESSED"}
        )
        self.import_findings(
            finding("resolved", Compliance=failed),  # PASSED -> FAILED
            finding("notified", RecordState="ACTIVE"),  # ARCHIVED -> ACTIVE
            finding("suppressed", Compliance=failed),  # SUPPRESSED never changes
        )
        self.assertEqual(self.stored("resolved")["Workflow"]["Status"], "NEW")
        self.assertEqual(self.stored("notified")["Workflow"]["Status"], "NEW")
        self.assertEqual(self.stored("suppressed")["Workflow"]["Status"], "SUPPRESSED")

    def test_passed_control_findings_are_resolved(self):
        control = {"SecurityControlId": "EC2.19"}
        self.import_findings(
            finding(
                "ctl", product_arn=CONTROL_PRODUCT_ARN, Compliance=dict(control, Status="FAILED")
            )
        )
        self.assertEqual(self.stored("ctl")["Workflow"]["Status"], "NEW")
        self.import_findings(
            finding(
                "ctl", product_arn=CONTROL_PRODUCT_ARN, Compliance=dict(control, Status="PASSED")
            )
        )
        self.assertEqual(self.stored("ctl")["Workflow"]["Status"], "RESOLVED")
        self.import_findings(
            finding(
                "ctl", product_arn=CONTROL_PRODUCT_ARN, Compliance=dict(control, Status="FAILED")
            )
        )
        self.assertEqual(self.stored("ctl")["Workflow"]["Status"], "NEW")


# ---------------------------------------------------------------------------------
# Security Hub events


class SecurityHubEventsTest(ExtTestCase):
    def events(self):
        status, events = http("GET", "/moto-ext/events")
        self.assertEqual(status, 200)
        return events

    def test_import_emits_one_event_per_finding(self):
        self.import_findings(finding("f-1"), finding("f-2"))
        events = self.events()
        self.assertEqual(len(events), 2)
        for event, finding_id in zip(events, ["f-1", "f-2"], strict=True):
            self.assertEqual(event["source"], "aws.securityhub")
            self.assertEqual(event["detail-type"], IMPORTED)
            self.assertEqual(event["resources"], [finding_id])
            self.assertEqual((event["account"], event["region"]), (ACCOUNT, REGION))
            self.assertRegex(event["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
            self.assertTrue(event["id"])
            self.assertEqual(len(event["detail"]["findings"]), 1)
            self.assertEqual(event["detail"]["findings"][0], self.stored(finding_id))

    def test_update_emits_events_for_processed_findings_only(self):
        self.import_findings(finding("f-1"), finding("f-2"))
        http("DELETE", "/moto-ext/events")
        self.assertEqual(self.events(), [])
        self.sh.batch_update_findings(
            FindingIdentifiers=[ident("f-2"), ident("missing")], Workflow={"Status": "NOTIFIED"}
        )
        events = self.events()
        self.assertEqual([e["resources"] for e in events], [["f-2"]])
        self.assertEqual(events[0]["detail"]["findings"][0]["Workflow"]["Status"], "NOTIFIED")

    def test_failed_calls_emit_nothing(self):
        with self.assertRaises(ClientError):
            self.sh.batch_update_findings(
                FindingIdentifiers=[ident("f-1")], Note={"Text": "z" * 600, "UpdatedBy": "x"}
            )
        self.assertEqual(self.events(), [])

    def test_events_reach_a_rule_with_an_sqs_target(self):
        sqs, events = client("sqs"), client("events")
        queue_url = sqs.create_queue(QueueName="hubfix-findings")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        events.put_rule(
            Name="notified-findings",
            EventPattern=json.dumps(
                {
                    "source": ["aws.securityhub"],
                    "detail-type": [IMPORTED],
                    "detail": {"findings": {"Workflow": {"Status": ["NOTIFIED"]}}},
                }
            ),
        )
        events.put_targets(Rule="notified-findings", Targets=[{"Id": "queue", "Arn": queue_arn}])

        self.import_findings(finding("f-1"))  # Workflow NEW: the rule does not match
        self.assertNotIn("Messages", sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=0))

        self.sh.batch_update_findings(
            FindingIdentifiers=[ident("f-1")], Workflow={"Status": "NOTIFIED"}
        )
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        )["Messages"]
        self.assertEqual(len(messages), 1)
        event = json.loads(messages[0]["Body"])
        self.assertEqual(event["source"], "aws.securityhub")
        self.assertEqual(event["detail-type"], IMPORTED)
        self.assertEqual(event["resources"], ["f-1"])
        self.assertEqual(event["detail"]["findings"][0]["Id"], "f-1")
        self.assertEqual(event["id"], self.events()[-1]["id"])

    def test_events_go_to_the_requesting_account(self):
        creds = client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{OTHER_ACCOUNT}:role/hubfix", RoleSessionName="test"
        )["Credentials"]
        other = {
            "aws_access_key_id": creds["AccessKeyId"],
            "aws_secret_access_key": creds["SecretAccessKey"],
            "aws_session_token": creds["SessionToken"],
        }
        self.import_findings(
            finding("member-1", account=OTHER_ACCOUNT), sh=client("securityhub", credentials=other)
        )
        events = self.events()
        self.assertEqual(
            [(e["account"], e["resources"]) for e in events], [(OTHER_ACCOUNT, ["member-1"])]
        )
        self.assertEqual(self.sh.get_findings()["Findings"], [])


# ---------------------------------------------------------------------------------
# EventBridge


def event_with(**fields):
    event = {
        "id": "7bf73129-1428-4cd3-a780-95db273d1602",
        "account": ACCOUNT,
        "source": "aws.securityhub",
        "time": "2024-01-01T00:00:00Z",
        "region": REGION,
        "resources": [],
        "detail-type": IMPORTED,
        "detail": {},
    }
    event.update(fields)
    return event


class EventPatternTest(ExtTestCase):
    def setUp(self):
        super().setUp()
        self.events = client("events")

    def matches(self, pattern, event):
        result = self.events.test_event_pattern(
            EventPattern=json.dumps(pattern), Event=json.dumps(event)
        )
        self.assertIsInstance(result["Result"], bool)
        return result["Result"]

    def test_docs_example_pattern_values_match_any_array_element(self):
        # The example of "Arrays in Amazon EventBridge event patterns".
        pattern = {
            "resources": [
                "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
                "arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f",
                "arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f",
            ]
        }
        event = event_with(
            resources=[
                "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate",
                "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
            ]
        )
        self.assertTrue(self.matches(pattern, event))
        self.assertFalse(self.matches(pattern, event_with(resources=event["resources"][:1])))

    def test_nested_objects_in_arrays(self):
        pattern = {"detail": {"findings": {"Compliance": {"Status": ["FAILED"]}}}}
        two = event_with(
            detail={
                "findings": [
                    {"Id": "a", "Compliance": {"Status": "PASSED"}},
                    {"Id": "b", "Compliance": {"Status": "FAILED"}},
                ]
            }
        )
        self.assertTrue(self.matches(pattern, two))
        passed = event_with(detail={"findings": [{"Id": "a", "Compliance": {"Status": "PASSED"}}]})
        self.assertFalse(self.matches(pattern, passed))
        # Deeper: arrays inside arrays of objects.
        deep = {"detail": {"findings": {"Resources": {"Type": ["AwsS3Bucket"]}}}}
        self.assertTrue(
            self.matches(
                deep,
                event_with(
                    detail={
                        "findings": [
                            {"Resources": [{"Type": "AwsEc2Instance"}]},
                            {"Resources": [{"Type": "AwsIamUser"}, {"Type": "AwsS3Bucket"}]},
                        ]
                    }
                ),
            )
        )
        self.assertFalse(
            self.matches(
                deep, event_with(detail={"findings": [{"Resources": [{"Type": "AwsIamUser"}]}]})
            )
        )

    def test_or(self):
        pattern = {
            "detail": {"$or": [{"state": ["terminated"]}, {"code": [{"numeric": [">", 500]}]}]}
        }
        self.assertTrue(self.matches(pattern, event_with(detail={"state": "terminated"})))
        self.assertTrue(self.matches(pattern, event_with(detail={"code": 503})))
        self.assertFalse(
            self.matches(pattern, event_with(detail={"state": "running", "code": 200}))
        )

    def test_exists(self):
        absent = {"detail": {"error": [{"exists": False}]}}
        self.assertTrue(self.matches(absent, event_with(detail={"state": "ok"})))
        self.assertFalse(self.matches(absent, event_with(detail={"error": "boom"})))
        present = {"detail": {"findings": {"Note": {"Text": [{"exists": True}]}}}}
        self.assertTrue(
            self.matches(present, event_with(detail={"findings": [{}, {"Note": {"Text": "n"}}]}))
        )
        self.assertFalse(self.matches(present, event_with(detail={"findings": [{}, {}]})))
        # Only leaves exist for "exists": an object does not count.
        self.assertFalse(
            self.matches(
                {"detail": {"Note": [{"exists": True}]}}, event_with(detail={"Note": {"Text": "n"}})
            )
        )

    def test_prefix_anything_but_numeric(self):
        prefix = {"detail": {"findings": {"GeneratorId": [{"prefix": "security-control/"}]}}}
        self.assertTrue(
            self.matches(
                prefix,
                event_with(
                    detail={
                        "findings": [{"GeneratorId": "x"}, {"GeneratorId": "security-control/S3.1"}]
                    }
                ),
            )
        )
        self.assertFalse(
            self.matches(
                prefix, event_with(detail={"findings": [{"GeneratorId": "aws-foundational/S3.1"}]})
            )
        )

        but = {"detail": {"state": [{"anything-but": ["running", "pending"]}]}}
        self.assertTrue(self.matches(but, event_with(detail={"state": "stopped"})))
        self.assertFalse(self.matches(but, event_with(detail={"state": "running"})))
        but_prefix = {"detail": {"state": [{"anything-but": {"prefix": "run"}}]}}
        self.assertFalse(self.matches(but_prefix, event_with(detail={"state": "running"})))
        self.assertTrue(self.matches(but_prefix, event_with(detail={"state": "stopped"})))

        numeric = {
            "detail": {"findings": {"Severity": {"Normalized": [{"numeric": [">=", 70, "<", 90]}]}}}
        }
        self.assertTrue(
            self.matches(
                numeric,
                event_with(
                    detail={
                        "findings": [
                            {"Severity": {"Normalized": 40}},
                            {"Severity": {"Normalized": 70}},
                        ]
                    }
                ),
            )
        )
        self.assertFalse(
            self.matches(
                numeric, event_with(detail={"findings": [{"Severity": {"Normalized": 90}}]})
            )
        )

    def test_scalars_and_types(self):
        self.assertTrue(self.matches({"detail": {"n": [5]}}, event_with(detail={"n": 5})))
        self.assertFalse(self.matches({"detail": {"n": ["5"]}}, event_with(detail={"n": 5})))
        self.assertTrue(
            self.matches({"detail": {"flag": [True]}}, event_with(detail={"flag": True}))
        )
        self.assertFalse(self.matches({"detail": {"flag": [True]}}, event_with(detail={"flag": 1})))
        self.assertTrue(self.matches({"detail": {"v": [None]}}, event_with(detail={"v": None})))
        self.assertFalse(self.matches({"detail": {"missing": ["x"]}}, event_with()))

    def test_test_event_pattern_validates_its_input(self):
        event = event_with()
        del event["resources"]
        with self.assertRaises(ClientError) as ctx:
            self.matches({"source": ["x"]}, event)
        self.assertEqual(error_of(ctx)[0], "InvalidEventPatternException")
        with self.assertRaises(ClientError) as ctx:
            self.events.test_event_pattern(
                EventPattern='{"source": "not-a-list"}', Event=json.dumps(event_with())
            )
        self.assertEqual(error_of(ctx)[0], "InvalidEventPatternException")


class EventDeliveryTest(ExtTestCase):
    def setUp(self):
        super().setUp()
        self.events, self.sqs = client("events"), client("sqs")
        self.queue_url = self.sqs.create_queue(QueueName="deliveries")["QueueUrl"]
        self.queue_arn = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]

    def put(self, detail):
        result = self.events.put_events(
            Entries=[
                {
                    "Source": "hubfix.test",
                    "DetailType": "Test",
                    "Detail": json.dumps(detail),
                }
            ]
        )
        self.assertEqual(result["FailedEntryCount"], 0)

    def received(self):
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
        )
        return [json.loads(m["Body"])["detail"] for m in response.get("Messages", [])]

    def test_put_events_delivers_on_array_of_objects_patterns(self):
        self.events.put_rule(
            Name="high",
            EventPattern=json.dumps(
                {
                    "source": ["hubfix.test"],
                    "detail": {"findings": {"Severity": {"Label": ["HIGH", "CRITICAL"]}}},
                }
            ),
        )
        self.events.put_targets(Rule="high", Targets=[{"Id": "q", "Arn": self.queue_arn}])
        self.put({"findings": [{"Severity": {"Label": "LOW"}}]})
        self.put(
            {"findings": [{"Severity": {"Label": "LOW"}}, {"Severity": {"Label": "CRITICAL"}}]}
        )
        received = self.received()
        self.assertEqual(len(received), 1)
        self.assertEqual(received[0]["findings"][1]["Severity"]["Label"], "CRITICAL")

    def test_disabled_rules_deliver_nothing(self):
        self.events.put_rule(
            Name="all", EventPattern=json.dumps({"source": ["hubfix.test"]}), State="DISABLED"
        )
        self.events.put_targets(Rule="all", Targets=[{"Id": "q", "Arn": self.queue_arn}])
        self.put({"n": 1})
        self.assertEqual(self.received(), [])
        self.events.enable_rule(Name="all")
        self.put({"n": 2})
        self.assertEqual(self.received(), [{"n": 2}])

    def test_lambda_and_step_functions_targets(self):
        http("POST", "/moto-api/config", {"lambda": {"use_docker": False}})
        role = client("iam").create_role(
            RoleName="hubfix-test",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )["Role"]["Arn"]
        function_arn = client("lambda").create_function(
            FunctionName="remediate",
            Runtime="python3.12",
            Role=role,
            Handler="index.handler",
            Code={
                "ZipFile": _zip({"index.py": "def handler(event, context):\n    return event\n"})
            },
        )["FunctionArn"]
        machine_arn = client("stepfunctions").create_state_machine(
            name="pipeline",
            roleArn=role,
            definition=json.dumps(
                {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}
            ),
        )["stateMachineArn"]
        self.events.put_rule(Name="fanout", EventPattern=json.dumps({"source": ["hubfix.test"]}))
        self.events.put_targets(
            Rule="fanout",
            Targets=[
                {"Id": "fn", "Arn": function_arn},
                {"Id": "sfn", "Arn": machine_arn},
                {"Id": "q", "Arn": self.queue_arn},
            ],
        )
        self.put({"n": 1})  # moto alone answers HTTP 500 here
        status, deliveries = http("GET", "/moto-ext/deliveries")
        self.assertEqual(status, 200)
        by_target = {d["target_id"]: d for d in deliveries}
        self.assertEqual(set(by_target), {"fn", "sfn"})
        self.assertTrue(by_target["fn"]["result"].startswith("invoked"), by_target["fn"])
        self.assertEqual(by_target["fn"]["event"]["detail"], {"n": 1})
        self.assertTrue(
            by_target["sfn"]["result"].startswith(
                f"started {machine_arn.replace(':stateMachine:', ':execution:')}"
            ),
            by_target["sfn"],
        )
        executions = client("stepfunctions").list_executions(stateMachineArn=machine_arn)[
            "executions"
        ]
        self.assertEqual(len(executions), 1)
        self.assertEqual(self.received(), [{"n": 1}])
        self.assertEqual(http("DELETE", "/moto-ext/deliveries"), (200, []))


def _zip(files):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


class LambdaFunctionErrorTest(ExtTestCase):
    def test_queued_function_error_is_passed_through(self):
        http("POST", "/moto-api/config", {"lambda": {"use_docker": False}})
        role = client("iam").create_role(
            RoleName="hubfix-fn",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )["Role"]["Arn"]
        lam = client("lambda")
        lam.create_function(
            FunctionName="fails",
            Runtime="python3.12",
            Role=role,
            Handler="index.handler",
            Code={"ZipFile": _zip({"index.py": "def handler(e, c):\n    return e\n"})},
        )
        error = {
            "__function_error__": "Unhandled",
            "errorType": "RemediationFailed",
            "errorMessage": "no",
        }
        status, _ = http(
            "POST",
            "/moto-api/static/lambda-simple/response",
            {
                "account_id": ACCOUNT,
                "region": REGION,
                "results": [json.dumps(error), json.dumps({"ok": True})],
            },
        )
        self.assertEqual(status, 201)
        failed = lam.invoke(FunctionName="fails", Payload=b"{}")
        self.assertEqual(failed["FunctionError"], "Unhandled")
        self.assertEqual(
            json.loads(failed["Payload"].read()),
            {"errorType": "RemediationFailed", "errorMessage": "no"},
        )
        succeeded = lam.invoke(FunctionName="fails", Payload=b"{}")
        self.assertNotIn("FunctionError", succeeded)
        self.assertEqual(json.loads(succeeded["Payload"].read()), {"ok": True})


# ---------------------------------------------------------------------------------
# Fault injection


class FaultInjectionTest(ExtTestCase):
    def setUp(self):
        super().setUp()
        self.import_findings(finding("f-1"))

    def add_fault(self, **rule):
        status, rules = http("POST", "/moto-ext/faults", rule)
        self.assertEqual(status, 200, rules)
        return rules[-1]

    def faults(self):
        status, rules = http("GET", "/moto-ext/faults")
        self.assertEqual(status, 200)
        return rules

    def update(self, sh=None):
        """One BatchUpdateFindings call: None on success, else (code, status, headers)."""
        try:
            (sh or self.sh).batch_update_findings(
                FindingIdentifiers=[ident("f-1")], Workflow={"Status": "NOTIFIED"}
            )
            return None
        except ClientError as err:
            meta = err.response["ResponseMetadata"]
            return err.response["Error"]["Code"], meta["HTTPStatusCode"], meta["HTTPHeaders"]

    def test_count_fails_the_first_matching_requests(self):
        self.add_fault(service="securityhub", match="PATCH /findings/batchupdate", count=2)
        outcomes = [self.update() for _ in range(3)]
        for code, status, headers in outcomes[:2]:
            self.assertEqual((code, status), ("TooManyRequestsException", 429))
            self.assertEqual(headers["x-amzn-errortype"], "TooManyRequestsException")
        self.assertIsNone(outcomes[2])
        [rule] = self.faults()
        self.assertEqual((rule["count"], rule["matched"], rule["failed"]), (2, 3, 2))
        # Other Security Hub calls do not match.
        self.sh.get_findings()
        self.assertEqual(self.faults()[0]["matched"], 3)

    def test_error_body_is_restjson(self):
        self.add_fault(service="securityhub", match="batchupdate", message="Slow down, hubfix")
        status, body, headers = signed_request("PATCH", "/findings/batchupdate", {})
        self.assertEqual(status, 429)
        self.assertEqual(headers["x-amzn-ErrorType"], "TooManyRequestsException")
        self.assertEqual(body, {"Message": "Slow down, hubfix", "Code": "TooManyRequestsException"})

    def test_every_kth_request_fails_forever(self):
        self.add_fault(service="securityhub", match="batchupdate", every=5)
        failed_calls = [i for i in range(1, 21) if self.update() is not None]
        self.assertEqual(failed_calls, [5, 10, 15, 20])
        [rule] = self.faults()
        self.assertEqual((rule["every"], rule["matched"], rule["failed"]), (5, 20, 4))
        self.assertNotIn("count", rule)

    def test_limit_caps_the_failures(self):
        self.add_fault(service="securityhub", match="batchupdate", every=2, limit=3)
        failed_calls = [i for i in range(1, 11) if self.update() is not None]
        self.assertEqual(failed_calls, [2, 4, 6])
        self.assertEqual(self.faults()[0]["failed"], 3)

    def test_sdk_retries_through_throttling(self):
        self.add_fault(service="securityhub", match="batchupdate", count=2)
        self.assertIsNone(self.update(sh=client("securityhub", retries=3)))
        self.assertEqual((self.faults()[0]["matched"], self.faults()[0]["failed"]), (3, 2))
        self.assertEqual(self.stored("f-1")["Workflow"]["Status"], "NOTIFIED")

    def test_concurrent_requests_are_counted_exactly(self):
        self.import_findings(*[finding(f"c-{i}") for i in range(10)])
        self.add_fault(service="securityhub", match="batchupdate", every=5)
        http("DELETE", "/moto-ext/requests")

        def worker(i):
            sh = client("securityhub")
            failures = 0
            for _ in range(5):
                try:
                    sh.batch_update_findings(
                        FindingIdentifiers=[ident(f"c-{i}")], Workflow={"Status": "NOTIFIED"}
                    )
                except ClientError:
                    failures += 1
            return failures

        with ThreadPoolExecutor(max_workers=10) as pool:
            failures = sum(pool.map(worker, range(10)))
        self.assertEqual(failures, 10)
        self.assertEqual((self.faults()[0]["matched"], self.faults()[0]["failed"]), (50, 10))
        self.assertEqual(
            http("GET", "/moto-ext/requests")[1]["PATCH /findings/batchupdate"],
            {"200": 40, "429": 10},
        )
        self.assertEqual(len(http("GET", "/moto-ext/events")[1]), 1 + 10 + 40)

    def test_service_must_match(self):
        self.add_fault(service="ec2", match="")
        self.assertIsNone(self.update())
        self.assertEqual(self.faults()[0]["matched"], 0)

    def test_ec2_query_protocol_errors(self):
        ec2 = client("ec2")
        self.add_fault(service="ec2", match="Action=DescribeVpcs")
        with self.assertRaises(ClientError) as ctx:
            ec2.describe_vpcs()
        self.assertEqual(error_of(ctx), ("RequestLimitExceeded", 503))
        self.assertEqual(ctx.exception.response["Error"]["Message"], "Rate exceeded")
        self.assertTrue(ec2.describe_vpcs()["Vpcs"])  # count defaults to 1
        self.add_fault(
            service="ec2",
            match="DescribeSecurityGroups",
            status=400,
            code="Throttling",
            message="Slow <down> & retry",
        )
        with self.assertRaises(ClientError) as ctx:
            ec2.describe_security_groups()
        self.assertEqual(error_of(ctx), ("Throttling", 400))
        self.assertEqual(ctx.exception.response["Error"]["Message"], "Slow <down> & retry")

    def test_query_and_json_protocol_errors(self):
        self.add_fault(service="sts", match="Action=GetCallerIdentity")
        with self.assertRaises(ClientError) as ctx:
            client("sts").get_caller_identity()
        self.assertEqual(error_of(ctx), ("Throttling", 400))
        self.add_fault(
            service="events", match="AWSEvents.ListRules", status=500, code="InternalException"
        )
        with self.assertRaises(ClientError) as ctx:
            client("events").list_rules()
        self.assertEqual(error_of(ctx), ("InternalException", 500))

    def test_bad_rules_are_refused_and_delete_clears(self):
        for bad in (
            {"count": 1, "every": 2},
            {"every": 0},
            {"match": "("},
            {"status": 200},
            {"colour": "red"},
        ):
            status, body = http("POST", "/moto-ext/faults", bad)
            self.assertEqual(status, 400, bad)
            self.assertIn("error", body)
        self.assertEqual(self.faults(), [])
        self.add_fault(match="batchupdate", every=1)
        self.assertIsNotNone(self.update())
        self.assertEqual(http("DELETE", "/moto-ext/faults"), (200, []))
        self.assertIsNone(self.update())


# ---------------------------------------------------------------------------------
# Request statistics and reset


class RequestStatsTest(ExtTestCase):
    def stats(self):
        status, stats = http("GET", "/moto-ext/requests")
        self.assertEqual(status, 200)
        return stats

    def test_counts_by_request_and_returned_status(self):
        http("DELETE", "/moto-ext/requests")
        self.import_findings(finding("f-1"))
        http(
            "POST",
            "/moto-ext/faults",
            {"service": "securityhub", "match": "batchupdate", "every": 3},
        )
        for _ in range(7):
            with contextlib.suppress(ClientError):
                self.sh.batch_update_findings(
                    FindingIdentifiers=[ident("f-1")], Workflow={"Status": "NOTIFIED"}
                )
        raw = client("securityhub", validate=False)
        with self.assertRaises(ClientError):
            raw.batch_update_findings(
                FindingIdentifiers=[], Workflow={"Status": "NOTIFIED"}
            )  # 400 from moto_ext
        client("ec2").describe_vpcs()
        client("events").list_rules()
        stats = self.stats()
        self.assertEqual(stats["PATCH /findings/batchupdate"], {"200": 5, "429": 2, "400": 1})
        self.assertEqual(stats["POST /findings/import"], {"200": 1})
        self.assertEqual(stats["POST / Action=DescribeVpcs"], {"200": 1})
        self.assertEqual(stats["POST / AWSEvents.ListRules"], {"200": 1})
        self.assertFalse(any(key.split(" ")[1].startswith("/moto-ext/") for key in stats), stats)
        self.assertEqual(http("DELETE", "/moto-ext/requests"), (200, {}))
        self.assertEqual(self.stats(), {})


class RequestsByAccessKeyTest(ExtTestCase):
    def test_each_access_key_has_its_own_counts(self):
        http("DELETE", "/moto-ext/requests/by-access-key")
        mine = {"aws_access_key_id": "AKIDCOUNTEDONLYHERE", "aws_secret_access_key": "s"}
        client("ec2", credentials=mine).describe_vpcs()
        client("ec2", credentials=mine).describe_vpcs()
        client("events").list_rules()  # the default key
        status, by_key = http("GET", "/moto-ext/requests/by-access-key")
        self.assertEqual(status, 200)
        self.assertEqual(by_key["AKIDCOUNTEDONLYHERE"], {"POST / Action=DescribeVpcs": {"200": 2}})
        self.assertEqual(by_key["testing"]["POST / AWSEvents.ListRules"], {"200": 1})
        self.assertNotIn("AKIDNEVERUSED", by_key)
        # The overall counts still hold every request.
        self.assertEqual(http("GET", "/moto-ext/requests")[1]["POST / Action=DescribeVpcs"],
                         {"200": 2})
        self.assertEqual(http("DELETE", "/moto-ext/requests/by-access-key"), (200, {}))


class ResetTest(ExtTestCase):
    def test_reset_clears_the_extension_state(self):
        http("POST", "/moto-ext/faults", {"match": "batchupdate", "every": 1})
        self.import_findings(finding("f-1"))
        events = client("events")
        events.put_rule(Name="r", EventPattern=json.dumps({"source": ["aws.securityhub"]}))
        events.put_targets(
            Rule="r",
            Targets=[{"Id": "fn", "Arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:none"}],
        )
        self.import_findings(finding("f-2"))
        for path in (
            "/moto-ext/faults",
            "/moto-ext/events",
            "/moto-ext/deliveries",
            "/moto-ext/requests",
        ):
            self.assertTrue(http("GET", path)[1], path)

        self.assertEqual(http("POST", "/moto-api/reset")[0], 200)
        self.assertEqual(http("GET", "/moto-ext/faults"), (200, []))
        self.assertEqual(http("GET", "/moto-ext/events"), (200, []))
        self.assertEqual(http("GET", "/moto-ext/deliveries"), (200, []))
        self.assertEqual(http("GET", "/moto-ext/requests"), (200, {}))
        self.import_findings(finding("f-3"))
        self.sh.batch_update_findings(
            FindingIdentifiers=[ident("f-3")], Workflow={"Status": "NOTIFIED"}
        )


if __name__ == "__main__":
    unittest.main()


# ---------------------------------------------------------------------------------
# Lambda Runtime API: Invoke reaches a local process that speaks the Runtime API


class S3ControlHostTest(ExtTestCase):
    """S3 Control as the Rust SDK sends it: the account id in front of the host name
    (`<account>.localhost:PORT`, which hubfix's HTTP client resolves to loopback) and in
    `x-amz-account-id`. moto routes `/v20180820/` paths to S3 Control whatever the host."""

    BODY = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<PublicAccessBlockConfiguration xmlns="http://awss3control.amazonaws.com/doc/2018-08-20/">'
        b"<BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>false</IgnorePublicAcls>"
        b"<BlockPublicPolicy>true</BlockPublicPolicy><RestrictPublicBuckets>false</RestrictPublicBuckets>"
        b"</PublicAccessBlockConfiguration>"
    )

    def _call(self, method, account, body=None):
        port = ENDPOINT.rsplit(":", 1)[1]
        request = urllib.request.Request(
            f"{ENDPOINT}/v20180820/configuration/publicAccessBlock",
            method=method,
            data=body,
            headers={
                "Host": f"{account}.localhost:{port}",
                "x-amz-account-id": account,
                "Content-Type": "application/xml",
                "Authorization": "AWS4-HMAC-SHA256 "
                f"Credential=testing/20240101/{REGION}/s3/aws4_request, "
                "SignedHeaders=host, Signature=0",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode()

    def test_public_access_block_per_account_through_a_localhost_name(self):
        status, text = self._call("GET", ACCOUNT)
        self.assertEqual(status, 404, text)
        self.assertIn("NoSuchPublicAccessBlockConfiguration", text)

        status, text = self._call("PUT", ACCOUNT, self.BODY)
        self.assertEqual(status, 200, text)
        status, text = self._call("GET", ACCOUNT)
        self.assertEqual(status, 200, text)
        self.assertIn("<BlockPublicAcls>true</BlockPublicAcls>", text)
        self.assertIn("<IgnorePublicAcls>false</IgnorePublicAcls>", text)

        # Credentials of one account cannot reach another account's configuration.
        status, text = self._call("GET", OTHER_ACCOUNT)
        self.assertEqual(status, 403, text)
        self.assertIn("AccessDenied", text)

        status, text = self._call("DELETE", ACCOUNT)
        self.assertIn(status, (200, 204), text)
        status, _ = self._call("GET", ACCOUNT)
        self.assertEqual(status, 404)


class LambdaRuntimeTest(ExtTestCase):
    def _runtime(self, name, answers):
        """A minimal runtime: polls for `answers` invocations, answers each with
        answers[i](event, headers) -> ("response" | "error", body)."""
        import threading

        base = f"{ENDPOINT}/moto-ext/runtime/{name}/2018-06-01/runtime"
        seen = []

        def loop():
            for answer in answers:
                with urllib.request.urlopen(base + "/invocation/next", timeout=30) as r:
                    headers = dict(r.headers)
                    event = json.loads(r.read() or b"null")
                seen.append((event, headers))
                kind, body = answer(event, headers)
                request = urllib.request.Request(
                    f"{base}/invocation/{headers['Lambda-Runtime-Aws-Request-Id']}/{kind}",
                    data=json.dumps(body).encode(),
                    method="POST",
                )
                with urllib.request.urlopen(request, timeout=30) as r:
                    self.assertEqual(r.status, 202)

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        deadline = time.time() + 10
        while time.time() < deadline:
            _, attached = http("GET", "/moto-ext/runtime/")
            if name in attached:
                break
            time.sleep(0.05)
        else:
            self.fail(f"the runtime for {name} never attached")
        return thread, seen

    def _function(self, name):
        role = client("iam").create_role(
            RoleName=f"rt-{name}",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )["Role"]["Arn"]
        return client("lambda").create_function(
            FunctionName=name,
            Runtime="provided.al2023",
            Role=role,
            Handler="bootstrap",
            Code={"ZipFile": _zip({"bootstrap": "#!/bin/sh\n"})},
        )["FunctionArn"]

    def test_results_and_errors_come_back_as_lambda_answers(self):
        arn = self._function("runtime-echo")
        thread, seen = self._runtime(
            "runtime-echo",
            [
                lambda event, _: ("response", {"echo": event}),
                lambda event, _: ("error", {"errorType": "Hubfix.PluginFailed", "errorMessage": "boom"}),
            ],
        )
        lam = client("lambda")
        ok = lam.invoke(FunctionName=arn, Payload=json.dumps({"n": 1}).encode())
        self.assertNotIn("FunctionError", ok)
        self.assertEqual(json.loads(ok["Payload"].read()), {"echo": {"n": 1}})
        failed = lam.invoke(FunctionName="runtime-echo", Payload=b"{}")
        self.assertEqual(failed["FunctionError"], "Unhandled")
        self.assertEqual(
            json.loads(failed["Payload"].read()),
            {"errorType": "Hubfix.PluginFailed", "errorMessage": "boom"},
        )
        thread.join(10)
        self.assertEqual(seen[0][1]["Lambda-Runtime-Invoked-Function-Arn"], arn)
        self.assertTrue(int(seen[0][1]["Lambda-Runtime-Deadline-Ms"]) > time.time() * 1000)

    def test_unknown_functions_are_still_unknown(self):
        thread, _ = self._runtime("runtime-missing", [lambda e, h: ("response", {})])
        with self.assertRaises(ClientError) as ctx:
            client("lambda").invoke(FunctionName="runtime-missing", Payload=b"{}")
        self.assertEqual(error_of(ctx)[0], "ResourceNotFoundException")
        # Release the runtime thread: the function exists now.
        self._function("runtime-missing")
        client("lambda").invoke(FunctionName="runtime-missing", Payload=b"{}")
        thread.join(10)

    def test_a_bad_request_id_is_refused(self):
        request = urllib.request.Request(
            f"{ENDPOINT}/moto-ext/runtime/x/2018-06-01/runtime/invocation/nope/response",
            data=b"{}",
            method="POST",
        )
        with self.assertRaises(urllib.error.HTTPError) as ctx:
            urllib.request.urlopen(request, timeout=10)
        self.assertEqual(ctx.exception.code, 400)
