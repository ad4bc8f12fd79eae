// The browser side of the plugin hook (README, "Writing a plugin" → "Frontend
// part"). At start-up the app asks GET /v1/plugins which plugins have a
// frontend part, adds their stylesheets, imports their modules and calls each
// module's register(host). One broken plugin is logged and skipped.

import { addCard, addEventLabel, addMethodLabel, loginOptions, loginSteps, pluginRoutes, pluginSections } from "./registry.js";

const ACCESS = { required: "user", anonymous: "guest", any: "any" };

/** The list of enabled plugins; a server without the plugin API (404) has none. */
async function fetchPlugins() {
  try {
    const response = await fetch("/v1/plugins", { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (!response.ok) return [];
    const body = await response.json();
    return Array.isArray(body.plugins) ? body.plugins : [];
  } catch {
    return []; // offline: the core app still works
  }
}

/** Same-origin paths only: a plugin list must not pull code from elsewhere. */
function localPath(value) {
  return typeof value === "string" && value.startsWith("/") && !value.startsWith("//") ? value : null;
}

/** The `host` object handed to every plugin's register(). */
export function createHost({ api, h, announce, notify, navigate, signedIn, reservedPaths }) {
  return Object.freeze({
    addRoute(path, view, { auth = "any", title = "" } = {}) {
      if (reservedPaths.has(path) || pluginRoutes.has(path)) throw new Error(`route ${path} is taken`);
      pluginRoutes.set(path, { title: title || path.slice(1), access: ACCESS[auth] ?? "any", render: view });
    },
    addSection({ id, title, render }) {
      const path = `/${id}`;
      if (reservedPaths.has(path) || pluginRoutes.has(path)) throw new Error(`section ${id} is taken`);
      pluginSections.push({ id, title, render });
    },
    addCard,
    addLoginOption(option) {
      loginOptions.push(option);
    },
    /** A second step for logins answered `mfa_required` with one of `methods`. */
    addLoginStep(step) {
      loginSteps.push(step);
    },
    /** The Activity page's words for an event type the plugin emits; the core's keep theirs. */
    addEventLabel,
    /** The Devices lists' words for a sign-in method the plugin starts sessions with. */
    addMethodLabel,
    api: api.http,
    /** Finish a sign-in from a login-shaped answer, as the password form does. */
    async signIn(tokens) {
      api.signIn(tokens);
      await signedIn();
    },
    h,
    announce,
    notify,
    navigate,
  });
}

/** Load every plugin; resolves once all have registered (or failed). */
export async function loadPlugins(host) {
  const plugins = await fetchPlugins();
  await Promise.all(
    plugins.map(async (plugin) => {
      for (const href of plugin.styles ?? []) {
        if (localPath(href)) document.head.append(Object.assign(document.createElement("link"), { rel: "stylesheet", href }));
      }
      const module = localPath(plugin.module);
      if (!module) return;
      try {
        const loaded = await import(module);
        await loaded.register(host);
      } catch (error) {
        console.warn(`Plugin ${plugin.name} could not start:`, error);
      }
    }),
  );
}
