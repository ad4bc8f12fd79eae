// Devices: where the account is signed in. Each session shows how and when it
// began, its last activity and address, and may carry a name the user gives
// it; any other one can be logged out, or all of them at once.

import * as api from "../api.js";
import { announce, formatDateTime, h, srOnly, uid } from "../dom.js";
import { describeError } from "../errors.js";
import { tellOtherTabs } from "../sync.js";
import { sectionPage } from "./account.js";

// A session's method names its steps, joined by "+" when there were several
// ("password+totp" after a two-step sign-in).
const METHOD_STEPS = {
  password: "password",
  qr: "QR code from another device",
  reset: "password reset",
  totp: "a code from an authenticator app",
  recovery_code: "a recovery code",
};
const NAME_MAX = 64;

export const devicesView = {
  title: "Devices",
  access: "user",
  render(ctx) {
    return sectionPage(
      ctx,
      { id: "devices", title: "Devices", intro: "Where you're logged in. Log out a device you don't recognise." },
      sessionsCard(ctx),
    );
  },
};

/** "Chrome 131 on Linux" from the server; the raw user agent only as a fallback. */
export function deviceLabel(session) {
  return session.device || session.user_agent?.slice(0, 60) || "Unknown device";
}

/** "password and a recovery code" for "password+recovery_code". */
export function methodLabel(method) {
  return (method || "password")
    .split("+")
    .map((step) => METHOD_STEPS[step] ?? step)
    .join(" and ");
}

function sessionsCard(ctx) {
  const heading = h("h2", { id: "sessions-title", tabindex: "-1", text: "Where you're logged in" });
  const list = h("ul", { class: "session-list", "aria-busy": "true" });
  const endOthers = h("button", { type: "button", class: "button button--secondary", text: "Log out everywhere else" });
  const actions = h("div", { class: "form-actions", hidden: true }, endOthers);

  const showProblem = (error) => {
    if (error.sessionExpired) return;
    ctx.notify(describeError(error)[0].text, "error");
    // The row may be gone already (ended elsewhere, or by a password change).
    if (error.code === "SESSION_NOT_FOUND") load();
  };

  async function busy(button, action) {
    if (button.getAttribute("aria-disabled") === "true") return;
    button.setAttribute("aria-disabled", "true");
    button.classList.add("is-busy");
    try {
      await action();
    } catch (error) {
      showProblem(error);
    } finally {
      button.removeAttribute("aria-disabled");
      button.classList.remove("is-busy");
    }
  }

  function facts(session) {
    const method = methodLabel(session.method);
    const rows = [
      ["Signed in", `${formatDateTime(session.created_at)} with ${method}`],
      ["Last active", formatDateTime(session.last_used_at)],
      ["Address", session.ip_address || "Unknown"],
    ];
    if (session.name) rows.unshift(["Device", deviceLabel(session)]);
    return h(
      "dl",
      { class: "session__facts" },
      rows.map(([term, value]) => h("div", {}, h("dt", { text: term }), h("dd", { text: value }))),
    );
  }

  function item(session) {
    const title = session.name || deviceLabel(session);
    const row = h("li", { class: "session", "data-session": session.id });
    const rename = h("button", { type: "button", class: "button button--secondary button--small" }, session.name ? "Rename" : "Name this device", srOnly(` ${title}`));
    const header = h("p", { class: "session__device" }, title, session.current ? h("span", { class: "badge badge--ok", text: "This browser" }) : null);
    rename.addEventListener("click", () => row.replaceChildren(header, renameForm(session, title)));
    const buttons = [rename];
    if (!session.current) {
      const end = h("button", { type: "button", class: "button button--secondary button--small" }, "Log out", srOnly(` ${title}`));
      end.addEventListener("click", () =>
        busy(end, async () => {
          await api.endSession(session.id);
          tellOtherTabs("sessions-changed");
          ctx.notify(`${title} has been logged out.`, "success");
          await load();
          heading.focus(); // the button is gone; start again at the top of the list
        }),
      );
      buttons.push(end);
    }
    row.replaceChildren(
      header,
      facts(session),
      h("div", { class: "session__actions" }, buttons),
    );
    return row;
  }

  function renameForm(session, title) {
    const id = uid("device-name");
    const hint = h("p", { class: "field__hint", id: `${id}-hint`, text: "For example “Work laptop”. Leave it empty to remove the name." });
    const input = h("input", {
      id,
      name: "name",
      type: "text",
      maxlength: String(NAME_MAX),
      autocomplete: "off",
      value: session.name ?? "",
      "aria-describedby": hint.id,
    });
    const save = h("button", { type: "submit", class: "button button--small", text: "Save name" });
    const cancel = h("button", { type: "button", class: "button button--secondary button--small", text: "Cancel" });
    const form = h(
      "form",
      { class: "session__rename", novalidate: true },
      h("div", { class: "field" }, h("label", { for: id, text: `Name for ${title}` }), hint, input),
      h("div", { class: "form-actions" }, save, cancel),
    );
    cancel.addEventListener("click", async () => {
      await load();
      list.querySelector(`[data-session="${session.id}"] button`)?.focus();
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(save, async () => {
        const updated = await api.renameSession(session.id, input.value.trim());
        announce(updated.name ? `Named ${updated.name}.` : "Name removed.");
        await load();
        list.querySelector(`[data-session="${session.id}"] button`)?.focus();
      });
    });
    window.setTimeout(() => input.focus(), 0);
    return form;
  }

  async function load() {
    list.setAttribute("aria-busy", "true");
    try {
      const sessions = await api.listSessions();
      list.replaceChildren(...sessions.map(item));
      actions.hidden = !sessions.some((session) => !session.current);
    } catch (error) {
      if (error.code !== "SESSION_NOT_FOUND") showProblem(error);
    } finally {
      list.removeAttribute("aria-busy");
    }
  }

  endOthers.addEventListener("click", () =>
    busy(endOthers, async () => {
      await api.endOtherSessions();
      tellOtherTabs("sessions-changed");
      ctx.notify("You're now logged out everywhere else.", "success");
      await load();
    }),
  );

  // A password change (here or in another tab) ends sessions: show what is left.
  const reload = () => (list.isConnected ? load() : window.removeEventListener("sessions-changed", reload));
  window.addEventListener("sessions-changed", reload);

  load();
  return h(
    "section",
    { class: "card", "aria-labelledby": "sessions-title" },
    heading,
    list,
    actions,
  );
}
