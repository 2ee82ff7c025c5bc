// Small progressive enhancements; every page works without them.

// Buttons that change something for good ask first: <button data-confirm="Sure?">.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) {
    event.preventDefault();
  }
});

// Forms marked `data-autofilter` refresh their results through htmx on change; the submit
// button stays for keyboard users and for browsers without JavaScript.
document.addEventListener("htmx:afterSwap", (event) => {
  const region = event.detail.target;
  if (region && region.hasAttribute("data-results")) {
    region.setAttribute("aria-busy", "false");
  }
});
// Polling regions marked `data-poll-visible-only` skip their request while the tab is hidden
// (in place of an htmx trigger filter, which would need eval: see the CSP in core/security.py).
document.addEventListener("htmx:confirm", (event) => {
  const poller = event.target.closest && event.target.closest("[data-poll-visible-only]");
  if (poller && document.visibilityState !== "visible") event.preventDefault();
});
document.addEventListener("htmx:beforeRequest", (event) => {
  const target = document.querySelector("[data-results]");
  if (target) target.setAttribute("aria-busy", "true");
});
