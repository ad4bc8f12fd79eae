import * as api from "../api.js";
import { announce, h } from "../dom.js";
import { loginSteps } from "../registry.js";
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
        const held = await api.logIn(normaliseEmail(email.input.value), password.input.value);
        if (held) return secondStep(ctx, held, view, form);
        await ctx.signedIn();
        ctx.navigate(safeNext(ctx.params.get("next")) ?? "/profile");
      },
    });

    const view = h(
      "section",
      { class: "card card--narrow", "aria-labelledby": "login-title" },
      h("h1", { id: "login-title", tabindex: "-1", text: "Log in" }),
      ctx.takeNotice(),
      form.form,
      otherWays(ctx),
      h("p", { class: "aside" }, h("a", { href: "/forgot-password", "data-link": true, text: "Forgot your password?" })),
      h("p", { class: "aside" }, "No account yet? ", h("a", { href: "/register", "data-link": true, text: "Create an account" })),
    );
    return view;
  },
};

/**
 * The password was right but a plugin holds the login for a second step
 * (`{mfa_required, mfa_token, methods, expires_in}`): the first plugin step
 * (host.addLoginStep) that offers one of `methods` replaces the form. It calls
 * step.finish(tokens) with the login-shaped answer, or step.restart().
 */
function secondStep(ctx, held, view, form) {
  const plugin = loginSteps.find((s) => s.methods.some((method) => held.methods?.includes(method)));
  if (!plugin) {
    form.showErrors([{ field: null, text: "This account needs a second sign-in step that this page can't show." }]);
    return;
  }
  const step = {
    ...held,
    async finish(tokens) {
      api.signIn(tokens);
      await ctx.signedIn();
      ctx.navigate(safeNext(ctx.params.get("next")) ?? "/profile");
    },
    restart() {
      const fresh = loginView.render(ctx);
      view.replaceWith(fresh);
      fresh.querySelector("input")?.focus();
    },
  };
  const title = h("h1", { id: "login-title", tabindex: "-1", text: "Two-step verification" });
  view.replaceChildren(title, ctx.takeNotice(), plugin.render(ctx, step));
  announce("Your password was right. One more step to log in.");
  (view.querySelector("input") ?? title).focus();
}

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
