"""OAuth2 bearer JWT: roles and region scoping.

Claims: ``sub``, ``roles`` (admin, officer, department, auditor, public), ``regions`` (codes; a
region includes its descendants), ``department``. Development tokens are HS256 with a local
secret (``zhichan token``); deployment verifies RS256 with the identity provider's public key.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from datetime import timedelta
from typing import Annotated

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from zhichan.api.problems import Forbidden, Unauthorized
from zhichan.clock import utcnow
from zhichan.regions import registry
from zhichan.settings import PlatformSettings

ROLES = ("admin", "officer", "department", "auditor", "public")
ISSUER = "zhichan-dev"


class User(BaseModel):
    sub: str
    roles: list[str] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list)
    department: str | None = None

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    def has_any_role(self, roles: Iterable[str]) -> bool:
        return self.is_admin or any(r in self.roles for r in roles)

    def sees(self, region: str) -> bool:
        """Whether the region lies within the caller's regions (descendants included)."""
        if self.is_admin:
            return True
        regions = registry()
        return any(regions.contains(mine, region) for mine in self.regions)

    def scope(self, requested: str | None = None) -> frozenset[str] | None:
        """Region codes a query may return: the requested region (with descendants) cut to what
        the caller sees. ``None`` means no restriction (admin, nothing requested)."""
        regions = registry()
        wanted = regions.descendants(requested) if requested else None
        if self.is_admin:
            return wanted
        mine: set[str] = set()
        for code in self.regions:
            if code in regions:
                mine |= regions.descendants(code)
        return frozenset(mine & wanted) if wanted is not None else frozenset(mine)


def issue_token(
    secret: str, *, sub: str, roles: list[str], regions: list[str], department: str | None = None, hours: float = 12
) -> str:
    now = utcnow()
    claims = {
        "sub": sub,
        "roles": roles,
        "regions": regions,
        "iat": now,
        "iss": ISSUER,
        "exp": now + timedelta(hours=hours),
    }
    if department:
        claims["department"] = department
    return jwt.encode(claims, secret, algorithm="HS256")


class TokenVerifier:
    """Verifies bearer tokens, remembering the ones it verified until they expire: a caller
    sends the same token with every request, and checking its signature is costly next to the
    rest of a request (BENCHMARKS.md). A remembered token is only ever accepted before its ``exp``."""

    REMEMBERED = 4096

    def __init__(self, platform: PlatformSettings) -> None:
        if not (platform.token_secret or platform.jwt_public_key):
            raise RuntimeError("set ZHICHAN_JWT_SECRET or ZHICHAN_JWT_PUBLIC_KEY (or ZHICHAN_DEV_MODE=1)")
        self.secret = platform.token_secret
        self.public_key = platform.jwt_public_key
        self.audience = platform.jwt_audience
        self._verified: dict[str, tuple[float, dict]] = {}  # token → (exp epoch seconds, claims)

    def verify(self, token: str) -> User:
        remembered = self._verified.get(token)
        if remembered is not None and time.time() < remembered[0]:
            return _user_of(remembered[1])
        claims = self._decode(token)
        if len(self._verified) >= self.REMEMBERED:
            self._verified.pop(next(iter(self._verified)))  # the oldest goes first
        self._verified[token] = (float(claims.get("exp", math.inf)), claims)
        return _user_of(claims)

    def _decode(self, token: str) -> dict:
        try:
            if self.public_key:
                claims = jwt.decode(
                    token,
                    self.public_key,
                    algorithms=["RS256", "ES256"],
                    audience=self.audience,
                    options={"verify_aud": bool(self.audience)},
                )
            else:
                claims = jwt.decode(
                    token,
                    self.secret,
                    algorithms=["HS256"],
                    audience=self.audience,
                    options={"verify_aud": bool(self.audience)},
                )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("the token has expired", headers={"WWW-Authenticate": "Bearer"}) from None
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"invalid token: {exc}", headers={"WWW-Authenticate": "Bearer"}) from None
        return claims


def _user_of(claims: dict) -> User:
    return User(
        sub=str(claims.get("sub")),
        roles=[r for r in claims.get("roles", []) if r in ROLES],
        regions=list(claims.get("regions", [])),
        department=claims.get("department"),
    )


_bearer = HTTPBearer(auto_error=False, description="JWT from `zhichan token` in development")


# Each of these reads the bearer token itself rather than depending on another of them: FastAPI
# solves every level of a dependency chain per request, and each level costs a request CPU
# (BENCHMARKS.md).
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _user_of_request(request: Request, credentials: HTTPAuthorizationCredentials | None) -> User | None:
    if credentials is None:
        return None
    return request.app.state.token_verifier.verify(credentials.credentials)


def _signed_in(request: Request, credentials: HTTPAuthorizationCredentials | None) -> User:
    user = _user_of_request(request, credentials)
    if user is None:
        raise Unauthorized("send Authorization: Bearer <token>", headers={"WWW-Authenticate": "Bearer"})
    return user


async def optional_user(request: Request, credentials: Credentials) -> User | None:
    return _user_of_request(request, credentials)


async def current_user(request: Request, credentials: Credentials) -> User:
    return _signed_in(request, credentials)


CurrentUser = Annotated[User, Depends(current_user)]
OptionalUser = Annotated[User | None, Depends(optional_user)]


def require_roles(*roles: str):
    async def _check(request: Request, credentials: Credentials) -> User:
        user = _signed_in(request, credentials)
        if not user.has_any_role(roles):
            raise Forbidden(f"this needs one of the roles: {', '.join(roles)}")
        return user

    return Depends(_check)


# Who reads and who writes a service's records: the same two everywhere. Defined once, so that a
# route asks for the same dependency as every other route (FastAPI solves it once per request).
Reader = Annotated[User, require_roles("officer", "auditor", "department")]
Writer = Annotated[User, require_roles("officer")]


def require_write_access(user: User, region: str) -> None:
    """Writes outside the caller's regions are refused (403)."""
    if not user.sees(region):
        raise Forbidden(f"region {region} is outside your regions")
