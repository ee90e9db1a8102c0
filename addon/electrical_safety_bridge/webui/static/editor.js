// The profile editor's script: live checks while typing, upload, the read-only try, save.
// As in app.js, no wording lives here: the server renders every text, this only posts and
// swaps what it answers in.
import { notify } from "./app.js";

const body = document.body;
const prefix = body.dataset.prefix || "";
const csrf = body.dataset.csrf || "";
const text = document.getElementById("profile-text");
const nameField = document.getElementById("profile-name");
const original = document.getElementById("profile-original");
const checkPanel = document.getElementById("check-panel");
const triedPanel = document.getElementById("tried-panel");
const saveButton = document.getElementById("save");
const tryButton = document.getElementById("try-read");
const staleNote = document.getElementById("stale-note");
/** Wait this long after the last key before checking (one request per pause, not per key). */
const CHECK_AFTER_MS = 350;

let checkTimer = null;
let checking = 0; // the number of the latest check: an older answer never replaces it
let triedText = null; // the text the shown values were read with
let savedText = text.value;

async function post(path, form) {
  return fetch(`${prefix}${path}`, {
    method: "POST",
    body: form,
    credentials: "same-origin",
    headers: { "X-CSRF-Token": csrf },
  });
}

function editorForm() {
  const form = new FormData();
  form.append("text", text.value);
  form.append("name", nameField.value.trim());
  return form;
}

/** Whether the shown check says the text loads (the try and the save need that). */
function showCheck(html) {
  checkPanel.innerHTML = html;
  const state = checkPanel.querySelector(".check")?.dataset.state;
  saveButton.disabled = state !== "ok";
  tryButton.disabled = state !== "ok";
}

async function check() {
  const mine = ++checking;
  body.dataset.checked = "0";
  try {
    const response = await post("/profiles/check", editorForm());
    if (response.status === 401 || response.status === 403) {
      window.location.reload();
      return;
    }
    const html = await response.text();
    if (mine !== checking) return;
    if (!response.ok) {
      notify(`${response.status} ${response.statusText}`, false);
      return;
    }
    showCheck(html);
  } catch (error) {
    notify(String(error), false);
  } finally {
    if (mine === checking) body.dataset.checked = "1";
  }
}

function changed() {
  window.clearTimeout(checkTimer);
  checkTimer = window.setTimeout(check, CHECK_AFTER_MS);
  markStale();
}

/** Values read with another text no longer describe this one: no confirming them. */
function markStale() {
  const stale = triedText !== null && triedText !== text.value;
  staleNote.hidden = !stale;
  triedPanel.classList.toggle("stale", stale);
  for (const box of triedPanel.querySelectorAll("input.confirm")) {
    if (stale) box.checked = false;
    box.disabled = stale || box.dataset.unread === "1";
  }
  countConfirmed();
}

function countConfirmed() {
  const status = document.getElementById("confirm-status");
  if (!status) return;
  const boxes = [...triedPanel.querySelectorAll("input.confirm")];
  const done = boxes.filter((box) => box.checked).length;
  const all = done === boxes.length && boxes.length > 0;
  status.textContent = (all ? status.dataset.all : status.dataset.some)
    .replace("{done}", String(done))
    .replace("{total}", String(boxes.length));
  status.className = all ? "ok-text" : "hint";
}

/** The ticked values and what the person typed the display shows, by key. */
function confirmations() {
  const confirmed = {};
  if (triedText !== text.value) return confirmed;
  for (const row of triedPanel.querySelectorAll("tr.tried-value")) {
    if (row.querySelector("input.confirm").checked) {
      confirmed[row.dataset.key] = row.querySelector("input.display").value;
    }
  }
  return confirmed;
}

/** Select line ``number`` (1-based) of the editor and scroll it into view. */
function showLine(number) {
  const lines = text.value.split("\n");
  const start = lines.slice(0, number - 1).reduce((sum, line) => sum + line.length + 1, 0);
  const end = start + (lines[number - 1] || "").length;
  text.focus();
  text.setSelectionRange(start, end);
  const lineHeight = parseFloat(window.getComputedStyle(text).lineHeight) || 18;
  text.scrollTop = Math.max(0, (number - 4) * lineHeight);
}

function problemChosen(event) {
  const problem = event.target.closest(".problem[data-line]");
  if (!problem || (event.type === "keydown" && event.key !== "Enter")) return;
  showLine(Number(problem.dataset.line));
}

checkPanel.addEventListener("click", problemChosen);
checkPanel.addEventListener("keydown", problemChosen);
text.addEventListener("input", changed);
nameField.addEventListener("input", changed);
triedPanel.addEventListener("change", countConfirmed);

document.getElementById("profile-file").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  if (!file) return;
  const form = new FormData();
  form.append("file", file);
  const response = await post("/profiles/upload", form);
  if (!response.ok) {
    notify(`${file.name}: ${response.status} ${response.statusText}`, false);
    return;
  }
  const answer = await response.json();
  text.value = answer.text;
  nameField.value = answer.name;
  original.value = "";
  showCheck(answer.check);
  markStale();
  event.target.value = "";
});

document.getElementById("try-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = editorForm();
  form.append("bus", document.getElementById("try-bus").value);
  form.append("unit", document.getElementById("try-unit").value);
  const tried = text.value;
  tryButton.disabled = true;
  body.dataset.tried = "0";
  try {
    const response = await post("/profiles/try", form);
    triedPanel.innerHTML = await response.text();
    triedText = tried;
    for (const box of triedPanel.querySelectorAll("input.confirm")) {
      if (box.disabled) box.dataset.unread = "1";
    }
    markStale();
  } catch (error) {
    notify(String(error), false);
  } finally {
    tryButton.disabled = checkPanel.querySelector(".check")?.dataset.state !== "ok";
    body.dataset.tried = "1";
  }
});

saveButton.addEventListener("click", async () => {
  const form = editorForm();
  form.append("original", original.value);
  form.append("confirmed", JSON.stringify(confirmations()));
  saveButton.disabled = true;
  try {
    const response = await post("/profiles/save", form);
    const answer = await response.json();
    notify(answer.message, answer.ok);
    if (answer.ok) {
      // The save changes only verified: and the confirmations: the values read still hold.
      if (triedText === text.value) triedText = answer.text;
      text.value = answer.text;
      savedText = answer.text;
      nameField.value = answer.name;
      original.value = answer.name;
      markStale();
      const opened = new URL(window.location.href);
      opened.searchParams.set("open", `user/${answer.name}`);
      window.history.replaceState(null, "", opened);
      const title = document.getElementById("editor-title");
      title.textContent = title.dataset.saved.replace("{file}", answer.name);
      check();
      const listing = document.getElementById("listing");
      const url = new URL(window.location.href);
      url.searchParams.set("part", "listing");
      const part = await fetch(url, { credentials: "same-origin" });
      if (part.ok) listing.innerHTML = await part.text();
    }
  } catch (error) {
    notify(String(error), false);
  } finally {
    saveButton.disabled = checkPanel.querySelector(".check")?.dataset.state !== "ok";
  }
});

// Leaving with unsaved edits asks first (the browser words the question).
window.addEventListener("beforeunload", (event) => {
  if (text.value !== savedText) event.preventDefault();
});

showCheck(checkPanel.innerHTML);
body.dataset.editor = "1";
