// What an admin page shows someone who isn't (or is no longer) an administrator.
import { h } from "../dom.js";

export function showAdminOnly(body) {
  body.removeAttribute("aria-busy");
  body.replaceChildren(
    h("p", { class: "notice notice--error", text: "You need administrator rights to see this page." }),
    h("p", {}, h("a", { href: "/profile", "data-link": true, text: "Go to your profile" })),
  );
}
