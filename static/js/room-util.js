// Small helpers shared by the room's modules.

// Fills Python-style %(name)s placeholders: the strings come translated from the server.
export function format(template, params = {}) {
  return String(template).replace(/%\((\w+)\)s/g, (match, key) => (key in params ? String(params[key]) : match));
}

// The JSON a page embedded with Django's json_script.
export function readJson(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : null;
}

// HH:MM in the viewer's zone (the page says which) and language.
export function timeFormatter() {
  const lang = document.documentElement.lang || undefined;
  const zone = document.body.dataset.viewerTz;
  const options = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  let formatter;
  try {
    formatter = new Intl.DateTimeFormat(lang, zone ? { ...options, timeZone: zone } : options);
  } catch (err) {
    formatter = new Intl.DateTimeFormat(lang, options);
  }
  return (date) => formatter.format(date);
}

// mm:ss (or h:mm:ss) for a number of milliseconds.
export function clock(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = String(m).padStart(h ? 2 : 1, "0");
  return `${h ? `${h}:` : ""}${mm}:${String(s).padStart(2, "0")}`;
}

// A random UUID; crypto.randomUUID exists only in secure contexts, getRandomValues everywhere.
export function uuid4() {
  if (window.crypto?.randomUUID) return window.crypto.randomUUID();
  const b = window.crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0"));
  return `${h.slice(0, 4).join("")}-${h.slice(4, 6).join("")}-${h.slice(6, 8).join("")}-${h.slice(8, 10).join("")}-${h.slice(10).join("")}`;
}

// A hotline as a list item: a tel: link for plain numbers, a link for addresses.
export function hotlineItem(hotline) {
  const li = document.createElement("li");
  const name = document.createElement("strong");
  name.textContent = hotline.name;
  const contact = document.createElement("span");
  contact.className = "contact";
  const value = hotline.contact || "";
  if (/^\+?[\d\s\-()]{3,}$/.test(value)) {
    const a = document.createElement("a");
    a.href = `tel:${value.replace(/[^\d+]/g, "")}`;
    a.textContent = value;
    contact.append(a);
  } else if (/^https?:\/\//.test(value)) {
    const a = document.createElement("a");
    a.href = value;
    a.rel = "noopener noreferrer";
    a.target = "_blank";
    a.textContent = value;
    contact.append(a);
  } else {
    contact.textContent = value;
  }
  li.append(name, " ", contact);
  if (hotline.hours) li.append(` · ${hotline.hours}`);
  if (hotline.description) {
    const d = document.createElement("span");
    d.className = "muted small";
    d.textContent = hotline.description;
    li.append(" ", d);
  }
  return li;
}
