// The only module that talks to the API and the only one that knows about
// tokens. Views call the functions below and get plain data or an ApiError.
//
// The access token lives in this module's memory on purpose: nothing is
// written to localStorage/sessionStorage, so an injected script can't read a
// stored token and a reload starts logged out. A later change adds an
// HttpOnly refresh cookie; it plugs in at refreshAccessToken() and
// restoreSession() without touching the views.

let accessToken = null;
let sessionExpiredHandler = () => {};

export class ApiError extends Error {
  constructor({ status, code, message, fieldErrors = [], retryAfter = null }) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.fieldErrors = fieldErrors;
    this.retryAfter = retryAfter;
    // True when the app has already sent the user to the login view, so
    // the view that made the request has nothing left to show.
    this.sessionExpired = false;
  }
}

/** Called once when an authenticated request is refused with 401. */
export function onSessionExpired(handler) {
  sessionExpiredHandler = handler;
}

export function isLoggedIn() {
  return accessToken !== null;
}

/**
 * Try to get an access token without asking for the password.
 * Always false until the refresh cookie exists.
 */
export async function restoreSession() {
  return refreshAccessToken();
}

async function refreshAccessToken() {
  return false;
}

export async function logIn(email, password) {
  const body = await request("POST", "/v1/users/login", { body: { email, password }, auth: false });
  accessToken = body.access_token;
}

/** Forget the token here and end the session on the server too. */
export async function logOut() {
  const token = accessToken;
  accessToken = null;
  if (token === null) return;
  try {
    // Always 204; it also clears the refresh cookie once there is one.
    await fetch("/v1/users/logout", {
      method: "POST",
      headers: { Accept: "application/json", Authorization: `Bearer ${token}` },
      credentials: "same-origin",
    });
  } catch {
    // Offline: the access token still runs out on its own.
  }
}

export function register(email, password) {
  return request("POST", "/v1/users/", { body: { email, password }, auth: false });
}

export function getMe() {
  return request("GET", "/v1/users/me");
}

/** changes: {email?, password?}; the server always wants the current password. */
export function updateMe(changes, currentPassword) {
  return request("PATCH", "/v1/users/me", { body: { ...changes, current_password: currentPassword } });
}

export async function deleteMe(currentPassword) {
  await request("DELETE", "/v1/users/me", { body: { current_password: currentPassword } });
  accessToken = null;
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

async function request(method, path, { body, auth = true } = {}) {
  let response = await send(method, path, body, auth);
  if (response.status === 401 && auth && (await refreshAccessToken())) {
    response = await send(method, path, body, auth);
  }
  if (response.ok) {
    return response.status === 204 ? null : response.json();
  }
  const error = await toApiError(response);
  if (response.status === 401 && auth) {
    accessToken = null;
    error.sessionExpired = true;
    sessionExpiredHandler();
  }
  throw error;
}

async function send(method, path, body, auth) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (auth && accessToken) headers.Authorization = `Bearer ${accessToken}`;
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
  });
}

function fallbackCode(status) {
  if (status === 401) return "UNAUTHORIZED";
  if (status === 403) return "FORBIDDEN";
  if (status === 413) return "REQUEST_TOO_LARGE";
  if (status === 429) return "TOO_MANY_REQUESTS";
  return status >= 500 ? "SERVER_ERROR" : "UNKNOWN_ERROR";
}
