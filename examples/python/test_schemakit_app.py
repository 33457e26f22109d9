"""Tests of schemakit_app against a database with schemakit, as an app role.

Connection settings come from the environment (PGHOST, PGPORT, PGUSER,
PGPASSWORD, PGDATABASE), as test/scripts/97-python.sh sets them.  Run with
``/usr/bin/python3 test_schemakit_app.py``: one TAP line per test.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
import traceback
import unittest
import uuid

import psycopg
from psycopg import errors as pgerr

import schemakit_app as app


def fresh_email(tag: str = "u") -> str:
    return f"{tag}-{uuid.uuid4().hex[:12]}@example.com"


def wrong_code(code: str) -> str:
    return f"{(int(code) + 1) % 1000000:06d}"


def aware(value) -> bool:
    return isinstance(value, dt.datetime) and value.tzinfo is not None \
        and value.utcoffset() is not None


class Base(unittest.TestCase):
    """self.ac: an autocommit connection; self.tx: one in psycopg's default
    mode (a transaction opens with the first statement, nothing is stored
    until commit)."""

    def setUp(self):
        self.ac = app.connect(autocommit=True)
        self.tx = app.connect()
        self.assertFalse(self.tx.autocommit)

    def tearDown(self):
        self.tx.close()
        self.ac.close()

    def assertSqlstate(self, code, fn, *args, **kwargs):
        with self.assertRaises(psycopg.Error) as cm:
            fn(*args, **kwargs)
        self.assertEqual(cm.exception.sqlstate, code, str(cm.exception))
        return cm.exception


class Types(Base):
    def test_ids_are_int_and_times_aware(self):
        u = app.sign_up(self.ac, fresh_email(), "pw")
        self.assertIs(type(u.id), int)
        self.assertIsNone(u.username)
        self.assertTrue(aware(u.created_at))
        now = self.ac.execute("SELECT now()").fetchone()[0]
        self.assertLess(abs(now - u.created_at), dt.timedelta(minutes=1))

    def test_uuidv7_is_uuid(self):
        a, b = app.new_uuid(self.ac), app.new_uuid(self.ac)
        self.assertIsInstance(a, uuid.UUID)
        self.assertEqual(a.version, 7)
        self.assertLess(a, b)                       # time-ordered within a connection
        t = app.uuid_time(self.ac, a)
        self.assertTrue(aware(t))
        self.assertLess(abs(dt.datetime.now(dt.timezone.utc) - t), dt.timedelta(minutes=1))
        e = self.assertSqlstate(app.INVALID_PARAMETER_VALUE, app.uuid_time, self.ac, uuid.uuid4())
        self.assertIsInstance(e, pgerr.InvalidParameterValue)


class SignUp(Base):
    def test_sign_up_and_password_login(self):
        mail = fresh_email("ada")
        u = app.sign_up(self.tx, mail, "correct horse", display_name="Ada")
        self.tx.commit()
        self.assertEqual(app.find_user_by_email(self.ac, mail.upper()).id, u.id)
        self.assertEqual(app.login_with_password(self.ac, mail, "correct horse"), u.id)
        self.assertIsNone(app.login_with_password(self.ac, mail, "wrong"))
        self.assertIsNone(app.login_with_password(self.ac, fresh_email(), "x"))

    def test_sign_up_is_not_stored_until_commit(self):
        mail = fresh_email()
        app.sign_up(self.tx, mail)
        self.assertIsNone(app.find_user_by_email(self.ac, mail))   # another connection
        self.tx.rollback()
        self.assertIsNone(app.find_user_by_email(self.tx, mail))

    def test_duplicates_are_23505(self):
        mail = fresh_email("Dup")
        app.sign_up(self.ac, mail, username=None)
        app.sign_up(self.ac, fresh_email(), username=None)      # any number without a username
        e = self.assertSqlstate(app.UNIQUE_VIOLATION, app.sign_up, self.ac, mail.lower())
        self.assertIsInstance(e, pgerr.UniqueViolation)
        self.assertEqual(e.diag.constraint_name, "users_email_key")
        name = "n" + uuid.uuid4().hex[:10]
        app.sign_up(self.ac, fresh_email(), username=name)
        e = self.assertSqlstate(app.UNIQUE_VIOLATION, app.sign_up, self.ac, fresh_email(),
                                username=name.upper())
        self.assertEqual(e.diag.constraint_name, "users_username_key")

    def test_invalid_email_is_23514(self):
        e = self.assertSqlstate(app.CHECK_VIOLATION, app.sign_up, self.ac, "not an email")
        self.assertIsInstance(e, pgerr.CheckViolation)

    def test_user_for_email_resolves_on_email_key(self):
        mail = fresh_email("Key")
        first = app.user_for_email(self.ac, mail)
        self.assertIs(type(first), int)
        self.assertEqual(app.user_for_email(self.ac, mail.upper()), first)


class CodeLogin(Base):
    def test_code_login_signs_up_then_logs_in(self):
        mail = fresh_email("code")
        code = app.issue_login_code(self.tx, mail)
        self.assertRegex(code, r"^[0-9]{6}$")
        uid, token = app.login_with_code(self.tx, mail, code, ip="203.0.113.7", user_agent="ua")
        self.assertIs(type(uid), int)
        self.assertEqual(len(token), 43)
        self.assertEqual(app.session_user(self.ac, token), uid)    # committed: visible elsewhere
        self.assertFalse(app.verify_login_code(self.ac, mail, code))  # exactly once
        code2 = app.issue_login_code(self.ac, mail.upper())
        uid2, _ = app.login_with_code(self.ac, mail, f" {code2} ")  # trimmed; same user
        self.assertEqual(uid2, uid)

    def test_wrong_then_right(self):
        mail = fresh_email()
        code = app.issue_login_code(self.ac, mail)
        self.assertIsNone(app.login_with_code(self.ac, mail, wrong_code(code)))
        self.assertIsNotNone(app.login_with_code(self.ac, mail, code))

    def test_issue_errors(self):
        e = self.assertSqlstate(app.INVALID_PARAMETER_VALUE, app.issue_login_code, self.ac, "nope")
        self.assertIsInstance(e, pgerr.InvalidParameterValue)
        self.assertSqlstate(app.INVALID_PARAMETER_VALUE, app.issue_login_code, self.ac,
                            fresh_email(), "2 days")
        e = self.assertSqlstate(app.NULL_VALUE_NOT_ALLOWED, app.issue_login_code, self.ac, None)
        self.assertIsInstance(e, pgerr.NullValueNotAllowed)

    def test_sixth_code_is_SKR01(self):
        mail = fresh_email()
        for _ in range(5):
            app.issue_login_code(self.ac, mail)
        e = self.assertSqlstate(app.TOO_MANY_CODES_ISSUED, app.issue_login_code, self.ac, mail)
        self.assertIsInstance(e, psycopg.DatabaseError)
        self.assertTrue(e.diag.message_hint)
        self.assertTrue(app.is_sqlstate(e, "SKR01"))


class CodeTransactions(Base):
    """What psycopg's default mode means for verify_email_code in 1.5."""

    def verify_then_rollback(self, mail, guess):
        ok = self.tx.execute("SELECT schemakit.verify_email_code(%s, %s)", (mail, guess)).fetchone()[0]
        self.assertEqual(self.tx.info.transaction_status, psycopg.pq.TransactionStatus.INTRANS)
        self.tx.rollback()
        return ok

    def test_rollback_does_not_give_back_a_guess(self):
        mail = fresh_email("rb")
        code = app.issue_login_code(self.ac, mail)
        for _ in range(5):
            self.assertFalse(self.verify_then_rollback(mail, wrong_code(code)))
        # Five wrong guesses, each rolled back: the code is dead all the same.
        self.assertFalse(self.verify_then_rollback(mail, code))
        self.assertFalse(app.verify_login_code(self.ac, mail, code))
        # A new code works (5 failures for the address, under the limit of 10).
        code = app.issue_login_code(self.ac, mail)
        self.assertTrue(app.verify_login_code(self.tx, mail, code))

    def test_rolled_back_guesses_reach_SKR02(self):
        mail = fresh_email("skr02")
        for _ in range(2):
            code = app.issue_login_code(self.ac, mail)
            for _ in range(5):
                self.assertFalse(self.verify_then_rollback(mail, wrong_code(code)))
        code = app.issue_login_code(self.ac, mail)
        e = self.assertSqlstate(app.TOO_MANY_FAILED_CODES, app.verify_login_code, self.ac, mail, code)
        self.assertTrue(app.is_sqlstate(e, "SKR02"))
        self.assertNotIn(code, str(e))      # the statement is left out of the error

    def test_a_right_guess_counts_only_when_committed(self):
        mail = fresh_email()
        code = app.issue_login_code(self.ac, mail)
        self.assertTrue(self.verify_then_rollback(mail, code))    # rolled back: still open
        self.assertTrue(app.verify_login_code(self.tx, mail, code))  # committed
        self.assertFalse(app.verify_login_code(self.tx, mail, code))

    def test_recommended_patterns(self):
        mail = fresh_email()
        # autocommit=True: every call is its own transaction.
        code = app.issue_login_code(self.ac, mail)
        self.assertFalse(app.verify_login_code(self.ac, mail, wrong_code(code)))
        self.assertTrue(app.verify_login_code(self.ac, mail, code))
        # Default mode: commit right after verifying (verify_login_code does).
        code = app.issue_login_code(self.tx, mail)
        self.assertTrue(app.verify_login_code(self.tx, mail, code))
        self.assertEqual(self.tx.info.transaction_status, psycopg.pq.TransactionStatus.IDLE)
        # ... and refuses to commit someone else's open work.
        self.tx.execute("SELECT 1")
        with self.assertRaises(RuntimeError):
            app.verify_login_code(self.tx, mail, code)
        self.tx.rollback()
        # Or a transaction block of its own, committed at the end.
        code = app.issue_login_code(self.tx, mail)
        with self.tx.transaction():
            ok = self.tx.execute("SELECT schemakit.verify_email_code(%s, %s)", (mail, code)).fetchone()[0]
        self.assertTrue(ok)
        self.assertFalse(app.verify_login_code(self.ac, mail, code))

    def test_open_transaction_holds_the_address(self):
        mail = fresh_email()
        code = app.issue_login_code(self.ac, mail)
        self.tx.execute("SELECT schemakit.verify_email_code(%s, %s)", (mail, wrong_code(code)))
        # Until tx ends, other verifications and issues for the address wait.
        self.ac.execute("SET lock_timeout = '300ms'")
        e = self.assertSqlstate("55P03", app.verify_login_code, self.ac, mail, code)
        self.assertIsInstance(e, pgerr.LockNotAvailable)
        self.tx.rollback()
        self.assertTrue(app.verify_login_code(self.ac, mail, code))

    def test_an_error_aborts_the_transaction(self):
        with self.assertRaises(pgerr.InvalidParameterValue):
            self.tx.execute("SELECT schemakit.issue_email_code(%s)", ("bad",))
        with self.assertRaises(pgerr.InFailedSqlTransaction) as cm:
            self.tx.execute("SELECT 1")
        self.assertEqual(cm.exception.sqlstate, "25P02")
        self.tx.rollback()
        self.assertEqual(self.tx.execute("SELECT 1").fetchone()[0], 1)


class Sessions(Base):
    def test_issue_lookup_revoke(self):
        uid = app.sign_up(self.ac, fresh_email()).id
        t1 = app.open_session(self.ac, uid, "8 hours", ip="198.51.100.1", user_agent="x" * 600)
        t2 = app.open_session(self.ac, uid)
        self.assertEqual(app.session_user(self.ac, t1), uid)
        self.assertTrue(app.logout(self.ac, t1))
        self.assertFalse(app.logout(self.ac, t1))
        self.assertIsNone(app.session_user(self.ac, t1))
        self.assertIsNone(app.session_user(self.ac, "no such token"))
        self.assertEqual(app.logout_everywhere(self.ac, uid), 1)
        self.assertIsNone(app.session_user(self.ac, t2))

    def test_session_lookup_in_read_only_transaction(self):
        uid = app.sign_up(self.ac, fresh_email()).id
        token = app.open_session(self.ac, uid)
        self.tx.read_only = True
        self.assertEqual(app.session_user(self.tx, token), uid)
        self.tx.rollback()

    def test_errors(self):
        e = self.assertSqlstate(app.FOREIGN_KEY_VIOLATION, app.open_session, self.ac, 2**62)
        self.assertIsInstance(e, pgerr.ForeignKeyViolation)
        self.assertSqlstate(app.NULL_VALUE_NOT_ALLOWED, app.open_session, self.ac, None)
        uid = app.sign_up(self.ac, fresh_email()).id
        self.assertSqlstate(app.INVALID_PARAMETER_VALUE, app.open_session, self.ac, uid, "2 years")


class OAuth(Base):
    def test_first_login_creates_and_links(self):
        pid = uuid.uuid4().hex
        mail = fresh_email("gh")
        uid = app.oauth_login(self.ac, "github", pid, email=mail, display_name="Grace")
        self.assertIs(type(uid), int)
        self.assertEqual(app.oauth_login(self.ac, "github", pid), uid)
        self.assertEqual(app.find_user_by_email(self.ac, mail).display_name, "Grace")
        # Without an address: a user with neither username nor email.
        anon = app.oauth_login(self.ac, "gitlab", pid, email="")
        self.assertNotEqual(anon, uid)

    def test_links_an_existing_user_by_address(self):
        mail = fresh_email("ex")
        uid = app.sign_up(self.ac, mail, "pw").id
        self.assertEqual(app.oauth_login(self.ac, "google", uuid.uuid4().hex, email=mail.upper()), uid)

    def test_link_idempotent_and_errors(self):
        a = app.sign_up(self.ac, fresh_email()).id
        b = app.sign_up(self.ac, fresh_email()).id
        pid = uuid.uuid4().hex
        link = app.link_oauth(self.ac, a, "github", pid)
        self.assertIs(type(link), int)
        self.assertEqual(app.link_oauth(self.ac, a, "github", pid), link)
        self.assertSqlstate(app.UNIQUE_VIOLATION, app.link_oauth, self.ac, b, "github", pid)
        self.assertSqlstate(app.FOREIGN_KEY_VIOLATION, app.link_oauth, self.ac, 2**62, "github", "1")
        self.assertSqlstate(app.NULL_VALUE_NOT_ALLOWED, app.link_oauth, self.ac, a, None, "1")
        self.assertSqlstate(app.INVALID_PARAMETER_VALUE, app.link_oauth, self.ac, a, "x" * 51, "1")


class PasswordReset(Base):
    def test_issue_and_consume(self):
        mail = fresh_email("pr")
        uid = app.sign_up(self.ac, mail, "old").id
        session = app.open_session(self.ac, uid)
        token = app.request_password_reset(self.ac, mail)
        self.assertEqual(len(token), 43)
        self.assertIsNone(app.request_password_reset(self.ac, fresh_email()))
        self.assertEqual(app.reset_password(self.tx, token, "new"), uid)
        self.assertIsNone(app.session_user(self.ac, session))      # every session ended
        self.assertEqual(app.login_with_password(self.ac, mail, "new"), uid)
        self.assertIsNone(app.reset_password(self.tx, token, "again"))  # exactly once
        self.assertEqual(app.login_with_password(self.ac, mail, "new"), uid)

    def test_failed_reset_leaves_token_usable(self):
        mail = fresh_email()
        uid = app.sign_up(self.ac, mail, "old").id
        token = app.request_password_reset(self.ac, mail)
        with self.assertRaises(ZeroDivisionError):
            with self.tx.transaction():
                self.tx.execute("SELECT schemakit.consume_password_reset_token(%s)", (token,))
                1 / 0
        self.assertEqual(app.reset_password(self.tx, token, "new"), uid)

    def test_errors(self):
        self.assertSqlstate(app.FOREIGN_KEY_VIOLATION, self.ac.execute,
                            "SELECT schemakit.issue_password_reset_token(%s)", (2**62,))
        self.assertSqlstate(app.NULL_VALUE_NOT_ALLOWED, self.ac.execute,
                            "SELECT schemakit.issue_password_reset_token(%s)", (None,))
        uid = app.sign_up(self.ac, fresh_email()).id
        self.assertSqlstate(app.INVALID_PARAMETER_VALUE, self.ac.execute,
                            "SELECT schemakit.issue_password_reset_token(%s, '8 days')", (uid,))


class Files(Base):
    def test_add_and_list(self):
        uid = app.sign_up(self.ac, fresh_email()).id
        f = app.add_file(self.ac, uid, "portrait.png", "image/png", 48213)
        self.assertIs(type(f.id), int)
        self.assertIsInstance(f.filename, uuid.UUID)
        self.assertEqual(f.filename.version, 7)
        self.assertIs(type(f.size), int)
        self.assertTrue(aware(f.created_at))
        self.assertLess(abs(app.uuid_time(self.ac, f.filename) - f.created_at), dt.timedelta(minutes=1))
        g = app.add_file(self.ac, uid, "notes.txt", 'text/plain; charset="utf-8"', 0)
        self.assertEqual([x.id for x in app.user_files(self.ac, uid)], [f.id, g.id])

    def test_errors(self):
        uid = app.sign_up(self.ac, fresh_email()).id
        self.assertSqlstate(app.CHECK_VIOLATION, app.add_file, self.ac, uid, "a", "image png", 1)
        self.assertSqlstate(app.CHECK_VIOLATION, app.add_file, self.ac, uid, "a", "image/png", -1)
        self.assertSqlstate(app.FOREIGN_KEY_VIOLATION, app.add_file, self.ac, 2**62, "a", "a/b", 1)


class Snippets(Base):
    def test_create_fetch_view(self):
        owner = app.sign_up(self.ac, fresh_email()).id
        other = app.sign_up(self.ac, fresh_email()).id
        s = app.create_snippet(self.ac, owner, "print(1)", title="Note G", language="python",
                               is_public=True)
        self.assertIs(type(s["id"]), int)
        self.assertRegex(s["public_id"], r"^[0-9A-Za-z]{10}$")
        self.assertEqual(s["view_count"], 0)
        self.assertTrue(aware(s["created_at"]))
        self.assertEqual(app.get_snippet(self.ac, s["public_id"])["body"], "print(1)")
        self.assertEqual(app.view_snippet(self.ac, s["public_id"]), 1)
        self.assertEqual(app.view_snippet(self.ac, s["public_id"]), 2)
        self.assertIsNone(app.view_snippet(self.ac, "nope"))
        p = app.create_snippet(self.ac, owner, "secret")
        self.assertIsNone(app.get_snippet(self.ac, p["public_id"]))
        self.assertIsNone(app.get_snippet(self.ac, p["public_id"], other))
        self.assertEqual(app.get_snippet(self.ac, p["public_id"], owner)["id"], p["id"])
        self.assertEqual([r["public_id"] for r in app.user_snippets(self.ac, owner)],
                         [p["public_id"], s["public_id"]])

    def test_errors(self):
        self.assertSqlstate(app.FOREIGN_KEY_VIOLATION, app.create_snippet, self.ac, 2**62, "x")
        self.assertSqlstate("23502", app.create_snippet, self.ac,
                            app.sign_up(self.ac, fresh_email()).id, None)


class Tap(unittest.TestResult):
    """One TAP line per test; diagnostics as '# ' lines."""

    def __init__(self):
        super().__init__()
        self.n = 0

    def _line(self, ok, test, diag=None):
        self.n += 1
        print(f"{'ok' if ok else 'not ok'} {self.n} - {test.id().split('.', 1)[-1]}", flush=True)
        for line in (diag or "").splitlines():
            print(f"#   {line}", flush=True)

    def addSuccess(self, test):
        super().addSuccess(test)
        self._line(True, test)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._line(False, test, "".join(traceback.format_exception(*err)))

    def addError(self, test, err):
        super().addError(test, err)
        self._line(False, test, "".join(traceback.format_exception(*err)))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.n += 1
        print(f"ok {self.n} - {test.id()} # SKIP {reason}", flush=True)


def main() -> int:
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
    result = Tap()
    started = time.monotonic()
    suite.run(result)
    print(f"1..{result.n}")
    print(f"# psycopg {psycopg.__version__}, libpq {psycopg.pq.version()}, "
          f"{time.monotonic() - started:.1f}s")
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
