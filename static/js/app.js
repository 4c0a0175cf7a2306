// Site-wide behaviour. No inline scripts anywhere: the Content-Security-Policy forbids them.
(function () {
  "use strict";
  // Language switch: submit as soon as a language is picked. The button is for no-JS use
  // only: hidden, not merely invisible, so the keyboard never lands on it.
  document.querySelectorAll("[data-language-form]").forEach(function (form) {
    var select = form.querySelector("select");
    var button = form.querySelector("[data-language-submit]");
    if (button) { button.hidden = true; }
    select.addEventListener("change", function () { form.submit(); });
  });
  // Confirm destructive actions: <form data-confirm="Are you sure?">.
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  }, true);

  // One-time form tokens (config/form_tokens.py): every post form carries a fresh random
  // form_token, so the server saves a form sent twice (a double click) only once.
  var POST_FORMS = "form[method=post i], form[hx-post]";

  function newToken() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") { return window.crypto.randomUUID(); }
    return "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g, function (c) {
      var r = window.crypto && window.crypto.getRandomValues
        ? window.crypto.getRandomValues(new Uint8Array(1))[0] % 16 : Math.floor(Math.random() * 16);
      return (c === "x" ? r : (r & 0x3) | 0x8).toString(16);
    });
  }

  function stamp(form) {
    var input = form.querySelector("input[name=form_token]");
    if (!input) {
      input = document.createElement("input");
      input.type = "hidden";
      input.name = "form_token";
      input.setAttribute("data-offline-skip", "");  // not part of an offline copy's API body
      form.appendChild(input);
    }
    input.value = newToken();
  }

  function stampAll(root) {
    if (root.matches && root.matches(POST_FORMS)) { stamp(root); }
    if (root.querySelectorAll) { root.querySelectorAll(POST_FORMS).forEach(stamp); }
  }

  stampAll(document);
  // Forms htmx swaps in; a page shown again from the back/forward cache.
  document.addEventListener("htmx:load", function (event) { stampAll(event.target); });
  window.addEventListener("pageshow", function (event) { if (event.persisted) { stampAll(document); } });
  document.addEventListener("htmx:configRequest", function (event) {
    var form = event.detail.elt.closest ? event.detail.elt.closest("form") : null;
    var input = form ? form.querySelector("input[name=form_token]") : null;
    if (input && event.detail.verb !== "get") { event.detail.headers["X-Form-Token"] = input.value; }
  });
  // A form the answer left in place (an error not swapped in) may be corrected and sent again.
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt.closest ? event.detail.elt.closest("form") : null;
    if (form && document.body.contains(form) && event.detail.xhr && event.detail.xhr.status) { stamp(form); }
  });

  // A table wider than the screen scrolls sideways inside its .table-responsive box (a
  // phone): the keyboard must reach that box to scroll it (WCAG 2.1.1; axe's
  // scrollable-region-focusable), so it becomes a named, focusable region while it
  // scrolls, and nothing extra to tab through while it fits.
  var SCROLLER = ".table-responsive";

  function scrollerName(box) {
    var table = box.querySelector("table");
    var caption = table && table.querySelector("caption");
    if (caption && caption.textContent.trim()) { return caption.textContent.trim(); }
    if (table && table.getAttribute("aria-label")) { return table.getAttribute("aria-label"); }
    for (var el = box.previousElementSibling; el; el = el.previousElementSibling) {
      if (/^H[1-6]$/.test(el.tagName) && el.textContent.trim()) { return el.textContent.trim(); }
    }
    return "";
  }

  function reachScrollers(root) {
    if (!root.querySelectorAll) { return; }
    var boxes = Array.prototype.slice.call(root.querySelectorAll(SCROLLER));
    if (root.matches && root.matches(SCROLLER)) { boxes.push(root); }
    boxes.forEach(function (box) {
      if (box.hasAttribute("tabindex") && !box.hasAttribute("data-scroller")) {
        return;  // the template made it a region itself
      }
      if (box.scrollWidth > box.clientWidth + 1) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("data-scroller", "");
        var name = scrollerName(box);
        if (name && !box.hasAttribute("aria-label")) {
          box.setAttribute("role", "region");
          box.setAttribute("aria-label", name);
        }
      } else if (box.hasAttribute("data-scroller")) {
        box.removeAttribute("tabindex");
      }
    });
  }

  reachScrollers(document);
  document.addEventListener("htmx:load", function (event) { reachScrollers(event.target); });
  var resizing = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(resizing);
    resizing = window.setTimeout(function () { reachScrollers(document); }, 150);
  });
})();
