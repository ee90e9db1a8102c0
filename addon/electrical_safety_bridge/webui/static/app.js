// The web UI's one script: live parts over the bridge's WebSocket, actions without a reload,
// times in the browser's zone, and Home Assistant's language under ingress.
// No wording lives here: the server renders every text, this only fetches and swaps.

const body = document.body;
const prefix = body.dataset.prefix || "";
const csrf = body.dataset.csrf || "";

/** Show a sentence from the server (a result or a refusal) in the notice area. */
export function notify(message, ok) {
  const notice = document.getElementById("notice");
  notice.textContent = message;
  notice.className = ok ? "ok" : "refused";
  notice.setAttribute("role", ok ? "status" : "alert");
  notice.hidden = false;
}

/** Write each <time datetime> in the page's language and the browser's time zone. */
export function localTimes(root) {
  const format = new Intl.DateTimeFormat(body.dataset.language, {
    dateStyle: "medium",
    timeStyle: "medium",
  });
  for (const element of root.querySelectorAll("time[datetime]")) {
    const at = new Date(element.getAttribute("datetime"));
    if (!Number.isNaN(at.getTime())) element.textContent = format.format(at);
  }
}

// ------------------------------------------------------------------ live parts

const parts = new Map(); // element -> {busy, again}

function partUrl(element) {
  const url = new URL(window.location.href);
  url.searchParams.set("part", element.dataset.part);
  const extra = new URLSearchParams(element.dataset.partQuery || "");
  for (const [key, value] of extra) url.searchParams.set(key, value);
  return url;
}

/** Whether the person is typing or choosing in a field of ``element`` (swapping the part in
 * would throw away what they typed). */
function editing(element) {
  const active = document.activeElement;
  return active !== null && element.contains(active) && active.matches("input, select, textarea");
}

/** Refresh ``element`` once the focus has left it (one listener however often asked). */
function waitForFocusToLeave(element, state) {
  if (state.waiting) return;
  state.waiting = true;
  const left = (event) => {
    if (element.contains(event.relatedTarget)) return;
    element.removeEventListener("focusout", left);
    state.waiting = false;
    refresh(element);
  };
  element.addEventListener("focusout", left);
}

/** Fetch a part again; one fetch at a time per part, and one more if asked meanwhile.
 * While the person edits a field of the part, wait until the focus leaves the part. */
async function refresh(element) {
  const state = parts.get(element) || { busy: false, again: false, waiting: false };
  parts.set(element, state);
  if (editing(element)) {
    waitForFocusToLeave(element, state);
    return;
  }
  if (state.busy) {
    state.again = true;
    return;
  }
  state.busy = true;
  try {
    do {
      state.again = false;
      const response = await fetch(partUrl(element), { credentials: "same-origin" });
      if (response.status === 401 || response.status === 403) {
        window.location.reload();
        return;
      }
      if (response.ok) {
        const html = await response.text();
        if (editing(element)) {
          // The person began typing while the part was on its way: keep what they type.
          waitForFocusToLeave(element, state);
          return;
        }
        element.innerHTML = html;
        localTimes(element);
      }
    } while (state.again);
  } finally {
    state.busy = false;
  }
}

/** What a WebSocket message touches: the topics parts subscribe to (data-topics). */
function topicsOf(message) {
  switch (message.type) {
    case "device_state":
      return ["devices", `device:${message.device.id}`];
    case "event": {
      const event = message.event;
      const topics = ["events", "status"];
      if (event.device_id) topics.push(`device:${event.device_id}`, "devices");
      if (/^(alarm_|wiring_fault_|hazard_)/.test(event.type)) topics.push("alarms");
      return topics;
    }
    case "hazard":
      return ["alarms", `device:${message.hazard.device_id}`];
    case "status":
      return ["status"];
    default:
      return [];
  }
}

function touched(topics) {
  for (const element of document.querySelectorAll("[data-part]")) {
    const wanted = (element.dataset.topics || "").split(" ");
    if (topics === null || wanted.some((topic) => topics.includes(topic))) refresh(element);
  }
}

function connect(attempt) {
  const indicator = document.getElementById("connection");
  const url = new URL(`${prefix}/ws`, window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(url);
  socket.addEventListener("message", (received) => {
    const message = JSON.parse(received.data);
    if (message.type === "snapshot") {
      indicator.textContent = indicator.dataset.online;
      indicator.className = "connection online";
      indicator.hidden = false;
      // After a reconnect the page may have missed anything: fetch every part.
      if (attempt > 0) touched(null);
      attempt = 0;
      body.dataset.connected = "1";
      return;
    }
    touched(topicsOf(message));
  });
  socket.addEventListener("close", () => {
    body.dataset.connected = "0";
    indicator.textContent = indicator.dataset.offline;
    indicator.className = "connection offline";
    indicator.hidden = false;
    // Back off to at most 30 s between attempts while the bridge restarts.
    window.setTimeout(() => connect(attempt + 1), Math.min(30000, 1000 * 2 ** attempt));
  });
}

// ------------------------------------------------------------------ actions

document.addEventListener("submit", async (submitted) => {
  const form = submitted.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-action")) return;
  submitted.preventDefault();
  const button = form.querySelector("button");
  if (button) button.disabled = true;
  try {
    const response = await fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf },
    });
    const answer = await response.json();
    notify(answer.message, answer.ok);
  } catch (error) {
    notify(String(error), false);
  } finally {
    if (button) button.disabled = false;
    // The form is done with (Enter in a field submits too): leave it, so that the part
    // shows the state after the action (a value read back, a hazard acknowledged) at once.
    if (form.contains(document.activeElement)) document.activeElement.blur();
    const part = form.closest("[data-part]");
    if (part) refresh(part);
  }
});

// ------------------------------------------------------------------ reports

// A report is made in a child process on the bridge: say so until it is there, then show it
// at its full height (the frame is the same origin) so the page scrolls, not the frame.
for (const frame of document.querySelectorAll("iframe[data-report]")) {
  frame.addEventListener("load", () => {
    const loading = frame.parentElement.querySelector("[data-report-loading]");
    if (loading) loading.hidden = true;
    try {
      const height = frame.contentDocument.documentElement.scrollHeight;
      if (height > 0) frame.style.height = `${height + 16}px`;
    } catch {
      // not readable: the frame keeps its own scroll bar
    }
    body.dataset.reportLoaded = "1";
  });
}

// The language switcher applies on change (its button is for pages without the script).
const switcher = document.getElementById("language-switch");
if (switcher) {
  switcher.addEventListener("change", () => switcher.form.submit());
  const apply = switcher.form.querySelector("button");
  if (apply) apply.hidden = true;
}

// Parts of measured figures (rates) that no message announces come again every few seconds.
for (const element of document.querySelectorAll("[data-part][data-every]")) {
  window.setInterval(() => refresh(element), 1000 * Number(element.dataset.every));
}

// ------------------------------------------------------------------ language under ingress

/** Home Assistant's frontend is the parent page under ingress (same origin): follow its
 * language unless the person picked one here. */
function followHomeAssistant() {
  if (body.dataset.ingress !== "1" || body.dataset.languageChosen === "1") return;
  let theirs = null;
  try {
    theirs = window.parent !== window ? window.parent.document.documentElement.lang : null;
  } catch {
    return; // not the same origin: nothing to follow
  }
  if (!theirs) return;
  const wanted = theirs.toLowerCase().startsWith("zh") ? "zh-Hans" : theirs.split("-")[0];
  if (!["en", "zh-Hans", "ja"].includes(wanted) || wanted === body.dataset.language) return;
  const url = new URL(window.location.href);
  url.searchParams.set("lang", wanted);
  url.searchParams.set("from", "ha");
  window.location.replace(url);
}

followHomeAssistant();
localTimes(document);
if (body.dataset.live === "1") connect(0);
