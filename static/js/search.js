// The navbar's customer search: htmx fetches the results as you type (base.html); this
// shows and hides the results panel, and "/" jumps to the search box from anywhere.
(function () {
  "use strict";
  var form = document.querySelector("[data-quick-search]");
  if (!form) { return; }
  var input = form.querySelector("input[name=q]");
  var panel = form.querySelector(".navbar-search-results");

  function hasResults() { return panel.textContent.trim() !== ""; }
  function show() { panel.hidden = !hasResults(); }
  function hide() { panel.hidden = true; }

  panel.addEventListener("htmx:afterSwap", show);
  input.addEventListener("focus", show);
  document.addEventListener("click", function (event) {
    if (!form.contains(event.target)) { hide(); }
  });
  form.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      hide();
      input.focus();
    } else if (event.key === "ArrowDown" && event.target === input && !panel.hidden) {
      var first = panel.querySelector("a");
      if (first) { event.preventDefault(); first.focus(); }
    }
  });

  // "/" focuses the search box, unless one is typing somewhere already.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) { return; }
    var target = event.target;
    var typing = target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
    if (typing) { return; }
    event.preventDefault();
    input.focus();
    input.select();
  });
})();
