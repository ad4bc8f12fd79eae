// Entry point: session state, navigation bar and the route table.

import * as api from "./api.js";
import { announce, h } from "./dom.js";
import { navigate, startRouter } from "./router.js";
import { adminView } from "./views/admin.js";
import { resetPasswordView, verifyEmailView } from "./views/email-link.js";
import { forgotPasswordView } from "./views/forgot-password.js";
import { loginView } from "./views/login.js";
import { notFoundView } from "./views/not-found.js";
import { profileView } from "./views/profile.js";
import { registerView } from "./views/register.js";

const ROUTES = {
  "/login": loginView,
  "/register": registerView,
  "/profile": profileView,
  "/admin": adminView,
  "/forgot-password": forgotPasswordView,
  "/reset-password": resetPasswordView,
  "/verify-email": verifyEmailView,
};

const session = {
  user: null,
  // Shown once by the next view, e.g. "You have logged out."
  notice: null,
  // Filled in on the login form after registering.
  email: "",
};

const main = document.getElementById("main");
const nav = document.getElementById("nav");

function setUser(user) {
  session.user = user;
  renderNav(currentPath());
}

function setNotice(text, kind = "info") {
  session.notice = { text, kind };
}

/** The pending notice as an element (or null), shown only once. */
function takeNotice() {
  const notice = session.notice;
  session.notice = null;
  if (!notice) return null;
  announce(notice.text);
  return h("p", { class: `notice notice--${notice.kind}`, text: notice.text });
}

let loggingOut = false;

async function logOut() {
  if (loggingOut) return;
  loggingOut = true;
  const button = nav.querySelector(".site-nav__button");
  button?.setAttribute("aria-disabled", "true");
  if (button) button.textContent = "Logging out…";
  try {
    await api.logOut();
  } finally {
    loggingOut = false;
  }
  session.user = null;
  setNotice("You have logged out.", "success");
  navigate("/login");
}

function currentPath() {
  return window.location.pathname.replace(/\/+$/, "") || "/";
}

function loginUrlReturningHere() {
  const here = window.location.pathname + window.location.search;
  return `/login?next=${encodeURIComponent(here)}`;
}

api.onSessionExpired(() => {
  session.user = null;
  // An open modal would keep the login form inert.
  for (const dialog of document.querySelectorAll("dialog[open]")) dialog.close();
  setNotice("Your session has ended. Log in again to continue.", "warning");
  // Several requests can fail at once; only the first one redirects.
  if (currentPath() !== "/login") navigate(loginUrlReturningHere(), { replace: true });
});

function navLink(path, label, activePath) {
  return h("a", {
    href: path,
    "data-link": true,
    class: "site-nav__link",
    "aria-current": path === activePath ? "page" : null,
    text: label,
  });
}

let navState = "";

function renderNav(activePath) {
  // Rebuilding the links under a keyboard user's focus would drop it to
  // <body>, so rebuild only when something shown actually changes.
  const state = JSON.stringify([api.isLoggedIn(), Boolean(session.user?.is_superuser), activePath]);
  if (state === navState) return;
  navState = state;
  const focused = nav.contains(document.activeElement) ? document.activeElement.textContent : null;

  const items = [];
  if (api.isLoggedIn()) {
    items.push(navLink("/profile", "Profile", activePath));
    if (session.user?.is_superuser) items.push(navLink("/admin", "Users", activePath));
    items.push(h("button", { type: "button", class: "site-nav__link site-nav__button", onclick: logOut, text: "Log out" }));
  } else {
    items.push(navLink("/login", "Log in", activePath));
    items.push(navLink("/register", "Register", activePath));
  }
  nav.replaceChildren(h("ul", { class: "site-nav__list" }, items.map((item) => h("li", {}, item))));
  if (focused !== null) items.find((item) => item.textContent === focused)?.focus();
}

function render({ focus }) {
  const url = new URL(window.location.href);
  const path = currentPath();

  if (path === "/") {
    navigate(api.isLoggedIn() ? "/profile" : "/login", { replace: true });
    return;
  }
  const view = ROUTES[path] ?? notFoundView;
  if (view.access === "user" && !api.isLoggedIn()) {
    if (!session.notice) setNotice("Log in to see this page.");
    navigate(loginUrlReturningHere(), { replace: true });
    return;
  }
  if (view.access === "guest" && api.isLoggedIn()) {
    navigate("/profile", { replace: true });
    return;
  }

  document.title = `${view.title} · Account`;
  renderNav(path);
  const context = {
    params: url.searchParams,
    session,
    setUser,
    setNotice,
    takeNotice,
    logOut,
    navigate,
  };
  main.replaceChildren(view.render(context));
  // After an in-app navigation, start screen readers and the Tab key at the
  // new view's heading, as a full page load would.
  if (focus) main.querySelector("h1")?.focus();
}

// The skip link moves focus itself: following "#main" would change the URL
// and make the router render the view again.
document.querySelector(".skip-link")?.addEventListener("click", (event) => {
  event.preventDefault();
  main.focus();
});

async function boot() {
  if (await api.restoreSession()) {
    try {
      session.user = await api.getMe();
    } catch {
      // A 401 has already redirected to the login view; after anything else
      // (offline, a 503) the session is still good and views fetch again.
    }
  }
  startRouter(render);
}

boot();
