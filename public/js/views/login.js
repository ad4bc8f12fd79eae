import * as api from "../api.js";
import { h } from "../dom.js";
import { createForm, field, problemsOf, showPasswordToggle } from "../forms.js";
import { safeNext } from "../router.js";
import { checkEmail, checkExistingPassword, normaliseEmail } from "../validation.js";

export const loginView = {
  title: "Log in",
  access: "guest",
  render(ctx) {
    const email = field({
      name: "email",
      label: "Email address",
      type: "email",
      autocomplete: "username",
      value: ctx.session.email,
    });
    const password = field({
      name: "password",
      label: "Password",
      type: "password",
      autocomplete: "current-password",
    });
    const form = createForm({
      fields: [email, password],
      extra: [showPasswordToggle([password])],
      submitLabel: "Log in",
      busyLabel: "Logging in…",
      validate: () =>
        problemsOf([
          [email, checkEmail(email.input.value)],
          [password, checkExistingPassword(password.input.value)],
        ]),
      submit: async () => {
        await api.logIn(normaliseEmail(email.input.value), password.input.value);
        await ctx.signedIn();
        ctx.navigate(safeNext(ctx.params.get("next")) ?? "/profile");
      },
    });

    return h(
      "section",
      { class: "card card--narrow", "aria-labelledby": "login-title" },
      h("h1", { id: "login-title", tabindex: "-1", text: "Log in" }),
      ctx.takeNotice(),
      form.form,
      otherWays(ctx),
      h("p", { class: "aside" }, h("a", { href: "/forgot-password", "data-link": true, text: "Forgot your password?" })),
      h("p", { class: "aside" }, "No account yet? ", h("a", { href: "/register", "data-link": true, text: "Create an account" })),
    );
  },
};

/** Sign-in options added by plugins (host.addLoginOption), under the password form. */
function otherWays(ctx) {
  if (ctx.loginOptions.length === 0) return null;
  return h(
    "div",
    { class: "login-options" },
    ctx.loginOptions.map((option) => {
      try {
        return h("div", { class: "login-option", "data-option": option.id }, option.render(ctx));
      } catch (error) {
        console.warn(`Login option ${option.id} failed:`, error);
        return null;
      }
    }),
  );
}
