// What every section of the signed-in account app shares: the page frame
// (heading, the notice slot, cards) and the cards plugins add to a section
// (host.addCard), and the frame for a section a plugin adds (host.addSection).

import { h } from "../dom.js";
import { cardsFor } from "../registry.js";

/** A section page: its h1, an optional intro, the notice slot, then its cards. */
export function sectionPage(ctx, { id, title, intro }, ...cards) {
  return h(
    "div",
    { class: "stack", "data-section": id },
    h(
      "div",
      { class: "page-head" },
      h("h1", { id: `${id}-title`, tabindex: "-1", text: title }),
      intro ? h("p", { class: "page-head__intro", text: intro }) : null,
    ),
    ctx.takeNotice(),
    ...cards,
    ...pluginCards(id, ctx),
  );
}

/** A card: a labelled region with an h2. */
export function card(id, title, ...children) {
  return h("section", { class: "card", "aria-labelledby": id }, h("h2", { id, text: title }), ...children);
}

/** The cards plugins added to a section (host.addCard), for views that aren't section pages. */
export function pluginCards(sectionId, ctx) {
  return cardsFor(sectionId).map(({ id, title, render }) => {
    const headingId = `card-${id}-title`;
    let body;
    try {
      body = render(ctx);
    } catch (error) {
      console.warn(`Card ${id} failed:`, error);
      body = h("p", { class: "notice notice--error", text: "This part of the page couldn't be shown." });
    }
    return h("section", { class: "card", "aria-labelledby": headingId, "data-card": id }, h("h2", { id: headingId, text: title }), body);
  });
}

/** The view for a section a plugin added. */
export function sectionView({ id, title, render }) {
  return {
    title,
    access: "user",
    render(ctx) {
      return sectionPage(ctx, { id, title }, render(ctx));
    },
  };
}
