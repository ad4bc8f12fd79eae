// Security: the password, and room for what plugins add here (two-step
// codes, QR sign-in) through host.addCard("security", ...).

import * as api from "../api.js";
import { createForm, field, problemsOf, showPasswordToggle, usernameForPasswordManagers } from "../forms.js";
import { tellOtherTabs } from "../sync.js";
import { checkExistingPassword, checkNewPassword } from "../validation.js";
import { card, sectionPage } from "./account.js";

export const securityView = {
  title: "Security",
  access: "user",
  render(ctx) {
    return sectionPage(
      ctx,
      { id: "security", title: "Security", intro: "How you sign in, and what keeps your account safe." },
      changePasswordCard(ctx),
    );
  },
};

function changePasswordCard(ctx) {
  const email = () => ctx.session.user?.email ?? "";
  const password = field({
    name: "password",
    label: "New password",
    type: "password",
    autocomplete: "new-password",
    passwordMeter: true,
    userInputs: () => [email()],
  });
  const current = field({
    name: "current_password",
    label: "Current password",
    type: "password",
    autocomplete: "current-password",
  });
  const form = createForm({
    fields: [password, current],
    extra: [showPasswordToggle([password, current]), usernameForPasswordManagers(email())],
    submitLabel: "Change password",
    busyLabel: "Saving…",
    validate: () =>
      problemsOf([
        [password, checkNewPassword(password.input.value, email())],
        [current, checkExistingPassword(current.input.value, "your current password")],
      ]),
    submit: async () => {
      await api.updateMe({ password: password.input.value }, current.input.value);
      form.reset();
      tellOtherTabs("sessions-changed");
      window.dispatchEvent(new Event("sessions-changed"));
      ctx.notify(
        "Your password has been changed, and your other devices have been logged out. Use the new password next time you log in.",
        "success",
      );
    },
  });
  return card("change-password-title", "Change password", form.form);
}
