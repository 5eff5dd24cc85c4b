"""The command line signs tokens the processes of its environment accept: their secret, issuer
and audience, for `zhichan token` as for `import-plan`, `demo` and `run`."""

import jwt

from zhichan import cli
from zhichan.settings import DEV_JWT_ISSUER, DEV_JWT_SECRET

SECRET = "an-operator-secret-of-at-least-thirty-two-bytes"


def claims(token: str, secret: str, audience: str | None = None) -> dict:
    return jwt.decode(token, secret, algorithms=["HS256"], audience=audience)


def test_the_environment_names_the_secret_issuer_and_audience(monkeypatch):
    monkeypatch.setenv("ZHICHAN_JWT_SECRET", SECRET)
    monkeypatch.setenv("ZHICHAN_JWT_ISSUER", "https://idp.example.gov.cn/realms/zhichan")
    monkeypatch.setenv("ZHICHAN_JWT_AUDIENCE", "zhichan")
    signed = claims(cli.local_signer().issue(sub="ops", roles=["admin"], regions=[]), SECRET, "zhichan")
    assert (signed["iss"], signed["aud"], signed["sub"]) == (
        "https://idp.example.gov.cn/realms/zhichan",
        "zhichan",
        "ops",
    )


def test_without_settings_the_development_secret_and_issuer(monkeypatch):
    for name in ("ZHICHAN_JWT_SECRET", "ZHICHAN_JWT_ISSUER", "ZHICHAN_JWT_AUDIENCE"):
        monkeypatch.delenv(name, raising=False)
    signed = claims(cli.local_signer().issue(sub="dev", roles=["officer"], regions=["321100"]), DEV_JWT_SECRET)
    assert signed["iss"] == DEV_JWT_ISSUER and "aud" not in signed
