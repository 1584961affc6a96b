// gensql serve: the little JavaScript the pages use (no framework, no network).
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // raw / rendered toggle of the texts on a generation page
  var buttons = document.querySelectorAll(".view-toggle");
  buttons.forEach(function (button) {
    button.addEventListener("click", function () {
      var view = button.dataset.view;
      buttons.forEach(function (b) { b.classList.toggle("on", b === button); });
      document.querySelectorAll(".text-panel .rendered").forEach(function (el) { el.hidden = view !== "rendered"; });
      document.querySelectorAll(".text-panel .raw").forEach(function (el) { el.hidden = view !== "raw"; });
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
});
