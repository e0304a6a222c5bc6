// capsule's companion app: plain JavaScript, no build step. Every API call carries the
// paired phone's token in the Authorization header (never a cookie), and every text from
// the mirror is put into the page as text, never as HTML.
"use strict";

const TYPES = ["top", "bottom", "dress", "outerwear", "shoes", "bag", "accessory"];
const STATUSES = ["available", "in-laundry", "stored"];
const TOKEN_KEY = "capsule-token";

const main = document.getElementById("main");
const statusLine = document.getElementById("status");

// --- helpers ---------------------------------------------------------------------------

/** An element with attributes (on* names become listeners) and children (strings as text). */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function say(message, isError) {
  statusLine.textContent = message;
  statusLine.classList.toggle("error", Boolean(isError));
}

function token() {
  return localStorage.getItem(TOKEN_KEY);
}

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Calls the API; JSON bodies are sent as JSON, Blobs as they are. */
async function api(method, path, body) {
  const headers = { Authorization: "Bearer " + (token() || "") };
  let payload;
  if (body instanceof Blob) {
    payload = body;
    headers["Content-Type"] = body.type || "application/octet-stream";
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers["Content-Type"] = "application/json";
  }
  const response = await fetch(path, { method, headers, body: payload });
  if (response.status === 401 && !path.startsWith("/api/pair")) {
    localStorage.removeItem(TOKEN_KEY);
    location.hash = "#/pair";
    throw new ApiError(401, "This phone is not paired (any more): pair it again.");
  }
  const type = response.headers.get("Content-Type") || "";
  const data = type.includes("json") ? await response.json() : await response.blob();
  if (!response.ok) throw new ApiError(response.status, (data && data.error) || response.statusText);
  return data;
}

// Thumbnails need the token, so they are fetched and shown from blob URLs, once each.
const pictures = new Map();
function picture(id, view, alt, className) {
  const img = h("img", { alt, class: className, width: 160, height: 160, "data-garment": id });
  const key = id + "/" + (view || 0);
  if (!pictures.has(key)) {
    pictures.set(key, api("GET", `/api/garments/${id}/thumbnail?view=${view || 0}`)
      .then((blob) => URL.createObjectURL(blob)));
  }
  pictures.get(key).then((url) => { img.src = url; }, () => { pictures.delete(key); });
  return img;
}

function forget(id) {
  for (const key of [...pictures.keys()]) if (key.startsWith(id + "/")) pictures.delete(key);
}

function gid(id) {
  return typeof id === "number" ? "g" + id : String(id);
}

function show(title, ...content) {
  document.title = title + " · capsule";
  main.replaceChildren(h("h2", { id: "page-title" }, title), ...content);
  // Screen readers start at the new page; the view starts at the top.
  main.focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

function when(unix) {
  return unix ? new Date(unix * 1000).toLocaleString() : "never";
}

function busy(button, work) {
  return async (event) => {
    if (event) event.preventDefault();
    button.disabled = true;
    try { await work(); } catch (e) { say(e.message, true); } finally { button.disabled = false; }
  };
}

// --- pages -----------------------------------------------------------------------------

function pairPage() {
  const code = h("input", { id: "pair-code", class: "code", inputmode: "numeric", autocomplete: "one-time-code",
    pattern: "[0-9 ]*", maxlength: 7, required: true });
  const name = h("input", { id: "pair-name", value: navigator.platform ? "phone (" + navigator.platform + ")" : "phone" });
  const start = h("button", { id: "pair-start", type: "button", class: "secondary" }, "Show a code on the mirror");
  start.addEventListener("click", busy(start, async () => {
    const r = await api("POST", "/api/pair/start");
    say(`The mirror shows a 6-digit code for ${Math.round(r.expires_in_s / 60)} minutes.`);
    code.focus();
  }));
  const submit = h("button", { id: "pair-submit", type: "submit" }, "Pair");
  const form = h("form", { class: "stack" },
    h("p", {}, "Pair this phone once with the mirror; it then keeps a key of its own."),
    start,
    h("div", {}, h("label", { for: "pair-code" }, "Code shown on the mirror"), code),
    h("div", {}, h("label", { for: "pair-name" }, "Name of this phone"), name),
    submit);
  form.addEventListener("submit", busy(submit, async () => {
    const r = await api("POST", "/api/pair", { code: code.value.replace(/\s/g, ""), name: name.value });
    localStorage.setItem(TOKEN_KEY, r.token);
    say("Paired as " + r.device.name + ".");
    location.hash = "#/";
  }));
  show("Pair this phone", form);
}

async function wardrobePage(params) {
  const list = await api("GET", "/api/garments");
  const type = h("select", { id: "filter-type" }, h("option", { value: "" }, "all types"),
    TYPES.map((t) => h("option", { value: t }, t)));
  const status = h("select", { id: "filter-status" }, h("option", { value: "" }, "any status"),
    STATUSES.map((s) => h("option", { value: s }, s)));
  const search = h("input", { id: "search", type: "search", placeholder: "name" });
  type.value = params.get("type") || "";
  status.value = params.get("status") || "";
  search.value = params.get("q") || "";
  const grid = h("ul", { class: "gallery", id: "gallery", "aria-label": "Garments" });
  const count = h("p", { class: "muted", id: "garment-count" });
  function render() {
    const q = search.value.trim().toLowerCase();
    const shown = list.garments.filter((g) =>
      (!type.value || g.type === type.value) &&
      (!status.value || g.status === status.value) &&
      (!q || g.name.toLowerCase().includes(q)));
    count.textContent = `${shown.length} of ${list.garments.length} garments`;
    grid.replaceChildren(...shown.map((g) => h("li", { class: "card" },
      h("a", { href: "#/garment/" + g.id, "data-garment": g.id },
        picture(g.id, 0, g.name),
        h("div", { class: "meta" }, h("div", { class: "name" }, g.name),
          h("span", { class: "muted" }, g.type + " · "), h("span", { class: "badge" }, g.status))))));
  }
  for (const el of [type, status]) el.addEventListener("change", render);
  search.addEventListener("input", render);
  show("Wardrobe",
    h("div", { class: "filters", role: "search" },
      h("div", { class: "search" }, h("label", { for: "search" }, "Search by name"), search),
      h("div", {}, h("label", { for: "filter-type" }, "Type"), type),
      h("div", {}, h("label", { for: "filter-status" }, "Status"), status)),
    count, grid,
    h("p", {}, h("a", { class: "button", href: "#/add" }, "Add a garment")));
  render();
}

/** One outfit with its pictures and the three verdict buttons; `after` runs on a verdict. */
function outfitCard(outfit, anchor, after) {
  const buttons = ["accept", "reject", "wore"].map((verdict) => {
    const label = { accept: "Accept", reject: "Reject", wore: "Wore it" }[verdict];
    const b = h("button", { type: "button", class: verdict === "reject" ? "danger" : "secondary",
      "data-verdict": verdict, "aria-label": `${label}: ${outfit.garments.map((g) => g.name).join(", ")}` }, label);
    b.addEventListener("click", busy(b, async () => {
      await api("POST", "/api/feedback", { outfit: outfit.key, verdict });
      say(`Recorded "${label}" for this outfit.`);
      await after();
    }));
    return b;
  });
  return h("li", { class: "outfit", "data-key": outfit.key },
    h("ul", { class: "pieces", "aria-label": "Garments in this outfit" },
      outfit.garments.map((g) => h("li", {},
        picture(gid(g.id), 0, g.name),
        gid(g.id) === anchor ? h("strong", {}, g.name) : h("a", { href: "#/garment/" + gid(g.id) }, g.name)))),
    h("p", { class: "muted" }, `${Math.round(outfit.score * 100)}% · ${outfit.why}`),
    h("div", { class: "row" }, buttons));
}

function outfitList(outfits, anchor, after) {
  if (!outfits.length) return h("p", { id: "no-outfits" }, "No complete outfit yet: the wardrobe lacks garments of the types an outfit needs.");
  return h("ul", { class: "outfits", id: "outfits" }, outfits.map((o) => outfitCard(o, anchor, after)));
}

async function garmentPage(id) {
  const r = await api("GET", `/api/garments/${id}?outfits=3`);
  const g = r.garment;
  const name = h("input", { id: "rename", value: g.name, required: true, maxlength: 80 });
  const renameButton = h("button", { type: "submit" }, "Rename");
  const renameForm = h("form", { class: "row" },
    h("div", { class: "grow" }, h("label", { for: "rename" }, "Name"), name), renameButton);
  renameForm.addEventListener("submit", busy(renameButton, async () => {
    await api("PUT", `/api/garments/${id}/name`, { name: name.value });
    say("Renamed.");
    await garmentPage(id);
  }));
  const status = h("select", { id: "set-status" }, STATUSES.map((s) => h("option", { value: s }, s)));
  status.value = g.status;
  status.addEventListener("change", async () => {
    try {
      await api("PUT", `/api/garments/${id}/status`, { status: status.value });
      say(`${g.name} is now ${status.value}.`);
    } catch (e) { say(e.message, true); }
  });
  const remove = h("button", { type: "button", class: "danger", id: "remove" }, "Remove from the wardrobe");
  remove.addEventListener("click", busy(remove, async () => {
    if (!confirm(`Remove ${g.name} and its outfits?`)) return;
    await api("DELETE", `/api/garments/${id}`);
    forget(id);
    say(`Removed ${g.name}.`);
    location.hash = "#/";
  }));
  const views = [];
  for (let v = 0; v < g.views; v++) views.push(h("li", {}, picture(id, v, `${g.name}, view ${v + 1}`)));
  const history = r.history.length
    ? h("ul", { class: "history" }, r.history.map((p) => h("li", {},
      `${p.provenance} with `, h("a", { href: "#/garment/" + gid(p.id) }, p.name || gid(p.id)), ` (${when(p.at_unix)})`)))
    : h("p", { class: "muted" }, "No outfits recorded yet.");
  show(g.name,
    h("div", { class: "detail" },
      h("div", {}, picture(id, 0, g.name, "thumb hero"),
        h("p", { class: "muted" }, `${g.type} · added ${when(g.added_unix)} · last worn ${when(g.last_worn_unix)}`)),
      h("div", { class: "stack" },
        renameForm,
        h("div", {}, h("label", { for: "set-status" }, "Status"), status),
        h("h3", {}, "Views"), h("ul", { class: "views" }, views),
        h("h3", {}, "Outfits with it"),
        outfitList(r.outfits, id, () => garmentPage(id)),
        h("p", {}, h("a", { href: `#/suggest/${id}`, id: "more-outfits" }, "More suggestions around it")),
        h("h3", {}, "Feedback history"), history,
        remove)));
}

async function suggestPage(id) {
  const r = await api("GET", `/api/garments/${id}/outfits?outfits=6`);
  show(`Outfits around ${r.anchor.name}`,
    h("p", { class: "muted" }, "Accept, reject or say you wore one: the next suggestions follow at once."),
    outfitList(r.outfits, id, () => suggestPage(id)));
}

function typeSelect(id) {
  return h("select", { id, required: true }, TYPES.map((t) => h("option", { value: t }, t)));
}

function addPage() {
  const name = h("input", { id: "add-name", required: true, maxlength: 80, autocomplete: "off" });
  const type = typeSelect("add-type");
  const file = h("input", { id: "add-photo", type: "file", accept: "image/jpeg,image/png", capture: "environment" });
  const upload = h("button", { type: "submit", id: "add-upload" }, "Add from the photo");
  const capture = h("button", { type: "button", class: "secondary", id: "add-capture" }, "Add what the mirror sees now");
  const form = h("form", { class: "stack" },
    h("div", {}, h("label", { for: "add-name" }, "Name"), name),
    h("div", {}, h("label", { for: "add-type" }, "Type"), type),
    h("div", {}, h("label", { for: "add-photo" }, "Photo of the garment"), file),
    h("div", { class: "row" }, upload, capture));
  async function added(reply) {
    const garment = reply.garments[0];
    say(`Added ${garment.name} as ${gid(garment.id)}.`);
    location.hash = "#/garment/" + gid(garment.id);
  }
  form.addEventListener("submit", busy(upload, async () => {
    if (!name.reportValidity()) return;
    if (!file.files.length) throw new Error("Choose a photo first, or add what the mirror sees.");
    const query = new URLSearchParams({ type: type.value, name: name.value });
    await added(await api("POST", "/api/garments?" + query, file.files[0]));
  }));
  capture.addEventListener("click", busy(capture, async () => {
    if (!name.reportValidity()) return;
    await added(await api("POST", "/api/garments/capture", { type: type.value, name: name.value }));
  }));
  show("Add a garment", form);
}

// The live view is MJPEG; an <img> cannot send the token, so the stream is read here and
// each part shown as it arrives.
let liveAbort = null;
async function livePage() {
  const img = h("img", { id: "live", alt: "The mirror's camera, live; the green frame is where to hold a garment" });
  show("Live view", h("div", { class: "live" }, img),
    h("p", { class: "muted" }, "Hold a garment inside the green frame."));
  liveAbort = new AbortController();
  const response = await fetch("/api/live.mjpeg", { headers: { Authorization: "Bearer " + token() }, signal: liveAbort.signal });
  if (!response.ok) throw new ApiError(response.status, "The live view is not available.");
  const reader = response.body.getReader();
  let buffer = new Uint8Array(0);
  let shown = null;
  const decoder = new TextDecoder();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    const joined = new Uint8Array(buffer.length + value.length);
    joined.set(buffer); joined.set(value, buffer.length);
    buffer = joined;
    for (;;) {
      const head = findHeaderEnd(buffer);
      if (head < 0) break;
      const length = Number((/Content-Length: (\d+)/i.exec(decoder.decode(buffer.subarray(0, head))) || [])[1]);
      if (!(length >= 0) || buffer.length < head + 4 + length) break;
      const jpeg = buffer.slice(head + 4, head + 4 + length);
      buffer = buffer.slice(head + 4 + length);
      const url = URL.createObjectURL(new Blob([jpeg], { type: "image/jpeg" }));
      img.src = url;
      if (shown) URL.revokeObjectURL(shown);
      shown = url;
    }
  }
}

function findHeaderEnd(bytes) {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) return i;
  }
  return -1;
}

async function systemPage() {
  const [s, t] = await Promise.all([api("GET", "/api/system"), api("GET", "/api/tokens")]);
  const mib = (b) => Math.round(b / 1048576) + " MiB";
  const facts = [
    ["capsule", s.capsule_version], ["board", s.board || "no board profile"],
    ["bundle", `${s.bundle_version} (${s.precision})`],
    ["slots", s.slots.map((x) => `${x.slot}${x.active ? " (active)" : ""}: ${x.bundle_version ?? x.problem}`).join("; ")],
    ["garments", s.garments],
    ["disk", s.disk ? `${mib(s.disk.free_bytes)} free of ${mib(s.disk.total_bytes)}` : "unknown"],
    ["uptime", s.uptime_s != null ? Math.round(s.uptime_s / 3600) + " h" : "unknown"],
    ["mirror running", Math.round(s.running_s / 60) + " min"],
    ["memory", s.rss_kib ? Math.round(s.rss_kib / 1024) + " MiB" : "unknown"],
  ];
  const card = Object.entries(s.model_card).map(([k, v]) => [k, Number(v).toFixed(3)]);
  const rollback = h("button", { type: "button", class: "danger", id: "rollback" }, "Roll the models back");
  rollback.addEventListener("click", busy(rollback, async () => {
    if (!confirm("Switch to the bundle in the other slot? The mirror reloads its models.")) return;
    const r = await api("POST", "/api/system/rollback");
    say(r.running
      ? `Rolled back: the mirror runs bundle ${r.bundle_version} (slot ${r.slot}).`
      : `Rolled back to bundle ${r.bundle_version} in slot ${r.slot}; it runs from the next start.`);
    await systemPage();
  }));
  const devices = h("ul", { id: "devices" }, t.devices.map((d) => {
    const b = h("button", { type: "button", class: "danger", "aria-label": "Unpair " + d.name }, "Unpair");
    b.addEventListener("click", busy(b, async () => {
      await api("DELETE", "/api/tokens/" + d.id);
      say("Unpaired " + d.name + ".");
      await systemPage();
    }));
    return h("li", { class: "row" }, `${d.name} (paired ${when(d.paired_unix)}) `, b);
  }));
  const dl = (rows) => h("dl", { class: "facts" }, rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
  show("System", dl(facts), h("h3", {}, "Model card"), dl(card), rollback,
    h("h3", {}, "Paired phones"), devices);
}

// --- routing ---------------------------------------------------------------------------

async function route() {
  if (liveAbort) { liveAbort.abort(); liveAbort = null; }
  const [path, query] = location.hash.replace(/^#/, "").split("?");
  const parts = (path || "/").split("/").filter(Boolean);
  const params = new URLSearchParams(query || "");
  const page = parts[0] || "wardrobe";
  for (const a of document.querySelectorAll("[data-nav]")) {
    if (a.dataset.nav === page) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  if (!token() && page !== "pair") { location.hash = "#/pair"; return; }
  try {
    if (page === "pair") pairPage();
    else if (page === "wardrobe") await wardrobePage(params);
    else if (page === "garment") await garmentPage(parts[1]);
    else if (page === "suggest") await suggestPage(parts[1]);
    else if (page === "add") addPage();
    else if (page === "live") await livePage();
    else if (page === "system") await systemPage();
    else show("Not found", h("p", {}, "No such page."));
  } catch (e) {
    if (e.name !== "AbortError") say(e.message, true);
  }
}

window.addEventListener("hashchange", route);
route();
