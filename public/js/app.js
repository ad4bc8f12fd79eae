// Entry point: session state, the notice slot, navigation, the route table
// and the plugin host.

import * as api from "./api.js";
import { announce, h } from "./dom.js";
import { createHost, loadPlugins } from "./plugins.js";
import { loginOptions, pluginRoutes, pluginSections } from "./registry.js";
import { navigate, safeNext, startRouter } from "./router.js";
import { onOtherTab, tellOtherTabs } from "./sync.js";
import { sectionView } from "./views/account.js";
import { resetPasswordView, verifyEmailView } from "./views/email-link.js";
import { forgotPasswordView } from "./views/forgot-password.js";
import { loginView } from "./views/login.js";
import { notFoundView } from "./views/not-found.js";
import { registerView } from "./views/register.js";

/**
 * A view whose module loads on first use: signed-in and admin code stays out
 * of the first (anonymous) page load.
 */
function lazyView(title, access, load) {
  return {
    title,
    access,
    render(ctx) {
      const placeholder = h("p", { class: "loading", text: "Loading…" });
      load().then(
        (view) => {
          // Another view may have been shown meanwhile.
          if (!placeholder.isConnected) return;
          placeholder.replaceWith(view.render(ctx));
          if (ctx.focus) main.querySelector("h1")?.focus();
        },
        () => {
          if (placeholder.isConnected) placeholder.replaceWith(h("p", { class: "notice notice--error", role: "alert", text: "This page couldn't be loaded. Check your connection and reload." }));
        },
      );
      return placeholder;
    },
  };
}

const ROUTES = {
  "/login": loginView,
  "/register": registerView,
  "/profile": lazyView("Your profile", "user", () => import("./views/profile.js").then((m) => m.profileView)),
  "/security": lazyView("Security", "user", () => import("./views/security.js").then((m) => m.securityView)),
  "/devices": lazyView("Devices", "user", () => import("./views/devices.js").then((m) => m.devicesView)),
  "/activity": lazyView("Activity", "user", () => import("./views/activity.js").then((m) => m.activityView)),
  "/admin": lazyView("Users", "user", () => import("./views/admin.js").then((m) => m.adminView)),
  "/admin/roles": lazyView("Roles", "user", () => import("./views/roles.js").then((m) => m.rolesView)),
  "/admin/service-keys": lazyView("Service keys", "user", () => import("./views/service-keys.js").then((m) => m.serviceKeysView)),
  "/forgot-password": forgotPasswordView,
  "/reset-password": resetPasswordView,
  "/verify-email": verifyEmailView,
};

// The account's sections, in the order the navigation shows them.
const CORE_SECTIONS = [
  { path: "/profile", label: "Profile" },
  { path: "/security", label: "Security" },
  { path: "/devices", label: "Devices" },
  { path: "/activity", label: "Activity" },
];

const session = {
  user: null,
  // Shown once by the next view, e.g. "You have logged out."
  notice: null,
  // Filled in on the login form (after registering, or when a session ended).
  email: "",
};

const main = document.getElementById("main");
const nav = document.getElementById("nav");
// The one place notices appear: a new one replaces the last, so they never pile up.
const noticeSlot = h("div", { class: "notice-slot" });

function setUser(user) {
  session.user = user;
  renderNav(currentPath());
}

function setNotice(text, kind = "info") {
  session.notice = { text, kind };
}

/** Show a notice now, in place of any other. */
function notify(text, kind = "info") {
  noticeSlot.replaceChildren(h("p", { class: `notice notice--${kind}`, text }));
  announce(text);
  // The button that led here may be far down a phone's screen.
  if (noticeSlot.isConnected) noticeSlot.scrollIntoView({ block: "nearest" });
}

function clearNotice() {
  noticeSlot.replaceChildren();
}

/** The notice slot for a view to place, holding the pending notice (if any). */
function takeNotice() {
  const notice = session.notice;
  session.notice = null;
  if (notice) notify(notice.text, notice.kind);
  else clearNotice();
  return noticeSlot;
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
  tellOtherTabs("logout");
  session.email = session.user?.email ?? "";
  session.user = null;
  setNotice("You have logged out.", "success");
  navigate("/login");
}

/** Called by the login form and plugins once a sign-in has succeeded. */
async function signedIn() {
  setUser(await api.getMe());
  session.email = "";
  tellOtherTabs("login");
}

function currentPath() {
  return window.location.pathname.replace(/\/+$/, "") || "/";
}

function loginUrlReturningHere() {
  const here = window.location.pathname + window.location.search;
  return `/login?next=${encodeURIComponent(here)}`;
}

function closeDialogs() {
  // An open modal would keep the login form inert.
  for (const dialog of document.querySelectorAll("dialog[open]")) dialog.close();
}

function sessionEnded(text) {
  // The email goes on the login form, so logging in again takes only the password.
  if (session.user) session.email = session.user.email;
  session.user = null;
  closeDialogs();
  setNotice(text, "warning");
  // Several requests can fail at once; only the first one redirects.
  if (viewFor(currentPath()).access === "user") navigate(loginUrlReturningHere(), { replace: true });
  else renderNav(currentPath());
}

api.onSessionExpired(() => sessionEnded("Your session has ended. Log in again to continue."));

onOtherTab(async (type) => {
  if (type === "logout" && api.isLoggedIn()) {
    api.forget();
    sessionEnded("You logged out in another tab.");
  } else if (type === "login" && !api.isLoggedIn()) {
    if ((await api.restoreSession()) !== "renewed") return;
    try {
      session.user = await api.getMe();
    } catch {
      return;
    }
    const view = viewFor(currentPath());
    if (view.access === "guest") {
      setNotice("You logged in in another tab.", "success");
      navigate(safeNext(new URLSearchParams(window.location.search).get("next")) ?? "/profile", { replace: true });
    } else {
      // Stay on this page (anything typed here stays); only the navigation changes.
      renderNav(currentPath());
    }
  } else if (type === "sessions-changed") {
    window.dispatchEvent(new Event("sessions-changed"));
  }
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
    for (const { path, label } of CORE_SECTIONS) items.push(navLink(path, label, activePath));
    for (const { id, title } of pluginSections) items.push(navLink(`/${id}`, title, activePath));
    if (session.user?.is_superuser) {
      items.push(navLink("/admin", "Users", activePath));
      items.push(navLink("/admin/roles", "Roles", activePath));
      items.push(navLink("/admin/service-keys", "Service keys", activePath));
    }
    items.push(h("button", { type: "button", class: "site-nav__link site-nav__button", onclick: logOut, text: "Log out" }));
  } else {
    items.push(navLink("/login", "Log in", activePath));
    items.push(navLink("/register", "Register", activePath));
  }
  nav.replaceChildren(h("ul", { class: "site-nav__list" }, items.map((item) => h("li", {}, item))));
  if (focused !== null) items.find((item) => item.textContent === focused)?.focus();
}

function viewFor(path) {
  const section = pluginSections.find(({ id }) => `/${id}` === path);
  if (section) return sectionView(section);
  return ROUTES[path] ?? pluginRoutes.get(path) ?? notFoundView;
}

function render({ focus }) {
  const url = new URL(window.location.href);
  const path = currentPath();

  if (path === "/") {
    navigate(api.isLoggedIn() ? "/profile" : "/login", { replace: true });
    return;
  }
  const view = viewFor(path);
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
    main,
    focus,
    params: url.searchParams,
    session,
    user: session.user,
    setUser,
    setNotice,
    takeNotice,
    notify,
    clearNotice,
    logOut,
    signedIn,
    navigate,
    loginOptions,
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

const host = createHost({
  api,
  h,
  announce,
  notify,
  navigate,
  signedIn,
  reservedPaths: new Set([...Object.keys(ROUTES), "/"]),
});

async function boot() {
  const [restored] = await Promise.all([api.restoreSession(), loadPlugins(host)]);
  if (restored === "renewed") {
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
