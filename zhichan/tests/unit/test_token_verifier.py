"""Bearer tokens: verified once, remembered until they expire, never past it; the claims every
token needs, the issuer and audience, and the secret's length."""

from __future__ import annotations

import jwt
import pytest
from pydantic import ValidationError

from zhichan import auth, cli
from zhichan.api.problems import Unauthorized
from zhichan.auth import TokenVerifier, issue_token
from zhichan.settings import DEV_JWT_SECRET, PlatformSettings


def verifier() -> TokenVerifier:
    return TokenVerifier(PlatformSettings(dev_mode=True))


def test_a_token_is_verified_once_and_remembered(monkeypatch):
    v = verifier()
    token = issue_token(DEV_JWT_SECRET, sub="alice", roles=["officer", "nonsense"], regions=["321100"])
    decodes = []
    real_decode = jwt.decode
    monkeypatch.setattr(auth.jwt, "decode", lambda *a, **k: decodes.append(1) or real_decode(*a, **k))

    first, second = v.verify(token), v.verify(token)

    assert len(decodes) == 1
    assert first == second
    assert (second.sub, second.roles, second.regions) == ("alice", ["officer"], ["321100"])
    second.regions.append("110000")  # each request gets its own User
    assert v.verify(token).regions == ["321100"]


def test_a_remembered_token_is_refused_once_it_expires(monkeypatch):
    v = verifier()
    token = issue_token(DEV_JWT_SECRET, sub="alice", roles=["officer"], regions=[], hours=1)
    v.verify(token)
    expires = jwt.decode(token, options={"verify_signature": False})["exp"]
    past_leeway = expires + v.leeway + 1
    monkeypatch.setattr(auth.time, "time", lambda: past_leeway)
    monkeypatch.setattr(jwt.api_jwt, "datetime", _frozen_datetime(past_leeway))

    with pytest.raises(Unauthorized, match="expired"):
        v.verify(token)


def test_a_few_seconds_of_clock_skew_are_tolerated(monkeypatch):
    v = verifier()
    assert v.leeway == 30  # ZHICHAN_JWT_LEEWAY_SECONDS
    token = issue_token(DEV_JWT_SECRET, sub="alice", roles=["officer"], regions=[], hours=1)
    claims = jwt.decode(token, options={"verify_signature": False})
    # the provider's clock 10 s ahead: issued "in the future" for this process
    monkeypatch.setattr(jwt.api_jwt, "datetime", _frozen_datetime(claims["iat"] - 10))
    assert v.verify(token).sub == "alice"
    # and 10 s past its expiry by this process's clock, fresh (not remembered)
    fresh = verifier()
    monkeypatch.setattr(auth.time, "time", lambda: claims["exp"] + 10)
    monkeypatch.setattr(jwt.api_jwt, "datetime", _frozen_datetime(claims["exp"] + 10))
    assert fresh.verify(token).sub == "alice"


def test_a_bad_token_is_refused_every_time():
    v = verifier()
    forged = issue_token("another secret, long enough for HMAC-SHA256", sub="mallory", roles=["admin"], regions=[])
    for _ in range(2):
        with pytest.raises(Unauthorized, match="invalid token"):
            v.verify(forged)


def test_the_memory_is_bounded(monkeypatch):
    v = verifier()
    monkeypatch.setattr(TokenVerifier, "REMEMBERED", 3)
    tokens = [issue_token(DEV_JWT_SECRET, sub=f"u{i}", roles=["officer"], regions=[]) for i in range(5)]
    for token in tokens:
        v.verify(token)
    assert list(v._verified) == tokens[2:]


def _frozen_datetime(epoch: float):
    from datetime import UTC, datetime

    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.fromtimestamp(epoch, tz or UTC)

    return Frozen


def test_an_hs256_secret_shorter_than_32_bytes_is_refused_by_the_settings():
    with pytest.raises(ValidationError, match="ZHICHAN_JWT_SECRET is 31 bytes long; an HS256 secret needs at least 32"):
        PlatformSettings(jwt_secret="s" * 31)
    assert PlatformSettings(jwt_secret="s" * 32).token_secret == "s" * 32
    with pytest.raises(ValidationError, match="31 bytes"):  # bytes, not characters
        PlatformSettings(jwt_secret="密" * 10 + "s")
    assert len(DEV_JWT_SECRET.encode()) >= 32 and PlatformSettings(dev_mode=True).token_secret == DEV_JWT_SECRET


def test_an_empty_variable_is_an_unset_one(monkeypatch):
    # docker compose passes ZHICHAN_JWT_PUBLIC_KEY=${ZHICHAN_JWT_PUBLIC_KEY:-}: empty unless set
    monkeypatch.setenv("ZHICHAN_JWT_PUBLIC_KEY", "")
    monkeypatch.setenv("ZHICHAN_JWT_JWKS_URL", "")
    platform = PlatformSettings(jwt_secret="s" * 32)
    assert platform.jwt_public_key is None and platform.jwt_jwks_url is None
    TokenVerifier(platform)  # starts: HS256, no audience needed


@pytest.mark.parametrize("claim", ["exp", "iat", "sub", "iss"])
def test_a_development_token_without_a_required_claim_is_refused(claim):
    claims = jwt.decode(
        issue_token(DEV_JWT_SECRET, sub="alice", roles=["officer"], regions=[]), options={"verify_signature": False}
    )
    del claims[claim]
    with pytest.raises(Unauthorized, match=f"the token has no `{claim}` claim") as refused:
        verifier().verify(jwt.encode(claims, DEV_JWT_SECRET, algorithm="HS256"))
    assert refused.value.headers == {"WWW-Authenticate": "Bearer"}


def test_a_token_of_another_issuer_is_refused_and_the_issuer_is_a_setting():
    theirs = issue_token(DEV_JWT_SECRET, sub="alice", roles=["officer"], regions=[], issuer="someone-else")
    with pytest.raises(Unauthorized, match="the token was not issued by zhichan-dev"):
        verifier().verify(theirs)
    assert TokenVerifier(PlatformSettings(dev_mode=True, jwt_issuer="someone-else")).verify(theirs).sub == "alice"


def test_an_audience_set_with_the_secret_is_checked():
    v = TokenVerifier(PlatformSettings(dev_mode=True, jwt_audience="zhichan"))
    mine = issue_token(DEV_JWT_SECRET, sub="alice", roles=[], regions=[], audience="zhichan")
    assert v.verify(mine).sub == "alice"
    with pytest.raises(Unauthorized, match="the token has no `aud` claim"):
        v.verify(issue_token(DEV_JWT_SECRET, sub="alice", roles=[], regions=[]))
    with pytest.raises(Unauthorized, match="the token is not meant for zhichan"):
        v.verify(issue_token(DEV_JWT_SECRET, sub="alice", roles=[], regions=[], audience="other"))


def test_zhichan_token_signs_with_the_issuer_and_audience_the_processes_expect(monkeypatch, capsys):
    monkeypatch.delenv("ZHICHAN_JWT_SECRET", raising=False)
    monkeypatch.delenv("ZHICHAN_JWT_ISSUER", raising=False)
    monkeypatch.delenv("ZHICHAN_JWT_AUDIENCE", raising=False)
    cli.main(["token", "--role", "officer", "--region", "321100"])
    token = capsys.readouterr().out.strip()
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iss"] == "zhichan-dev" and {"exp", "iat", "sub"} <= set(claims)
    assert verifier().verify(token).regions == ["321100"]

    monkeypatch.setenv("ZHICHAN_JWT_ISSUER", "zhichan-prod")
    monkeypatch.setenv("ZHICHAN_JWT_AUDIENCE", "zhichan")
    cli.main(["token", "--role", "auditor"])
    token = capsys.readouterr().out.strip()
    platform = PlatformSettings(dev_mode=True, jwt_issuer="zhichan-prod", jwt_audience="zhichan")
    assert TokenVerifier(platform).verify(token).roles == ["auditor"]
