// QR sign-in's part of the account app (README, "Writing a plugin" -> "Frontend part").
// On the login page: "Sign in with your phone" shows a QR code, waits for the phone's
// approval (RFC 8628 polling) and signs in by itself. At /qr: the phone's approve page,
// loaded only when opened (approve.js). The Devices lists name its sessions' method.

const START = "/v1/qr-login/start";
const TOKEN = "/v1/qr-login/token";
// As the password form: the refresh token arrives as the HttpOnly cookie, never in script.
const COOKIE_DELIVERY = { "X-Refresh-Token-Delivery": "cookie" };
const SLOW_DOWN_SECONDS = 5; // RFC 8628, section 3.5: wait this much longer after slow_down
// A tab left in the background stops asking; showing it again starts a fresh code.
const HIDDEN_LIMIT_MS = 60_000;
// Fresh codes shown without anyone looking stop after this many: an abandoned login
// page must not keep starting requests for ever.
const FRESH_CODES = 5;

export function register(host) {
  // Sessions it starts have the method "qr": "Signed in … with QR code from another device".
  host.addMethodLabel("qr", "QR code from another device");
  host.addLoginOption({ id: "qr-login", label: "Sign in with your phone", render: (ctx) => loginOption(host, ctx) });
  host.addRoute("/qr", (ctx) => lazyApprovePage(host, ctx), { auth: "required", title: "Approve a sign-in" });
  host.addCard("security", {
    id: "qr-login",
    title: "Sign in on another computer",
    render: () =>
      host.h(
        "div",
        {},
        host.h("p", { text: "On the computer's login page, choose “Sign in with your phone”, then scan its QR code with this phone's camera, or enter the code it shows." }),
        host.h("p", {}, host.h("a", { href: "/qr", "data-link": true, text: "Enter a code" })),
      ),
  });
}

function lazyApprovePage(host, ctx) {
  const placeholder = host.h("p", { class: "loading", text: "Loading…" });
  import("./approve.js").then(
    ({ approvePage }) => {
      if (!placeholder.isConnected) return;
      placeholder.replaceWith(approvePage(host, ctx));
      if (ctx.focus) ctx.main.querySelector("h1")?.focus();
    },
    () => {
      if (placeholder.isConnected) placeholder.replaceWith(host.h("p", { class: "notice notice--error", role: "alert", text: "This page couldn't be loaded. Check your connection and reload." }));
    },
  );
  return placeholder;
}

/** "1:05" */
function minutesAndSeconds(seconds) {
  const whole = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}

/** The QR code as an image: SVG in an <img> can't run script or load anything, whatever it holds. */
function qrImage(h, svg, userCode) {
  return h("img", {
    class: "qr-login__code",
    src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`,
    alt: `QR code for signing in. If you can't scan it, enter the code ${userCode} on your phone.`,
    width: "220",
    height: "220",
  });
}

function loginOption(host, ctx) {
  const { h } = host;
  const panelId = "qr-login-panel";
  const toggle = h("button", {
    type: "button",
    class: "button button--secondary qr-login__toggle",
    "aria-expanded": "false",
    "aria-controls": panelId,
    text: "Sign in with your phone",
  });
  const panel = h("div", { id: panelId, class: "qr-login__panel", hidden: true });
  const root = h("div", { class: "qr-login" }, toggle, panel);

  let run = 0; // bumped on every (re)start and stop: timers of an older run do nothing
  let timer = 0;
  let ticker = 0;
  let hiddenSince = null;
  let freshLeft = FRESH_CODES;

  const live = (id) => id === run && root.isConnected && !panel.hidden;

  function stop() {
    run += 1;
    window.clearTimeout(timer);
    window.clearInterval(ticker);
  }

  function show(...children) {
    panel.replaceChildren(...children);
  }

  function offerNewCode(text, kind = "info") {
    stop();
    const again = h("button", { type: "button", class: "button", text: "Show a new code" });
    again.addEventListener("click", () => {
      freshLeft = FRESH_CODES;
      start();
    });
    show(h("p", { class: `notice notice--${kind}`, role: "status", text }), h("div", { class: "form-actions" }, again));
  }

  async function start() {
    stop();
    const id = run;
    show(h("p", { class: "loading", role: "status", text: "Getting a code…" }));
    let started;
    try {
      started = await host.api.post(START, {}, { auth: false });
    } catch (error) {
      if (id !== run) return;
      const wait = error.code === "TOO_MANY_REQUESTS" ? " Too many codes were asked for from here; wait a minute." : "";
      offerNewCode(`No code could be shown.${wait}`, "error");
      return;
    }
    if (!live(id)) return;
    showCode(id, started);
  }

  function showCode(id, started) {
    const expiresAt = Date.now() + started.expires_in * 1000;
    const countdown = h("span", { text: minutesAndSeconds(started.expires_in) });
    const status = h("p", { class: "qr-login__status", role: "status", text: "Waiting for you to approve on your phone…" });
    show(
      h("p", { text: "Scan this code with the camera of a phone where you're signed in, then approve the sign-in there." }),
      h("div", { class: "qr-login__frame" }, qrImage(h, started.qr_svg, started.user_code)),
      h(
        "p",
        { class: "qr-login__fallback" },
        "No camera? On your phone, open ",
        h("span", { class: "qr-login__uri", text: started.verification_uri }),
        " and enter ",
        h("strong", { class: "qr-login__user-code", text: started.user_code }),
      ),
      h("p", { class: "qr-login__countdown" }, "This code expires in ", countdown, ". A new one is shown then."),
      status,
    );

    ticker = window.setInterval(() => {
      if (!live(id)) {
        if (!root.isConnected) stop(); // the login page is gone (signed in another way)
        return;
      }
      const left = (expiresAt - Date.now()) / 1000;
      countdown.textContent = minutesAndSeconds(left);
      if (left > 0) return;
      freshLeft -= 1;
      if (freshLeft > 0) {
        host.announce("The code expired. Here is a new one.");
        start();
      } else {
        offerNewCode("The code expired.");
      }
    }, 1000);

    let interval = started.interval;
    const poll = async () => {
      if (!live(id)) return;
      if (hiddenSince !== null && Date.now() - hiddenSince > HIDDEN_LIMIT_MS) {
        offerNewCode("Paused while this page was in the background.");
        return;
      }
      let tokens;
      try {
        tokens = await host.api.post(TOKEN, { device_code: started.device_code }, { auth: false, headers: COOKIE_DELIVERY });
      } catch (error) {
        if (!live(id)) return;
        const next = nextStep(error);
        if (next === "wait") {
          if (error.code === "QR_LOGIN_SLOW_DOWN") interval += SLOW_DOWN_SECONDS;
          const pause = error.code === "TOO_MANY_REQUESTS" ? Math.max(interval, error.retryAfter ?? 0) : interval;
          timer = window.setTimeout(poll, pause * 1000);
        } else if (next === "fresh") {
          start();
        } else {
          offerNewCode(next, error.code === "QR_LOGIN_ACCESS_DENIED" ? "warning" : "error");
        }
        return;
      }
      if (!live(id)) return; // signed in another way meanwhile: keep that session
      stop();
      status.textContent = "Approved. Signing you in…";
      await host.signIn(tokens);
      // Shown by the next page (a notice shown now would be replaced by it).
      ctx.setNotice?.("You are signed in: your phone approved this sign-in.", "success");
      host.navigate(safeNext(ctx.params.get("next")) ?? "/profile");
    };
    timer = window.setTimeout(poll, interval * 1000);
  }

  toggle.addEventListener("click", () => {
    const open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    panel.hidden = !open;
    if (open) {
      freshLeft = FRESH_CODES;
      start();
    } else {
      stop();
      panel.replaceChildren();
    }
  });

  document.addEventListener("visibilitychange", function onVisibility() {
    if (!root.isConnected) {
      document.removeEventListener("visibilitychange", onVisibility);
      return;
    }
    if (document.visibilityState === "hidden") {
      hiddenSince = Date.now();
      return;
    }
    const wasAway = hiddenSince !== null && Date.now() - hiddenSince > HIDDEN_LIMIT_MS;
    hiddenSince = null;
    if (wasAway && !panel.hidden) {
      freshLeft = FRESH_CODES;
      start();
    }
  });

  return root;
}

/** What a failed poll means: "wait" (poll again), "fresh" (show a new code) or a sentence to show. */
function nextStep(error) {
  switch (error.code) {
    case "QR_LOGIN_AUTHORIZATION_PENDING":
    case "QR_LOGIN_SLOW_DOWN":
    case "TOO_MANY_REQUESTS":
    case "NETWORK_ERROR": // offline for a moment: the code may still be approved
      return "wait";
    case "QR_LOGIN_EXPIRED_TOKEN":
      return "fresh";
    case "QR_LOGIN_ACCESS_DENIED":
      return "The sign-in was denied on your phone. If that was a mistake, show a new code and scan it again.";
    case "QR_LOGIN_INVALID_GRANT":
      return "This code can't be used any more. Show a new code to try again.";
    default:
      return "Something went wrong while waiting for your phone. Show a new code to try again.";
  }
}

/** `next` from the login page's address, if it's a path inside this app. */
function safeNext(value) {
  if (!value || !value.startsWith("/") || value.startsWith("//")) return null;
  const url = new URL(value, window.location.origin);
  if (url.origin !== window.location.origin || url.pathname.startsWith("/v1/")) return null;
  return url.pathname + url.search + url.hash;
}
