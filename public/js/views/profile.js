import * as api from "../api.js";
import { announce, formatDate, h } from "../dom.js";
import { openConfirmDialog } from "../dialog.js";
import { describeError } from "../errors.js";
import { createForm, field, problemsOf, showPasswordToggle, usernameForPasswordManagers } from "../forms.js";
import { sessionsSection } from "./sessions.js";
import { checkEmail, checkExistingPassword, checkNewPassword, normaliseEmail } from "../validation.js";

export const profileView = {
  title: "Your profile",
  access: "user",
  render(ctx) {
    const details = h("div", { class: "details", "aria-busy": "true" }, h("p", { text: "Loading your profile…" }));
    const view = h(
      "div",
      { class: "stack" },
      h(
        "section",
        { class: "card", "aria-labelledby": "profile-title" },
        h("h1", { id: "profile-title", tabindex: "-1", text: "Your profile" }),
        ctx.takeNotice(),
        details,
      ),
      changeEmailSection(ctx, (user) => showDetails(details, user)),
      changePasswordSection(ctx),
      sessionsSection(),
      deleteAccountSection(ctx),
    );

    if (ctx.session.user) showDetails(details, ctx.session.user);
    api
      .getMe()
      .then((user) => {
        ctx.setUser(user);
        showDetails(details, user);
      })
      .catch((error) => {
        if (error.sessionExpired) return;
        details.removeAttribute("aria-busy");
        details.replaceChildren(h("p", { class: "notice notice--error", role: "alert", text: describeError(error)[0].text }));
      });
    return view;
  },
};

function showDetails(container, user) {
  const rows = [
    ["Email address", user.email],
    ["Status", user.is_active ? "Active" : "Deactivated"],
    ["Email verified", user.is_verified ? "Yes" : "Not yet"],
    ["Role", user.is_superuser ? "Administrator" : "Member"],
    ["Member since", formatDate(user.created_at)],
    ["User ID", user.id],
  ];
  container.removeAttribute("aria-busy");
  container.replaceChildren(
    h(
      "dl",
      { class: "details__list" },
      rows.map(([term, value]) => h("div", { class: "details__row" }, h("dt", { text: term }), h("dd", { text: String(value) }))),
    ),
    user.is_verified ? null : resendConfirmation(user),
  );
}

function resendConfirmation(user) {
  const result = h("p", { hidden: true });
  const button = h("button", { type: "button", class: "button button--secondary button--small", text: "Send the confirmation link again" });
  button.addEventListener("click", async () => {
    if (button.getAttribute("aria-disabled") === "true") return;
    button.setAttribute("aria-disabled", "true");
    button.classList.add("is-busy");
    try {
      await api.sendVerificationEmail();
      result.className = "notice notice--success";
      result.textContent = `We've sent a confirmation link to ${user.email}.`;
    } catch (error) {
      if (error.sessionExpired) return;
      result.className = "notice notice--error";
      result.textContent = describeError(error)[0].text;
    } finally {
      button.removeAttribute("aria-disabled");
      button.classList.remove("is-busy");
    }
    result.hidden = false;
    announce(result.textContent);
  });
  return h(
    "div",
    { class: "details__verify" },
    h("p", { text: "Your email address isn't confirmed yet. Open the link we emailed you, or get a new one." }),
    button,
    result,
  );
}

function section(id, title, ...children) {
  return h(
    "section",
    { class: "card", "aria-labelledby": id },
    h("h2", { id, text: title }),
    ...children,
  );
}

function successNote() {
  const note = h("p", { class: "notice notice--success", hidden: true });
  return {
    el: note,
    show(text) {
      note.textContent = text;
      note.hidden = false;
      announce(text);
    },
    hide() {
      note.hidden = true;
    },
  };
}

function changeEmailSection(ctx, onChanged) {
  const email = field({ name: "email", label: "New email address", type: "email", autocomplete: "email" });
  const current = field({
    name: "current_password",
    label: "Current password",
    type: "password",
    autocomplete: "current-password",
  });
  const note = successNote();
  const form = createForm({
    fields: [email, current],
    submitLabel: "Change email",
    busyLabel: "Saving…",
    validate: () => {
      note.hide();
      const newEmail = normaliseEmail(email.input.value);
      const same = ctx.session.user && newEmail.toLowerCase() === ctx.session.user.email.toLowerCase();
      return problemsOf([
        [email, checkEmail(newEmail) ?? (same ? "That's already your email address." : null)],
        [current, checkExistingPassword(current.input.value, "your current password")],
      ]);
    },
    submit: async () => {
      const user = await api.updateMe({ email: normaliseEmail(email.input.value) }, current.input.value);
      ctx.setUser(user);
      onChanged(user);
      form.reset();
      note.show(`Your email address is now ${user.email}.`);
    },
  });
  return section("change-email-title", "Change email address", note.el, form.form);
}

function changePasswordSection(ctx) {
  const password = field({
    name: "password",
    label: "New password",
    type: "password",
    autocomplete: "new-password",
    passwordMeter: true,
  });
  const current = field({
    name: "current_password",
    label: "Current password",
    type: "password",
    autocomplete: "current-password",
  });
  const note = successNote();
  const form = createForm({
    fields: [password, current],
    extra: [showPasswordToggle([password, current]), usernameForPasswordManagers(ctx.session.user?.email)],
    submitLabel: "Change password",
    busyLabel: "Saving…",
    validate: () => {
      note.hide();
      return problemsOf([
        [password, checkNewPassword(password.input.value, ctx.session.user?.email)],
        [current, checkExistingPassword(current.input.value, "your current password")],
      ]);
    },
    submit: async () => {
      await api.updateMe({ password: password.input.value }, current.input.value);
      form.reset();
      note.show("Your password has been changed. Use the new one next time you log in.");
    },
  });
  return section("change-password-title", "Change password", note.el, form.form);
}

function deleteAccountSection(ctx) {
  const open = () => {
    const current = field({
      name: "current_password",
      label: "Current password",
      type: "password",
      autocomplete: "current-password",
    });
    openConfirmDialog({
      title: "Delete your account?",
      text: "Your account and everything in it will be removed for good. This can't be undone.",
      fields: [current],
      extra: [usernameForPasswordManagers(ctx.session.user?.email)],
      confirmLabel: "Delete my account",
      busyLabel: "Deleting…",
      validate: () => problemsOf([[current, checkExistingPassword(current.input.value, "your current password")]]),
      submit: async () => {
        await api.deleteMe(current.input.value);
        return () => {
          ctx.setUser(null);
          ctx.setNotice("Your account has been deleted.", "success");
          ctx.navigate("/login");
        };
      },
    });
  };
  return h(
    "section",
    { class: "card card--danger", "aria-labelledby": "delete-title" },
    h("h2", { id: "delete-title", text: "Delete account" }),
    h("p", { text: "Deleting your account removes it permanently. You'll need your current password." }),
    h("button", { type: "button", class: "button button--danger", onclick: open, text: "Delete account…" }),
  );
}
