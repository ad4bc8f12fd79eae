// How hard a new password is to guess, in words people understand. The
// estimate comes from zxcvbn-ts (vendored in /vendor/zxcvbn-ts, ~250 KB with
// its password list), loaded the first time someone types a new password, so
// no other page pays for it. The server stays the authority: it refuses
// common and guessable passwords itself, and forms show its reasons.

const SCRIPTS = ["/vendor/zxcvbn-ts/core.js", "/vendor/zxcvbn-ts/language-common.js"];

export const LEVELS = ["Very weak", "Weak", "Fair", "Strong", "Very strong"];

// zxcvbn-ts names its findings; these are our sentences for them.
const WARNINGS = {
  straightRow: "Keys in a row on the keyboard are easy to guess.",
  keyPattern: "Short keyboard patterns are easy to guess.",
  simpleRepeat: "Repeated characters like “aaa” are easy to guess.",
  extendedRepeat: "Repeated groups like “abcabc” are easy to guess.",
  sequences: "Sequences like “abc” or “6543” are easy to guess.",
  recentYears: "Recent years are easy to guess.",
  dates: "Dates are easy to guess.",
  topTen: "This is one of the most used passwords.",
  topHundred: "This is a very commonly used password.",
  common: "This is a commonly used password.",
  similarToCommon: "This is very close to a commonly used password.",
  wordByItself: "A single word is easy to guess.",
  namesByThemselves: "Names on their own are easy to guess.",
  commonNames: "Common names are easy to guess.",
  userInputs: "Don't use your email address or anything from it.",
  pwned: "This password has appeared in a data breach.",
};
const SUGGESTIONS = {
  l33t: "Swapping letters for look-alikes (like @ for a) doesn't fool anyone.",
  reverseWords: "Spelling a word backwards doesn't make it safer.",
  allUppercase: "Capitals in the middle help more than all capitals.",
  capitalization: "A capital first letter doesn't add much.",
  dates: "Avoid dates that mean something to you.",
  recentYears: "Avoid recent years.",
  associatedYears: "Avoid years that mean something to you.",
  sequences: "Avoid sequences.",
  repeated: "Avoid repeated words and characters.",
  longerKeyboardPattern: "Use longer keyboard patterns, with turns.",
  anotherWord: "Add another word or two. Unusual words are better.",
  useWords: "Use a few words together, in an order only you would pick.",
  noNeed: "You don't need symbols, digits or capitals: length matters most.",
  pwned: "Choose a password you haven't used anywhere else.",
};

let estimator = null;

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.addEventListener("load", resolve);
    script.addEventListener("error", () => reject(new Error(`${src} did not load`)));
    document.head.append(script);
  });
}

/** Resolves to check(password, userInputs) → {score 0–4, level, warning, suggestions}. */
export function loadStrength() {
  estimator ??= (async () => {
    for (const src of SCRIPTS) await loadScript(src); // the language pack needs the core first
    const { core, "language-common": common } = window.zxcvbnts;
    const zxcvbn = new core.ZxcvbnFactory({ dictionary: common.dictionary, graphs: common.adjacencyGraphs });
    return (password, userInputs = []) => {
      const { score, feedback } = zxcvbn.check(password, userInputs);
      return {
        score,
        level: LEVELS[score],
        warning: WARNINGS[feedback.warning] ?? "",
        suggestions: feedback.suggestions.map((key) => SUGGESTIONS[key]).filter(Boolean),
      };
    };
  })();
  return estimator;
}
