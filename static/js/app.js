// Site-wide behaviour. No inline scripts anywhere: the Content-Security-Policy forbids them.
(function () {
  "use strict";
  // Language switch: submit as soon as a language is picked (the button stays for no-JS use).
  document.querySelectorAll("[data-language-form]").forEach(function (form) {
    var select = form.querySelector("select");
    var button = form.querySelector("[data-language-submit]");
    if (button) { button.classList.add("visually-hidden"); }
    select.addEventListener("change", function () { form.submit(); });
  });
  // Confirm destructive actions: <form data-confirm="Are you sure?">.
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  }, true);
})();
