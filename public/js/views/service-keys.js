// Service keys (superusers): the keys other backends use to ask whether a
// token is still live (POST /v1/tokens/introspect). A new key is shown once.

import * as api from "../api.js";
import { formatDate, formatDateTime, h, srOnly } from "../dom.js";
import { openConfirmDialog } from "../dialog.js";
import { describeError } from "../errors.js";
import { showAdminOnly } from "./admin-only.js";
import { createForm, field } from "../forms.js";

// The server's rule (app/api/v1/service_keys/schemas.py), checked here first.
const NAME_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9 ._:-]*[A-Za-z0-9._:-])?$/;
const NAME_MAX = 64;

export const serviceKeysView = {
  title: "Service keys",
  access: "user",
  render(ctx) {
    const heading = h("h1", { id: "service-keys-title", tabindex: "-1", text: "Service keys" });
    const body = h("div", { class: "stack", "aria-busy": "true" }, h("p", { text: "Loading service keys…" }));
    const view = h(
      "section",
      { class: "card card--wide", "aria-labelledby": "service-keys-title" },
      heading,
      ctx.takeNotice(),
      h("p", {
        text: "Other backends use a service key to ask whether a sign-in is still valid. A key is shown only once, when you create it.",
      }),
      body,
    );

    const name = field({
      name: "name",
      label: "Name",
      autocomplete: "off",
      hint: "What uses it, for example billing-api. Letters, digits, spaces inside and . _ : -",
    });
    name.input.maxLength = NAME_MAX;
    name.input.setAttribute("spellcheck", "false");
    const created = h("div", { class: "new-key", hidden: true });
    const keyForm = createForm({
      fields: [name],
      submitLabel: "Create key",
      busyLabel: "Creating…",
      validate: () => {
        const value = name.input.value;
        if (value.trim() === "") return [{ field: "name", text: "Enter a name for the key." }];
        if (!NAME_PATTERN.test(value)) {
          return [{ field: "name", text: "Use letters, digits and . _ : - (spaces only between them)." }];
        }
        return [];
      },
      submit: async () => {
        const key = await api.createServiceKey(name.input.value);
        keyForm.reset();
        showCreated(key);
        await load();
      },
    });
    keyForm.form.classList.add("search-form");

    const loadError = h("p", { class: "notice notice--error", role: "alert", hidden: true });
    const summary = h("p", { class: "results-summary", tabindex: "-1" });
    const list = h("ul", { class: "user-list" });

    function showCreated(key) {
      const valueId = `new-key-${key.id}`;
      const value = h("input", { id: valueId, type: "text", readonly: true, class: "new-key__value", spellcheck: "false" });
      value.value = key.key;
      const copied = h("p", { class: "field__hint", "aria-live": "polite" });
      const copy = h("button", { type: "button", class: "button button--secondary button--small", text: "Copy" });
      copy.addEventListener("click", async () => {
        try {
          await navigator.clipboard.writeText(key.key);
          copied.textContent = "Copied.";
        } catch {
          value.select();
          copied.textContent = "Select the key and copy it yourself.";
        }
      });
      created.replaceChildren(
        h("h2", { class: "user-card__email", text: `New key “${key.name}”` }),
        h("p", { text: "Copy it now and store it where the backend reads its secrets: it won't be shown again." }),
        h(
          "div",
          { class: "field" },
          h("label", { for: valueId, text: `Key for ${key.name}` }),
          h("div", { class: "new-key__row" }, value, copy),
          copied,
        ),
      );
      created.hidden = false;
      value.focus();
      value.select();
    }

    let shown = false;
    async function load() {
      list.setAttribute("aria-busy", "true");
      try {
        const keys = await api.listServiceKeys();
        if (!shown) {
          shown = true;
          body.removeAttribute("aria-busy");
          body.replaceChildren(keyForm.form, created, loadError, summary, list);
        }
        loadError.hidden = true;
        summary.textContent = keys.length === 0 ? "No service keys yet." : `${keys.length} live key${keys.length === 1 ? "" : "s"}.`;
        list.replaceChildren(...keys.map((key) => keyCard(key, { reload: load, notify: ctx.notify, focusSummary: () => summary.focus() })));
      } catch (error) {
        if (error.sessionExpired) return;
        if (error.code === "FORBIDDEN") {
          showAdminOnly(body);
          return;
        }
        loadError.textContent = describeError(error)[0].text;
        loadError.hidden = false;
        if (!shown) {
          body.removeAttribute("aria-busy");
          body.replaceChildren(loadError);
        }
      } finally {
        list.removeAttribute("aria-busy");
      }
    }

    load();
    return view;
  },
};

/** One key: name, when made and last used, and a Revoke button. */
function keyCard(key, { reload, notify, focusSummary }) {
  const lastUsed = key.last_used_at ? `last used ${formatDateTime(key.last_used_at)}` : "never used";
  const revoke = h(
    "button",
    { type: "button", class: "button button--danger button--small", "data-action": "revoke" },
    "Revoke…",
    srOnly(` ${key.name}`),
  );
  revoke.addEventListener("click", () =>
    openConfirmDialog({
      title: `Revoke ${key.name}?`,
      text: "Backends using this key are refused from their next request. This can't be undone.",
      confirmLabel: "Revoke key",
      busyLabel: "Revoking…",
      submit: async () => {
        try {
          await api.revokeServiceKey(key.id);
        } catch (error) {
          // Already revoked elsewhere: the list is what needs refreshing.
          if (error.code !== "SERVICE_KEY_NOT_FOUND") throw error;
        }
        return async () => {
          notify(`${key.name} has been revoked.`, "success"); // notify() also announces it
          await reload();
          focusSummary();
        };
      },
    }),
  );
  return h(
    "li",
    { class: "user-card" },
    h("h2", { class: "user-card__email", text: key.name }),
    h("p", { class: "user-card__since", text: `Created ${formatDate(key.created_at)} · ${lastUsed}` }),
    h("div", { class: "user-card__manage" }, revoke),
  );
}
