// Turns the server's stable error codes into plain sentences and says which
// form field each one belongs to. `field: null` means the whole form.

const MESSAGES = {
  REGISTER_USER_ALREADY_EXISTS: {
    field: "email",
    text: "An account with this email address already exists. Log in instead, or use another address.",
  },
  REGISTER_INVALID_PASSWORD: {
    field: "password",
    text: (error) => withReason("This password can't be used.", error.message),
  },
  LOGIN_BAD_CREDENTIALS: {
    field: "password",
    text: "The email address or password is wrong, or the account has been deactivated.",
  },
  // Only the OAuth2 form login (API docs' "Authorize") answers this; the page's login
  // takes the second step itself.
  LOGIN_SECOND_STEP_REQUIRED: {
    field: null,
    text: "This account uses two-step verification: sign in on the login page to enter your code.",
  },
  // Only the OAuth 2.0 endpoints (/v1/oauth/*) answer these; the pages never call them.
  OAUTH_INVALID_REQUEST: { field: null, text: "The sign-in request was malformed." },
  OAUTH_INVALID_CLIENT: {
    field: null,
    text: "This app may not sign in with a client secret: it's set up wrongly.",
  },
  OAUTH_UNSUPPORTED_GRANT_TYPE: {
    field: null,
    text: "This way of signing in isn't available here.",
  },
  CURRENT_PASSWORD_REQUIRED: {
    field: "current_password",
    text: "Enter your current password to confirm this change.",
  },
  CURRENT_PASSWORD_INVALID: {
    field: "current_password",
    text: "That isn't your current password.",
  },
  UPDATE_USER_EMAIL_ALREADY_EXISTS: {
    field: "email",
    text: "Another account already uses this email address.",
  },
  UPDATE_USER_INVALID_PASSWORD: {
    field: "password",
    text: (error) => withReason("This password can't be used.", error.message),
  },
  USER_NOT_FOUND: { field: null, text: "This user doesn't exist any more." },
  ADMIN_CANNOT_MODIFY_SELF: {
    field: null,
    text: "You can't deactivate, demote or delete your own account here. Use your profile instead.",
  },
  ADMIN_CANNOT_CHANGE_OWN_CREDENTIALS: {
    field: null,
    text: "Change your own email address or password on your profile page.",
  },
  LAST_SUPERUSER: {
    field: null,
    text: "This is the last administrator account. Make another account an administrator first.",
  },
  ADMIN_USER_INACTIVE: {
    field: null,
    text: "This account is deactivated: reactivate it before sending it a reset link.",
  },
  SERVICE_KEY_INVALID: { field: null, text: "The service key is missing, wrong or revoked." },
  SERVICE_KEY_NOT_FOUND: { field: null, text: "That service key doesn't exist or is already revoked." },
  SERVICE_KEY_NAME_TAKEN: {
    field: "name",
    text: "Another live service key already has this name. Pick another one.",
  },
  INTROSPECTION_INVALID_REQUEST: { field: null, text: "The introspection request was malformed." },
  ROLE_ALREADY_EXISTS: { field: "name", text: "A role with this name already exists." },
  ROLE_NOT_FOUND: { field: null, text: "This role doesn't exist any more." },
  ROLES_UNKNOWN: {
    field: null,
    text: (error) =>
      error.roles?.length > 0
        ? `These roles don't exist any more: ${error.roles.join(", ")}. Reload the page to see the current ones.`
        : "Some of these roles don't exist any more. Reload the page to see the current ones.",
  },
  CORS_REQUEST_REFUSED: {
    field: null,
    text: "This page may not use the service from its address. Open the account page itself.",
  },
  UNAUTHORIZED: { field: null, text: "Your session has ended. Log in again to continue." },
  REFRESH_TOKEN_INVALID: { field: null, text: "Your session has ended. Log in again to continue." },
  SESSION_NOT_FOUND: { field: null, text: "That session has already ended." },
  CSRF_CHECK_FAILED: {
    field: null,
    text: "The request was refused to protect your account. Reload the page and try again.",
  },
  RESET_PASSWORD_BAD_TOKEN: {
    field: null,
    text: "This password reset link is wrong or has expired. Ask for a new one.",
  },
  RESET_PASSWORD_INVALID_PASSWORD: {
    field: "password",
    text: (error) => withReason("This password can't be used.", error.message),
  },
  VERIFY_USER_BAD_TOKEN: {
    field: null,
    text: "This verification link is wrong or has expired. Ask for a new one.",
  },
  FORBIDDEN: { field: null, text: "You need administrator rights for this." },
  NOT_FOUND: { field: null, text: "That doesn't exist any more. Reload the page to see what's there now." },
  METHOD_NOT_ALLOWED: {
    field: null,
    text: "The server doesn't accept this request. Reload the page and try again.",
  },
  UNSUPPORTED_MEDIA_TYPE: {
    field: null,
    text: "The server doesn't accept this request. Reload the page and try again.",
  },
  VALIDATION_ERROR: { field: null, text: "Some fields are missing or invalid. Check them and try again." },
  REQUEST_TOO_LARGE: { field: null, text: "That's too much text to send. Shorten the fields and try again." },
  REQUEST_HEADERS_TOO_LARGE: {
    field: null,
    text: "The browser sent more than the server accepts. Clear this site's cookies and try again.",
  },
  MALFORMED_REQUEST: {
    field: null,
    text: "The server couldn't read this request. Reload the page and try again.",
  },
  TOO_MANY_REQUESTS: {
    field: null,
    text: (error) => {
      const wait = error.retryAfter ? `Wait ${seconds(error.retryAfter)}` : "Wait a minute";
      return `Too many attempts. ${wait} and try again.`;
    },
  },
  SERVICE_UNAVAILABLE: {
    field: null,
    text: "The service is busy or down for maintenance. Try again in a moment.",
  },
  INTERNAL_ERROR: { field: null, text: "Something went wrong on our side. Try again in a moment." },
  // Not from the server: raised by api.js.
  NETWORK_ERROR: { field: null, text: "The server can't be reached. Check your connection and try again." },
  SERVER_ERROR: { field: null, text: "Something went wrong on our side. Try again in a moment." },
};

/** Every code with a sentence of its own (the tests compare it with the server's list). */
export const KNOWN_CODES = Object.freeze(Object.keys(MESSAGES));

// The email validator's reason is readable, behind a technical prefix such
// as "Value error, not a valid email address: ".
const EMAIL_REASON = /^.*?not a valid email address:\s*/i;

function fieldSentence(field, message) {
  if (field === "email") {
    const reason = EMAIL_REASON.test(message ?? "") ? message.replace(EMAIL_REASON, "") : "";
    return withReason("This email address can't be used.", reason || "Enter one like name@example.com.");
  }
  return message || "Check this value.";
}

function withReason(sentence, reason) {
  return reason ? `${sentence} ${reason}` : sentence;
}

function seconds(count) {
  return count === 1 ? "1 second" : `${count} seconds`;
}

/** [{field, text}] for an ApiError (or anything else that was thrown). */
export function describeError(error) {
  const code = error?.code;
  if (code === "VALIDATION_ERROR" && error.fieldErrors?.length > 0) {
    return error.fieldErrors.map(({ field, message }) => {
      const name = typeof field === "string" ? field : null;
      return { field: name, text: fieldSentence(name, message) };
    });
  }
  const known = MESSAGES[code];
  if (known) {
    return [{ field: known.field, text: typeof known.text === "function" ? known.text(error) : known.text }];
  }
  if (error?.status >= 500) return [{ field: null, text: MESSAGES.SERVER_ERROR.text }];
  if (error?.status && error.message) return [{ field: null, text: error.message }];
  // A bug in this app rather than an answer from the server.
  console.error(error);
  return [{ field: null, text: "Something went wrong. Reload the page and try again." }];
}
