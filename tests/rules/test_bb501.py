from __future__ import annotations

import textwrap

from backbone.review.checker import check_source


def lines(snippet: str) -> list[int]:
    return [f.line for f in check_source(textwrap.dedent(snippet), ("BB501",), path="service/auth.py", module="service.auth")]


def test_enumeration_members_are_labels_not_credentials() -> None:
    """An Enum member's value is its identity (an auth method's id), not a secret."""
    assert lines(
        """
        import enum
        from enum import Enum

        from service.utils.enum_utils import StrEnum


        class AuthenticationMethods(StrEnum):
            ED25519_KEY_OPTIONAL_PASSPHRASE = "ed25519-key"


        class TokenKinds(str, Enum):
            REFRESH_TOKEN_SECRET = "refresh-signing-k3y"


        class LocalBase(enum.Enum):
            pass


        class Credentials(LocalBase):
            API_KEY_HEADER = "x-api-key-h3ader"
        """
    ) == []


def test_class_attributes_of_other_classes_are_still_reported() -> None:
    assert lines(
        """
        import enum

        from service.config import BaseSettings


        class Settings(BaseSettings):
            API_KEY = "Tz8qW3fkR9xLp2"


        class NotAnEnum:
            PASSWORD = "Tz8qW3fkR9xLp2"


        class Kinds(enum.Enum):
            def setup(self):
                self.password = "Tz8qW3fkR9xLp2"
        """
    ) == [8, 12, 17]
