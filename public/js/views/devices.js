// Devices: where the account is signed in. Each session shows how and when it
// began, its last activity and address, and may carry a name the user gives
// it; any other one can be logged out, or all of them at once.

import * as api from "../api.js";
import { announce, formatDateTime, h, srOnly } from "../dom.js";
import { describeError } from "../errors.js";
import { field } from "../forms.js";
import { methodLabelFor } from "../registry.js";
import { tellOtherTabs } from "../sync.js";
import { checkDeviceName, trimDeviceName } from "../validation.js";
import { sectionPage } from "./account.js";

// A session's method names its steps, joined by "+" when there were several
// ("password+totp" after a two-step sign-in). These are the core's; a plugin names
// its own (host.addMethodLabel), so "totp" reads as the totp plugin says.
const CORE_STEPS = {
  password: "password",
  reset: "password reset",
};

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

/** "password and a recovery code" for "password+recovery_code" (words of the totp plugin). */
export function methodLabel(method) {
  return (method || "password")
    .split("+")
    .map((step) => CORE_STEPS[step] ?? methodLabelFor(step) ?? step.replaceAll("_", " "))
    .join(" and ");
}

/** A session's title (its name, else the device) and its facts, for every list of sessions. */
export function sessionSummary(session) {
  const title = session.name || deviceLabel(session);
  const header = h("p", { class: "session__device" }, title, session.current ? h("span", { class: "badge badge--ok", text: "This browser" }) : null);
  return { title, header, facts: sessionFacts(session) };
}

function sessionFacts(session) {
  const rows = [
    ["Signed in", `${formatDateTime(session.created_at)} with ${methodLabel(session.method)}`],
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

  function item(session) {
    const { title, header, facts } = sessionSummary(session);
    const row = h("li", { class: "session", "data-session": session.id });
    const rename = h("button", { type: "button", class: "button button--secondary button--small" }, session.name ? "Rename" : "Name this device", srOnly(` ${title}`));
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
      facts,
      h("div", { class: "session__actions" }, buttons),
    );
    return row;
  }

  function renameForm(session, title) {
    // No maxlength: it counts UTF-16 units, so an emoji name would be cut at half the
    // characters the server allows; checkDeviceName counts as the server does.
    const name = field({
      name: "name",
      label: `Name for ${title}`,
      autocomplete: "off",
      hint: "For example “Work laptop”. Leave it empty to remove the name.",
      value: session.name ?? "",
    });
    const save = h("button", { type: "submit", class: "button button--small", text: "Save name" });
    const cancel = h("button", { type: "button", class: "button button--secondary button--small", text: "Cancel" });
    const form = h("form", { class: "session__rename", novalidate: true }, name.root, h("div", { class: "form-actions" }, save, cancel));
    const refuse = (text) => {
      name.setError(text);
      name.input.focus();
    };
    cancel.addEventListener("click", async () => {
      await load();
      list.querySelector(`[data-session="${session.id}"] button`)?.focus();
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      name.clearError();
      const problem = checkDeviceName(name.input.value);
      if (problem) return refuse(problem);
      busy(save, async () => {
        try {
          const updated = await api.renameSession(session.id, trimDeviceName(name.input.value));
          announce(updated.name ? `Named ${updated.name}.` : "Name removed.");
        } catch (error) {
          // The server's reason for this name (characters it refuses) belongs at the field.
          if (error.code !== "VALIDATION_ERROR") throw error;
          return refuse(describeError(error)[0].text);
        }
        await load();
        list.querySelector(`[data-session="${session.id}"] button`)?.focus();
      });
    });
    window.setTimeout(() => name.input.focus(), 0);
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
