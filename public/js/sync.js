// Keeps the tabs of one browser in step: logging in or out, or ending
// sessions, in one tab is told to the others at once, so none of them keeps
// showing an account it can no longer use (and then loses what was typed).

const channel = typeof BroadcastChannel === "function" ? new BroadcastChannel("account-app") : null;

/** type: "login" | "logout" | "sessions-changed". */
export function tellOtherTabs(type) {
  channel?.postMessage({ type });
}

export function onOtherTab(handler) {
  channel?.addEventListener("message", (event) => handler(event.data?.type));
}
