// "Where you're logged in" on the profile: the account's sessions, with a
// way to end any other one, or all of them at once.

import * as api from "../api.js";
import { announce, formatDateTime, h, srOnly } from "../dom.js";
import { describeError } from "../errors.js";

const BROWSERS = [
  [/Edg\//, "Edge"],
  [/OPR\//, "Opera"],
  [/Firefox\//, "Firefox"],
  [/Chrom(e|ium)\//, "Chrome"],
  [/Safari\//, "Safari"],
];
const SYSTEMS = [
  [/Android/, "Android"],
  [/iPhone|iPad|iPod/, "iOS"],
  [/Windows/, "Windows"],
  [/Mac OS X|Macintosh/, "macOS"],
  [/CrOS/, "ChromeOS"],
  [/Linux/, "Linux"],
];

/** "Firefox on Windows" from a User-Agent header; good enough to recognise a device. */
export function describeDevice(userAgent) {
  if (!userAgent) return "Unknown device";
  const browser = BROWSERS.find(([pattern]) => pattern.test(userAgent))?.[1];
  const system = SYSTEMS.find(([pattern]) => pattern.test(userAgent))?.[1];
  if (browser && system) return `${browser} on ${system}`;
  return browser ?? system ?? userAgent.slice(0, 60);
}

export function sessionsSection() {
  const heading = h("h2", { id: "sessions-title", tabindex: "-1", text: "Where you're logged in" });
  const list = h("ul", { class: "session-list", "aria-busy": "true" });
  const problem = h("p", { class: "notice notice--error", role: "alert", hidden: true });
  const endOthers = h("button", { type: "button", class: "button button--secondary", text: "Log out everywhere else" });
  const actions = h("div", { class: "form-actions", hidden: true }, endOthers);

  const showProblem = (error) => {
    if (error.sessionExpired) return;
    problem.textContent = describeError(error)[0].text;
    problem.hidden = false;
  };

  async function busy(button, action) {
    if (button.getAttribute("aria-disabled") === "true") return;
    problem.hidden = true;
    button.setAttribute("aria-disabled", "true");
    button.classList.add("is-busy");
    try {
      await action();
    } catch (error) {
      showProblem(error);
    } finally {
      button.removeAttribute("aria-disabled");
      button.classList.remove("is-busy");
    }
  }

  function item(session) {
    const device = describeDevice(session.user_agent);
    const facts = [`Last active ${formatDateTime(session.last_used_at)}`];
    if (session.ip_address) facts.push(`from ${session.ip_address}`);
    const parts = [
      h("p", { class: "session__device" }, device, session.current ? h("span", { class: "badge badge--ok", text: "This browser" }) : null),
      h("p", { class: "session__meta", text: facts.join(" ") }),
    ];
    if (!session.current) {
      const end = h("button", { type: "button", class: "button button--secondary button--small" }, "Log out", srOnly(` ${device}, last active ${formatDateTime(session.last_used_at)}`));
      end.addEventListener("click", () =>
        busy(end, async () => {
          await api.endSession(session.id);
          announce(`${device} has been logged out.`);
          await load();
          heading.focus(); // the button is gone; start again at the top of the list
        }),
      );
      parts.push(end);
    }
    return h("li", { class: "session" }, parts);
  }

  async function load() {
    list.setAttribute("aria-busy", "true");
    try {
      const sessions = await api.listSessions();
      list.replaceChildren(...sessions.map(item));
      actions.hidden = !sessions.some((session) => !session.current);
    } catch (error) {
      showProblem(error);
    } finally {
      list.removeAttribute("aria-busy");
    }
  }

  endOthers.addEventListener("click", () =>
    busy(endOthers, async () => {
      await api.endOtherSessions();
      announce("You're now logged out everywhere else.");
      await load();
    }),
  );

  load();
  return h(
    "section",
    { class: "card", "aria-labelledby": "sessions-title" },
    heading,
    h("p", { class: "field__hint", text: "Log out a device you don't recognise, or every device but this one." }),
    problem,
    list,
    actions,
  );
}
