// Sign-in: a token pasted into the form, or a sign-in link /signin?token=… (as `make run` prints).

import { claimsOf, storeToken } from "./api.js";

const params = new URLSearchParams(location.search);
const form = document.getElementById("signin-form");
const error = document.getElementById("signin-error");

function signIn(token) {
  const claims = claimsOf(token.trim());
  if (!claims) {
    error.textContent = "这不是有效的令牌(应为三段以“.”分隔的 JWT)。";
    error.hidden = false;
    return;
  }
  if (typeof claims.exp === "number" && claims.exp * 1000 <= Date.now()) {
    error.textContent = "令牌已过期,请重新生成。";
    error.hidden = false;
    return;
  }
  storeToken(token);
  // replace(): the address with the token leaves the history.
  location.replace("/");
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  signIn(document.getElementById("token").value);
});

if (params.has("token")) signIn(params.get("token"));
