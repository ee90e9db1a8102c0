// The register explorer's script: reads (one at a time), watch mode, the change timeline
// and channel proposals. The bridge renders every text and table; this sends the person's
// choices, swaps the answers in and remembers the last read to compare the next one with.

import { localTimes, notify } from "./app.js";

const body = document.body;
const csrf = body.dataset.csrf || "";
const readForm = document.getElementById("explorer-read");
const proposeForm = document.getElementById("explorer-propose");
const watchButton = document.getElementById("explorer-watch");
const watching = document.getElementById("explorer-watching");
const timeline = document.getElementById("explorer-timeline");
const table = document.getElementById("explorer-table");

/** The last read that answered: its source, address and registers (to compare with). */
let last = null;
/** The register or pair picked for a proposal: {address, type, order}. */
let picked = null;
/** Watch mode: its first read is the baseline the table's highlights compare with. */
let watch = { on: false, reads: 0, changes: 0, baseline: null };
let reading = false;

async function post(url, payload) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify(payload),
  });
  if (response.status === 401 || response.status === 403) {
    window.location.reload();
    return null;
  }
  return response.json();
}

function asked() {
  const form = new FormData(readForm);
  return {
    bus: form.get("bus"),
    unit: form.get("unit"),
    function: form.get("function"),
    address: form.get("address"),
    count: form.get("count"),
  };
}

/** One read; true when it answered. Never two at once (watch mode waits for each). */
async function read() {
  if (reading) return false;
  reading = true;
  readForm.querySelector("button[type=submit]").disabled = true;
  try {
    const baseline = watch.on ? watch.baseline : null;
    const answer = await post(readForm.action, { ...asked(), previous: last, baseline });
    if (answer === null) return false;
    if (!answer.ok) {
      notify(answer.message, false);
      if (!answer.retry) stopWatching();
      return false;
    }
    last = {
      bus: answer.bus,
      unit: answer.unit,
      function: answer.function,
      address: answer.address,
      registers: answer.registers,
    };
    table.innerHTML = answer.table;
    localTimes(table);
    markPicked();
    if (answer.timeline.trim()) {
      timeline.insertAdjacentHTML("afterbegin", answer.timeline);
      localTimes(timeline);
      document.getElementById("explorer-timeline-empty").hidden = true;
    }
    if (watch.on) {
      if (watch.baseline === null) watch.baseline = last;
      watch.reads += 1;
      watch.changes += answer.changed;
      showWatching();
    } else {
      notify(answer.message, true);
    }
    return true;
  } catch (error) {
    notify(String(error), false);
    stopWatching();
    return false;
  } finally {
    reading = false;
    readForm.querySelector("button[type=submit]").disabled = false;
  }
}

// ------------------------------------------------------------------ watch mode

function showWatching() {
  watching.textContent = watching.dataset.text
    .replace("{reads}", String(watch.reads))
    .replace("{changes}", String(watch.changes));
  watching.hidden = !watch.on;
}

function stopWatching() {
  watch.on = false;
  watchButton.textContent = watchButton.dataset.start;
  watchButton.classList.add("secondary");
  showWatching();
}

async function keepWatching() {
  const pause = Number(readForm.dataset.watchPause || "250");
  while (watch.on) {
    await read();
    if (!watch.on) break;
    await new Promise((resolve) => window.setTimeout(resolve, pause));
  }
}

watchButton.addEventListener("click", () => {
  if (watch.on) {
    stopWatching();
    return;
  }
  watch = { on: true, reads: 0, changes: 0, baseline: null };
  document.getElementById("notice").hidden = true; // a sentence about an earlier read
  watchButton.textContent = watchButton.dataset.stop;
  watchButton.classList.remove("secondary");
  showWatching();
  keepWatching();
});

readForm.addEventListener("submit", (submitted) => {
  submitted.preventDefault();
  read();
});

// A configured unit chosen by name fills in its bus and unit number.
document.getElementById("explorer-known").addEventListener("change", (changed) => {
  const option = changed.target.selectedOptions[0];
  if (!option || !option.dataset.unit) return;
  readForm.elements.bus.value = option.dataset.bus;
  readForm.elements.unit.value = option.dataset.unit;
});
readForm.elements.unit.addEventListener("input", () => {
  const known = document.getElementById("explorer-known");
  const option = known.selectedOptions[0];
  if (option && option.dataset.unit !== readForm.elements.unit.value) known.value = "";
});

document.getElementById("explorer-timeline-clear").addEventListener("click", () => {
  timeline.innerHTML = "";
  document.getElementById("explorer-timeline-empty").hidden = false;
});

// ------------------------------------------------------------------ proposals

function markPicked() {
  for (const cell of table.querySelectorAll("td.picked")) cell.classList.remove("picked");
  if (!picked) return;
  const cell = table.querySelector(
    `td[data-pick="${picked.type}"][data-address="${picked.address}"]` +
      (picked.order ? `[data-order="${picked.order}"]` : ":not([data-order])"),
  );
  if (cell) cell.classList.add("picked");
}

/** The registers of the last read from ``address`` on (as many as there are). */
function registersFrom(address) {
  if (!last) return [];
  const offset = address - last.address;
  return offset < 0 ? [] : last.registers.slice(offset, offset + 2);
}

/** Proposals asked so far: only the answer to the latest one is shown. */
let proposals = 0;

async function proposeNow() {
  if (!picked || !last) return;
  const asking = ++proposals;
  const form = new FormData(proposeForm);
  const answer = await post(proposeForm.action, {
    address: picked.address,
    registers: registersFrom(picked.address),
    type: form.get("type"),
    word_order: form.get("word_order"),
    scale: form.get("scale"),
    key: form.get("key"),
    kind: form.get("kind"),
    unit_of_measure: form.get("unit_of_measure"),
    name: form.get("name"),
    bus: last.bus,
    modbus_unit: last.unit,
    function: last.function,
  });
  if (answer === null || asking !== proposals) return;
  const target = document.getElementById("explorer-proposal");
  if (!answer.ok) {
    target.innerHTML = "";
    notify(answer.message, false);
    return;
  }
  target.innerHTML = answer.html;
}

const hex4 = (value) => `0x${value.toString(16).toUpperCase().padStart(4, "0")}`;

table.addEventListener("click", (clicked) => {
  const cell = clicked.target.closest("td[data-pick]");
  if (!cell) return;
  const address = Number(cell.dataset.address);
  if (!picked || picked.address !== address) {
    // Another register: the scale, unit and names chosen belonged to the one before.
    for (const name of ["scale", "unit_of_measure", "key", "name"]) {
      proposeForm.elements[name].value = name === "scale" ? "1" : "";
    }
  }
  picked = { address, type: cell.dataset.pick, order: cell.dataset.order || null };
  proposeForm.elements.type.value = picked.type;
  if (picked.order) proposeForm.elements.word_order.value = picked.order;
  proposeForm.elements.word_order.disabled = !picked.order;
  const width = picked.order ? 2 : 1;
  const words = registersFrom(address).slice(0, width);
  const span = width === 2 ? `${hex4(address)}–${hex4(address + 1)}` : hex4(address);
  document.getElementById("explorer-picked").textContent = `${span} · ${words.map(hex4).join(" ")}`;
  proposeForm.hidden = false;
  document.getElementById("explorer-propose-empty").hidden = true;
  markPicked();
  proposeNow();
});

proposeForm.addEventListener("change", (changed) => {
  if (changed.target.name === "type") {
    const wide = ["u32", "s32", "f32"].includes(changed.target.value);
    proposeForm.elements.word_order.disabled = !wide;
    if (picked) picked = { ...picked, type: changed.target.value, order: wide ? proposeForm.elements.word_order.value : null };
  } else if (changed.target.name === "word_order" && picked && picked.order) {
    picked = { ...picked, order: changed.target.value };
  }
  markPicked();
  proposeNow();
});

proposeForm.addEventListener("submit", (submitted) => {
  submitted.preventDefault();
  proposeNow();
});

// Copying is the person's own act: nothing is saved anywhere by the explorer.
document.addEventListener("click", async (clicked) => {
  if (!(clicked.target instanceof HTMLElement) || clicked.target.id !== "explorer-copy") return;
  const text = document.getElementById("explorer-yaml");
  text.select();
  try {
    await navigator.clipboard.writeText(text.value);
  } catch {
    document.execCommand("copy"); // plain http (standalone) has no clipboard API
  }
  notify(clicked.target.dataset.copied, true);
});
