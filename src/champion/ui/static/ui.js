// Keeps the overview current without reloading (fetch the fragment, swap it in) and shows
// every time in the viewer's own zone.
"use strict";
(() => {
  const localTimes = (root) => {
    for (const time of root.querySelectorAll("time[datetime]")) {
      const when = new Date(time.dateTime);
      if (!Number.isNaN(when.getTime())) {
        time.textContent = when.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
        time.title = time.dateTime;  // the exact instant, in UTC, on hover
      }
    }
  };
  localTimes(document);
  const target = document.querySelector("[data-fragment]");
  if (!target) return;
  const every = Number(target.dataset.every || 5) * 1000;
  const refresh = async () => {
    try {
      const answer = await fetch(target.dataset.fragment, { headers: { Accept: "text/html" } });
      if (answer.ok) {
        target.innerHTML = await answer.text();
        localTimes(target);
      }
    } catch (error) { /* the server is away for a moment: try again at the next tick */ }
  };
  setInterval(refresh, every);
})();
