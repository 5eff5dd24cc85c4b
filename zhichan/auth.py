"""OAuth2 bearer JWT: roles and region scoping.

Claims: ``sub``, ``roles`` (admin, officer, department, auditor, public), ``regions`` (codes; a
region includes its descendants), ``department``; every token also needs ``exp``, ``iat`` and
``iss`` (the issuer the settings name). Development tokens are HS256 with a local secret
(``zhichan token``); a deployment verifies the identity provider's tokens with its public key or
its JWKS URL, and then needs an audience (``aud``). Where the provider puts roles, regions and
department, and what it calls the roles, are settings (:class:`ClaimMapping`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from zhichan.api.problems import Forbidden, Unauthorized
from zhichan.clock import utcnow
from zhichan.regions import registry
from zhichan.settings import DEV_JWT_ISSUER, PlatformSettings

log = logging.getLogger("zhichan.auth")

ROLES = ("admin", "officer", "department", "auditor", "public")
ISSUER = DEV_JWT_ISSUER
REQUIRED_CLAIMS = ("exp", "iat", "sub", "iss")
# What an identity provider's keys may sign with; never HS*, whose "key" would be public.
ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
JWKS_TIMEOUT_SECONDS = 5.0
BEARER = {"WWW-Authenticate": "Bearer"}


@dataclass
class Reliance:
    """What a request's answer relied on, as the checks it made found it: the role sets it
    asked for (any one of each) and the regions it needed the caller to see. The idempotency
    store keeps it with an answer, and replays the answer only to a caller who still passes."""

    roles: list[tuple[str, ...]] = field(default_factory=list)
    regions: set[str] = field(default_factory=set)

    def as_json(self) -> dict[str, list]:
        return {"roles": [list(r) for r in dict.fromkeys(self.roles)], "regions": sorted(self.regions)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Reliance:
        return cls([tuple(r) for r in data.get("roles", [])], set(data.get("regions", [])))

    def refusal(self, user: User | None) -> str | None:
        """Why ``user`` could not make the request now, or None if it could."""
        if user is None:
            return "send Authorization: Bearer <token>" if self.roles or self.regions else None
        for roles in self.roles:
            if not user.has_any_role(roles):
                return f"this needs one of the roles: {', '.join(roles)}"
        for region in sorted(self.regions):
            if not user.sees(region):
                return f"region {region} is outside your regions"
        return None


_reliance: ContextVar[Reliance | None] = ContextVar("zhichan_auth_reliance", default=None)


@contextlib.contextmanager
def recording_reliance() -> Iterator[Reliance]:
    """Within the block (and the tasks and threads it starts), the role and region checks that
    pass are written down in the :class:`Reliance` it yields."""
    reliance = Reliance()
    token = _reliance.set(reliance)
    try:
        yield reliance
    finally:
        _reliance.reset(token)


class User(BaseModel):
    sub: str
    roles: list[str] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list)
    department: str | None = None
    iss: str | None = None

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    def has_any_role(self, roles: Iterable[str]) -> bool:
        roles = tuple(roles)
        allowed = self.is_admin or any(r in self.roles for r in roles)
        if allowed and (reliance := _reliance.get()) is not None:
            reliance.roles.append(roles)
        return allowed

    def sees(self, region: str) -> bool:
        """Whether the region lies within the caller's regions (descendants included)."""
        if self.is_admin:
            seen = True
        else:
            regions = registry()
            seen = any(regions.contains(mine, region) for mine in self.regions)
        if seen and (reliance := _reliance.get()) is not None:
            reliance.regions.add(region)
        return seen

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


@dataclass(frozen=True)
class TokenSigner:
    """Signs HS256 tokens the processes accept: their secret, their issuer (``iss``) and, when
    they expect one, their audience (``aud``). The command line and the demo sign with one."""

    secret: str
    issuer: str = ISSUER
    audience: str | None = None

    def issue(self, **claims: Any) -> str:
        return issue_token(self.secret, issuer=self.issuer, audience=self.audience, **claims)


def issue_token(
    secret: str,
    *,
    sub: str,
    roles: list[str],
    regions: list[str],
    department: str | None = None,
    hours: float = 12,
    issuer: str = ISSUER,
    audience: str | None = None,
) -> str:
    now = utcnow()
    claims = {
        "sub": sub,
        "roles": roles,
        "regions": regions,
        "iat": now,
        "iss": issuer,
        "exp": now + timedelta(hours=hours),
    }
    if department:
        claims["department"] = department
    if audience:
        claims["aud"] = audience
    return jwt.encode(claims, secret, algorithm="HS256")


def _claim(claims: Mapping[str, Any], path: str) -> Any:
    """The claim named ``path``, or, failing that, the one its dots lead to in nested claims
    (``realm_access.roles``). A name with dots of its own (``https://zhichan.example/roles``,
    as Auth0 wants them) is found whole first."""
    if path in claims:
        return claims[path]
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [part for part in value.replace(",", " ").split() if part]
    if isinstance(value, list | tuple):
        return [item for item in value if isinstance(item, str)]
    return []


@dataclass(frozen=True)
class ClaimMapping:
    """Where a token holds the roles, regions and department, and what the provider calls the
    roles. The defaults read Zhichan's own claims (``zhichan token``)."""

    roles: str = "roles"
    regions: str = "regions"
    department: str = "department"
    role_map: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, platform: PlatformSettings) -> ClaimMapping:
        return cls(
            platform.jwt_roles_claim, platform.jwt_regions_claim, platform.jwt_department_claim, platform.jwt_role_map
        )

    def roles_of(self, claims: Mapping[str, Any]) -> tuple[str, ...]:
        named = _strings(_claim(claims, self.roles))
        if self.role_map:
            named = [self.role_map[name] for name in named if name in self.role_map]
        return tuple(dict.fromkeys(role for role in named if role in ROLES))

    def regions_of(self, claims: Mapping[str, Any]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(_strings(_claim(claims, self.regions))))

    def department_of(self, claims: Mapping[str, Any]) -> str | None:
        value = _claim(claims, self.department)
        if isinstance(value, list) and value:
            value = value[0]
        return value if isinstance(value, str) and value else None


@dataclass(frozen=True, slots=True)
class _Verified:
    """A verified token, remembered: its expiry, its key and the caller it names."""

    exp: float
    kid: str | None
    sub: str
    iss: str
    roles: tuple[str, ...]
    regions: tuple[str, ...]
    department: str | None

    def user(self) -> User:  # each request gets its own User (and lists); pydantic's validation
        # is quicker than model_construct here
        return User(sub=self.sub, roles=self.roles, regions=self.regions, department=self.department, iss=self.iss)


class JwksKeys:
    """The identity provider's signing keys, fetched from its JWKS URL with PyJWT's
    :class:`~jwt.PyJWKClient` in a worker thread (it is blocking; the event loop is not), and
    kept here. A token naming a ``kid`` not among them fetches the keys again, at most once per
    ``refetch_after`` seconds (rotation: the provider publishes a new key); keys older than
    ``max_age`` are fetched again in the background while the old ones go on verifying. A key
    the provider no longer publishes is dropped with the fetch that finds it gone, and
    ``on_removed`` is told, so that tokens it signed are no longer remembered."""

    def __init__(self, url: str, *, max_age: float, refetch_after: float, on_removed=None) -> None:
        self.client = jwt.PyJWKClient(url, cache_jwk_set=False, timeout=JWKS_TIMEOUT_SECONDS)
        self.url = url
        self.max_age = max_age
        self.refetch_after = refetch_after
        self.on_removed = on_removed
        self.keys: dict[str, jwt.PyJWK] = {}
        self.clock = time.monotonic
        self.fetches = 0
        self._loaded_at = -math.inf  # monotonic time of the last fetch that brought keys
        self._tried_at = -math.inf  # … of the last fetch, whatever came of it
        self._lock: asyncio.Lock | None = None
        self._refreshing: asyncio.Task | None = None

    def stale(self) -> bool:
        return self.clock() - self._loaded_at > self.max_age

    async def key(self, kid: str) -> jwt.PyJWK | None:
        key = self.keys.get(kid)
        if key is not None:
            self.refresh_if_stale()
            return key
        async with self._locked():
            if kid not in self.keys and self.clock() - self._tried_at >= self.refetch_after:
                await self.fetch()
        return self.keys.get(kid)

    def refresh_if_stale(self) -> None:
        if self.stale() and (self._refreshing is None or self._refreshing.done()):
            self._refreshing = asyncio.get_running_loop().create_task(self._refresh())

    async def _refresh(self) -> None:
        async with self._locked():
            # while the provider cannot be reached, one try per refetch_after (at least a second)
            if self.stale() and self.clock() - self._tried_at >= max(self.refetch_after, 1.0):
                await self.fetch()

    def _locked(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    async def fetch(self) -> None:
        self._tried_at = self.clock()
        self.fetches += 1
        try:
            fetched = await asyncio.to_thread(self.client.get_signing_keys, True)
        except (jwt.PyJWTError, OSError, ValueError) as exc:
            log.warning("the JWKS at %s could not be fetched: %s; the keys held stay in use", self.url, exc)
            return
        keys = {key.key_id: key for key in fetched if key.algorithm_name in ASYMMETRIC}
        if not keys:
            log.warning("the JWKS at %s holds no signing key Zhichan accepts (%s)", self.url, ", ".join(ASYMMETRIC))
            return
        removed = set(self.keys) - set(keys)
        self.keys = keys
        self._loaded_at = self.clock()
        if removed and self.on_removed is not None:
            self.on_removed(removed)


def _refusal(exc: jwt.PyJWTError, issuer: str, audience: str | None) -> str:
    """A 401's detail: what is wrong with the token, in words, never the token itself."""
    if isinstance(exc, jwt.ExpiredSignatureError):
        return "the token has expired"
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"the token has no `{exc.claim}` claim"
    if isinstance(exc, jwt.InvalidIssuerError):
        return f"the token was not issued by {issuer}"
    if isinstance(exc, jwt.InvalidAudienceError):
        return f"the token is not meant for {audience}" if audience else "the token is meant for another audience"
    if isinstance(exc, jwt.ImmatureSignatureError):
        return "the token is not valid yet"
    if isinstance(exc, jwt.InvalidSignatureError):
        return "invalid token: the signature does not verify"
    if isinstance(exc, jwt.InvalidAlgorithmError):
        return "invalid token: its signing algorithm is not accepted"
    return f"invalid token: {exc}"


class TokenVerifier:
    """Verifies bearer tokens, remembering the ones it verified until they expire: a caller
    sends the same token with every request, and checking its signature is costly next to the
    rest of a request (BENCHMARKS.md). A remembered token is only ever accepted before its
    ``exp``, and no longer once the JWKS stops publishing the key that signed it.

    Keys: the JWKS URL, else the PEM public key, else the HS256 secret. With either of the
    first two, an audience is required. Every token needs ``exp``, ``iat``, ``sub`` and ``iss``,
    and ``iss`` must be the configured issuer."""

    REMEMBERED = 4096

    def __init__(self, platform: PlatformSettings) -> None:
        if not (platform.token_secret or platform.jwt_public_key or platform.jwt_jwks_url):
            raise RuntimeError(
                "set ZHICHAN_JWT_SECRET, ZHICHAN_JWT_PUBLIC_KEY or ZHICHAN_JWT_JWKS_URL (or ZHICHAN_DEV_MODE=1)"
            )
        if platform.jwt_public_key and platform.jwt_jwks_url:
            raise RuntimeError("set ZHICHAN_JWT_PUBLIC_KEY or ZHICHAN_JWT_JWKS_URL, not both")
        if (platform.jwt_public_key or platform.jwt_jwks_url) and not platform.jwt_audience:
            raise RuntimeError(
                "set ZHICHAN_JWT_AUDIENCE: the identity provider's tokens are accepted only when meant for Zhichan"
            )
        self.secret = platform.token_secret
        self.public_key = platform.jwt_public_key
        self.issuer = platform.jwt_issuer
        self.audience = platform.jwt_audience
        self.leeway = platform.jwt_leeway_seconds
        self.claims = ClaimMapping.of(platform)
        self.jwks = (
            JwksKeys(
                platform.jwt_jwks_url,
                max_age=platform.jwt_jwks_cache_seconds,
                refetch_after=platform.jwt_jwks_refetch_seconds,
                on_removed=self._forget_keys,
            )
            if platform.jwt_jwks_url
            else None
        )
        self._verified: dict[str, _Verified] = {}  # token → what it was found to say

    async def authenticate(self, token: str) -> User:
        """The caller a token names; 401 if it does not verify. With a JWKS URL, fetches the
        provider's keys (in a thread) when the token names one not held yet."""
        remembered = self._verified.get(token)
        if remembered is not None and time.time() < remembered.exp:
            if self.jwks is not None:
                self.jwks.refresh_if_stale()
            return remembered.user()
        if self.jwks is None:
            return self._verify(token, None)
        kid = _kid_of(token)
        return self._verify(token, await self.jwks.key(kid), kid)

    def verify(self, token: str) -> User:
        """:meth:`authenticate` without fetching: with a JWKS URL, only the keys already held."""
        remembered = self._verified.get(token)
        if remembered is not None and time.time() < remembered.exp:
            return remembered.user()
        if self.jwks is None:
            return self._verify(token, None)
        kid = _kid_of(token)
        return self._verify(token, self.jwks.keys.get(kid), kid)

    def _verify(self, token: str, jwk: jwt.PyJWK | None, kid: str | None = None) -> User:
        if self.jwks is not None and jwk is None:
            raise Unauthorized(f"invalid token: the identity provider has no key {kid[:64]!r}", headers=BEARER)
        claims = self._decode(token, jwk)
        verified = _Verified(
            exp=float(claims["exp"]) + self.leeway,  # as long as jwt.decode would still accept it
            kid=kid,
            sub=claims["sub"],
            iss=claims["iss"],
            roles=self.claims.roles_of(claims),
            regions=self.claims.regions_of(claims),
            department=self.claims.department_of(claims),
        )
        if len(self._verified) >= self.REMEMBERED:
            self._verified.pop(next(iter(self._verified)))  # the oldest goes first
        self._verified[token] = verified
        return verified.user()

    def _decode(self, token: str, jwk: jwt.PyJWK | None) -> dict:
        if jwk is not None:
            key, algorithms = jwk, [jwk.algorithm_name]
        elif self.public_key:
            key, algorithms = self.public_key, ["RS256", "ES256"]
        else:
            key, algorithms = self.secret, ["HS256"]
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": list(REQUIRED_CLAIMS), "verify_aud": bool(self.audience)},
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized(_refusal(exc, self.issuer, self.audience), headers=BEARER) from None
        if not claims["sub"]:
            raise Unauthorized("the token's `sub` claim is empty", headers=BEARER)
        return claims

    def _forget_keys(self, kids: set[str]) -> None:
        for token in [t for t, v in self._verified.items() if v.kid in kids]:
            del self._verified[token]


def _kid_of(token: str) -> str:
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError as exc:
        raise Unauthorized(_refusal(exc, "", None), headers=BEARER) from None
    if not isinstance(kid, str) or not kid:
        raise Unauthorized("invalid token: it names no signing key (`kid`)", headers=BEARER)
    return kid


_bearer = HTTPBearer(auto_error=False, description="JWT from `zhichan token` in development")


# Each of these reads the bearer token itself rather than depending on another of them: FastAPI
# solves every level of a dependency chain per request, and each level costs a request CPU
# (BENCHMARKS.md).
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


async def _user_of_request(request: Request, credentials: HTTPAuthorizationCredentials | None) -> User | None:
    if credentials is None:
        return None
    return await request.app.state.token_verifier.authenticate(credentials.credentials)


async def _signed_in(request: Request, credentials: HTTPAuthorizationCredentials | None) -> User:
    user = await _user_of_request(request, credentials)
    if user is None:
        raise Unauthorized("send Authorization: Bearer <token>", headers=BEARER)
    return user


async def optional_user(request: Request, credentials: Credentials) -> User | None:
    return await _user_of_request(request, credentials)


async def current_user(request: Request, credentials: Credentials) -> User:
    return await _signed_in(request, credentials)


current_user.requires_token = True  # the OpenAPI document says so (zhichan.api.openapi)


CurrentUser = Annotated[User, Depends(current_user)]
OptionalUser = Annotated[User | None, Depends(optional_user)]


def require_roles(*roles: str):
    async def _check(request: Request, credentials: Credentials) -> User:
        user = await _signed_in(request, credentials)
        if not user.has_any_role(roles):
            raise Forbidden(f"this needs one of the roles: {', '.join(roles)}")
        return user

    _check.requires_token = True
    return Depends(_check)


# Who reads and who writes a service's records: the same two everywhere. Defined once, so that a
# route asks for the same dependency as every other route (FastAPI solves it once per request).
Reader = Annotated[User, require_roles("officer", "auditor", "department")]
Writer = Annotated[User, require_roles("officer")]


def require_write_access(user: User, region: str) -> None:
    """Writes outside the caller's regions are refused (403)."""
    if not user.sees(region):
        raise Forbidden(f"region {region} is outside your regions")
