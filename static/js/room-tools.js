// The counselor's tools in the room: private notes saved as they are typed, and the
// "raise crisis" / "refer" forms posted in the background, so a call never drops for a page
// load. Without scripts the same forms post normally (and come back to the room).

import { format } from "./room-util.js";

const AUTOSAVE_AFTER_MS = 1500;

async function post(form, { keepalive = false } = {}) {
  const response = await fetch(form.action, {
    method: "POST",
    body: new FormData(form),
    headers: { Accept: "application/json" },
    credentials: "same-origin",
    keepalive, // lets a save finish even when the tab is being closed
  });
  let body = {};
  try {
    body = await response.json();
  } catch (err) {
    body = {};
  }
  return { ok: response.ok, status: response.status, body };
}

function clearErrors(form) {
  for (const list of form.querySelectorAll("ul.errorlist[data-from-script]")) list.remove();
  for (const field of form.querySelectorAll("[aria-invalid]")) {
    field.removeAttribute("aria-invalid");
    const ids = (field.getAttribute("aria-describedby") || "").split(" ").filter((id) => !id.endsWith("_error"));
    if (ids.length) field.setAttribute("aria-describedby", ids.join(" "));
    else field.removeAttribute("aria-describedby");
  }
}

// Field errors next to their fields (named, and tied to the field for screen readers).
function showErrors(form, errors, status) {
  const general = [];
  for (const [name, messages] of Object.entries(errors || {})) {
    const field = form.elements.namedItem(name);
    if (!field || !field.id || field.type === "hidden") {
      general.push(...messages);
      continue;
    }
    const list = document.createElement("ul");
    list.className = "errorlist";
    list.dataset.fromScript = "";
    list.id = `${field.id}_error`;
    for (const message of messages) {
      const li = document.createElement("li");
      li.textContent = message;
      list.append(li);
    }
    field.before(list);
    field.setAttribute("aria-invalid", "true");
    field.setAttribute("aria-describedby", `${field.getAttribute("aria-describedby") || ""} ${list.id}`.trim());
  }
  if (general.length && status) status.textContent = general.join(" ");
  form.querySelector("[aria-invalid]")?.focus();
}

export function enhanceForms(root, strings) {
  for (const form of root.querySelectorAll("form[data-enhance]")) {
    const status = form.querySelector(".form-status");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = form.querySelector("button[type=submit]");
      clearErrors(form);
      if (status) status.textContent = strings.sending;
      button.disabled = true;
      try {
        const { ok, status: code, body } = await post(form);
        if (ok) {
          if (status) status.textContent = body.message || strings.sentOk;
          form.reset();
          if (body.referral) addReferral(body.referral);
        } else {
          if (status) status.textContent = body.error || "";
          showErrors(form, body.errors, status);
          if (code >= 500 && status) status.textContent = format(strings.notSent, { reason: strings.err_generic });
        }
      } catch (err) {
        if (status) status.textContent = format(strings.notSent, { reason: strings.err_generic });
      } finally {
        button.disabled = false;
      }
    });
  }
}

function addReferral(referral) {
  const list = document.getElementById("referral-list");
  if (!list) return;
  list.querySelector("[data-empty]")?.remove();
  const li = document.createElement("li");
  li.textContent = `${referral.resource} · ${referral.urgency} · ${referral.status}`;
  list.append(li);
}

// Notes: saved 1.5 s after the last keystroke, when the field loses focus and when the page
// is hidden. Each save says which revision it started from; a save refused because another
// window saved first stops autosaving rather than overwrite.
export function autosaveNotes(form, strings) {
  const text = form.querySelector("textarea");
  const revision = form.elements.namedItem("revision");
  const state = form.querySelector(".save-state");
  let timer = null;
  let saving = false;
  let dirty = false;
  let stopped = false;

  async function save({ keepalive = false } = {}) {
    clearTimeout(timer);
    if (stopped || !dirty) return;
    if (saving) {
      timer = setTimeout(save, 300);
      return;
    }
    saving = true;
    dirty = false;
    state.textContent = strings.saving;
    try {
      const { ok, status, body } = await post(form, { keepalive });
      if (ok) {
        revision.value = body.revision;
        state.textContent = format(strings.saved, { time: body.saved_at_display });
      } else {
        clearErrors(form);
        if (status === 409) stopped = true;
        else dirty = true;
        const reason = body.error || Object.values(body.errors || {}).flat().join(" ") || strings.err_generic;
        state.textContent = format(strings.notSaved, { reason });
      }
    } catch (err) {
      dirty = true; // offline: try again on the next change or when the page is hidden
      state.textContent = format(strings.notSaved, { reason: strings.err_generic });
    } finally {
      saving = false;
    }
  }

  text.addEventListener("input", () => {
    dirty = true;
    if (!stopped) state.textContent = strings.unsaved;
    clearTimeout(timer);
    timer = setTimeout(save, AUTOSAVE_AFTER_MS);
  });
  text.addEventListener("blur", () => save());
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    dirty = true;
    save();
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") save({ keepalive: true });
  });
}
