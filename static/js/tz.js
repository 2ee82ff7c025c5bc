// The browser's time zone, for the server: stored in the `tz` cookie, which the server uses
// to show times to visitors who are not signed in (signed-in users have their own setting).
// Also preselects it in time zone fields marked `data-browser-tz` (the sign-up form).
const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;

if (zone) {
  const cookie = `tz=${encodeURIComponent(zone)}`;
  const hadIt = document.cookie.split("; ").includes(cookie);
  if (!hadIt) {
    document.cookie = `${cookie}; path=/; max-age=31536000; samesite=lax`;
  }
  // A visitor's first page with times on it was rendered before the server knew their zone:
  // render it again, once, now that it does (no loop: the cookie is now set, or cookies are off).
  const body = document.body;
  if (!hadIt && document.cookie.split("; ").includes(cookie) && body.hasAttribute("data-anonymous")
      && body.dataset.viewerTz !== zone && document.querySelector("[data-shows-times]")) {
    location.reload();
  }
  for (const select of document.querySelectorAll("select[data-browser-tz]")) {
    if ([...select.options].some((option) => option.value === zone)) {
      select.value = zone;
    }
  }
}
