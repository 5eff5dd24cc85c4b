"""Signatures as the Standard Webhooks specification gives them: its own worked example, secrets
in their ``whsec_`` form, and one signature per secret while a rotated one is still honoured."""

from __future__ import annotations

import base64
import time

from standardwebhooks import Webhook

from gateway.webhooks import signing

# The specification's example (standardwebhooks.com, "Signature scheme").
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MESSAGE_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = b'{"test": 2432232314}'


def test_the_specifications_example():
    assert signing.signature(SECRET, MESSAGE_ID, TIMESTAMP, BODY) == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_a_new_secret_is_32_random_bytes_after_its_prefix():
    secret = signing.new_secret()
    assert secret.startswith("whsec_") and len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert signing.new_secret() != secret


def test_two_secrets_sign_side_by_side_and_either_verifies():
    old, new = signing.new_secret(), signing.new_secret()
    timestamp = int(time.time())
    headers = signing.headers([new, old], MESSAGE_ID, timestamp, BODY)
    assert headers["webhook-signature"].count("v1,") == 2
    for secret in (old, new):
        assert Webhook(secret).verify(BODY, headers) == {"test": 2432232314}
