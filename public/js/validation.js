// Browser-side checks that mirror the server's rules, so most mistakes are
// caught before a round trip. The server stays the authority: its answers
// are shown the same way (see errors.js).

export const PASSWORD_MIN_CHARS = 8;
export const PASSWORD_MAX_BYTES = 72; // bcrypt ignores anything past 72 bytes
const EMAIL_MAX_LENGTH = 254;
// One @, no spaces, and a dot inside the domain part: the shape the server's
// email validator accepts for real addresses.
const EMAIL_SHAPE = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
// Characters that show nothing: controls, format characters (zero-width
// space, BOM, ...), separators, lone combining marks, unassigned code points,
// and letters that render blank (Hangul fillers, the Braille blank).
const INVISIBLE = /^[\p{C}\p{Z}\p{M}\s\u115F\u1160\u3164\uFFA0\u2800]*$/u;
// Controls and format characters don't count toward the minimum length.
const UNCOUNTED = /[\p{Cc}\p{Cf}]/gu;
// Email words shorter than this are too common inside ordinary words to refuse.
const MIN_CONTEXT_WORD = 3;
const DEVICE_NAME_MAX_CHARS = 64;
// What the server trims from a device name (Python's str.strip()): not quite String#trim,
// which keeps U+001C-U+001F and U+0085 but removes U+FEFF.
const SERVER_WHITESPACE = String.raw`\t\n\v\f\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000`;
const SURROUNDING_WHITESPACE = new RegExp(`^[${SERVER_WHITESPACE}]+|[${SERVER_WHITESPACE}]+$`, "g");

const encoder = new TextEncoder();

/** The form the server checks and stores (NFKC, as NIST SP 800-63B asks). */
export function normalisePassword(password) {
  return password.normalize("NFKC");
}

export function passwordBytes(password) {
  return encoder.encode(normalisePassword(password)).length;
}

/** Characters as the server counts them: code points of the NFKC form, less invisible formatting. */
export function passwordChars(password) {
  return [...normalisePassword(password).replace(UNCOUNTED, "")].length;
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

/**
 * Rules for a password being set (registration, change, reset); email: the
 * account's, if known. These are the server's rules that need no data: it
 * also refuses the 30,000 most common passwords, the service's name and easily
 * guessed ones, and its answer (with the reason) is shown the same way.
 */
export function checkNewPassword(password, email = "") {
  if (password === "") return "Enter a password.";
  const normal = normalisePassword(password);
  if (INVISIBLE.test(normal)) return "A password can't be only spaces or invisible characters.";
  if (passwordChars(password) < PASSWORD_MIN_CHARS) {
    return `Use at least ${PASSWORD_MIN_CHARS} characters.`;
  }
  if (passwordBytes(password) > PASSWORD_MAX_BYTES) {
    return "This password is too long. Remove a few characters: accented letters and emoji take up more room than plain ones.";
  }
  const lowered = normal.toLowerCase();
  const address = normaliseEmail(email).normalize("NFKC").toLowerCase();
  if (address && (lowered.includes(address) || mostly(lowered, emailWords(address)))) {
    return "Your password can't be built from your email address. Add words or characters of your own.";
  }
  return null;
}

/** The parts of an email an attacker would try first, longest first (as the server has them). */
function emailWords(address) {
  const at = address.lastIndexOf("@");
  const local = at < 0 ? "" : address.slice(0, at);
  const domain = address.slice(at + 1);
  const words = new Set([local, ...local.split(/[._+-]/), ...domain.split(".").slice(0, -1)]);
  return [...words]
    .filter((word) => [...word].length >= MIN_CONTEXT_WORD)
    .sort((a, b) => [...b].length - [...a].length || (a < b ? -1 : a > b ? 1 : 0));
}

/** True when the password is little more than these words. */
function mostly(password, words) {
  let rest = password;
  for (const word of words) rest = rest.split(word).join("");
  return rest !== password && [...rest.replace(UNCOUNTED, "")].length < PASSWORD_MIN_CHARS;
}

/** A device name as the server keeps it: without the whitespace around it. */
export function trimDeviceName(value) {
  return value.replace(SURROUNDING_WHITESPACE, "");
}

/**
 * The server's length rule for a device name, in its words: at most 64 characters once
 * trimmed, counted in code points (an emoji is one, not the two UTF-16 units maxlength
 * would count). Its other rule, no control or bidi characters, is left to its answer.
 */
export function checkDeviceName(value) {
  const chars = [...trimDeviceName(value)].length;
  return chars > DEVICE_NAME_MAX_CHARS ? `A device name has at most ${DEVICE_NAME_MAX_CHARS} characters.` : null;
}

/** An existing password only has to be there; the server decides if it's right. */
export function checkExistingPassword(password, what = "your password") {
  return password === "" ? `Enter ${what}.` : null;
}

/**
 * The live hint under a new-password field: {text, over, lengthOk} where over
 * means too long. Plain words, no byte counts: strength.js adds how guessable it is.
 */
export function passwordHint(password) {
  if (password === "") {
    return {
      text: `Use at least ${PASSWORD_MIN_CHARS} characters. A few unusual words together make a strong password you can remember.`,
      over: false,
    };
  }
  if (passwordBytes(password) > PASSWORD_MAX_BYTES) {
    return { text: "Too long: remove a few characters.", over: true };
  }
  const missing = PASSWORD_MIN_CHARS - passwordChars(password);
  if (missing > 0) {
    return { text: `${missing} more character${missing === 1 ? "" : "s"} needed.`, over: false };
  }
  return { text: "Length is fine.", over: false, lengthOk: true };
}
