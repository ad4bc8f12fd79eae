import * as api from "../api.js";
import { h } from "../dom.js";
import { createForm, field, problemsOf, showPasswordToggle } from "../forms.js";
import { checkEmail, checkNewPassword, normaliseEmail } from "../validation.js";

export const registerView = {
  title: "Create an account",
  access: "guest",
  render(ctx) {
    const email = field({
      name: "email",
      label: "Email address",
      type: "email",
      autocomplete: "username",
      hint: "You'll use it to log in.",
    });
    const password = field({
      name: "password",
      label: "Password",
      type: "password",
      autocomplete: "new-password",
      passwordMeter: true,
    });
    const form = createForm({
      fields: [email, password],
      extra: [showPasswordToggle([password])],
      submitLabel: "Create account",
      busyLabel: "Creating account…",
      validate: () =>
        problemsOf([
          [email, checkEmail(email.input.value)],
          [password, checkNewPassword(password.input.value, email.input.value)],
        ]),
      submit: async () => {
        const user = await api.register(normaliseEmail(email.input.value), password.input.value);
        ctx.session.email = user.email;
        ctx.setNotice("Your account is ready. Log in to continue.", "success");
        ctx.navigate("/login");
      },
    });

    return h(
      "section",
      { class: "card card--narrow", "aria-labelledby": "register-title" },
      h("h1", { id: "register-title", tabindex: "-1", text: "Create an account" }),
      ctx.takeNotice(),
      form.form,
      h("p", { class: "aside" }, "Already have an account? ", h("a", { href: "/login", "data-link": true, text: "Log in" })),
    );
  },
};
