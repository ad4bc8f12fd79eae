// Activity: the account's security events (GET /v1/users/me/events), newest
// first, a page at a time.

import * as api from "../api.js";
import { formatDateTime, h } from "../dom.js";
import { describeError } from "../errors.js";
import { eventLabelFor } from "../registry.js";
import { sectionPage } from "./account.js";

const PAGE_SIZE = 20;
const LABELS = {
  registered: "Account created",
  login_succeeded: "Logged in",
  login_failed: "Failed login attempt",
  logout: "Logged out",
  session_revoked: "A device was logged out",
  refresh_token_reused: "A stolen sign-in was stopped; every device was logged out",
  current_password_failed: "Wrong current password entered",
  password_changed: "Password changed",
  password_reset_requested: "Password reset link requested",
  password_reset: "Password reset",
  email_changed: "Email address changed",
  email_verified: "Email address confirmed",
  account_deactivated: "Account deactivated",
  account_reactivated: "Account reactivated",
  account_deleted: "Account deleted",
  admin_user_updated: "An administrator changed your account",
  admin_user_deleted: "An administrator deleted the account",
  superuser_created: "Administrator account created",
  service_key_created: "You created a service key",
  service_key_revoked: "You revoked a service key",
  user_roles_changed: "An administrator changed your roles",
};
const WARNINGS = new Set(["login_failed", "refresh_token_reused", "current_password_failed"]);

export const activityView = {
  title: "Activity",
  access: "user",
  render(ctx) {
    const list = h("ol", { class: "event-list", "aria-busy": "true" });
    const problem = h("p", { class: "notice notice--error", role: "alert", hidden: true });
    const more = h("button", { type: "button", class: "button button--secondary", text: "Show older events", hidden: true });
    let nextOffset = 0;

    async function load() {
      list.setAttribute("aria-busy", "true");
      try {
        const page = await api.listMyEvents({ limit: PAGE_SIZE, offset: nextOffset });
        const first = list.children.length;
        list.append(...page.items.map(eventItem));
        if (page.items.length === 0 && first === 0) list.replaceChildren(h("li", { text: "Nothing has happened yet." }));
        nextOffset = page.next_offset;
        more.hidden = nextOffset === null;
        // Keep the keyboard where the new events begin.
        if (first > 0) list.children[first]?.focus();
      } catch (error) {
        if (error.sessionExpired) return;
        problem.textContent = describeError(error)[0].text;
        problem.hidden = false;
      } finally {
        list.removeAttribute("aria-busy");
      }
    }
    more.addEventListener("click", load);
    load();

    return sectionPage(
      ctx,
      { id: "activity", title: "Activity", intro: "Sign-ins and changes to your account, newest first. Something you don't recognise? Change your password." },
      h("section", { class: "card", "aria-label": "Recent activity" }, problem, list, h("div", { class: "form-actions" }, more)),
    );
  },
};

function eventItem(event) {
  const where = [event.ip_address, shortAgent(event.user_agent)].filter(Boolean).join(" · ");
  // A plugin names its own types (host.addEventLabel); the core's keep the core's words.
  const plugin = LABELS[event.type] ? undefined : eventLabelFor(event.type);
  const warning = WARNINGS.has(event.type) || Boolean(plugin?.warning);
  return h(
    "li",
    { class: `event${warning ? " event--warning" : ""}`, tabindex: "-1" },
    h("p", { class: "event__what", text: LABELS[event.type] ?? plugin?.label ?? event.type.replaceAll("_", " ") }),
    h("p", { class: "event__meta" }, h("time", { datetime: event.occurred_at, text: formatDateTime(event.occurred_at) }), where ? ` · ${where}` : ""),
  );
}

// Audit events keep the raw User-Agent; its start is enough to recognise a device.
function shortAgent(userAgent) {
  if (!userAgent) return "";
  return userAgent.length > 60 ? `${userAgent.slice(0, 59)}…` : userAgent;
}
