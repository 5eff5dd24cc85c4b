// Sign-in: a token pasted into the form, or a sign-in link /signin#token=… (as `make run` prints).
// The token rides in the fragment, which the browser sends to no server: not in a request line,
// so in no access log, and not in a Referer. A token in the query (/signin?token=…, the old
// links) reached the server and its logs: it no longer signs in.

import { claimsOf, storeToken } from "./api.js";

const form = document.getElementById("signin-form");
const error = document.getElementById("signin-error");

function showError(message) {
  error.textContent = message;
  error.hidden = false;
}

function signIn(token) {
  const claims = claimsOf(token.trim());
  if (!claims) {
    showError("这不是有效的令牌(应为三段以“.”分隔的 JWT)。");
    return;
  }
  if (typeof claims.exp === "number" && claims.exp * 1000 <= Date.now()) {
    showError("令牌已过期,请重新生成。");
    return;
  }
  storeToken(token);
  // replace(): the sign-in page leaves the history.
  location.replace("/");
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  signIn(document.getElementById("token").value);
});

const fromLink = new URLSearchParams(location.hash.slice(1)).get("token");
const fromQuery = new URLSearchParams(location.search).has("token");
if (fromLink !== null || fromQuery) {
  // Off the address bar and the history at once, whatever becomes of the token.
  history.replaceState(null, "", location.pathname);
}
if (fromLink !== null) {
  signIn(fromLink);
} else if (fromQuery) {
  showError("旧式登录链接(?token=…)已停用:请使用新的登录链接(/signin#token=…),或在此粘贴令牌。");
}
