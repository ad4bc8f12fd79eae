import { h } from "../dom.js";

export const notFoundView = {
  title: "Page not found",
  access: "any",
  render() {
    return h(
      "section",
      { class: "card card--narrow", "aria-labelledby": "not-found-title" },
      h("h1", { id: "not-found-title", tabindex: "-1", text: "Page not found" }),
      h("p", { text: "There's nothing at this address. It may have moved, or the link may be mistyped." }),
      h("p", {}, h("a", { href: "/", "data-link": true, text: "Go to the start page" })),
    );
  },
};
