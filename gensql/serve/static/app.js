// gensql serve: the little JavaScript the pages use (no framework, no other origin).
// Every page works without it: the raw/rendered toggle is a link, the reload notice is a nicety.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // raw / rendered toggle of the texts on a generation page: links (?view=raw) that switch in place here
  var toggles = document.querySelectorAll(".view-toggle");
  toggles.forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      var view = link.dataset.view;
      toggles.forEach(function (b) { b.classList.toggle("on", b === link); });
      document.querySelectorAll(".text-panel .rendered").forEach(function (el) { el.hidden = view !== "rendered"; });
      document.querySelectorAll(".text-panel .raw").forEach(function (el) { el.hidden = view !== "raw"; });
      if (window.history && window.history.replaceState) { window.history.replaceState(null, "", link.href); }
    });
  });
  // Ctrl+Enter (or Cmd+Enter) runs the SQL console
  var input = document.getElementById("sql-input");
  if (input) {
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        document.getElementById("sql-form").submit();
      }
    });
  }
  watchSnapshot();
});

// Live: ask /api/snapshot (a few bytes) whether `gensql refresh` made a newer snapshot than the one this
// page shows; if so, a quiet notice offers a reload. One request every 10 s while the tab is visible,
// backing off to 5 min on errors; none while hidden; one at once when the tab comes back.
function watchSnapshot() {
  var body = document.body;
  var notice = document.getElementById("live-notice");
  if (!notice || !window.fetch) { return; }
  var mine = body.dataset.snapshot || "";
  var count = parseInt(body.dataset.generations || "", 10);
  var base = 10000, delay = base, timer = null, busy = false, done = false;

  function schedule() {
    clearTimeout(timer);
    if (!done) { timer = setTimeout(check, delay); }
  }
  function show(state) {
    var more = (state.generations || 0) - (isNaN(count) ? 0 : count);
    notice.textContent = "";
    var text = more > 0 ? more.toLocaleString() + " new generation" + (more === 1 ? "" : "s")
                        : "A newer index snapshot exists";
    notice.appendChild(document.createTextNode(text + ": "));
    var link = document.createElement("a");
    link.href = window.location.href;
    link.id = "live-reload";
    link.textContent = "reload";
    notice.appendChild(link);
    notice.dataset.snapshot = state.snapshot_id;
    notice.hidden = false;
  }
  function check() {
    if (busy || done) { return; }
    if (document.hidden) { schedule(); return; }
    busy = true;
    fetch("/api/snapshot", { cache: "no-store", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (state) {
        delay = base;
        if (state.snapshot_id && state.snapshot_id !== mine) { show(state); done = true; }
      })
      .catch(function () { delay = Math.min(delay * 2, 300000); })
      .then(function () { busy = false; schedule(); });
  }
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { check(); } });
  window.addEventListener("focus", check);
  schedule();
}
