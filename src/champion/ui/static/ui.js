// Keeps the overview current without reloading: fetch the fragment, swap it in.
"use strict";
(() => {
  const target = document.querySelector("[data-fragment]");
  if (!target) return;
  const every = Number(target.dataset.every || 5) * 1000;
  const refresh = async () => {
    try {
      const answer = await fetch(target.dataset.fragment, { headers: { Accept: "text/html" } });
      if (answer.ok) target.innerHTML = await answer.text();
    } catch (error) { /* the server is away for a moment: try again at the next tick */ }
  };
  setInterval(refresh, every);
})();
