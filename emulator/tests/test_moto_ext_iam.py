"""Tests of emulator/moto_ext_iam.py (POST /moto-ext/iam/backdate), through real boto3
clients against a real `moto_ext.py` server.

    ~/.cache/hubfix/venv/bin/python -m unittest discover -s emulator/tests -v
"""

import datetime
import unittest

import test_moto_ext as base

setUpModule = base.setUpModule  # noqa: N816 - unittest's name
tearDownModule = base.tearDownModule  # noqa: N816 - unittest's name


def days_ago(when):
    return (datetime.datetime.now(datetime.UTC) - when).days


class BackdateTest(unittest.TestCase):
    def setUp(self):
        status, _ = base.http("POST", "/moto-api/reset")
        self.assertEqual(status, 200)
        self.iam = base.client("iam")
        self.iam.create_user(UserName="alice", Path="/contractors/")
        self.key = self.iam.create_access_key(UserName="alice")["AccessKey"]["AccessKeyId"]
        self.iam.create_login_profile(UserName="alice", Password="Passw0rd!Passw0rd!")

    def backdate(self, **spec):
        return base.http("POST", "/moto-ext/iam/backdate",
                         {"AccountId": base.ACCOUNT, "UserName": "alice", **spec})

    def test_a_key_is_backdated_and_its_last_use_set(self):
        status, body = self.backdate(AccessKeyId=self.key, CreatedDaysAgo=100, LastUsedDaysAgo=1)
        self.assertEqual(status, 200, body)
        meta = self.iam.list_access_keys(UserName="alice")["AccessKeyMetadata"][0]
        self.assertEqual(days_ago(meta["CreateDate"]), 100)
        used = self.iam.get_access_key_last_used(AccessKeyId=self.key)["AccessKeyLastUsed"]
        self.assertEqual(days_ago(used["LastUsedDate"]), 1)
        self.assertEqual(used["ServiceName"], "s3")

    def test_the_user_and_its_password_are_backdated(self):
        status, body = self.backdate(CreatedDaysAgo=200, PasswordLastUsedDaysAgo=150)
        self.assertEqual(status, 200, body)
        profile = self.iam.get_login_profile(UserName="alice")["LoginProfile"]
        self.assertEqual(days_ago(profile["CreateDate"]), 200)
        user = self.iam.list_users()["Users"][0]
        self.assertEqual(days_ago(user["PasswordLastUsed"]), 150)
        # The key is left as it was.
        meta = self.iam.list_access_keys(UserName="alice")["AccessKeyMetadata"][0]
        self.assertEqual(days_ago(meta["CreateDate"]), 0)

    def test_bad_requests_are_refused(self):
        self.assertEqual(self.backdate(UserName="bob", CreatedDaysAgo=1)[0], 404)
        self.assertEqual(
            self.backdate(AccessKeyId="AKIAAAAAAAAAAAAAAAAA", CreatedDaysAgo=1)[0], 404)
        self.assertEqual(self.backdate(LastUsedDaysAgo=1)[0], 400)
        self.assertEqual(self.backdate(CreatedDaysAgo=-1)[0], 400)
        self.assertEqual(self.backdate(CreatedDaysAgo="1")[0], 400)
        self.assertEqual(self.backdate()[0], 400)
        self.assertEqual(self.backdate(Extra=1, CreatedDaysAgo=1)[0], 400)
        self.assertEqual(base.http("GET", "/moto-ext/iam/backdate")[0], 405)


if __name__ == "__main__":
    unittest.main()
