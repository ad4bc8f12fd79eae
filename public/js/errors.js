// Turns the server's stable error codes into plain sentences and says which
// form field each one belongs to. `field: null` means the whole form.

const MESSAGES = {
  REGISTER_USER_ALREADY_EXISTS: {
    field: "email",
    text: "An account with this email address already exists. Log in instead, or use another address.",
  },
  REGISTER_INVALID_PASSWORD: {
    field: "password",
    text: (message) => withReason("This password can't be used.", message),
  },
  LOGIN_BAD_CREDENTIALS: {
    field: "password",
    text: "The email address or password is wrong, or the account has been deactivated.",
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
    text: (message) => withReason("This password can't be used.", message),
  },
  USER_NOT_FOUND: { field: null, text: "This user doesn't exist any more." },
  ADMIN_CANNOT_MODIFY_SELF: {
    field: null,
    text: "You can't deactivate, demote or delete your own account here. Use your profile instead.",
  },
  FORBIDDEN: { field: null, text: "You need administrator rights for this." },
  UNAUTHORIZED: { field: null, text: "Your session has expired. Log in again to continue." },
  REQUEST_TOO_LARGE: { field: null, text: "That's too much text to send. Shorten the fields and try again." },
  NETWORK_ERROR: { field: null, text: "The server can't be reached. Check your connection and try again." },
  SERVER_ERROR: { field: null, text: "Something went wrong on our side. Try again in a moment." },
};

const FIELD_FALLBACKS = {
  email: "Enter an email address like name@example.com.",
  password: "This password can't be used.",
  current_password: "Enter your current password.",
};

function withReason(sentence, reason) {
  return reason ? `${sentence} ${reason}` : sentence;
}

/** [{field, text}] for an ApiError (or any thrown value). */
export function describeError(error) {
  const code = error?.code;
  if (code === "VALIDATION_ERROR" && error.fieldErrors.length > 0) {
    return error.fieldErrors.map(({ field, message }) => {
      const name = typeof field === "string" ? field : null;
      // Our own sentence for the email field reads better than the
      // validator's technical explanation.
      if (name === "email") return { field: name, text: FIELD_FALLBACKS.email };
      return { field: name, text: message || FIELD_FALLBACKS[name] || "Check this value." };
    });
  }
  if (code === "TOO_MANY_REQUESTS") {
    const wait = error.retryAfter ? `Wait ${error.retryAfter} seconds` : "Wait a minute";
    return [{ field: null, text: `Too many attempts. ${wait} and try again.` }];
  }
  const known = MESSAGES[code];
  if (known) {
    const text = typeof known.text === "function" ? known.text(error.message) : known.text;
    return [{ field: known.field, text }];
  }
  if (error?.status >= 500) return [{ field: null, text: MESSAGES.SERVER_ERROR.text }];
  if (error?.message && error.status) return [{ field: null, text: error.message }];
  // A bug in this app rather than a server answer: keep the details for developers.
  console.error(error);
  return [{ field: null, text: "Something went wrong. Reload the page and try again." }];
}
