"""BB302 across modules: which imported schemas count as responses."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from backbone.api import ReviewRequest, review

MODELS = """\
from pydantic import BaseModel


class DeleteAccessControlList(BaseModel):
    id: str
    password: str


class UserRead(BaseModel):
    id: str
    password_hash: str
"""

VIEWS = """\
from fastapi import APIRouter

from app.models import DeleteAccessControlList, UserRead

router = APIRouter()


@router.delete("/acl")
async def delete_acl(data: DeleteAccessControlList):
    remove_acl(data.id, data.password)


@router.get("/users/{user_id}")
async def read_user(user_id: str):
    return load_user(user_id)
"""


def test_the_body_of_a_delete_is_input_and_a_read_model_is_output(tmp_path: Path) -> None:
    files = {
        "pyproject.toml": '[tool.backbone]\nselect = ["BB302"]\n',
        "app/__init__.py": "",
        "app/models.py": MODELS,
        "app/views.py": textwrap.dedent(VIEWS),
    }
    for relative, content in files.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    result, _ = review(ReviewRequest(paths=(str(tmp_path),), use_cache=False, jobs=1))
    assert result.internal_errors == []
    found = [(finding.path, finding.line, finding.confidence.value) for finding in result.findings]
    assert found == [("app/models.py", 11, "medium")]


JOB_SCHEMAS = """\
from pydantic import BaseModel


class ExportQueuedResponse(BaseModel):
    token: str
    state: str


class ExportStatusResponse(BaseModel):
    token: str
    state: str


class ExportDetailResponse(BaseModel):
    token: str
    state: str
"""

JOB_ROUTES = """\
from fastapi import APIRouter, Header
from sqlalchemy import select

from app.schemas import ExportDetailResponse, ExportQueuedResponse, ExportStatusResponse

router = APIRouter()


@router.post("/exports")
def enqueue_export(session: Session) -> ExportQueuedResponse:
    export = ExportRequest(state="queued")
    session.add(export)
    session.flush()
    return ExportQueuedResponse(token=export.token, state=export.state)


@router.get("/exports/status")
def export_status(session: Session, export_token: str = Header()) -> ExportStatusResponse:
    export = session.scalar(select(ExportRequest).filter_by(token=export_token))
    return ExportStatusResponse(token=export.token, state=export.state)


@router.get("/exports/{export_id}")
def export_detail(export_id: int, session: Session) -> ExportDetailResponse:
    export = session.get(ExportRequest, export_id)
    return ExportDetailResponse(token=export.token, state=export.state)
"""


def test_a_token_handed_back_to_the_caller_who_holds_it_is_not_reported_across_modules(tmp_path: Path) -> None:
    files = {
        "pyproject.toml": '[tool.backbone]\nselect = ["BB302"]\n',
        "app/__init__.py": "",
        "app/schemas.py": JOB_SCHEMAS,
        "app/routes.py": JOB_ROUTES,
    }
    for relative, content in files.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    result, _ = review(ReviewRequest(paths=(str(tmp_path),), use_cache=False, jobs=1))
    assert result.internal_errors == []
    # Only the token read from a record found by its id goes to someone who did not hold it.
    found = [(finding.path, finding.line) for finding in result.findings]
    assert found == [("app/schemas.py", 15)]


TOKEN_SCHEMAS = """\
from pydantic import BaseModel


class AuthTokenBase(BaseModel):
    id: str
    valid: bool


class VaultCredential(BaseModel):
    email: str
    master_password: str


class VaultCredentialView(BaseModel):
    email: str


class VaultTokenView(AuthTokenBase):
    credential: VaultCredentialView


class CloudSecret(BaseModel):
    client_id: str
    client_secret: str


class CloudToken(AuthTokenBase):
    credential: CloudSecret


class VaultCredentialResponse(BaseModel):
    token: VaultTokenView


class CloudCredentialResponse(BaseModel):
    token: CloudToken
"""

TOKEN_ROUTES = """\
from fastapi import APIRouter

from app.schemas import CloudCredentialResponse, VaultCredentialResponse

router = APIRouter()


@router.get("/vault", response_model=VaultCredentialResponse)
async def vault_credential():
    return load_vault()


@router.get("/cloud", response_model=CloudCredentialResponse)
async def cloud_credential():
    return load_cloud()
"""


def test_a_token_field_holding_a_schema_without_credentials_sends_none(tmp_path: Path) -> None:
    from helpers import review_tree_with

    files = {"app/__init__.py": "", "app/schemas.py": TOKEN_SCHEMAS, "app/routes.py": TOKEN_ROUTES}
    found = [(finding.path, finding.line) for finding in review_tree_with(tmp_path, files, "BB302")]
    # `VaultCredentialResponse.token` (line 32) holds a view with no credential; the cloud token's
    # nested secret still goes out.
    assert found == [("app/schemas.py", 36)]


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("password", True),
        ("password_hash", True),
        ("login_password", True),
        ("password_changed_at", False),
        ("has_password", False),
        ("learner_can_login_with_no_password", False),
        ("allow_empty_password", False),
    ],
)
def test_names_that_hold_a_password_and_flags_about_one(name: str, secret: bool) -> None:
    from backbone.review.knowledge.schemas import sensitive_field

    assert (sensitive_field(name) is not None) is secret
