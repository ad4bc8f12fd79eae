// Roles (superusers): the named roles users can be given. Create one with a
// description, or delete one (its users lose it). Users get roles on their
// card in the Users view.

import * as api from "../api.js";
import { openConfirmDialog } from "../dialog.js";
import { announce, formatDay, h, srOnly } from "../dom.js";
import { describeError } from "../errors.js";
import { showAdminOnly } from "./admin-only.js";
import { createForm, field, problemsOf } from "../forms.js";

// The server's rule (app/api/v1/roles/schemas.py); it stays the authority.
const ROLE_NAME = /^[a-z][a-z0-9_.:-]{0,63}$/;
const DESCRIPTION_MAX = 256;

/** A sentence saying what is wrong with a role name, or null. */
export function checkRoleName(value) {
  if (value === "") return "Enter a name for the role.";
  if (value.length > 64) return "A role name has at most 64 characters.";
  if (!ROLE_NAME.test(value)) {
    return "Start with a lowercase letter; then use lowercase letters, digits and _ . : - only.";
  }
  return null;
}

export const rolesView = {
  title: "Roles",
  access: "user",
  render(ctx) {
    const heading = h("h1", { id: "roles-title", tabindex: "-1", text: "Roles" });
    const intro = h("p", {
      class: "page-head__intro",
      text: "Give users roles on their card in Users. Other services see a change when the user's access token is next renewed, within minutes.",
    });
    const body = h("div", { class: "stack", "aria-busy": "true" }, h("p", { text: "Loading roles…" }));
    const view = h("section", { class: "card card--wide", "aria-labelledby": "roles-title" }, heading, intro, ctx.takeNotice(), body);

    const summary = h("h2", { class: "results-summary", tabindex: "-1" });
    const list = h("ul", { class: "role-list" });
    const createCard = newRoleForm(async (role) => {
      ctx.notify(`The role ${role.name} has been created.`, "success");
      await load();
    });

    async function load({ focusSummary = false } = {}) {
      list.setAttribute("aria-busy", "true");
      try {
        const roles = await api.listRoles();
        if (body.hasAttribute("aria-busy")) {
          body.removeAttribute("aria-busy");
          body.replaceChildren(createCard, summary, list);
        }
        summary.textContent = roles.length === 1 ? "1 role" : `${roles.length} roles`;
        list.replaceChildren(
          ...(roles.length === 0 ? [h("li", { text: "No roles yet." })] : roles.map((role) => roleItem(role, load))),
        );
        if (focusSummary) summary.focus();
      } catch (error) {
        if (error.sessionExpired) return;
        body.removeAttribute("aria-busy");
        if (error.code === "FORBIDDEN") {
          showAdminOnly(body);
          return;
        }
        body.replaceChildren(h("p", { class: "notice notice--error", role: "alert", text: describeError(error)[0].text }));
      } finally {
        list.removeAttribute("aria-busy");
      }
    }

    load();
    return view;
  },
};

function newRoleForm(created) {
  const name = field({
    name: "name",
    label: "Name",
    autocomplete: "off",
    hint: "Lowercase, for example editor or billing:read. It can't be changed later.",
  });
  name.input.setAttribute("spellcheck", "false");
  name.input.setAttribute("autocapitalize", "none");
  name.input.maxLength = 64;
  const description = field({
    name: "description",
    label: "Description (optional)",
    autocomplete: "off",
    hint: "What the role lets its users do.",
  });
  description.input.maxLength = DESCRIPTION_MAX;
  const form = createForm({
    fields: [name, description],
    submitLabel: "Create role",
    busyLabel: "Creating…",
    validate: () => problemsOf([[name, checkRoleName(name.input.value.trim())]]),
    submit: async () => {
      const role = await api.createRole(name.input.value.trim(), description.input.value.trim());
      form.reset();
      await created(role);
      name.input.focus();
    },
  });
  return h("section", { class: "role-create", "aria-labelledby": "new-role-title" }, h("h2", { id: "new-role-title", text: "New role" }), form.form);
}

function roleItem(role, reload) {
  const remove = h(
    "button",
    { type: "button", class: "button button--danger button--small" },
    "Delete…",
    srOnly(` ${role.name}`),
  );
  remove.addEventListener("click", () =>
    openConfirmDialog({
      title: `Delete the role ${role.name}?`,
      text: "Every user who has it loses it. Their sessions go on; other services see the change when each access token is renewed.",
      confirmLabel: "Delete role",
      busyLabel: "Deleting…",
      submit: async () => {
        try {
          await api.deleteRole(role.name);
        } catch (error) {
          if (error.code !== "ROLE_NOT_FOUND") throw error; // already gone: nothing left to do
        }
        return async () => {
          announce(`The role ${role.name} has been deleted.`);
          await reload({ focusSummary: true });
        };
      },
    }),
  );
  return h(
    "li",
    { class: "role" },
    h("h3", { class: "role__name", text: role.name }),
    role.description ? h("p", { class: "role__description", text: role.description }) : null,
    h("p", { class: "role__since", text: `Created ${formatDay(role.created_at)}` }),
    h("div", { class: "role__actions" }, remove),
  );
}
