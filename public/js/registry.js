// What plugins add to the app (see plugins.js): page routes, account
// sections, cards inside core sections, extra ways to sign in and the words
// for their event types and sign-in methods. The core views read from here, so a plugin needs no
// change to them.

export const pluginRoutes = new Map(); // path -> view
export const pluginSections = []; // {id, title, render}
const cards = new Map(); // sectionId -> [{id, title, render}]
export const loginOptions = []; // {id, label, render}
// Second steps after a password a plugin holds back (`mfa_required`): {id, methods, render}
export const loginSteps = [];
// How the Activity page names a plugin's event types: type -> {label, warning}
const eventLabels = new Map();
// How the Devices lists name a plugin's sign-in methods ("totp" in "password+totp"): method -> words
const methodLabels = new Map();

export function addCard(sectionId, card) {
  if (!cards.has(sectionId)) cards.set(sectionId, []);
  cards.get(sectionId).push(card);
}

export function cardsFor(sectionId) {
  return cards.get(sectionId) ?? [];
}

/** `warning` highlights the event as the core's failed attempts are (e.g. a wrong code). */
export function addEventLabel(type, label, { warning = false } = {}) {
  addOnce(eventLabels, type, { label, warning }, `Event type ${type}`, label);
}

export function eventLabelFor(type) {
  return eventLabels.get(type);
}

/** The words after "Signed in … with" for one step of a session's method. */
export function addMethodLabel(method, words) {
  addOnce(methodLabels, method, words, `Sign-in method ${method}`, words);
}

export function methodLabelFor(method) {
  return methodLabels.get(method);
}

function addOnce(labels, key, value, what, words) {
  // Plugins start in any order, so a second label would win by chance; the first stays,
  // and the plugin's other parts still load (a throw would skip them all).
  if (labels.has(key)) {
    console.warn(`${what} has a label already; "${words}" is not used.`);
    return;
  }
  labels.set(key, value);
}
