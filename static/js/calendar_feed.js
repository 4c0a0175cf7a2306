// The calendar feed page: copy the private address with one tap.
(function () {
  "use strict";
  var status = document.querySelector("[data-copy-status]");
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    var field = document.querySelector(button.getAttribute("data-copy-target"));
    if (!field) { return; }
    function copied() {
      if (status) { status.textContent = button.getAttribute("data-copied-text"); }
    }
    button.addEventListener("click", function () {
      field.select();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(copied, function () {
          if (document.execCommand("copy")) { copied(); }
        });
      } else if (document.execCommand("copy")) {
        copied();
      }
    });
  });
})();
