// Profile: who the account is, changing its email address, deleting it.

import * as api from "../api.js";
import { openConfirmDialog } from "../dialog.js";
import { formatDate, h } from "../dom.js";
import { describeError } from "../errors.js";
import { createForm, field, problemsOf, usernameForPasswordManagers } from "../forms.js";
import { tellOtherTabs } from "../sync.js";
import { checkEmail, checkExistingPassword, normaliseEmail } from "../validation.js";
import { card, sectionPage } from "./account.js";

export const profileView = {
  title: "Your profile",
  access: "user",
  render(ctx) {
    const details = h("div", { class: "details", "aria-busy": "true" }, h("p", { text: "Loading your profile…" }));
    const view = sectionPage(
      ctx,
      { id: "profile", title: "Your profile" },
      h("section", { class: "card", "aria-label": "Account details" }, details),
      changeEmailCard(ctx, (user) => showDetails(details, user, ctx.notify)),
      deleteAccountCard(ctx),
    );

    if (ctx.session.user) showDetails(details, ctx.session.user, ctx.notify);
    api
      .getMe()
      .then((user) => {
        ctx.setUser(user);
        showDetails(details, user, ctx.notify);
      })
      .catch((error) => {
        if (error.sessionExpired) return;
        details.removeAttribute("aria-busy");
        details.replaceChildren(h("p", { class: "notice notice--error", role: "alert", text: describeError(error)[0].text }));
      });
    return view;
  },
};

function showDetails(container, user, notify) {
  const rows = [
    ["Email address", user.email],
    ["Status", user.is_active ? "Active" : "Deactivated"],
    ["Email verified", user.is_verified ? "Yes" : "Not yet"],
    ["Account type", user.is_superuser ? "Administrator" : "Member"],
    ["Roles", user.roles?.length > 0 ? user.roles.join(", ") : "None"],
    ["Member since", formatDate(user.created_at)],
    ["User ID", user.id],
  ];
  container.removeAttribute("aria-busy");
  // replaceChildren() turns null into the text "null"; h()'s children skip it.
  container.replaceChildren(
    ...[
      h(
        "dl",
        { class: "details__list" },
        rows.map(([term, value]) => h("div", { class: "details__row" }, h("dt", { text: term }), h("dd", { text: String(value) }))),
      ),
      user.is_verified ? null : resendConfirmation(user, notify),
    ].filter(Boolean),
  );
}

function resendConfirmation(user, notify) {
  const button = h("button", { type: "button", class: "button button--secondary button--small", text: "Send the confirmation link again" });
  button.addEventListener("click", async () => {
    if (button.getAttribute("aria-disabled") === "true") return;
    button.setAttribute("aria-disabled", "true");
    button.classList.add("is-busy");
    try {
      await api.sendVerificationEmail();
      notify(`We've sent a confirmation link to ${user.email}.`, "success");
    } catch (error) {
      if (!error.sessionExpired) notify(describeError(error)[0].text, "error");
    } finally {
      button.removeAttribute("aria-disabled");
      button.classList.remove("is-busy");
    }
  });
  return h(
    "div",
    { class: "details__verify" },
    h("p", { text: "Your email address isn't confirmed yet. Open the link we emailed you, or get a new one." }),
    button,
  );
}

function changeEmailCard(ctx, onChanged) {
  const email = field({ name: "email", label: "New email address", type: "email", autocomplete: "email" });
  const current = field({
    name: "current_password",
    label: "Current password",
    type: "password",
    autocomplete: "current-password",
  });
  const form = createForm({
    fields: [email, current],
    submitLabel: "Change email",
    busyLabel: "Saving…",
    validate: () => {
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
      tellOtherTabs("sessions-changed");
      ctx.notify(`Your email address is now ${user.email}. ${await confirmation(user)} Your other devices have been logged out.`, "success");
    },
  });
  return card("change-email-title", "Change email address", form.form);
}

/** A new address is unconfirmed: send its link at once and say so. */
async function confirmation(user) {
  if (user.is_verified) return "";
  try {
    await api.sendVerificationEmail();
    return "We've sent a link there: open it to confirm the address.";
  } catch {
    return "It still needs confirming: send yourself the link below.";
  }
}

function deleteAccountCard(ctx) {
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
        tellOtherTabs("logout");
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
