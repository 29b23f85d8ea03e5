#!/usr/bin/python3
"""Print known-answer hashes made by the Python tutorial stack, as JSON.

quill must verify hashes created by the FastAPI blog tutorial's libraries
(passlib, pwdlib = argon2-cffi, bcrypt). This script makes such hashes so
password_test.go can check them. Regenerate with Debian's packages:

    apt-get install -y python3-passlib python3-argon2 python3-bcrypt
    /usr/bin/python3 internal/auth/testdata/make_hashes.py > internal/auth/testdata/legacy_hashes.json

Salts are random, so the output differs on every run; any run is valid.
Most rows use small costs to keep the Go tests fast; the "default" rows use
each library's own defaults.
"""

import json
import unicodedata

import argon2
import bcrypt
import passlib
from passlib.hash import argon2 as passlib_argon2
from passlib.hash import bcrypt as passlib_bcrypt

ASCII = "correct horse battery staple"
# NFC-composed: the Go side normalises to NFC before hashing and verifying.
UNICODE = unicodedata.normalize("NFC", "pässwörd-ünïcødé-日本語-🔑")
# 80 bytes: bcrypt only ever looks at the first 72.
LONG = "0123456789" * 8

rows = []


def add(name, source, password, encoded, salt=None):
    if isinstance(encoded, bytes):
        encoded = encoded.decode("ascii")
    row = {"name": name, "source": source, "password": password, "hash": encoded}
    if salt is not None:
        # Known salt: quill's Hash must reproduce this string exactly.
        row["salt_hex"] = salt.hex()
    rows.append(row)


# passlib's argon2 handler (argon2-cffi backend).
small_passlib = passlib_argon2.using(memory_cost=1024, rounds=2, parallelism=2)
add("passlib argon2id small", "passlib " + passlib.__version__, ASCII, small_passlib.hash(ASCII))
add("passlib argon2id small unicode", "passlib " + passlib.__version__, UNICODE, small_passlib.hash(UNICODE))
add("passlib argon2i small", "passlib " + passlib.__version__, ASCII,
    small_passlib.using(type="I").hash(ASCII))
add("passlib argon2id default", "passlib " + passlib.__version__, ASCII, passlib_argon2.hash(ASCII))

# argon2-cffi's PasswordHasher is what pwdlib's Argon2Hasher wraps; pwdlib
# uses argon2-cffi's RFC 9106 low-memory profile (m=65536, t=3, p=4, 32-byte
# tag), which older argon2-cffi versions do not have as their default.
small_cffi = argon2.PasswordHasher(time_cost=2, memory_cost=1024, parallelism=2, hash_len=32, salt_len=16)
add("argon2-cffi argon2id small", "argon2-cffi " + argon2.__version__, ASCII, small_cffi.hash(ASCII))
add("argon2-cffi argon2id small unicode", "argon2-cffi " + argon2.__version__, UNICODE, small_cffi.hash(UNICODE))
add("argon2-cffi argon2i small", "argon2-cffi " + argon2.__version__, ASCII,
    argon2.PasswordHasher(time_cost=2, memory_cost=1024, parallelism=2, hash_len=32, salt_len=16,
                          type=argon2.Type.I).hash(ASCII))
add("pwdlib profile argon2id", "argon2-cffi " + argon2.__version__, ASCII,
    argon2.PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4, hash_len=32, salt_len=16).hash(ASCII))
# quill's own default parameters, so a hash made by Python needs no rehash.
add("argon2-cffi quill params", "argon2-cffi " + argon2.__version__, ASCII,
    argon2.PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1, hash_len=32, salt_len=16).hash(ASCII))

# Fixed salts and quill's parameters: byte-for-byte known answers for Hash.
for name, password, salt in [
    ("argon2-cffi fixed salt", ASCII, bytes(range(16))),
    ("argon2-cffi fixed salt unicode", UNICODE, b"quill-salt-16byt"),
]:
    add(name, "argon2-cffi " + argon2.__version__, password,
        argon2.low_level.hash_secret(password.encode(), salt, time_cost=2, memory_cost=19456, parallelism=1,
                                     hash_len=32, type=argon2.Type.ID),
        salt=salt)

# bcrypt, through passlib (the tutorial's CryptContext) and directly.
add("passlib bcrypt 2b", "passlib " + passlib.__version__, ASCII, passlib_bcrypt.using(rounds=4).hash(ASCII))
add("passlib bcrypt 2y", "passlib " + passlib.__version__, ASCII,
    passlib_bcrypt.using(rounds=4, ident="2y").hash(ASCII))
add("passlib bcrypt 2a unicode", "passlib " + passlib.__version__, UNICODE,
    passlib_bcrypt.using(rounds=4, ident="2a").hash(UNICODE))
add("passlib bcrypt default", "passlib " + passlib.__version__, ASCII, passlib_bcrypt.hash(ASCII))
add("bcrypt 2b", "bcrypt " + bcrypt.__version__, ASCII,
    bcrypt.hashpw(ASCII.encode(), bcrypt.gensalt(rounds=4, prefix=b"2b")))
add("bcrypt 2b long", "bcrypt " + bcrypt.__version__, LONG,
    bcrypt.hashpw(LONG.encode(), bcrypt.gensalt(rounds=4, prefix=b"2b")))

print(json.dumps(rows, indent=2, ensure_ascii=False))
