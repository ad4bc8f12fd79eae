// Browser-side checks that mirror the server's rules, so most mistakes are
// caught before a round trip. The server stays the authority: its answers
// are shown the same way (see errors.js).

export const PASSWORD_MIN_CHARS = 8;
export const PASSWORD_MAX_BYTES = 72; // bcrypt ignores anything past 72 bytes
const EMAIL_MAX_LENGTH = 254;
// One @, no spaces, and a dot inside the domain part: the shape the server's
// email validator accepts for real addresses.
const EMAIL_SHAPE = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;

const encoder = new TextEncoder();

export function passwordBytes(password) {
  return encoder.encode(password).length;
}

/** Characters as the server counts them (code points, like Python's len()). */
export function passwordChars(password) {
  return [...password].length;
}

export function normaliseEmail(value) {
  return value.trim();
}

/**
 * Returns a sentence describing the problem, or null when the email looks fine.
 * Only the shape is checked here; the server also refuses reserved domains
 * such as example.test, and its answer is shown the same way.
 */
export function checkEmail(value) {
  const email = normaliseEmail(value);
  if (email === "") return "Enter your email address.";
  if (!EMAIL_SHAPE.test(email)) return "Enter an email address like name@example.com.";
  const at = email.lastIndexOf("@");
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  if (email.length > EMAIL_MAX_LENGTH) return "This email address is too long.";
  if (email.includes("..")) return "An email address can't have two dots in a row.";
  if (local.startsWith(".") || local.endsWith(".")) {
    return "The part before the @ can't start or end with a dot.";
  }
  if (domain.split(".").some((label) => label.startsWith("-") || label.endsWith("-"))) {
    return "The part after the @ can't have a hyphen next to a dot.";
  }
  if (/^\d+$/.test(domain.split(".").pop())) return "The part after the @ must end in a name, like .com.";
  return null;
}

/** Rules for a password being set (registration, change, reset); email: the account's, if known. */
export function checkNewPassword(password, email = "") {
  if (password === "") return "Enter a password.";
  if (passwordChars(password) < PASSWORD_MIN_CHARS) {
    return `Use at least ${PASSWORD_MIN_CHARS} characters.`;
  }
  const bytes = passwordBytes(password);
  if (bytes > PASSWORD_MAX_BYTES) {
    return `This password is ${bytes} bytes long; the limit is ${PASSWORD_MAX_BYTES}. Accented letters and emoji take 2 to 4 bytes each.`;
  }
  if (password.trim() === "") return "A password can't be only spaces.";
  const address = normaliseEmail(email).toLowerCase();
  if (address && password.toLowerCase().includes(address)) {
    return "Your password can't contain your email address.";
  }
  return null;
}

/** An existing password only has to be there; the server decides if it's right. */
export function checkExistingPassword(password, what = "your password") {
  return password === "" ? `Enter ${what}.` : null;
}

/** The live hint under a new-password field: {text, over} where over means too long. */
export function passwordHint(password) {
  const chars = passwordChars(password);
  const bytes = passwordBytes(password);
  if (password === "") {
    return {
      text: `At least ${PASSWORD_MIN_CHARS} characters and at most ${PASSWORD_MAX_BYTES} bytes. Accented letters and emoji count as 2 to 4 bytes.`,
      over: false,
    };
  }
  if (bytes > PASSWORD_MAX_BYTES) {
    return { text: `Too long: ${bytes} of ${PASSWORD_MAX_BYTES} bytes. Remove some characters.`, over: true };
  }
  if (chars < PASSWORD_MIN_CHARS) {
    const missing = PASSWORD_MIN_CHARS - chars;
    return { text: `${missing} more character${missing === 1 ? "" : "s"} needed. ${bytes} of ${PASSWORD_MAX_BYTES} bytes used.`, over: false };
  }
  return { text: `Length is fine: ${bytes} of ${PASSWORD_MAX_BYTES} bytes used.`, over: false };
}
