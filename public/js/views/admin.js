import * as api from "../api.js";
import { announce, formatDate, formatDay, h, srOnly, uid } from "../dom.js";
import { openConfirmDialog } from "../dialog.js";
import { describeError } from "../errors.js";
import { showAdminOnly } from "./admin-only.js";
import { createForm, field } from "../forms.js";
import { pluginCards } from "./account.js";
import { setUrl } from "../router.js";
import { sessionSummary } from "./devices.js";

const PAGE_SIZE = 20;

export const adminView = {
  title: "Users",
  access: "user",
  render(ctx) {
    const state = {
      email: (ctx.params.get("email") ?? "").trim(),
      offset: Math.max(0, Number.parseInt(ctx.params.get("offset") ?? "0", 10) || 0),
      loading: false,
    };
    const body = h("div", { class: "stack", "aria-busy": "true" }, h("p", { text: "Loading users…" }));
    const heading = h("h1", { id: "admin-title", tabindex: "-1", text: "Users" });
    const view = h("section", { class: "card card--wide", "aria-labelledby": "admin-title" }, heading, ctx.takeNotice(), body);

    const search = field({
      name: "email",
      label: "Search by email",
      type: "search",
      autocomplete: "off",
      hint: "Part of an address is enough, for example @example.com.",
      value: state.email,
    });
    search.input.setAttribute("spellcheck", "false");
    search.input.maxLength = 320; // the API refuses longer searches
    const searchForm = createForm({
      fields: [search],
      submitLabel: "Search",
      busyLabel: "Searching…",
      submit: async () => {
        state.email = search.input.value.trim();
        state.offset = 0;
        setUrl(urlFor(state));
        await load({ focusSummary: true });
      },
    });
    searchForm.form.setAttribute("role", "search");
    searchForm.form.classList.add("search-form");

    const summary = h("p", { class: "results-summary", tabindex: "-1" });
    const loadError = h("p", { class: "notice notice--error", role: "alert", hidden: true });
    const list = h("ul", { class: "user-list" });
    const previous = h("button", { type: "button", class: "button button--secondary", text: "Previous page" });
    const next = h("button", { type: "button", class: "button button--secondary", text: "Next page" });
    const pageInfo = h("p", { class: "pager__info" });
    const pager = h("nav", { class: "pager", "aria-label": "Pages of users" }, previous, pageInfo, next);

    const goTo = (offset) => {
      if (state.loading) return;
      state.offset = offset;
      setUrl(urlFor(state));
      load({ focusSummary: true });
    };
    previous.addEventListener("click", () => goTo(Math.max(0, state.offset - PAGE_SIZE)));
    next.addEventListener("click", () => goTo(state.offset + PAGE_SIZE));

    let shown = false;
    async function load({ focusSummary = false } = {}) {
      state.loading = true;
      list.setAttribute("aria-busy", "true");
      try {
        let page = await api.listUsers({ email: state.email, limit: PAGE_SIZE, offset: state.offset });
        if (page.items.length === 0 && page.total > 0 && state.offset > 0) {
          // The last page emptied (deletions, a stale link): show the last real one.
          state.offset = Math.floor((page.total - 1) / PAGE_SIZE) * PAGE_SIZE;
          setUrl(urlFor(state), { replace: true });
          page = await api.listUsers({ email: state.email, limit: PAGE_SIZE, offset: state.offset });
        }
        showPage(page);
        loadError.hidden = true;
      } catch (error) {
        if (error.sessionExpired) return;
        if (error.code === "FORBIDDEN") {
          showAdminOnly(body);
          return;
        }
        loadError.textContent = describeError(error)[0].text;
        loadError.hidden = false;
        if (!shown) body.replaceChildren(loadError);
      } finally {
        state.loading = false;
        list.removeAttribute("aria-busy");
      }
      if (focusSummary) summary.focus();
    }

    function showPage(page) {
      if (!shown) {
        shown = true;
        body.removeAttribute("aria-busy");
        body.replaceChildren(searchForm.form, loadError, summary, list, pager);
      }
      const first = page.total === 0 ? 0 : page.offset + 1;
      const last = page.offset + page.items.length;
      const matching = state.email ? ` matching “${state.email}”` : "";
      summary.textContent =
        page.total === 0
          ? `No users${matching}.`
          : `Showing ${first}–${last} of ${page.total} user${page.total === 1 ? "" : "s"}${matching}.`;
      list.replaceChildren(
        ...page.items.map((user) =>
          userCard(user, {
            isSelf: user.id === ctx.session.user?.id,
            onGone: () => load({ focusSummary: true }),
            notify: ctx.notify,
          }),
        ),
      );
      const pages = Math.max(1, Math.ceil(page.total / PAGE_SIZE));
      const current = Math.floor(page.offset / PAGE_SIZE) + 1;
      pageInfo.textContent = `Page ${current} of ${pages}`;
      previous.disabled = page.offset === 0;
      next.disabled = page.offset + page.items.length >= page.total;
      pager.hidden = pages === 1;
    }

    load();
    const extra = pluginCards("admin", ctx); // host.addCard("admin", ...)
    return extra.length > 0 ? h("div", { class: "stack" }, view, ...extra) : view;
  },
};

function urlFor({ email, offset }) {
  const query = new URLSearchParams();
  if (email) query.set("email", email);
  if (offset > 0) query.set("offset", String(offset));
  const text = query.toString();
  return text ? `/admin?${text}` : "/admin";
}

/** One user, compact: email, badges, last login; actions behind "Manage". onGone() reloads the list. */
function userCard(initialUser, { isSelf, onGone, notify }) {
  const item = h("li", { class: "user-card" });
  const sessionsBox = h("div", { class: "user-card__sessions", hidden: true });
  const rolesBox = h("div", { class: "user-card__roles", hidden: true });
  let user = initialUser;
  let open = false;

  const showProblem = (error) => {
    if (error.sessionExpired) return;
    notify(describeError(error)[0].text, "error");
    if (error.code === "USER_NOT_FOUND") window.setTimeout(onGone, 1500);
  };

  async function run(button, busyLabel, action) {
    if (button.getAttribute("aria-disabled") === "true") return;
    const label = [...button.childNodes].map((node) => node.cloneNode(true));
    button.setAttribute("aria-disabled", "true");
    button.classList.add("is-busy");
    button.textContent = busyLabel;
    try {
      await action();
    } catch (error) {
      showProblem(error);
    } finally {
      button.removeAttribute("aria-disabled");
      button.classList.remove("is-busy");
      if (button.isConnected) button.replaceChildren(...label);
    }
  }

  const update = (button, changes, done) =>
    run(button, "Saving…", async () => {
      user = await api.updateUser(user.id, changes);
      render();
      announce(done(user));
      item.querySelector(`[data-action="${button.dataset.action}"]`)?.focus();
    });

  const actionButton = (action, label, { danger = false } = {}) =>
    h(
      "button",
      { type: "button", class: `button ${danger ? "button--danger" : "button--secondary"} button--small`, "data-action": action },
      label,
      srOnly(` ${user.email}`),
    );

  async function showSessions() {
    const sessions = await api.listUserSessions(user.id);
    const endAll = actionButton("end-sessions", "Log out everywhere");
    endAll.addEventListener("click", () =>
      run(endAll, "Logging out…", async () => {
        await api.endUserSessions(user.id);
        notify(`${user.email} has been logged out everywhere.`, "success");
        await showSessions();
      }),
    );
    sessionsBox.replaceChildren(
      h("h3", { class: "user-card__subtitle", text: `Sessions (${sessions.length})` }),
      sessions.length === 0
        ? h("p", { text: "Not logged in anywhere." })
        : h(
            "ul",
            { class: "session-list" },
            // As the user's own Devices list shows them: the name they chose, and the device.
            sessions.map((session) => {
              const { header, facts } = sessionSummary(session);
              return h("li", { class: "session", "data-session": session.id }, header, facts);
            }),
          ),
      sessions.length === 0 ? null : endAll,
    );
    sessionsBox.hidden = false;
  }

  /** Checkboxes for every role, the user's ticked; saving replaces the user's roles. */
  async function showRolesEditor() {
    const roles = await api.listRoles();
    const legendId = uid("roles-legend");
    const boxes = roles.map((role) => {
      const id = uid("role");
      const box = h("input", { type: "checkbox", id, value: role.name, checked: user.roles.includes(role.name) });
      const hintId = role.description ? `${id}-hint` : null;
      if (hintId) box.setAttribute("aria-describedby", hintId);
      return h(
        "div",
        { class: "role-choice" },
        box,
        h("label", { for: id, text: role.name }),
        hintId ? h("span", { class: "role-choice__hint", id: hintId, text: role.description }) : null,
      );
    });
    if (roles.length === 0) {
      rolesBox.replaceChildren(
        h("h3", { class: "user-card__subtitle", text: "Roles" }),
        h("p", {}, "No roles yet. ", h("a", { href: "/admin/roles", "data-link": true, text: "Create roles" }), " first."),
      );
      rolesBox.hidden = false;
      return;
    }
    const save = actionButton("save-roles", "Save roles");
    save.classList.remove("button--secondary");
    save.addEventListener("click", () =>
      run(save, "Saving…", async () => {
        const chosen = boxes.map((choice) => choice.querySelector("input")).filter((box) => box.checked).map((box) => box.value);
        user = { ...user, roles: await api.setUserRoles(user.id, chosen) };
        rolesBox.hidden = true; // done: the badges show the result
        render();
        notify(
          user.roles.length > 0 ? `${user.email} now has the roles ${user.roles.join(", ")}.` : `${user.email} has no roles now.`,
          "success",
        );
        item.querySelector('[data-action="roles"]')?.focus();
      }),
    );
    rolesBox.replaceChildren(
      h(
        "fieldset",
        { class: "role-choices", "aria-labelledby": legendId },
        h("legend", { id: legendId, class: "user-card__subtitle" }, "Roles", srOnly(` of ${user.email}`)),
        boxes,
      ),
      save,
    );
    rolesBox.hidden = false;
    boxes[0]?.querySelector("input")?.focus();
  }

  function actions() {
    const toggleVerified = actionButton("verified", user.is_verified ? "Mark email unconfirmed" : "Mark email confirmed");
    toggleVerified.addEventListener("click", () =>
      update(toggleVerified, { is_verified: !user.is_verified }, (u) =>
        u.is_verified ? `${u.email} is marked confirmed.` : `${u.email} is marked unconfirmed.`,
      ),
    );
    const toggleActive = actionButton("active", user.is_active ? "Deactivate" : "Reactivate");
    toggleActive.addEventListener("click", () =>
      update(toggleActive, { is_active: !user.is_active }, (u) =>
        u.is_active ? `${u.email} is active again.` : `${u.email} is deactivated and can't log in.`,
      ),
    );
    const toggleAdmin = actionButton("admin", user.is_superuser ? "Remove admin rights" : "Make admin");
    toggleAdmin.addEventListener("click", () =>
      update(toggleAdmin, { is_superuser: !user.is_superuser }, (u) =>
        u.is_superuser ? `${u.email} is now an administrator.` : `${u.email} is no longer an administrator.`,
      ),
    );
    const reset = actionButton("reset", "Send reset link");
    reset.addEventListener("click", () =>
      run(reset, "Sending…", async () => {
        await api.sendResetLink(user.id);
        notify(`A password reset link is on its way to ${user.email}.`, "success");
      }),
    );
    const roles = actionButton("roles", "Roles");
    roles.addEventListener("click", () => run(roles, "Loading…", showRolesEditor));
    const sessions = actionButton("sessions", "Sessions");
    sessions.addEventListener("click", () => run(sessions, "Loading…", showSessions));
    const remove = actionButton("delete", "Delete…", { danger: true });
    remove.addEventListener("click", () =>
      openConfirmDialog({
        title: `Delete ${user.email}?`,
        text: "The account is removed for good and its owner can't log in any more. This can't be undone.",
        confirmLabel: "Delete user",
        busyLabel: "Deleting…",
        submit: async () => {
          await api.deleteUser(user.id);
          return () => {
            announce(`${user.email} has been deleted.`);
            onGone();
          };
        },
      }),
    );
    return h("div", { class: "user-card__actions" }, toggleVerified, toggleActive, toggleAdmin, roles, reset, sessions, remove);
  }

  function render() {
    const badges = [
      h("span", { class: `badge ${user.is_active ? "badge--ok" : "badge--off"}`, text: user.is_active ? "Active" : "Deactivated" }),
      h("span", { class: "badge", text: user.is_verified ? "Verified" : "Not verified" }),
      user.is_superuser ? h("span", { class: "badge badge--admin", text: "Administrator" }) : null,
      ...(user.roles ?? []).map((name) => h("span", { class: "badge badge--role" }, srOnly("Role: "), name)),
    ];
    const lastLogin = user.last_login_at ? `Last login ${formatDay(user.last_login_at)}` : "Never logged in";
    const details = isSelf
      ? h("p", { class: "user-card__self", text: "This is you. Change your own account in your profile." })
      : h(
          "details",
          { class: "user-card__manage", open },
          h("summary", {}, "Manage", srOnly(` ${user.email}`)),
          h("p", { class: "user-card__since", text: `Joined ${formatDate(user.created_at)}` }),
          actions(),
          rolesBox,
          sessionsBox,
        );
    // Re-rendering after an action keeps the actions open.
    if (!isSelf) details.addEventListener("toggle", () => (open = details.open));
    item.replaceChildren(
      h("h2", { class: "user-card__email", text: user.email }),
      h(
        "p",
        { class: "user-card__meta" },
        badges,
        h("span", { class: "user-card__since", text: lastLogin }),
      ),
      details,
    );
  }

  render();
  return item;
}
