"""The password policy, shared by registration, password changes, resets and the admin API.

NIST SP 800-63B style: no composition rules (no "one digit, one symbol"); instead a length
range, a refusal of passwords that are common or built from what an attacker knows about
the account (its email, the service's name), and a floor on zxcvbn's guessability score.
Every rule looks at the NFKC form, the one the hasher stores.
"""

import re
import threading
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from zxcvbn import matching, scoring, time_estimates
from zxcvbn.feedback import get_feedback
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from app.core.security import MAX_PASSWORD_BYTES, normalize_password

MIN_PASSWORD_CHARACTERS = 8
DEFAULT_SERVICE_NAME = "Auth service"
DEFAULT_MIN_SCORE = 2  # zxcvbn: at least ~10^6 guesses ("somewhat guessable" is refused)
# zxcvbn tries every reading of l33t symbols (`1` as i or l, `(`/`{`/`[`/`<` as c, ...);
# the readings multiply, and a symbol-heavy 72-byte input costs it over half a second.
# At most this many readings keeps the worst input to tens of milliseconds (bench/).
MAX_L33T_READINGS = 4
# zxcvbn's cost grows with the square of the length; longer passwords are scored on this
# many characters first, and in full only when those alone are too guessable.
SCORED_PREFIX = 32
_L33T_SYMBOLS = frozenset(char for subs in matching.L33T_TABLE.values() for char in subs)
# Context words shorter than this are too common inside ordinary words to forbid.
MIN_CONTEXT_WORD = 3

# The 30,000 most common passwords in zxcvbn's list (from leaked password sets), MIT.
COMMON_PASSWORDS = frozenset(FREQUENCY_LISTS["passwords"])


class Reason(StrEnum):
    """Why a password was refused: a stable code the frontend can explain."""

    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    INVISIBLE = "invisible"
    CONTAINS_EMAIL = "contains_email"
    CONTAINS_SERVICE_NAME = "contains_service_name"
    COMMON = "common"
    TOO_GUESSABLE = "too_guessable"


@dataclass(frozen=True)
class PasswordProblem:
    reason: Reason
    message: str


# Characters that take no visible space: controls, format characters (zero-width space
# and joiner, BOM, ...), separators, combining marks on nothing, unassigned code points,
# and letters that render blank (Hangul fillers, the Braille blank).
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
# Counted as nothing toward the minimum: controls and zero-width format characters.
_UNCOUNTED_CATEGORIES = ("Cc", "Cf")


def invisible(char: str) -> bool:
    """True for a character that takes no visible space (device names use it too)."""
    return unicodedata.category(char)[0] in "CZM" or char.isspace() or char in _BLANK_LETTERS


def counted_characters(password: str) -> int:
    """Characters toward the minimum: code points, less controls and invisible formatting."""
    return sum(1 for char in password if unicodedata.category(char) not in _UNCOUNTED_CATEGORIES)


@dataclass(frozen=True)
class PasswordPolicy:
    service_name: str = DEFAULT_SERVICE_NAME
    min_score: int = DEFAULT_MIN_SCORE  # 0 turns the zxcvbn check off

    def problem(self, password: str, *, email: str) -> PasswordProblem | None:
        """Why `password` is not acceptable for the account `email`, or None if it is."""
        password = normalize_password(password)
        if password and all(invisible(char) for char in password):
            return PasswordProblem(
                Reason.INVISIBLE,
                "The password must contain visible characters, not only spaces or "
                "invisible characters.",
            )
        if counted_characters(password) < MIN_PASSWORD_CHARACTERS:
            return PasswordProblem(
                Reason.TOO_SHORT,
                f"The password must be at least {MIN_PASSWORD_CHARACTERS} characters long.",
            )
        if len(password.encode()) > MAX_PASSWORD_BYTES:
            return PasswordProblem(
                Reason.TOO_LONG,
                f"The password must be at most {MAX_PASSWORD_BYTES} bytes long in UTF-8 "
                "(letters with accents and other symbols take 2 to 4 bytes each).",
            )
        lowered = password.lower()
        address = normalize_password(email).strip().lower()
        email_words = email_context(address)
        if (address and address in lowered) or _mostly(lowered, email_words):
            return PasswordProblem(
                Reason.CONTAINS_EMAIL,
                "The password must not be built from your email address: add words or "
                "characters of your own.",
            )
        if _mostly(lowered, service_context(self.service_name)):
            return PasswordProblem(
                Reason.CONTAINS_SERVICE_NAME,
                f"The password must not be built from the name of this service "
                f"({self.service_name}): add words or characters of your own.",
            )
        if lowered in COMMON_PASSWORDS or re.sub(r"\s+", "", lowered) in COMMON_PASSWORDS:
            return PasswordProblem(
                Reason.COMMON,
                "This password is one of the most common ones, which attackers try first. "
                "Choose another: a few unrelated words make a strong one.",
            )
        if self.min_score > 0 and not self._prefix_clears_floor(password, email_words):
            score, hint = guessability(password, [*email_words, self.service_name])
            if score < self.min_score:
                return PasswordProblem(
                    Reason.TOO_GUESSABLE,
                    " ".join(
                        part
                        for part in (
                            "This password is too easy to guess.",
                            hint,
                            "Make it longer: a few unrelated words work well.",
                        )
                        if part
                    ),
                )
        return None

    def _prefix_clears_floor(self, password: str, email_words: list[str]) -> bool:
        """True when a long password's first SCORED_PREFIX characters alone clear the
        score floor: more characters only add guesses, and scoring 72 costs ~5× 32."""
        if len(password) <= SCORED_PREFIX:
            return False
        score, _ = guessability(password[:SCORED_PREFIX], [*email_words, self.service_name])
        return score >= self.min_score


def email_context(email: str) -> list[str]:
    """The words of a (lowercase) email an attacker would try: the local part, its
    pieces, the domain's labels but the last (`com`), longest first."""
    local, _, domain = email.rpartition("@")
    words = {local, *re.split(r"[._+\-]", local), *domain.split(".")[:-1]}
    return sorted((w for w in words if len(w) >= MIN_CONTEXT_WORD), key=lambda w: (-len(w), w))


def service_context(name: str) -> list[str]:
    folded = normalize_password(name).lower()
    words = {folded, re.sub(r"\W+", "", folded), *re.split(r"\W+", folded)}
    return sorted((w for w in words if len(w) >= MIN_CONTEXT_WORD), key=lambda w: (-len(w), w))


def _mostly(password: str, words: list[str]) -> bool:
    """True when `password` is little more than `words`: taking them out leaves fewer
    than the minimum number of characters (`ann.lee2024` for ann.lee@…, not
    `annual report crocus` for ann@…)."""
    rest = password
    for word in words:
        rest = rest.replace(word, "")
    return rest != password and counted_characters(rest) < MIN_PASSWORD_CHARACTERS


# zxcvbn keeps the context words in a module-level dictionary: one scoring at a time.
_scoring_lock = threading.Lock()


def guessability(password: str, context: list[str]) -> tuple[int, str]:
    """zxcvbn's score (0..4) of `password` and its warning, with bounded cost.

    This is what `zxcvbn.zxcvbn()` does, less its timing and feedback extras, with the
    l33t budget applied first: the function itself offers no way to bound that search.
    (zxcvbn is pinned; types-zxcvbn types these modules.)
    """
    bounded = bounded_l33t(password)
    with _scoring_lock:
        dictionaries = matching.RANKED_DICTIONARIES
        dictionaries["user_inputs"] = matching.build_ranked_dict([word.lower() for word in context])
        result = scoring.most_guessable_match_sequence(
            bounded, matching.omnimatch(bounded, dictionaries)
        )
    score = time_estimates.estimate_attack_times(result["guesses"])["score"]
    warning = get_feedback(score, result["sequence"])["warning"]
    return score, f"{warning.rstrip('.')}." if warning else ""


def bounded_l33t(password: str) -> str:
    """`password` with the l33t symbols past the reading budget swapped for plain
    private-use characters: zxcvbn then sees them as random symbols (brute force), which
    only makes the estimate stricter, and its l33t search stays small."""
    kept = ""
    swapped: dict[str, str] = {}
    for char in dict.fromkeys(password):
        if char not in _L33T_SYMBOLS:
            continue
        table = matching.relevant_l33t_subtable(kept + char, matching.L33T_TABLE)
        if len(matching.enumerate_l33t_subs(table)) <= MAX_L33T_READINGS:
            kept += char
        else:
            # Far apart code points, so zxcvbn reads no sequence (abc, 135) into them.
            swapped[char] = chr(0xE000 + 16 * len(swapped))
    return "".join(swapped.get(char, char) for char in password)


def password_problem(
    password: str,
    *,
    email: str,
    service_name: str = DEFAULT_SERVICE_NAME,
    min_score: int = DEFAULT_MIN_SCORE,
) -> PasswordProblem | None:
    """The default policy's verdict (tests, and callers without settings)."""
    return PasswordPolicy(service_name=service_name, min_score=min_score).problem(
        password, email=email
    )
