"""Bearer tokens: verified once, remembered until they expire, never past it."""

from __future__ import annotations

import jwt
import pytest

from zhichan import auth
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
    monkeypatch.setattr(auth.time, "time", lambda: expires + 1)
    monkeypatch.setattr(jwt.api_jwt, "datetime", _frozen_datetime(expires + 1))

    with pytest.raises(Unauthorized, match="expired"):
        v.verify(token)


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
