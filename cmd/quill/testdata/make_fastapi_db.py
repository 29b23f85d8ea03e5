#!/usr/bin/python3
"""Write a FastAPI blog tutorial database, for testing `quill import-fastapi`.

The database is made the way the tutorial's Python stack makes it, by code
that shares nothing with quill: the tables SQLAlchemy creates for the
tutorial's models, password hashes from passlib, argon2-cffi (what pwdlib
wraps) and bcrypt, and timestamps in the forms SQLAlchemy and Python's
sqlite3 module write. Debian packages it needs:

    apt-get install -y python3 python3-passlib python3-argon2 python3-bcrypt

Usage:

    /usr/bin/python3 make_fastapi_db.py OUT.db
        the test fixture: genuine hashes and the awkward rows the tutorial
        allowed; prints a JSON manifest of who can log in with which password
    /usr/bin/python3 make_fastapi_db.py OUT.db --users 100000 --posts 1000000
        a large database for measuring the import: every user has a copy of
        one genuine hash, so the import has the real amount of data to move

Argon2 and bcrypt costs are kept small so tests stay fast under the race
detector; the format of each hash is what the library writes at any cost.
"""

import argparse
import datetime
import json
import sqlite3
import sys

import argon2
import bcrypt
from passlib.context import CryptContext
from passlib.hash import pbkdf2_sha256

# The tutorial's models, as SQLAlchemy 2 creates them on SQLite.
SCHEMA = """
CREATE TABLE users (
	id INTEGER NOT NULL,
	username VARCHAR(50) NOT NULL,
	email VARCHAR(120) NOT NULL,
	image_file VARCHAR(200),
	password_hash VARCHAR(200) NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (username),
	UNIQUE (email)
);
CREATE INDEX ix_users_id ON users (id);
CREATE TABLE posts (
	id INTEGER NOT NULL,
	title VARCHAR(100) NOT NULL,
	content TEXT NOT NULL,
	user_id INTEGER NOT NULL,
	date_posted DATETIME NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(user_id) REFERENCES users (id)
);
CREATE INDEX ix_posts_id ON posts (id);
CREATE INDEX ix_posts_user_id ON posts (user_id);
"""

# The tutorial's CryptContext (passlib), at small costs.
passlib_argon2 = CryptContext(schemes=["argon2"], argon2__memory_cost=1024, argon2__rounds=2,
                              argon2__parallelism=2)
passlib_bcrypt = CryptContext(schemes=["bcrypt"], bcrypt__rounds=4)
# pwdlib's Argon2Hasher is argon2-cffi's PasswordHasher (32-byte tag, 16-byte
# salt), at small costs.
pwdlib_argon2 = argon2.PasswordHasher(time_cost=2, memory_cost=1024, parallelism=2, hash_len=32, salt_len=16)

UTC = datetime.timezone.utc


def sqlalchemy_datetime(dt):
    """SQLAlchemy's SQLite DATETIME storage format: naive, always microseconds."""
    return dt.strftime("%Y-%m-%d %H:%M:%S.%f")


def sqlite3_adapter(dt):
    """Python sqlite3's default datetime adapter: isoformat with a space."""
    return dt.isoformat(" ")


def fixture(db):
    # (id, username, email, image_file, scheme, password); scheme picks the hash.
    users = [
        (1, "Alice", "alice@example.com", None, "passlib-argon2", "alice wonderland 1865"),
        (2, "bob", "Bob@Example.COM", "bob.jpg", "pwdlib-argon2", "bobs burgers forever"),
        (3, "carol", "carol@example.com", "default.jpg", "passlib-bcrypt", "carol sings loud"),
        (4, "dave", "dave@example.com", None, "bcrypt", "dave's not here man"),
        # Differ from Alice only in case and in width: the tutorial's UNIQUE
        # compared bytes, quill compares names the way people read them.
        (5, "ALICE", "alice.upper@example.com", None, "passlib-argon2", "shouting alice 2024"),
        (6, "Ａｌｉｃｅ", "alice.wide@example.com", None, "pwdlib-argon2", "fullwidth alice 2024"),
        (7, "erin", "erin-at-example.com", None, "passlib-argon2", "erin has no email"),
        (8, "frank smith", "frank@example.com", None, "passlib-bcrypt", "frank has a space"),
        (9, "grace", "CAROL@example.com", None, "bcrypt", "grace borrowed an email"),
        (10, "heidi", "heidi@example.com", "heidi.png", "passlib-argon2", "heidi likes png"),
        (11, "ivan", "ivan@example.com", "../../etc/passwd", "passlib-argon2", "ivan the sneaky"),
        (12, "judy", "judy@example.com", "missing.jpg", "passlib-argon2", "judy lost her picture"),
        (13, "peggy", "peggy@example.com", None, "pbkdf2", "peggy used pbkdf2"),
        (14, "trent", "trent@example.com", None, "pwdlib-argon2", "trent trusts nobody"),
    ]
    hashers = {
        "passlib-argon2": passlib_argon2.hash,
        "pwdlib-argon2": pwdlib_argon2.hash,
        "passlib-bcrypt": passlib_bcrypt.hash,
        "bcrypt": lambda pw: bcrypt.hashpw(pw.encode(), bcrypt.gensalt(rounds=4)).decode(),
        "pbkdf2": pbkdf2_sha256.using(rounds=1000).hash,
    }
    logins = []
    for uid, name, email, image, scheme, password in users:
        db.execute("INSERT INTO users (id, username, email, image_file, password_hash) VALUES (?, ?, ?, ?, ?)",
                   (uid, name, email, image, hashers[scheme](password)))
        logins.append({"id": uid, "username": name, "email": email, "password": password, "scheme": scheme})

    t = datetime.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    posts = [
        (1, "Hello", "First post", 1, sqlalchemy_datetime(t)),
        (2, "Second", "By bob", 2, sqlalchemy_datetime(t + datetime.timedelta(days=1))),
        # Python's sqlite3 adapter: no fraction when it is zero, an offset
        # when the datetime is aware.
        (3, "Third", "By carol", 3, sqlite3_adapter(datetime.datetime(2024, 2, 1, 12, 30, 0))),
        (4, "Fourth", "By carol, aware", 3,
         sqlite3_adapter(datetime.datetime(2024, 2, 2, 14, 0, 0, 500000, tzinfo=datetime.timezone(
             datetime.timedelta(hours=2))))),
        (5, "Shouting", "By ALICE", 5, sqlalchemy_datetime(t + datetime.timedelta(days=3))),
        (6, "Wide", "By Ａｌｉｃｅ", 6, sqlalchemy_datetime(t + datetime.timedelta(days=4))),
        (7, "Orphan", "Its author was deleted", 99, sqlalchemy_datetime(t + datetime.timedelta(days=5))),
        (8, "", "An empty title", 1, sqlalchemy_datetime(t + datetime.timedelta(days=6))),
        (9, "   ", "A blank title", 1, sqlalchemy_datetime(t + datetime.timedelta(days=7))),
        (10, "No content", "", 4, sqlalchemy_datetime(t + datetime.timedelta(days=8))),
        (11, "By erin", "Whose email is invalid", 7, sqlalchemy_datetime(t + datetime.timedelta(days=9))),
        (12, "By frank", "Whose name has a space", 8, sqlalchemy_datetime(t + datetime.timedelta(days=10))),
        (13, "By dave", "Written with SQLite's CURRENT_TIMESTAMP", 4, "2024-03-01 08:00:00"),
        (14, "By trent", "Long ago", 14, sqlalchemy_datetime(datetime.datetime(1999, 12, 31, 23, 59, 59, 999999))),
    ]
    db.executemany("INSERT INTO posts (id, title, content, user_id, date_posted) VALUES (?, ?, ?, ?, ?)", posts)
    return {"logins": logins}


def bulk(db, n_users, n_posts):
    hashes = [passlib_argon2.hash("bulk password one"), pwdlib_argon2.hash("bulk password two"),
              passlib_bcrypt.hash("bulk password three")]
    db.executemany(
        "INSERT INTO users (id, username, email, image_file, password_hash) VALUES (?, ?, ?, NULL, ?)",
        ((i, "user%07d" % i, "user%07d@example.com" % i, hashes[i % 3]) for i in range(1, n_users + 1)))
    start = datetime.datetime(2020, 1, 1)
    body = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 8
    db.executemany(
        "INSERT INTO posts (id, title, content, user_id, date_posted) VALUES (?, ?, ?, ?, ?)",
        ((i, "Post number %d" % i, body, 1 + (i * 7919) % n_users,
          sqlalchemy_datetime(start + datetime.timedelta(seconds=97 * i, microseconds=i % 1000000)))
         for i in range(1, n_posts + 1)))
    return {"users": n_users, "posts": n_posts}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--users", type=int, default=0)
    ap.add_argument("--posts", type=int, default=0)
    args = ap.parse_args()
    db = sqlite3.connect(args.out)
    db.executescript(SCHEMA)
    with db:
        manifest = bulk(db, args.users, args.posts) if args.users else fixture(db)
    db.close()
    json.dump(manifest, sys.stdout, ensure_ascii=False, indent=1)
    print()


if __name__ == "__main__":
    main()
