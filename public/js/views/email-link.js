// The two pages that emailed links open: /reset-password#token=… and
// /verify-email#token=…. The token travels in the fragment, which browsers
// never send to a server; it is read once and then removed from the address
// bar and history.

import * as api from "../api.js";
import { announce, h } from "../dom.js";
import { describeError } from "../errors.js";
import { createForm, field, problemsOf, showPasswordToggle } from "../forms.js";
import { checkNewPassword } from "../validation.js";

function takeToken() {
  const token = new URLSearchParams(window.location.hash.slice(1)).get("token");
  if (window.location.hash) {
    history.replaceState(null, "", window.location.pathname + window.location.search);
  }
  return token;
}

function brokenLink(what, action) {
  return [
    h("p", { class: "notice notice--error", text: `This ${what} link is incomplete. Open it from the email again, or ask for a new one.` }),
    action,
  ];
}

export const resetPasswordView = {
  title: "Choose a new password",
  access: "any",
  render(ctx) {
    const token = takeToken();
    const heading = h("h1", { id: "reset-title", tabindex: "-1", text: "Choose a new password" });
    const askAgain = h("p", {}, h("a", { href: "/forgot-password", "data-link": true, text: "Ask for a new link" }));
    const card = h("section", { class: "card card--narrow", "aria-labelledby": "reset-title" }, heading);
    if (!token) {
      card.append(...brokenLink("password reset", askAgain));
      return card;
    }

    const password = field({
      name: "password",
      label: "New password",
      type: "password",
      autocomplete: "new-password",
      passwordMeter: true,
    });
    const form = createForm({
      fields: [password],
      extra: [showPasswordToggle([password])],
      submitLabel: "Save the new password",
      busyLabel: "Saving…",
      validate: () => problemsOf([[password, checkNewPassword(password.input.value)]]),
      submit: async () => {
        await api.resetPassword(token, password.input.value);
        ctx.setUser(null);
        ctx.setNotice("Your password has been changed and every session has ended. Log in with the new password.", "success");
        ctx.navigate("/login");
      },
    });
    card.append(form.form, askAgain);
    askAgain.classList.add("aside");
    return card;
  },
};

export const verifyEmailView = {
  title: "Confirm your email address",
  access: "any",
  render(ctx) {
    const token = takeToken();
    const status = h("div", { "aria-live": "polite" });
    const card = h(
      "section",
      { class: "card card--narrow", "aria-labelledby": "verify-title" },
      h("h1", { id: "verify-title", tabindex: "-1", text: "Confirm your email address" }),
      status,
    );
    const next = () =>
      h("p", {}, h("a", { href: api.isLoggedIn() ? "/profile" : "/login", "data-link": true, text: api.isLoggedIn() ? "Go to your profile" : "Log in" }));

    if (!token) {
      status.append(...brokenLink("confirmation", next()));
      return card;
    }
    status.append(h("p", { text: "Confirming…" }));
    api
      .verifyEmail(token)
      .then((user) => {
        if (ctx.session.user?.id === user.id) ctx.setUser(user);
        const text = `Thank you: ${user.email} is confirmed.`;
        status.replaceChildren(h("p", { class: "notice notice--success", text }), next());
        announce(text);
      })
      .catch((error) => {
        const [problem] = describeError(error);
        const resend = api.isLoggedIn()
          ? h("p", {}, "You can send a new link from ", h("a", { href: "/profile", "data-link": true, text: "your profile" }), ".")
          : next();
        status.replaceChildren(h("p", { class: "notice notice--error", role: "alert", text: problem.text }), resend);
      });
    return card;
  },
};
