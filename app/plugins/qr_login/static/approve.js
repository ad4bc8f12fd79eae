// The approve page (/qr, the QR code's address): on the phone, signed in, it shows the
// device that asks to be signed in and lets the user approve or deny it. It is where a
// relayed code (QRLJacking) can still be caught, so the device, address and time come
// first, with a plain warning, and Approve is never pre-selected.

const REQUESTS = "/v1/qr-login/requests/";
const CODE_LETTERS = 8;

/** "bcdf ghjk" -> "BCDF-GHJK"; null unless it's 8 letters. The server has the last word. */
function tidyCode(typed) {
  const letters = typed.replace(/[\s-]/g, "").toUpperCase();
  if (!new RegExp(`^[A-Z]{${CODE_LETTERS}}$`).test(letters)) return null;
  return `${letters.slice(0, 4)}-${letters.slice(4)}`;
}

// Display only, never a decision: the approver gets the gist of the requesting browser
// ("Chrome on Windows") and the raw header when it matches none of these.
const BROWSERS = [
  ["Edge", /Edg(e|A|iOS)?\//],
  ["Opera", /OPR\//],
  ["Samsung Internet", /SamsungBrowser\//],
  ["Firefox", /(Firefox|FxiOS)\//],
  ["Chrome", /(Chrome|CriOS)\//],
  ["Safari", /Version\/[\d.]+.*Safari\//],
];
const SYSTEMS = [
  ["iOS", /iPhone|iPad|iPod/],
  ["Android", /Android/],
  ["ChromeOS", /CrOS/],
  ["Windows", /Windows/],
  ["macOS", /Mac OS X|Macintosh/],
  ["Linux", /Linux/],
];
const RAW_AGENT_CHARACTERS = 60;

export function describeAgent(agent) {
  if (!agent) return "Unknown browser";
  const browser = BROWSERS.find(([, pattern]) => pattern.test(agent))?.[0];
  const system = SYSTEMS.find(([, pattern]) => pattern.test(agent))?.[0];
  if (browser && system) return `${browser} on ${system}`;
  return agent.length <= RAW_AGENT_CHARACTERS ? agent : `${agent.slice(0, RAW_AGENT_CHARACTERS - 1)}…`;
}

function when(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const time = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "medium" }).format(date);
  const seconds = Math.max(0, Math.round((Date.now() - date.getTime()) / 1000));
  if (seconds < 10) return `${time} (just now)`;
  if (seconds < 90) return `${time} (${seconds} seconds ago)`;
  return `${time} (${Math.round(seconds / 60)} minutes ago)`;
}

/** "21:54:30": the time of day, for a moment within minutes of now. */
function timeOfDay(date) {
  return new Intl.DateTimeFormat("en-GB", { timeStyle: "medium" }).format(date);
}

/** "4 minutes 30 seconds", "1 minute", "45 seconds". */
function duration(seconds) {
  const whole = Math.max(0, Math.ceil(seconds));
  const minutes = Math.floor(whole / 60);
  const rest = whole % 60;
  const parts = [];
  if (minutes) parts.push(`${minutes} minute${minutes === 1 ? "" : "s"}`);
  if (rest || !minutes) parts.push(`${rest} second${rest === 1 ? "" : "s"}`);
  return parts.join(" ");
}

/** Seconds from now to the request's expiry (QR_LOGIN_TTL_SECONDS after it was asked for). */
function secondsLeft(request) {
  return (Date.parse(request.expires_at) - Date.now()) / 1000;
}

function expiresText(request) {
  const at = timeOfDay(new Date(request.expires_at));
  const left = secondsLeft(request);
  return left > 0 ? `${at}, in ${duration(left)}` : `${at} (expired)`;
}

export function approvePage(host, ctx) {
  const { h } = host;
  const body = h("div", { class: "qr-approve__body" });
  const page = h(
    "section",
    { class: "card card--narrow qr-approve", "aria-labelledby": "qr-approve-title" },
    h("h1", { id: "qr-approve-title", tabindex: "-1", text: "Sign in on another device" }),
    ctx.takeNotice?.(),
    body,
  );

  // Focus goes to the outcome: the buttons that had it are gone.
  const notice = (text, kind) => h("p", { class: `notice notice--${kind}`, role: kind === "error" ? "alert" : "status", tabindex: "-1", text });

  function codeForm(problem) {
    const input = h("input", {
      id: "qr-code-input",
      name: "code",
      type: "text",
      autocomplete: "off",
      autocapitalize: "characters",
      spellcheck: "false",
      "aria-describedby": "qr-code-hint",
      "aria-invalid": problem ? "true" : null,
    });
    const error = h("p", { class: "field__error", id: "qr-code-error", text: problem ?? "" });
    if (problem) input.setAttribute("aria-describedby", "qr-code-hint qr-code-error");
    const form = h(
      "form",
      { class: "qr-approve__form", novalidate: true },
      h(
        "div",
        { class: `field${problem ? " field--invalid" : ""}` },
        h("label", { for: input.id, text: "Code shown on the computer" }),
        h("p", { class: "field__hint", id: "qr-code-hint", text: "8 letters, like BCDF-GHJK. Upper or lower case, with or without the dash." }),
        input,
        problem ? error : null,
      ),
      h("div", { class: "form-actions" }, h("button", { type: "submit", class: "button", text: "Continue" })),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const code = tidyCode(input.value);
      if (code) host.navigate(`/qr?code=${encodeURIComponent(code)}`);
      else body.replaceChildren(codeForm("Enter the 8 letters shown on the computer, like BCDF-GHJK."));
      if (!code) body.querySelector("input")?.focus();
    });
    return form;
  }

  function showProblem(error, code) {
    if (error.sessionExpired) return; // the app is already on its way to the login page
    let text;
    if (error.code === "QR_LOGIN_REQUEST_NOT_FOUND") {
      // How long codes last is the server's setting (QR_LOGIN_TTL_SECONDS), unknown here.
      text = `No sign-in is waiting for the code ${code}. A code lasts a few minutes at most and can be answered once, so it may have expired or been answered already, or been mistyped. Show a new code on the computer and scan it again.`;
    } else if (error.code === "TOO_MANY_REQUESTS") {
      text = "Too many codes were tried from this account. Wait a minute, then try again.";
    } else if (error.code === "NETWORK_ERROR") {
      text = "The server could not be reached. Check your connection and try again.";
    } else {
      text = "Something went wrong. Try again in a moment.";
    }
    const said = notice(text, "error");
    body.replaceChildren(said, h("h2", { class: "qr-approve__again", text: "Enter a code" }), codeForm());
    if (page.contains(document.activeElement)) said.focus();
  }

  // The time left counts down while the request is shown. It is reckoned with this
  // phone's clock, so it only informs: the buttons stay, and the server has the last word.
  function facts(request) {
    const expires = h("dd", { text: expiresText(request) });
    const ticker = setInterval(() => {
      if (!expires.isConnected) clearInterval(ticker); // answered, or the page was left
      else expires.textContent = expiresText(request);
    }, 1000);
    const rows = [];
    if (request.client_name) rows.push(["Device name", request.client_name]);
    rows.push(
      ["Browser", describeAgent(request.user_agent)],
      ["Address", request.ip_address || "Unknown"],
      ["Asked at", when(request.created_at)],
      ["Expires", expires],
      ["Code", request.user_code],
    );
    return h(
      "dl",
      { class: "qr-approve__facts" },
      rows.map(([term, value]) =>
        h("div", {}, h("dt", { text: term }), typeof value === "string" ? h("dd", { text: value }) : value),
      ),
    );
  }

  function decided(text, kind) {
    const said = notice(text, kind);
    body.replaceChildren(said, h("p", {}, h("a", { href: "/devices", "data-link": true, text: "See where you're signed in" })));
    said.focus();
  }

  function showRequest(request, code) {
    const approve = h("button", { type: "button", class: "button", text: "Approve" });
    const deny = h("button", { type: "button", class: "button button--secondary", text: "Deny" });
    const decide = async (button, verb) => {
      if (button.getAttribute("aria-disabled") === "true") return;
      for (const b of [approve, deny]) b.setAttribute("aria-disabled", "true");
      button.classList.add("is-busy");
      try {
        await host.api.post(`${REQUESTS}${encodeURIComponent(code)}/${verb}`);
      } catch (error) {
        showProblem(error, code);
        return;
      }
      if (verb === "approve") {
        decided("Approved. The computer is now signed in to your account. If that wasn't you, log it out under Devices.", "success");
      } else {
        decided("Denied. The computer was not signed in.", "info");
      }
    };
    approve.addEventListener("click", () => decide(approve, "approve"));
    deny.addEventListener("click", () => decide(deny, "deny"));
    body.replaceChildren(
      h("p", { class: "qr-approve__ask", text: "A computer asks to be signed in to your account:" }),
      facts(request),
      h(
        "div",
        { class: "notice notice--warning qr-approve__warning", role: "note" },
        h("p", {}, h("strong", { text: "Only approve a sign-in you started yourself, on a computer in front of you, just now." })),
        h("p", { text: "Check that it shows the same code. If a website, message or person asked you to scan this code, choose Deny: approving would let whoever showed it to you into your account." }),
      ),
      h("div", { class: "form-actions qr-approve__actions" }, approve, deny),
    );
  }

  const typed = ctx.params.get("code");
  if (typed === null || typed.trim() === "") {
    body.replaceChildren(h("p", { text: "Enter the code the computer shows under its QR code." }), codeForm());
    return page;
  }
  const code = tidyCode(typed);
  if (code === null) {
    body.replaceChildren(codeForm("This link's code isn't valid. Enter the 8 letters shown on the computer."));
    return page;
  }
  body.replaceChildren(h("p", { class: "loading", text: "Looking up the sign-in request…" }));
  body.setAttribute("aria-busy", "true");
  host.api.get(`${REQUESTS}${encodeURIComponent(code)}`).then(
    (request) => {
      body.removeAttribute("aria-busy");
      showRequest(request, code);
    },
    (error) => {
      body.removeAttribute("aria-busy");
      showProblem(error, code);
    },
  );
  return page;
}
