// The control room's only script. Everything works without it (plain links and forms); with it:
// - live parts ([data-fragment]) are fetched again every few seconds and swapped in place;
// - every time is shown in the viewer's own zone;
// - an action's confirmation opens in a dialog and is sent without leaving the page.
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
  const said = (text, bad) => {
    const region = document.getElementById("said");
    if (!region) return;
    region.textContent = text;
    region.className = bad ? "bad" : "done";
  };

  const live = [...document.querySelectorAll("[data-fragment]")];
  const refresh = async (target) => {
    // Not while someone is choosing in it (a version list would be reset under their hand).
    const focused = document.activeElement;
    if (focused && focused.matches("select, input, textarea") && target.contains(focused)) return;
    try {
      const answer = await fetch(target.dataset.fragment, { headers: { Accept: "text/html" } });
      if (answer.ok) {
        target.innerHTML = await answer.text();
        localTimes(target);
      }
    } catch (error) { /* the server is away for a moment: try again at the next tick */ }
  };
  const refreshAll = () => live.forEach(refresh);
  for (const target of live) setInterval(() => refresh(target), Number(target.dataset.every || 5) * 1000);
  localTimes(document);

  // ---- actions: confirm in a dialog, send, say the outcome ----------------------------------
  const dialog = document.createElement("dialog");
  dialog.setAttribute("aria-labelledby", "confirm-title");
  document.body.append(dialog);
  dialog.addEventListener("close", () => { dialog.replaceChildren(); });

  const openConfirmation = async (url) => {
    const answer = await fetch(url + (url.includes("?") ? "&" : "?") + "fragment=1", { headers: { Accept: "text/html" } });
    const html = await answer.text();
    if (!answer.ok) {
      said(new DOMParser().parseFromString(html, "text/html").querySelector("main p")?.textContent || html, true);
      return;
    }
    dialog.innerHTML = html;
    dialog.showModal();
  };
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-confirm]");
    if (link) {
      event.preventDefault();
      openConfirmation(link.getAttribute("href"));
    } else if (event.target.closest("[data-cancel]")) {
      event.preventDefault();
      dialog.close();
    }
  });
  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (form.matches("form[data-confirm]")) {  // a choice (a version) whose confirmation comes next
      event.preventDefault();
      openConfirmation(form.getAttribute("action") + "?" + new URLSearchParams(new FormData(form)));
    } else if (form.matches("form[data-action]")) {
      event.preventDefault();
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      button.textContent = "working…";
      try {
        const answer = await fetch(form.getAttribute("action"), {
          method: "POST", body: new URLSearchParams(new FormData(form)),
          headers: { Accept: "application/json" }, credentials: "same-origin",
        });
        const outcome = await answer.json();
        dialog.close();
        said(outcome.ok ? outcome.message : outcome.error, !outcome.ok);
      } catch (error) {
        dialog.close();
        said("the control room did not answer: " + error, true);
      }
      refreshAll();
    }
  });
})();
