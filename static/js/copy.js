// Read-only link fields select their whole text when focused (no inline handler: see the CSP).
document.querySelectorAll("[data-select-on-focus]").forEach((field) => {
  field.addEventListener("focus", () => field.select());
});

// "Copy" buttons: <button data-copy="input-id">. Without JavaScript the field stays selectable.
document.querySelectorAll("[data-copy]").forEach((button) => {
  button.hidden = false;
  button.addEventListener("click", async () => {
    const field = document.getElementById(button.dataset.copy);
    field.select();
    try {
      await navigator.clipboard.writeText(field.value);
    } catch {
      document.execCommand("copy");
    }
    const status = document.getElementById("copy-status");
    if (status) status.textContent = button.dataset.copied;
  });
});
