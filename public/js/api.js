// The only module that talks to the API and the only one that knows about
// tokens. Views call the functions below and get plain data or an ApiError.
//
// The access token lives in this module's memory only: nothing is written to
// localStorage/sessionStorage, where an injected script could read it. What
// survives a reload is the refresh token, in an HttpOnly cookie that scripts
// can't read at all (the server sets it when asked with DELIVERY_HEADER).

// Asks the server to send the refresh token as an HttpOnly, SameSite=Strict
// cookie instead of in the body; requests that use the cookie must carry this
// header too, which a cross-site form cannot do.
const DELIVERY_HEADER = { "X-Refresh-Token-Delivery": "cookie" };
// Renew the access token once this share of its lifetime has passed, so a
// request rarely has to fail with 401 first.
const RENEW_AFTER = 0.8;
// The server sets this readable, non-secret cookie next to the HttpOnly refresh
// cookie and clears it with it: without it there is no session to restore, and
// asking would only earn a 401 (and a console error) on every anonymous visit.
const SIGNED_IN_HINT = "signed_in";

let accessToken = null;
let renewAt = 0;
let renewTimer = 0;
let refreshing = null;
// Bumped by logOut(), so an answer to a request sent before it can't
// report the (deliberately) ended session as expired.
let generation = 0;
let sessionExpiredHandler = () => {};

export class ApiError extends Error {
  constructor({ status, code, message, fieldErrors = [], retryAfter = null, roles = [] }) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.fieldErrors = fieldErrors;
    this.retryAfter = retryAfter;
    // ROLES_UNKNOWN names the roles that don't exist (any more).
    this.roles = roles;
    // True when the app has already sent the user to the login view, so
    // the view that made the request has nothing left to show.
    this.sessionExpired = false;
  }
}

/** Called when the session is over: a request got 401 and the refresh cookie didn't help. */
export function onSessionExpired(handler) {
  sessionExpiredHandler = handler;
}

export function isLoggedIn() {
  return accessToken !== null;
}

/** True when the browser holds a refresh cookie (as far as the server's hint says). */
export function hasSessionHint() {
  return document.cookie.split(";").some((pair) => pair.trim().startsWith(`${SIGNED_IN_HINT}=`));
}

/** On page load, or when another tab logged in: trade the refresh cookie (if any) for an access token. */
export function restoreSession() {
  if (!hasSessionHint()) return Promise.resolve("ended");
  return refreshAccessToken();
}

/** Forget the access token without telling the server (another tab has logged out). */
export function forget() {
  accessToken = null;
  generation += 1;
  window.clearTimeout(renewTimer);
}

function keep(tokens) {
  accessToken = tokens.access_token;
  renewAt = Date.now() + tokens.expires_in * 1000 * RENEW_AFTER;
  scheduleRenewal();
}

// Renew quietly before the token expires, so a page left open stays signed in
// and the next click doesn't wait for (or fail on) a renewal.
function scheduleRenewal() {
  window.clearTimeout(renewTimer);
  renewTimer = window.setTimeout(renewQuietly, Math.max(0, renewAt - Date.now()));
}

async function renewQuietly() {
  if (accessToken === null) return;
  const sentIn = generation;
  const outcome = await refreshAccessToken();
  if (outcome === "ended" && sentIn === generation) {
    accessToken = null;
    sessionExpiredHandler();
  }
}

// Background tabs throttle timers; catch up as soon as the tab is seen again.
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && accessToken !== null && Date.now() >= renewAt) renewQuietly();
});

/**
 * A new access token from the refresh cookie: "renewed", "ended" (the server
 * refused: the session is over) or "offline". Concurrent callers share one
 * request, and tabs take turns (Web Locks), because each refresh replaces the
 * cookie they all share.
 */
function refreshAccessToken() {
  const attempt = async () => {
    if (!hasSessionHint()) {
      accessToken = null;
      return "ended";
    }
    try {
      const response = await fetch("/v1/users/refresh", {
        method: "POST",
        headers: { Accept: "application/json", ...DELIVERY_HEADER },
        credentials: "same-origin",
        cache: "no-store",
      });
      if (!response.ok) {
        await response.text(); // read to the end, so the request counts as finished
        accessToken = null;
        return "ended";
      }
      keep(await response.json());
      return "renewed";
    } catch {
      return "offline"; // keep the token we have, it may still work
    }
  };
  refreshing ??= (navigator.locks ? navigator.locks.request("account-refresh", attempt) : attempt()).finally(() => {
    refreshing = null;
  });
  return refreshing;
}

/** Signs in, or answers the `mfa_required` body of a login a plugin holds for a second step. */
export async function logIn(email, password) {
  const answer = await request("POST", "/v1/users/login", {
    body: { email, password },
    auth: false,
    headers: DELIVERY_HEADER,
  });
  if (answer?.mfa_required) return answer;
  signIn(answer);
  return null;
}

/** Keep the access token from a login answer (any sign-in method; plugins use it too). */
export function signIn(tokens) {
  generation += 1;
  keep(tokens);
}

/** End the session on the server (which also clears the cookie) and forget the token. */
export async function logOut() {
  const headers = { Accept: "application/json", ...DELIVERY_HEADER };
  if (accessToken !== null) headers.Authorization = `Bearer ${accessToken}`;
  forget();
  try {
    // Always 204; with an expired bearer token the cookie names the session.
    const response = await fetch("/v1/users/logout", { method: "POST", headers, credentials: "same-origin" });
    // Read to the end, so the request counts as finished: a navigation right after
    // would otherwise report it cancelled.
    await response.text();
  } catch {
    // Offline: the session ends on its own when the refresh token expires.
  }
}

export function register(email, password) {
  return request("POST", "/v1/users/", { body: { email, password }, auth: false });
}

/** Always answers the same, whether or not the account exists. */
export function requestPasswordReset(email) {
  return request("POST", "/v1/users/forgot-password", { body: { email }, auth: false });
}

/** Every session of the account ends, this one included. */
export async function resetPassword(token, password) {
  await request("POST", "/v1/users/reset-password", { body: { token, password }, auth: false });
  forget();
}

export function verifyEmail(token) {
  return request("POST", "/v1/users/verify", { body: { token }, auth: false });
}

export function sendVerificationEmail() {
  return request("POST", "/v1/users/me/verification-email");
}

/** The account's live sessions; `current` marks this browser's. */
export function listSessions() {
  return request("GET", "/v1/users/me/sessions");
}

/** name: the user's label for the device; "" clears it. */
export function renameSession(id, name) {
  return request("PATCH", `/v1/users/me/sessions/${encodeURIComponent(id)}`, { body: { name } });
}

export function endSession(id) {
  return request("DELETE", `/v1/users/me/sessions/${encodeURIComponent(id)}`);
}

export function endOtherSessions() {
  return request("DELETE", "/v1/users/me/sessions");
}

export function getMe() {
  return request("GET", "/v1/users/me");
}

/** changes: {email?, password?}; the server always wants the current password. */
export function updateMe(changes, currentPassword) {
  return request("PATCH", "/v1/users/me", { body: { ...changes, current_password: currentPassword } });
}

/** The server also clears the refresh cookie, so the next page load asks nothing. */
export async function deleteMe(currentPassword) {
  await request("DELETE", "/v1/users/me", {
    body: { current_password: currentPassword },
    headers: DELIVERY_HEADER,
  });
  forget();
}

/** The account's security events, newest first: {items, next_offset}. */
export function listMyEvents({ limit = 20, offset = 0 } = {}) {
  return request("GET", `/v1/users/me/events?limit=${limit}&offset=${offset}`);
}

export function listUsers({ email = "", limit = 20, offset = 0 } = {}) {
  const query = new URLSearchParams({ limit: String(limit), offset: String(offset) });
  if (email) query.set("email", email);
  return request("GET", `/v1/users/?${query}`);
}

/** changes: any of {email, password, is_active, is_superuser, is_verified}. */
export function updateUser(id, changes) {
  return request("PATCH", `/v1/users/${encodeURIComponent(id)}`, { body: changes });
}

export function deleteUser(id) {
  return request("DELETE", `/v1/users/${encodeURIComponent(id)}`);
}

export function listUserSessions(id) {
  return request("GET", `/v1/users/${encodeURIComponent(id)}/sessions`);
}

export function endUserSessions(id) {
  return request("DELETE", `/v1/users/${encodeURIComponent(id)}/sessions`);
}

export function sendResetLink(id) {
  return request("POST", `/v1/users/${encodeURIComponent(id)}/reset-password-email`);
}

export function listRoles() {
  return request("GET", "/v1/roles");
}

export function createRole(name, description) {
  return request("POST", "/v1/roles", { body: { name, description } });
}

export function deleteRole(name) {
  return request("DELETE", `/v1/roles/${encodeURIComponent(name)}`);
}

/** Replaces the user's roles; answers them sorted. */
export function setUserRoles(id, names) {
  return request("PUT", `/v1/users/${encodeURIComponent(id)}/roles`, { body: names });
}

/** Plain JSON helpers for plugins: the bearer token, renewal and ApiError, like the core views. */
export function listServiceKeys() {
  return request("GET", "/v1/service-keys");
}

/** The answer holds the key itself, the only time it is ever shown. */
export function createServiceKey(name) {
  return request("POST", "/v1/service-keys", { body: { name } });
}

export function revokeServiceKey(id) {
  return request("DELETE", `/v1/service-keys/${encodeURIComponent(id)}`);
}

export const http = Object.freeze({
  get: (path) => request("GET", path),
  post: (path, body, { auth = true, headers = {} } = {}) => request("POST", path, { body, auth, headers }),
  patch: (path, body) => request("PATCH", path, { body }),
  del: (path, body) => request("DELETE", path, { body }),
});

async function request(method, path, { body, auth = true, headers = {} } = {}) {
  const sentIn = generation;
  let refreshed = false;
  if (auth && accessToken !== null && Date.now() >= renewAt) {
    refreshed = true;
    await refreshAccessToken();
  }
  let response = await send(method, path, body, auth, headers);
  if (response.status === 401 && auth && !refreshed && (await refreshAccessToken()) === "renewed") {
    response = await send(method, path, body, auth, headers);
  }
  if (response.ok) {
    return response.status === 204 ? null : response.json();
  }
  const error = await toApiError(response);
  if (response.status === 401 && auth) {
    error.sessionExpired = true;
    if (sentIn === generation) {
      accessToken = null;
      sessionExpiredHandler();
    }
  }
  throw error;
}

async function send(method, path, body, auth, extraHeaders) {
  const headers = { Accept: "application/json", ...extraHeaders };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (auth && accessToken !== null) headers.Authorization = `Bearer ${accessToken}`;
  try {
    return await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch {
    throw new ApiError({ status: 0, code: "NETWORK_ERROR", message: "The server could not be reached." });
  }
}

async function toApiError(response) {
  let data = {};
  try {
    data = await response.json();
  } catch {
    // A proxy error page or an empty body: fall back to the status alone.
  }
  const retryAfter = Number.parseInt(response.headers.get("Retry-After") ?? "", 10);
  return new ApiError({
    status: response.status,
    code: typeof data.code === "string" ? data.code : fallbackCode(response.status),
    message: typeof data.message === "string" ? data.message : "",
    fieldErrors: Array.isArray(data.errors) ? data.errors : [],
    retryAfter: Number.isFinite(retryAfter) ? retryAfter : null,
    roles: Array.isArray(data.roles) ? data.roles.filter((name) => typeof name === "string") : [],
  });
}

function fallbackCode(status) {
  if (status === 401) return "UNAUTHORIZED";
  if (status === 403) return "FORBIDDEN";
  if (status === 413) return "REQUEST_TOO_LARGE";
  if (status === 429) return "TOO_MANY_REQUESTS";
  return status >= 500 ? "SERVER_ERROR" : "UNKNOWN_ERROR";
}
