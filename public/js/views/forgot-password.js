import * as api from "../api.js";
import { h } from "../dom.js";
import { createForm, field, problemsOf } from "../forms.js";
import { checkEmail, normaliseEmail } from "../validation.js";

export const forgotPasswordView = {
  title: "Forgot your password?",
  access: "guest",
  render(ctx) {
    const email = field({
      name: "email",
      label: "Email address",
      type: "email",
      autocomplete: "username",
      hint: "We'll email you a link to choose a new password.",
      value: ctx.session.email,
    });
    const form = createForm({
      fields: [email],
      submitLabel: "Send the link",
      busyLabel: "Sending…",
      validate: () => problemsOf([[email, checkEmail(email.input.value)]]),
      submit: async () => {
        const address = normaliseEmail(email.input.value);
        await api.requestPasswordReset(address);
        // The same answer for every address, so this page can't be used to
        // find out who has an account.
        ctx.notify(
          `If an account uses ${address}, we've sent it a link. It works for a limited time; check your spam folder if nothing arrives.`,
          "success",
        );
      },
    });

    return h(
      "section",
      { class: "card card--narrow", "aria-labelledby": "forgot-title" },
      h("h1", { id: "forgot-title", tabindex: "-1", text: "Forgot your password?" }),
      ctx.takeNotice(),
      form.form,
      h("p", { class: "aside" }, "Remembered it? ", h("a", { href: "/login", "data-link": true, text: "Log in" })),
    );
  },
};
