// A modal confirmation built on <dialog>: the browser traps focus inside it,
// closes it on Escape and makes the rest of the page inert.

import { h, uid } from "./dom.js";
import { createForm } from "./forms.js";

/**
 * Opens a dialog with an optional form. submit() may return a function that
 * runs after the dialog has closed (e.g. navigating away), because nothing
 * outside a modal dialog can take focus while it is open.
 */
export function openConfirmDialog({ title, text, fields = [], extra = [], confirmLabel, busyLabel, validate, submit }) {
  const opener = document.activeElement;
  const titleId = uid("dialog-title");
  const textId = uid("dialog-text");

  const cancel = h("button", {
    type: "button",
    class: "button button--secondary",
    text: "Cancel",
    // With no field to fill in, the safe choice gets focus first.
    autofocus: fields.length === 0,
    onclick: () => close(),
  });
  const form = createForm({
    fields,
    extra,
    submitLabel: confirmLabel,
    busyLabel,
    buttonClass: "button button--danger",
    validate,
    submit: async () => {
      const after = await submit();
      close();
      if (typeof after === "function") after();
    },
  });
  form.form.querySelector(".form-actions").append(cancel);

  const dialog = h(
    "dialog",
    { class: "dialog", "aria-labelledby": titleId, "aria-describedby": textId },
    h("h2", { id: titleId, class: "dialog__title", text: title }),
    h("p", { id: textId, text }),
    form.form,
  );
  dialog.addEventListener("close", () => {
    dialog.remove();
    if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
  });

  function close() {
    if (dialog.open) dialog.close();
  }

  document.body.append(dialog);
  dialog.showModal();
  return { dialog, close };
}
