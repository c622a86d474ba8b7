"""Password and token hashing."""

from __future__ import annotations

import hashlib
import hmac
import os

# scrypt at these costs takes about 50 ms and 16 MiB per hash on our instances.
_SCRYPT_N = 2**14
_SCRYPT_R = 8
_SCRYPT_P = 1


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P)
    return f"scrypt${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    scheme, salt_hex, digest_hex = stored.split("$")
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt_hex), n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P)
    return hmac.compare_digest(digest.hex(), digest_hex)


def hash_token(token: str) -> str:
    """Reset tokens are stored hashed, so a leaked table can't be used to take over accounts."""
    return hashlib.sha256(token.encode()).hexdigest()
