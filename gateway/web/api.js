// Talking to the gateway: the signed-in user's token, conditional GETs, live updates.

const TOKEN_KEY = "zhichan.token";

export function storeToken(token) {
  localStorage.setItem(TOKEN_KEY, token.trim());
  forgetAnswers();
}

export function signOut() {
  localStorage.removeItem(TOKEN_KEY);
  forgetAnswers();
}

// The token's claims, for display only: the gateway checks the signature and scopes every answer.
export function claimsOf(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const binary = atob(part.padEnd(Math.ceil(part.length / 4) * 4, "="));
    const claims = JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))));
    return claims && typeof claims === "object" ? claims : null;
  } catch {
    return null;
  }
}

// {token, sub, roles, regions, department}, {expired: true}, or null when nobody signed in.
export function currentUser() {
  const token = localStorage.getItem(TOKEN_KEY);
  if (!token) return null;
  const claims = claimsOf(token);
  if (!claims) return { invalid: true };
  if (typeof claims.exp === "number" && claims.exp * 1000 <= Date.now()) return { expired: true };
  return {
    token,
    sub: String(claims.sub ?? ""),
    roles: Array.isArray(claims.roles) ? claims.roles : [],
    regions: Array.isArray(claims.regions) ? claims.regions : [],
    department: claims.department ?? null,
  };
}

export function isAdmin(user) {
  return Boolean(user?.roles?.includes("admin"));
}

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

// url → {etag, body}: the last answer of each view, so a poll that finds nothing new costs a 304.
const answers = new Map();

function forgetAnswers() {
  answers.clear();
}

function headersFor(user) {
  const headers = { Accept: "application/json" };
  if (user?.token) headers.Authorization = `Bearer ${user.token}`;
  return headers;
}

// {body, changed}: changed is false when the gateway answered 304 (the view did not move).
export async function getJSON(url, user) {
  const headers = headersFor(user);
  const known = answers.get(url);
  if (known) headers["If-None-Match"] = known.etag;
  const resp = await fetch(url, { headers, cache: "no-store" });
  if (resp.status === 304 && known) return { body: known.body, changed: false };
  if (!resp.ok) {
    let problem = null;
    try {
      problem = await resp.json();
    } catch {
      // not JSON: the status says enough
    }
    throw new ApiError(resp.status, problem);
  }
  const body = await resp.json();
  const etag = resp.headers.get("ETag");
  if (etag) answers.set(url, { etag, body });
  return { body, changed: true };
}

// A write: the answer's JSON, or an ApiError carrying the problem the gateway answered.
export async function sendJSON(method, url, body, user) {
  const headers = headersFor(user);
  if (body !== null && body !== undefined) headers["Content-Type"] = "application/json";
  const resp = await fetch(url, { method, headers, body: body === null || body === undefined ? undefined : JSON.stringify(body) });
  if (!resp.ok) {
    let problem = null;
    try {
      problem = await resp.json();
    } catch {
      // not JSON: the status says enough
    }
    throw new ApiError(resp.status, problem);
  }
  forgetAnswers(); // the views that showed the record before the write are stale
  return resp.json();
}

// A POST without a body (an action on a record).
export function postAction(url, user) {
  return sendJSON("POST", url, null, user);
}

// A file behind the token (an <a href> cannot send the Authorization header).
export async function download(url, user, filename) {
  const resp = await fetch(url, { headers: headersFor(user) });
  if (!resp.ok) throw new ApiError(resp.status, null);
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await resp.blob());
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") search.set(key, value);
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

// Calls onChange when the read model may have moved. The gateway's stream says so at once; a
// conditional poll backs it up, slowly while the stream is open (a stream only hears the
// events its own gateway replica applied, and a proxy may buffer it) and briskly when it is not.
export function watchChanges(onChange, { streamUrl = "/api/progress/stream", pollMs = 5000, backupMs = 20000 } = {}) {
  let timer = null;
  const setMode = (mode, every) => {
    document.body.dataset.live = mode;
    clearInterval(timer);
    timer = setInterval(onChange, every);
  };
  if (!("EventSource" in window)) {
    setMode("poll", pollMs);
    return;
  }
  const source = new EventSource(streamUrl);
  let connectedBefore = false;
  source.addEventListener("hello", () => {
    setMode("sse", backupMs);
    if (connectedBefore) onChange(); // events may have been applied while the stream was down
    connectedBefore = true;
  });
  source.addEventListener("applied", () => onChange());
  // EventSource reconnects by itself; its next "hello" switches back from polling.
  source.addEventListener("error", () => setMode("poll", pollMs));
}
