// History-API routing. The server answers every unknown non-API path with
// index.html, so any URL shown here survives a reload or a shared link.

let renderCurrent = () => {};

export function startRouter(render) {
  renderCurrent = render;
  window.addEventListener("popstate", () => renderCurrent({ focus: true }));
  document.addEventListener("click", onLinkClick);
  renderCurrent({ focus: false });
}

/** Go to an in-app path ("/profile", "/admin?offset=20"). */
export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  renderCurrent({ focus: true });
}

/** Change the URL without re-rendering (a view that updates itself in place). */
export function setUrl(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
}

/**
 * `next` from a query string, if it's a path inside this app.
 * Anything else (other origins, "//evil", API paths) is dropped.
 */
export function safeNext(value) {
  if (!value || !value.startsWith("/") || value.startsWith("//")) return null;
  const url = new URL(value, window.location.origin);
  if (url.origin !== window.location.origin || url.pathname.startsWith("/v1/")) return null;
  return url.pathname + url.search + url.hash;
}

function onLinkClick(event) {
  if (event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const link = event.target.closest("a[data-link]");
  if (!link) return;
  const url = new URL(link.href);
  if (url.origin !== window.location.origin) return;
  event.preventDefault();
  navigate(url.pathname + url.search);
}
