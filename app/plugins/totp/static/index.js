// Two-step sign-in's part of the account app (README, "Writing a plugin" -> "Frontend part"):
// a "Two-step verification" card under Security (set up, recovery codes, turn off), the
// code step of a login that answered `mfa_required` (host.addLoginStep), a small card
// under Admin to look a user up and turn two-step off for them, the Activity page's
// words for its events (host.addEventLabel) and the Devices lists' for its sign-in
// methods (host.addMethodLabel).

const CODE_DIGITS = 6;
const COOKIE = { "X-Refresh-Token-Delivery": "cookie" };

const MESSAGES = {
  TOTP_CODE_INVALID: "That code didn't work. Codes change every 30 seconds: enter the one your app shows now.",
  TOTP_MFA_TOKEN_INVALID: "This sign-in has expired. Log in with your password again.",
  TOTP_ALREADY_ENABLED: "Two-step verification is already on.",
  TOTP_NOT_ENROLLED: "Start the set-up again: scan the new QR code.",
  TOTP_NOT_ENABLED: "Two-step verification is already off.",
  TOTP_ADMIN_CANNOT_RESET_OWN: "Turn your own two-step verification off under Security.",
  CURRENT_PASSWORD_REQUIRED: "Enter your current password.",
  CURRENT_PASSWORD_INVALID: "That isn't your current password.",
  USER_NOT_FOUND: "No user has this email address.",
  TOO_MANY_REQUESTS: "Too many attempts. Wait a minute and try again.",
  NETWORK_ERROR: "The server could not be reached. Check your connection and try again.",
};

function messageOf(error) {
  return MESSAGES[error?.code] ?? error?.message ?? "Something went wrong. Try again.";
}

export function register(host) {
  host.addCard("security", { id: "totp", title: "Two-step verification", render: () => securityCard(host) });
  host.addCard("admin", { id: "totp-admin", title: "Two-step verification of a user", render: () => adminCard(host) });
  // The login view asks for a second step through this hook (README, "Frontend part").
  host.addLoginStep?.({ id: "totp", methods: ["totp", "recovery_code"], render: (ctx, step) => secondStep(host, step) });
  // The Activity page's words for our event types (app/plugins/totp/events.py).
  host.addEventLabel("mfa_enabled", "Two-step verification turned on");
  host.addEventLabel("mfa_disabled", "Two-step verification turned off");
  host.addEventLabel("mfa_failed", "Wrong two-step code entered", { warning: true });
  host.addEventLabel("mfa_recovery_codes_regenerated", "New recovery codes made");
  // A session's second step (method "password+totp"): "Signed in … with password and …".
  host.addMethodLabel("totp", "a code from an authenticator app");
  host.addMethodLabel("recovery_code", "a recovery code");
}

// --- small pieces --------------------------------------------------------------------------

let ids = 0;
function uid(prefix) {
  ids += 1;
  return `totp-${prefix}-${ids}`;
}

/** A labelled input with its error line; `code: true` gives the six-digit keypad field. */
function inputField(host, { name, label, type = "text", autocomplete, code = false, hint }) {
  const { h } = host;
  const id = uid(name);
  const error = h("p", { class: "field__error", id: `${id}-error`, hidden: true });
  const hintEl = hint ? h("p", { class: "field__hint", id: `${id}-hint`, text: hint }) : null;
  const input = h("input", {
    id,
    name,
    type,
    autocomplete,
    inputmode: code ? "numeric" : null,
    pattern: code ? "[0-9]*" : null,
    autocapitalize: "none",
    spellcheck: "false",
    class: code ? "totp-code-input" : null,
    "aria-describedby": [hintEl?.id, error.id].filter(Boolean).join(" "),
  });
  if (code) {
    // Pasted "123 456" or "123-456" becomes 123456; no maxlength, which would cut a paste.
    input.addEventListener("input", () => {
      const digits = input.value.replace(/\D/g, "").slice(0, CODE_DIGITS);
      if (digits !== input.value) input.value = digits;
    });
  }
  const root = h("div", { class: "field" }, h("label", { for: id, text: label }), hintEl, error, input);
  return {
    root,
    input,
    setError(text) {
      error.replaceChildren(h("span", { class: "visually-hidden", text: "Error: " }), text);
      error.hidden = false;
      input.setAttribute("aria-invalid", "true");
      root.classList.add("field--invalid");
      input.focus();
    },
    clearError() {
      error.replaceChildren();
      error.hidden = true;
      input.removeAttribute("aria-invalid");
      root.classList.remove("field--invalid");
    },
  };
}

/** A form that runs `submit()` once at a time and shows its error on `field` (or above). */
function smallForm(host, { fields, submitLabel, busyLabel, submit, buttonClass = "button", extra = [] }) {
  const { h } = host;
  const alert = h("div", { class: "form-alert", role: "alert", tabindex: "-1", hidden: true });
  const button = h("button", { type: "submit", class: buttonClass, text: submitLabel });
  const form = h("form", { novalidate: true }, alert, fields.map((f) => f.root), h("div", { class: "form-actions" }, button, extra));
  let busy = false;
  const showError = (text, target = fields[0]) => {
    if (target) target.setError(text);
    else {
      alert.replaceChildren(h("p", { text }));
      alert.hidden = false;
      alert.focus();
    }
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (busy) return;
    for (const f of fields) f.clearError();
    alert.hidden = true;
    busy = true;
    button.setAttribute("aria-disabled", "true");
    button.textContent = busyLabel;
    try {
      await submit(showError);
    } catch (error) {
      if (!error?.sessionExpired) showError(messageOf(error), error?.code?.startsWith("CURRENT_PASSWORD") || error?.code === "TOTP_CODE_INVALID" ? fields[0] : null);
    } finally {
      busy = false;
      button.removeAttribute("aria-disabled");
      button.textContent = submitLabel;
    }
  });
  return form;
}

function passwordField(host) {
  return inputField(host, { name: "current_password", label: "Current password", type: "password", autocomplete: "current-password" });
}

function codeField(host, label = "6-digit code") {
  return inputField(host, { name: "code", label, autocomplete: "one-time-code", code: true });
}

function checkCode(field) {
  if (field.input.value.length !== CODE_DIGITS) {
    field.setError(`Enter the ${CODE_DIGITS} digits your app shows.`);
    return false;
  }
  return true;
}

function qrImage(host, svgMarkup) {
  // Our own server's SVG; parsed as HTML so it lands in the SVG namespace, never run.
  const parsed = new DOMParser().parseFromString(svgMarkup, "text/html").querySelector("svg");
  if (!parsed) return null;
  const svg = document.importNode(parsed, true);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "QR code to scan with your authenticator app");
  return host.h("div", { class: "totp-qr-frame" }, svg);
}

// --- the Security card ----------------------------------------------------------------------

function securityCard(host) {
  const { h } = host;
  const body = h("div", { class: "totp-card stack", "aria-live": "polite" }, h("p", { text: "Loading…" }));
  const show = (...children) => body.replaceChildren(...children.flat().filter(Boolean));

  async function overview() {
    let status;
    try {
      status = await host.api.get("/v1/mfa");
    } catch (error) {
      if (!error?.sessionExpired) show(h("p", { class: "notice notice--error", text: messageOf(error) }));
      return;
    }
    if (!status.totp) {
      show(
        h("p", { "data-totp-status": "off", text: "Off. Add a code from an authenticator app (such as Aegis, Google Authenticator or 1Password) to your password, so a stolen password alone can't open your account." }),
        h("div", { class: "form-actions" }, h("button", { type: "button", class: "button", text: "Set up two-step verification", onclick: () => askPassword("Continue", startEnrolment) })),
      );
      return;
    }
    const left = status.recovery_codes_left;
    show(
      h("p", { "data-totp-status": "on" }, h("strong", { text: "On. " }), "After your password, sign-in asks for a code from your authenticator app."),
      h("p", { class: left <= 2 ? "notice notice--warning" : null, text: `${left} recovery code${left === 1 ? "" : "s"} left.` }),
      h(
        "div",
        { class: "form-actions" },
        h("button", { type: "button", class: "button button--secondary", text: "New recovery codes", onclick: () => askPassword("Make new codes", newCodes) }),
        h("button", { type: "button", class: "button button--danger", text: "Turn off", onclick: () => askPassword("Turn off two-step verification", turnOff, "button button--danger") }),
      ),
    );
  }

  function askPassword(submitLabel, then, buttonClass = "button") {
    const password = passwordField(host);
    const cancel = h("button", { type: "button", class: "button button--secondary", text: "Cancel", onclick: overview });
    show(
      h("p", { text: "Confirm it's you." }),
      smallForm(host, { fields: [password], submitLabel, busyLabel: "Checking…", buttonClass, extra: [cancel], submit: () => then(password.input.value) }),
    );
    password.input.focus();
  }

  async function startEnrolment(currentPassword) {
    const enrolment = await host.api.post("/v1/mfa/totp/enroll", { current_password: currentPassword });
    const code = codeField(host, "Code from the app");
    const grouped = enrolment.secret.match(/.{1,4}/g).join(" ");
    const cancel = h("button", { type: "button", class: "button button--secondary", text: "Cancel", onclick: overview });
    show(
      h("ol", { class: "totp-steps" },
        h("li", { text: "Scan this QR code with your authenticator app." }),
        h("li", {}, "Can't scan? Type this key into the app instead: ", h("code", { class: "totp-secret", "data-totp-secret": enrolment.secret, text: grouped })),
        h("li", { text: "Enter the 6-digit code the app now shows." }),
      ),
      qrImage(host, enrolment.qr_svg),
      smallForm(host, {
        fields: [code],
        submitLabel: "Turn on",
        busyLabel: "Checking…",
        extra: [cancel],
        submit: async () => {
          if (!checkCode(code)) return;
          const answer = await host.api.post("/v1/mfa/totp/activate", { code: code.input.value });
          host.announce("Two-step verification is on.");
          showCodes(answer.recovery_codes, "Two-step verification is on. Save your recovery codes");
        },
      }),
    );
    code.input.focus();
  }

  async function newCodes(currentPassword) {
    const answer = await host.api.post("/v1/mfa/recovery-codes", { current_password: currentPassword });
    showCodes(answer.recovery_codes, "Your new recovery codes (the old ones no longer work)");
  }

  async function turnOff(currentPassword) {
    await host.api.del("/v1/mfa/totp", { current_password: currentPassword });
    host.notify("Two-step verification is off, and your other devices have been logged out.", "success");
    await overview();
  }

  function showCodes(codes, heading) {
    const text = `${codes.join("\n")}\n`;
    const copy = h("button", {
      type: "button",
      class: "button button--secondary",
      text: "Copy",
      onclick: async () => {
        try {
          await navigator.clipboard.writeText(text);
          host.announce("Recovery codes copied.");
          copy.textContent = "Copied";
        } catch {
          host.notify("Copying isn't allowed here: select the codes and copy them, or download them.", "warning");
        }
      },
    });
    const download = h("a", {
      class: "button button--secondary",
      href: `data:text/plain;charset=utf-8,${encodeURIComponent(text)}`,
      download: "recovery-codes.txt",
      text: "Download",
    });
    show(
      h("h3", { class: "totp-codes-title", tabindex: "-1", text: heading }),
      h("p", { text: "Each code signs you in once if you lose your phone. They are shown only now: keep them somewhere safe, such as your password manager." }),
      h("ul", { class: "totp-codes", "data-recovery-codes": "" }, codes.map((c) => h("li", {}, h("code", { text: c })))),
      h("div", { class: "form-actions" }, copy, download, h("button", { type: "button", class: "button", text: "I've saved them", onclick: overview })),
    );
    body.querySelector(".totp-codes-title")?.focus();
  }

  overview();
  return body;
}

// --- the login's second step ----------------------------------------------------------------

function secondStep(host, step) {
  const { h } = host;
  const body = h("div", { class: "totp-step stack" });
  const finish = async (payload) => {
    const tokens = await host.api.post("/v1/users/login/mfa", { mfa_token: step.mfa_token, ...payload }, { auth: false, headers: COOKIE });
    await step.finish(tokens);
  };
  const expired = (error) => {
    if (error?.code !== "TOTP_MFA_TOKEN_INVALID") return false;
    host.notify(MESSAGES.TOTP_MFA_TOKEN_INVALID, "warning");
    step.restart();
    return true;
  };

  function withCode() {
    const code = codeField(host, "6-digit code");
    const other = h("button", { type: "button", class: "totp-link", text: "Use a recovery code instead", onclick: withRecoveryCode });
    body.replaceChildren(
      h("p", { text: "Enter the code your authenticator app shows for this account." }),
      smallForm(host, {
        fields: [code],
        submitLabel: "Verify",
        busyLabel: "Verifying…",
        submit: async () => {
          if (!checkCode(code)) return;
          try {
            await finish({ code: code.input.value });
          } catch (error) {
            if (!expired(error)) throw error;
          }
        },
      }),
      h("p", { class: "aside" }, other),
    );
    code.input.focus();
  }

  function withRecoveryCode() {
    const recovery = inputField(host, { name: "recovery_code", label: "Recovery code", autocomplete: "off", hint: "One of the codes you saved when you set up two-step verification, like abcde-fghjk." });
    const other = h("button", { type: "button", class: "totp-link", text: "Use your authenticator app instead", onclick: withCode });
    body.replaceChildren(
      smallForm(host, {
        fields: [recovery],
        submitLabel: "Verify",
        busyLabel: "Verifying…",
        submit: async (showError) => {
          if (!recovery.input.value.trim()) return showError("Enter one of your recovery codes.");
          try {
            await finish({ recovery_code: recovery.input.value.trim() });
          } catch (error) {
            if (expired(error)) return;
            if (error?.code === "TOTP_CODE_INVALID") return showError("That recovery code is wrong or was already used.");
            throw error;
          }
        },
      }),
      h("p", { class: "aside" }, other),
    );
    recovery.input.focus();
  }

  withCode();
  return body;
}

// --- the Admin card -------------------------------------------------------------------------

function adminCard(host) {
  const { h } = host;
  const email = inputField(host, { name: "email", label: "User's email address", type: "email", autocomplete: "off" });
  const result = h("div", { class: "totp-admin-result", "aria-live": "polite" });
  const form = smallForm(host, {
    fields: [email],
    submitLabel: "Look up",
    busyLabel: "Looking up…",
    submit: async (showError) => {
      const wanted = email.input.value.trim().toLowerCase();
      if (!wanted) return showError("Enter an email address.");
      const page = await host.api.get(`/v1/users/?email=${encodeURIComponent(wanted)}&limit=20`);
      const user = page.items.find((u) => u.email.toLowerCase() === wanted);
      if (!user) return showError(MESSAGES.USER_NOT_FOUND);
      await showUser(user);
    },
  });

  async function showUser(user) {
    const status = await host.api.get(`/v1/users/${encodeURIComponent(user.id)}/mfa`);
    if (!status.totp) {
      result.replaceChildren(h("p", { "data-totp-admin-status": "off", text: `${user.email}: two-step verification is off.` }));
      return;
    }
    const since = status.enabled_at ? new Date(status.enabled_at).toLocaleDateString() : "";
    const reset = h("button", {
      type: "button",
      class: "button button--danger",
      text: "Turn off two-step verification",
      onclick: async () => {
        if (!window.confirm(`Turn off two-step verification for ${user.email}? They will be logged out everywhere and can sign in with their password alone.`)) return;
        try {
          await host.api.del(`/v1/users/${encodeURIComponent(user.id)}/mfa`);
          host.notify(`Two-step verification is off for ${user.email}; they have been logged out.`, "success");
          await showUser(user);
        } catch (error) {
          if (!error?.sessionExpired) host.notify(messageOf(error), "error");
        }
      },
    });
    result.replaceChildren(
      h("p", { "data-totp-admin-status": "on", text: `${user.email}: two-step verification is on${since ? ` since ${since}` : ""}, ${status.recovery_codes_left} recovery codes left.` }),
      h("p", { class: "field__hint", text: "Turn it off only for someone who lost their authenticator app and their recovery codes, once you are sure it is them." }),
      h("div", { class: "form-actions" }, reset),
    );
  }

  return h("div", { class: "stack" }, form, result);
}
