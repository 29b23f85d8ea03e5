-- What quill's ACME client keeps between runs (ACME_CA, TLS_DOMAINS):
-- certificates with their private keys, the account key, and the
-- responses to challenges in progress, under autocert's key names. Every
-- instance on the database reads and writes the same rows, so they share
-- one account and one certificate per domain, and any of them can answer
-- a challenge another started. data is sealed with a key derived from
-- SECRET_KEY (package certs): a copy of the database alone holds no
-- private key.
CREATE TABLE acme_cache (
    key        TEXT    PRIMARY KEY,
    data       BLOB    NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
