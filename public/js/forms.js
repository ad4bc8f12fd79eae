// Form building blocks: labelled fields with hint and error slots, a busy
// submit button, and one place that shows errors and moves focus to them.

import { h, uid } from "./dom.js";
import { describeError } from "./errors.js";
import { passwordHint } from "./validation.js";

/**
 * A labelled input. Returns {root, input, setError, clearError}.
 * options: name, label, type, autocomplete, hint, value, passwordMeter
 * (a new password: live length and strength feedback), userInputs (words the
 * password shouldn't be built from, e.g. () => [email]).
 */
export function field({ name, label, type = "text", autocomplete, hint, value = "", passwordMeter = false, userInputs = () => [] }) {
  const id = uid(`f-${name}`);
  const hintEl = hint || passwordMeter ? h("p", { class: "field__hint", id: `${id}-hint` }, hint) : null;
  const errorEl = h("p", { class: "field__error", id: `${id}-error`, hidden: true });
  const input = h("input", {
    id,
    name,
    type,
    autocomplete,
    spellcheck: type === "email" ? "false" : null,
    autocapitalize: type === "email" || type === "password" ? "none" : null,
    "aria-describedby": [hintEl?.id, errorEl.id].filter(Boolean).join(" "),
  });
  input.value = value;
  // The browser's own validation bubbles are replaced by ours (novalidate on
  // the form); type="email" still brings the right phone keyboard.

  const meter = passwordMeter ? strengthMeter(input, hintEl, userInputs) : null;
  const root = h("div", { class: "field" }, h("label", { for: id, text: label }), hintEl, errorEl, input, meter);
  return {
    root,
    input,
    name,
    setError(text) {
      errorEl.replaceChildren(h("span", { class: "visually-hidden", text: "Error: " }), text);
      errorEl.hidden = false;
      input.setAttribute("aria-invalid", "true");
      root.classList.add("field--invalid");
    },
    clearError() {
      errorEl.replaceChildren();
      errorEl.hidden = true;
      input.removeAttribute("aria-invalid");
      root.classList.remove("field--invalid");
    },
  };
}

/**
 * Live feedback under a new password: length first, then how guessable it is
 * once the estimator has loaded (on first focus, so other pages don't pay).
 * Returns the bar; the words go in the field's hint, which the input names
 * as its description.
 */
function strengthMeter(input, hintEl, userInputs) {
  const bar = h("span", { class: "strength__bar" });
  const meter = h("div", { class: "strength", "aria-hidden": "true", "data-score": "" }, bar);
  let check = null;
  const update = () => {
    const { text, over, lengthOk } = passwordHint(input.value);
    hintEl.classList.toggle("field__hint--over", over);
    if (!check || !lengthOk) {
      hintEl.textContent = text;
      meter.dataset.score = "";
      return;
    }
    const result = check(input.value, userInputs().filter(Boolean));
    meter.dataset.score = String(result.score);
    hintEl.textContent = [`Strength: ${result.level.toLowerCase()}.`, result.warning, ...result.suggestions.slice(0, 1)]
      .filter(Boolean)
      .join(" ");
  };
  const load = () => {
    import("./strength.js")
      .then(({ loadStrength }) => loadStrength())
      .then((found) => {
        check = found;
        update();
      })
      .catch(() => {}); // offline: the length hint stays, the server still checks
  };
  input.addEventListener("focus", load, { once: true });
  input.addEventListener("input", update);
  update();
  return meter;
}

/**
 * A hidden username field for forms that only ask for passwords, so password
 * managers know which account a new or confirmed password belongs to.
 */
export function usernameForPasswordManagers(email) {
  return h("input", { type: "email", name: "username", autocomplete: "username", value: email ?? "", hidden: true, tabindex: "-1" });
}

/** A checkbox that shows the given password fields as plain text. */
export function showPasswordToggle(fields) {
  const id = uid("show-password");
  const box = h("input", { type: "checkbox", id });
  box.addEventListener("change", () => {
    for (const f of fields) f.input.type = box.checked ? "text" : "password";
  });
  return h("div", { class: "checkbox" }, box, h("label", { for: id, text: "Show password" }));
}

/**
 * Wires a <form>: validation, busy state, error display.
 * validate() returns [{field, text}] for browser-side problems;
 * submit() does the work and may throw an ApiError.
 */
export function createForm({ fields, submitLabel, busyLabel, validate, submit, buttonClass = "button", extra = [] }) {
  const byName = new Map(fields.map((f) => [f.name, f]));
  const alert = h("div", { class: "form-alert", role: "alert", tabindex: "-1", hidden: true });
  const button = h("button", { type: "submit", class: buttonClass, text: submitLabel });
  const form = h(
    "form",
    { novalidate: true },
    alert,
    fields.map((f) => f.root),
    extra,
    h("div", { class: "form-actions" }, button),
  );
  let busy = false;

  const controller = {
    form,
    button,
    fields: byName,
    clearErrors() {
      for (const f of fields) f.clearError();
      alert.hidden = true;
      alert.replaceChildren();
    },
    /** Show [{field, text}] and move focus to the first one. */
    showErrors(problems) {
      controller.clearErrors();
      const formLevel = [];
      for (const problem of problems) {
        const target = problem.field ? byName.get(problem.field) : null;
        if (target) target.setError(problem.text);
        else formLevel.push(problem.text);
      }
      if (formLevel.length > 0) {
        alert.append(...formLevel.map((text) => h("p", { text })));
        alert.hidden = false;
      }
      const firstInvalid = fields.find((f) => f.input.getAttribute("aria-invalid") === "true");
      if (formLevel.length > 0 && !firstInvalid) alert.focus();
      else firstInvalid?.input.focus();
    },
    showApiError(error) {
      // The app has already moved to the login view; nothing to show here.
      if (error?.sessionExpired) return;
      controller.showErrors(describeError(error));
    },
    reset() {
      for (const f of fields) f.input.value = "";
      for (const f of fields) f.input.dispatchEvent(new Event("input"));
    },
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (busy) return;
    const problems = validate ? validate() : [];
    if (problems.length > 0) {
      controller.showErrors(problems);
      return;
    }
    controller.clearErrors();
    busy = true;
    button.setAttribute("aria-disabled", "true");
    button.classList.add("is-busy");
    button.textContent = busyLabel;
    form.setAttribute("aria-busy", "true");
    try {
      await submit();
    } catch (error) {
      controller.showApiError(error);
    } finally {
      busy = false;
      button.removeAttribute("aria-disabled");
      button.classList.remove("is-busy");
      button.textContent = submitLabel;
      form.removeAttribute("aria-busy");
    }
  });

  return controller;
}

/** Collects the problems from a list of [field, check] pairs. */
export function problemsOf(checks) {
  const problems = [];
  for (const [f, message] of checks) {
    if (message) problems.push({ field: f.name, text: message });
  }
  return problems;
}
