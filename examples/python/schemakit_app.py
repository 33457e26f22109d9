"""schemakit from Python with psycopg 3 (Debian: python3-psycopg).

Every function takes a psycopg Connection and runs parameterised
statements (%s placeholders); user input never becomes SQL text.  Errors
are not caught unless a function says so: they reach the caller as
psycopg.Error subclasses whose ``e.sqlstate`` is the documented SQLSTATE
(doc/schemakit.md#sqlstates): '22023' invalid argument, '22004' NULL
argument, '23503' unknown user, '23505' duplicate, 'SKR01' too many codes
issued, 'SKR02' too many failed verifications.

Types, as psycopg loads them: ids (bigint) are ``int``; ``uuidv7()`` is a
``uuid.UUID``; timestamptz columns are timezone-aware ``datetime``s.

Transactions.  psycopg opens a transaction with the first statement on a
connection that is not in autocommit mode, and nothing is stored until
``conn.commit()``.  For schemakit that means:

* ``issue_email_code`` holds a per-address lock until the transaction
  ends, and the code exists only after the commit: commit before mailing.
* ``verify_email_code``: a wrong guess is counted in shared memory,
  so rolling back does NOT give the guess back: 5 wrong guesses kill the
  code whatever the transactions did.  A *right* guess marks the code used
  only when committed.  Use an autocommit connection, or commit right after
  verifying (``verify_login_code`` below does so); it also releases the
  per-address lock, which otherwise blocks every other verification and
  issuance for that address until the transaction ends.
* a password reset is one transaction (``reset_password``).

The role needs what ``SELECT schemakit.grant_app('role')`` grants.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Optional

import psycopg
from psycopg import pq
from psycopg.rows import dict_row

# SQLSTATEs the flows below can raise (doc/schemakit.md#sqlstates).
INVALID_PARAMETER_VALUE = "22023"
NULL_VALUE_NOT_ALLOWED = "22004"
FOREIGN_KEY_VIOLATION = "23503"
UNIQUE_VIOLATION = "23505"
CHECK_VIOLATION = "23514"
TOO_MANY_CODES_ISSUED = "SKR01"
TOO_MANY_FAILED_CODES = "SKR02"


def connect(autocommit: bool = False, **kwargs) -> psycopg.Connection:
    """A connection from PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE (libpq)."""
    return psycopg.connect(autocommit=autocommit, **kwargs)


def is_sqlstate(err: BaseException, code: str) -> bool:
    """True when err is a PostgreSQL error with this SQLSTATE."""
    return isinstance(err, psycopg.Error) and err.sqlstate == code


def _one(conn: psycopg.Connection, query: str, params=()):
    """The single value of a one-row, one-column query."""
    return conn.execute(query, params).fetchone()[0]


# ---------------------------------------------------------------------------
# Passwords: hashed here (scrypt from hashlib), stored in users.password_hash
# (1..255 characters).  schemakit never sees a password.
# ---------------------------------------------------------------------------

_SCRYPT = {"n": 16384, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    key = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    b64 = lambda b: base64.b64encode(b).decode()
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${b64(salt)}${b64(key)}"


def verify_password(password: str, stored: Optional[str]) -> bool:
    parts = stored.split("$") if stored else []
    if len(parts) != 6 or parts[0] != "scrypt":
        return False
    n, r, p = (int(x) for x in parts[1:4])
    salt, expected = base64.b64decode(parts[4]), base64.b64decode(parts[5])
    key = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=len(expected))
    return hmac.compare_digest(key, expected)


# ---------------------------------------------------------------------------
# Users
# ---------------------------------------------------------------------------

@dataclass
class User:
    id: int
    username: Optional[str]
    email: Optional[str]
    display_name: Optional[str]
    created_at: datetime


_USER_COLS = "id, username, email, display_name, created_at"


def sign_up(conn, email: str, password: Optional[str] = None, *,
            username: Optional[str] = None, display_name: Optional[str] = None) -> User:
    """Inserts a user.  username is optional (1.5).  23505 when the email
    (ASCII case folded: users_email_key) or the username is taken; 23514 for
    an invalid email.  Commit it yourself (or use an autocommit connection)."""
    pw = hash_password(password) if password is not None else None
    row = conn.execute(
        f"""INSERT INTO schemakit.users (username, email, display_name, password_hash)
            VALUES (%s, %s, %s, %s) RETURNING {_USER_COLS}""",
        (username, email, display_name, pw)).fetchone()
    return User(*row)


def find_user_by_email(conn, email: str) -> Optional[User]:
    """The user with this address (index users_email_key), or None."""
    row = conn.execute(
        f"SELECT {_USER_COLS} FROM schemakit.users WHERE email_key = schemakit.email_key(%s)",
        (email,)).fetchone()
    return User(*row) if row else None


def user_for_email(conn, email: str, display_name: Optional[str] = None) -> int:
    """The id of the user with this address, creating one (no username, no
    password) if there is none.  Races with a concurrent sign-up are resolved
    by the conflict target email_key: both callers get the same id."""
    row = conn.execute(
        """INSERT INTO schemakit.users (email, display_name) VALUES (%s, %s)
           ON CONFLICT (email_key) DO NOTHING RETURNING id""",
        (email, display_name)).fetchone()
    if row:
        return row[0]
    return _one(conn, "SELECT id FROM schemakit.users WHERE email_key = schemakit.email_key(%s)",
                (email,))


def login_with_password(conn, email: str, password: str) -> Optional[int]:
    row = conn.execute(
        "SELECT id, password_hash FROM schemakit.users WHERE email_key = schemakit.email_key(%s)",
        (email,)).fetchone()
    if row and verify_password(password, row[1]):
        return row[0]
    return None


# ---------------------------------------------------------------------------
# Email login codes
# ---------------------------------------------------------------------------

def issue_login_code(conn, email: str, ttl: str = "10 minutes") -> str:
    """A new 6-digit code for the address; mail it AFTER committing.  SKR01
    when the address had 5 codes in the window, 22023 for a bad address or
    ttl, 22004 for NULL.  Commits when the connection is not in autocommit
    mode, so the code exists and the per-address lock is released."""
    code = _one(conn, "SELECT schemakit.issue_email_code(%s, %s::interval)", (email, ttl))
    if not conn.autocommit:
        conn.commit()
    return code


def verify_login_code(conn, email: str, code: str) -> bool:
    """True exactly once for the right code.  The recommended pattern: the
    verification is committed on its own, right away (autocommit, or a commit
    here), so a right guess is recorded as used and the per-address lock is
    released.  Refuses to run inside a transaction with other work in it,
    which a commit here would commit too.  SKR02 when the address reached the
    failure limit."""
    if not conn.autocommit and conn.info.transaction_status != pq.TransactionStatus.IDLE:
        raise RuntimeError("verify_login_code: commit or roll back the open transaction first")
    ok = _one(conn, "SELECT schemakit.verify_email_code(%s, %s)", (email, code.strip()))
    if not conn.autocommit:
        conn.commit()
    return ok


def login_with_code(conn, email: str, code: str, *, ip: Optional[str] = None,
                    user_agent: Optional[str] = None) -> Optional[tuple[int, str]]:
    """Email-code login, and sign-up for a new address: verify (committed on
    its own), then find or create the address's user and open a session.
    Returns (user_id, session_token) or None for a wrong code."""
    if not verify_login_code(conn, email, code):
        return None
    with conn.transaction():
        user_id = user_for_email(conn, email)
        token = open_session(conn, user_id, ip=ip, user_agent=user_agent)
    return user_id, token


# ---------------------------------------------------------------------------
# Sessions
# ---------------------------------------------------------------------------

def open_session(conn, user_id: int, ttl: str = "30 days", *, ip: Optional[str] = None,
                 user_agent: Optional[str] = None) -> str:
    """A 43-character session token (only its hash is stored).  23503 for an
    unknown user, 22023 for a ttl outside (0, 366 days]."""
    return _one(conn, "SELECT schemakit.issue_session(%s, %s::interval, %s::inet, %s)",
                (user_id, ttl, ip, user_agent))


def session_user(conn, token: str) -> Optional[int]:
    """The user of a live session, or None."""
    return _one(conn, "SELECT schemakit.session_user_id(%s)", (token,))


def logout(conn, token: str) -> bool:
    """True when this call revoked the session."""
    return _one(conn, "SELECT schemakit.revoke_session(%s)", (token,))


def logout_everywhere(conn, user_id: int) -> int:
    return _one(conn, "SELECT schemakit.revoke_user_sessions(%s)", (user_id,))


# ---------------------------------------------------------------------------
# OAuth
# ---------------------------------------------------------------------------

def oauth_login(conn, provider: str, provider_id: str, *, email: Optional[str] = None,
                display_name: Optional[str] = None) -> int:
    """The user linked to the provider account; on the first login the user
    with the provider's address (created if none) is linked.  One transaction.
    23505 when the account is linked to another user, 22023/22004 for bad
    provider values."""
    with conn.transaction():
        uid = _one(conn, "SELECT schemakit.oauth_user_id(%s, %s)", (provider, provider_id))
        if uid is not None:
            return uid
        if email:
            uid = user_for_email(conn, email, display_name)
        else:
            uid = _one(conn, "INSERT INTO schemakit.users (display_name) VALUES (%s) RETURNING id",
                       (display_name,))
        link_oauth(conn, uid, provider, provider_id, email=email, display_name=display_name)
        return uid


def link_oauth(conn, user_id: int, provider: str, provider_id: str, *,
               email: Optional[str] = None, display_name: Optional[str] = None) -> int:
    """Links a provider account to a user (idempotent); the link's id."""
    return _one(conn, "SELECT schemakit.link_oauth_account(%s, %s, %s, %s, %s)",
                (user_id, provider, provider_id, email, display_name))


# ---------------------------------------------------------------------------
# Password reset
# ---------------------------------------------------------------------------

def request_password_reset(conn, email: str, ttl: str = "1 hour") -> Optional[str]:
    """A reset token for the address's user (mail a link with it), or None
    for an unknown address (tell the visitor the same either way)."""
    user = find_user_by_email(conn, email)
    if user is None:
        return None
    return _one(conn, "SELECT schemakit.issue_password_reset_token(%s, %s::interval)",
                (user.id, ttl))


def reset_password(conn, token: str, new_password: str) -> Optional[int]:
    """One transaction: consume the token, store the new hash, end every
    session.  The user id, or None for a dead token (nothing changed)."""
    pw = hash_password(new_password)
    with conn.transaction():
        uid = _one(conn, "SELECT schemakit.consume_password_reset_token(%s)", (token,))
        if uid is None:
            return None
        conn.execute("UPDATE schemakit.users SET password_hash = %s WHERE id = %s", (pw, uid))
        conn.execute("SELECT schemakit.revoke_user_sessions(%s)", (uid,))
        return uid


# ---------------------------------------------------------------------------
# Files (metadata; the bytes live in object storage under `filename`)
# ---------------------------------------------------------------------------

@dataclass
class File:
    id: int
    filename: uuid.UUID     # the stored name: a UUIDv7 from the column default
    original_name: str
    mime_type: str
    size: int
    created_at: datetime


_FILE_COLS = "id, filename::uuid, original_name, mime_type, size, created_at"


def add_file(conn, user_id: int, original_name: str, mime_type: str, size: int) -> File:
    """Records an upload.  mime_type may carry parameters (1.5:
    'text/plain; charset=utf-8'); 23514 for a malformed one or a negative
    size; 23503 for an unknown user."""
    row = conn.execute(
        f"""INSERT INTO schemakit.files (user_id, original_name, mime_type, size)
            VALUES (%s, %s, %s, %s) RETURNING {_FILE_COLS}""",
        (user_id, original_name, mime_type, size)).fetchone()
    return File(*row)


def user_files(conn, user_id: int) -> list[File]:
    rows = conn.execute(
        f"SELECT {_FILE_COLS} FROM schemakit.files WHERE user_id = %s ORDER BY id",
        (user_id,)).fetchall()
    return [File(*r) for r in rows]


def new_uuid(conn) -> uuid.UUID:
    """A time-ordered UUIDv7 from the database."""
    return _one(conn, "SELECT schemakit.uuidv7()")


def uuid_time(conn, u: uuid.UUID) -> datetime:
    """The creation time a UUIDv7 carries (22023 for another version)."""
    return _one(conn, "SELECT schemakit.uuidv7_time(%s)", (u,))


# ---------------------------------------------------------------------------
# Snippets
# ---------------------------------------------------------------------------

def create_snippet(conn, owner_id: int, body: str, *, title: Optional[str] = None,
                   language: str = "text", is_public: bool = False) -> dict:
    """A snippet; public_id comes from the column default (a collision is
    retried, never an error).  23503 for an unknown owner."""
    return conn.cursor(row_factory=dict_row).execute(
        """INSERT INTO schemakit.snippets (owner_id, title, body, language, is_public)
           VALUES (%s, %s, %s, %s, %s)
           RETURNING id, public_id, owner_id, title, body, language, is_public, view_count,
                     created_at""",
        (owner_id, title, body, language, is_public)).fetchone()


def get_snippet(conn, public_id: str, viewer_id: Optional[int] = None) -> Optional[dict]:
    """A snippet by its public ID if it is public or the viewer owns it."""
    return conn.cursor(row_factory=dict_row).execute(
        """SELECT id, public_id, owner_id, title, body, language, is_public, view_count,
                  created_at
             FROM schemakit.snippets
            WHERE public_id = %s AND (is_public OR owner_id = %s)""",
        (public_id, viewer_id)).fetchone()


def view_snippet(conn, public_id: str) -> Optional[int]:
    """Counts one view; the new count, or None for an unknown public ID."""
    return _one(conn, "SELECT schemakit.record_snippet_view(%s)", (public_id,))


def user_snippets(conn, owner_id: int, limit: int = 20) -> list[dict]:
    """A user's snippets, newest first (index snippets_owner_created_idx)."""
    return conn.cursor(row_factory=dict_row).execute(
        """SELECT public_id, title, language, is_public, view_count, created_at
             FROM schemakit.snippets WHERE owner_id = %s
            ORDER BY created_at DESC, id DESC LIMIT %s""",
        (owner_id, limit)).fetchall()
