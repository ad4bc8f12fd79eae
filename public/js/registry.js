// What plugins add to the app (see plugins.js): page routes, account
// sections, cards inside core sections and extra ways to sign in. The core
// views read from here, so a plugin needs no change to them.

export const pluginRoutes = new Map(); // path -> view
export const pluginSections = []; // {id, title, render}
const cards = new Map(); // sectionId -> [{id, title, render}]
export const loginOptions = []; // {id, label, render}
// Second steps after a password a plugin holds back (`mfa_required`): {id, methods, render}
export const loginSteps = [];

export function addCard(sectionId, card) {
  if (!cards.has(sectionId)) cards.set(sectionId, []);
  cards.get(sectionId).push(card);
}

export function cardsFor(sectionId) {
  return cards.get(sectionId) ?? [];
}
