"""Tokens of an identity provider, verified by the keys it publishes at its JWKS URL (served here
on a local port, as Keycloak serves them): rotation, issuer, audience, required claims, where the
provider puts roles and regions. Every refusal is a 401 problem with a detail and a Bearer
challenge, never the token."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import jwt
import pytest
from fastapi import FastAPI

from zhichan.api.problems import PROBLEM_JSON, Unauthorized, install_problem_handlers
from zhichan.auth import CurrentUser, TokenVerifier
from zhichan.testing import IdentityProvider, wait_for


@pytest.fixture
def provider():
    idp = IdentityProvider()
    with idp.serving():
        yield idp


def app_for(verifier: TokenVerifier) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.state.token_verifier = verifier

    @app.get("/me")
    async def me(user: CurrentUser) -> dict:
        return user.model_dump()

    return app


async def me(verifier: TokenVerifier, token: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app_for(verifier))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get("/me", headers={"Authorization": f"Bearer {token}"})


def assert_refused(response: httpx.Response, token: str, detail: str) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.headers["www-authenticate"] == "Bearer"
    body = response.json()
    assert detail in body["detail"], body
    assert all(part not in response.text for part in token.split(".") if len(part) > 8)


async def test_a_token_signed_with_a_key_of_the_jwks_is_accepted(provider, tmp_path):
    verifier = TokenVerifier(provider.settings(tmp_path))
    answer = await me(verifier, provider.token(sub="alice", roles=["officer"], regions=["321100"]))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "sub": "alice",
        "roles": ["officer"],
        "regions": ["321100"],
        "department": None,
        "iss": provider.issuer,
    }
    assert provider.requests == 1


async def test_a_rotated_key_is_fetched_and_the_retired_one_no_longer_verifies(provider, tmp_path):
    verifier = TokenVerifier(provider.settings(tmp_path, jwt_jwks_refetch_seconds=0))
    old = provider.token(roles=["officer"])
    assert (await me(verifier, old)).status_code == 200
    old_kid = provider.kid

    provider.rotate()
    provider.retire(old_kid)
    new = provider.token(roles=["officer"])
    assert (await me(verifier, new)).status_code == 200, "the unknown kid fetched the keys again"
    assert provider.requests == 2

    assert_refused(await me(verifier, old), old, f"the identity provider has no key '{old_kid}'")


async def test_an_unknown_kid_fetches_the_keys_at_most_once_per_interval(provider, tmp_path):
    verifier = TokenVerifier(provider.settings(tmp_path, jwt_jwks_refetch_seconds=3600))
    assert (await me(verifier, provider.token())).status_code == 200
    for kid in ("made-up-1", "made-up-2", "made-up-3"):
        token = jwt.encode({"sub": "x"}, provider.keys[provider.kid], algorithm="RS256", headers={"kid": kid})
        assert_refused(await me(verifier, token), token, "has no key")
    assert provider.requests == 1, "within the interval, made-up kids cost the provider nothing"


async def test_a_rotated_key_waits_for_the_interval_then_is_fetched(provider, tmp_path):
    verifier = TokenVerifier(provider.settings(tmp_path, jwt_jwks_refetch_seconds=30))
    assert (await me(verifier, provider.token())).status_code == 200
    provider.rotate()
    new = provider.token()
    assert provider.requests == 1
    verifier.jwks.clock = lambda: time.monotonic() + 31
    assert (await me(verifier, new)).status_code == 200
    assert provider.requests == 2


async def test_keys_past_their_age_are_fetched_in_the_background_and_a_retired_one_is_forgotten(provider, tmp_path):
    verifier = TokenVerifier(provider.settings(tmp_path, jwt_jwks_cache_seconds=0.05, jwt_jwks_refetch_seconds=0))
    old = provider.token()
    assert (await me(verifier, old)).status_code == 200
    provider.rotate()
    provider.retire(provider.published[0])

    async def refused() -> bool:
        return (await me(verifier, old)).status_code == 401

    await wait_for(refused, timeout=5, what="the remembered token of a retired key to be refused")


async def test_fetching_the_keys_does_not_block_the_event_loop(provider, tmp_path):
    verifier = TokenVerifier(provider.settings(tmp_path))
    provider.hold = threading.Event()
    verifying = asyncio.create_task(verifier.authenticate(provider.token()))

    async def asked() -> bool:
        return provider.requests == 1

    await wait_for(asked, what="the JWKS request")
    ticks = 0
    for _ in range(5):  # the loop goes on while the JWKS request hangs
        await asyncio.sleep(0.01)
        ticks += 1
    assert ticks == 5 and not verifying.done()
    provider.hold.set()
    assert (await verifying).sub == "user-1"


async def test_a_token_of_another_issuer_is_refused(provider, tmp_path):
    verifier = TokenVerifier(provider.settings(tmp_path))
    token = provider.token(iss="https://sso.elsewhere.example/realms/zhichan")
    assert_refused(await me(verifier, token), token, f"the token was not issued by {provider.issuer}")


@pytest.mark.parametrize("claim", ["exp", "iat", "sub", "iss"])
async def test_a_token_without_a_required_claim_is_refused(provider, tmp_path, claim):
    verifier = TokenVerifier(provider.settings(tmp_path))
    token = provider.token(omit=(claim,))
    assert_refused(await me(verifier, token), token, f"the token has no `{claim}` claim")


async def test_a_token_for_another_audience_or_none_is_refused(provider, tmp_path):
    verifier = TokenVerifier(provider.settings(tmp_path))
    other = provider.token(aud="account")
    assert_refused(await me(verifier, other), other, "the token is not meant for zhichan")
    missing = provider.token(omit=("aud",))
    assert_refused(await me(verifier, missing), missing, "the token has no `aud` claim")


async def test_an_expired_or_forged_token_is_refused(provider, tmp_path):
    verifier = TokenVerifier(provider.settings(tmp_path))
    expired = provider.token(hours=-1)
    assert_refused(await me(verifier, expired), expired, "the token has expired")
    stranger = IdentityProvider(provider.issuer)
    forged = stranger.token(kid=stranger.kid)  # the same kid "key-1", another key
    assert_refused(await me(verifier, forged), forged, "the signature does not verify")
    garbage = "not-a-jwt"
    assert_refused(await me(verifier, garbage), garbage, "invalid token")


async def test_an_hs256_token_is_not_taken_for_one_of_the_provider(provider, tmp_path):
    verifier = TokenVerifier(provider.settings(tmp_path))
    public = provider.jwks()["keys"][0]["n"]
    token = jwt.encode(
        {"sub": "mallory", "iss": provider.issuer, "aud": "zhichan", "iat": 0, "exp": 2**40},
        public + "-padding-to-make-it-long-enough",
        algorithm="HS256",
        headers={"kid": provider.kid},
    )
    assert_refused(await me(verifier, token), token, "algorithm is not accepted")


async def test_roles_regions_and_department_where_keycloak_puts_them(provider, tmp_path):
    verifier = TokenVerifier(
        provider.settings(
            tmp_path,
            jwt_roles_claim="realm_access.roles",
            jwt_regions_claim="zhichan_regions",
            jwt_department_claim="attributes.department",
            jwt_role_map={"zhichan-officer": "officer", "zhichan-auditor": "auditor", "admin": "auditor"},
        )
    )
    keycloak_shaped = provider.token(
        sub="6f1c2c57-8d0e-4a5e-9f6b-0d2a4b1c9e11",
        typ="Bearer",
        azp="zhichan",
        preferred_username="wang.fang",
        realm_access={"roles": ["offline_access", "uma_authorization", "zhichan-officer", "admin"]},
        resource_access={"account": {"roles": ["manage-account"]}},
        zhichan_regions=["321100", "321200"],
        attributes={"department": ["市市场监管局(知识产权局)"]},
        roles=["admin"],  # a claim of the same name elsewhere counts for nothing
    )
    user = await verifier.authenticate(keycloak_shaped)
    assert user.sub == "6f1c2c57-8d0e-4a5e-9f6b-0d2a4b1c9e11"
    assert user.roles == ["officer", "auditor"], "mapped names only: the provider's admin is our auditor"
    assert user.regions == ["321100", "321200"]
    assert user.department == "市市场监管局(知识产权局)"


async def test_without_a_role_map_roles_are_taken_by_name_and_a_string_is_split(provider, tmp_path):
    verifier = TokenVerifier(provider.settings(tmp_path, jwt_roles_claim="scope", jwt_regions_claim="regions"))
    user = await verifier.authenticate(provider.token(scope="openid officer email", regions="321100, 321200"))
    assert user.roles == ["officer"] and user.regions == ["321100", "321200"]


async def test_a_namespaced_claim_with_dots_is_read_whole(provider, tmp_path):
    verifier = TokenVerifier(provider.settings(tmp_path, jwt_roles_claim="https://zhichan.example/roles"))
    user = await verifier.authenticate(provider.token(**{"https://zhichan.example/roles": ["auditor"]}))
    assert user.roles == ["auditor"]


async def test_a_public_key_verifies_the_provider_s_tokens(provider, tmp_path):
    verifier = TokenVerifier(provider.settings(tmp_path, jwt_jwks_url=None, jwt_public_key=provider.public_pem()))
    assert (await verifier.authenticate(provider.token(roles=["auditor"]))).roles == ["auditor"]
    with pytest.raises(Unauthorized, match="not issued by"):
        await verifier.authenticate(provider.token(iss="someone-else"))


def test_a_provider_s_keys_without_an_audience_refuse_to_start(provider, tmp_path):
    for keys in ({"jwt_jwks_url": provider.jwks_url}, {"jwt_jwks_url": None, "jwt_public_key": provider.public_pem()}):
        with pytest.raises(RuntimeError, match="set ZHICHAN_JWT_AUDIENCE"):
            TokenVerifier(provider.settings(tmp_path, jwt_audience=None, **keys))


def test_a_public_key_and_a_jwks_url_together_refuse_to_start(provider, tmp_path):
    with pytest.raises(RuntimeError, match="not both"):
        TokenVerifier(provider.settings(tmp_path, jwt_public_key=provider.public_pem()))
