// The counselor's risk check panel (templates/ethics/_risk_check.html): the C-SSRS screen,
// follow-up questions shown only when they are asked, answers posted to the API, and the
// outcome of the published triage shown back. A `risk:check` event on the document (the
// room's `risk.check` frame) shows the prompt.
const panel = document.getElementById("risk-check");
if (panel) {
  const form = document.getElementById("risk-check-form");
  const status = document.getElementById("risk-check-status");
  const list = document.getElementById("risk-check-list");
  const outcomes = document.getElementById("risk-check-outcomes").content;
  const csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
  const answer = (name) => {
    const picked = form.querySelector(`[name=${name}]:checked`);
    return picked ? picked.value === "true" : null;
  };
  const outcomeText = (outcome) =>
    outcomes.querySelector(`[data-outcome="${outcome}"]`)?.textContent || outcome;

  const refresh = () => {
    for (const set of form.querySelectorAll("[data-after]")) {
      set.hidden = answer(set.dataset.after) !== true;
    }
  };
  form.addEventListener("change", refresh);

  const show = (check) => {
    list.querySelector("[data-empty]")?.remove();
    const item = document.createElement("li");
    const when = new Date(check.created_at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    item.textContent = `${when} · ${outcomeText(check.outcome)}`;
    list.prepend(item);
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    for (const p of form.querySelectorAll("[data-error-for]")) p.hidden = true;
    const body = {};
    for (const set of form.querySelectorAll("[data-question]")) {
      if (!set.hidden) body[set.dataset.question] = answer(set.dataset.question);
    }
    body.safety_plan = form.safety_plan.value;
    body.referral_note = form.referral_note.value;
    const response = await fetch(panel.dataset.api, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (response.status === 201) {
      status.textContent = outcomeText(data.outcome);
      show(data);
      form.reset();
      refresh();
      form.querySelector("[data-moderate]").hidden = true;
      return;
    }
    for (const [field, errors] of Object.entries(data)) {
      const p = form.querySelector(`[data-error-for="${field}"]`);
      if (p) {
        p.textContent = [].concat(errors).join(" ");
        p.hidden = false;
      }
      if (field === "safety_plan" || field === "referral_note") {
        form.querySelector("[data-moderate]").hidden = false;
      }
    }
  });

  document.addEventListener("risk:check", () => {
    document.getElementById("risk-check-prompt").hidden = false;
  });

  fetch(panel.dataset.api, { credentials: "same-origin" })
    .then((r) => (r.ok ? r.json() : []))
    .then((checks) => checks.reverse().forEach(show));
}
