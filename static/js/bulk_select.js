// The customer list's bulk actions (templates/crm/_bulk_bar.html): tick rows, all on the
// page, or all the filter matches, then act. Selecting never reloads the page; the bar's
// links (export, reassign) carry the ticked ids or the filter, its form posts them.
(function () {
  "use strict";
  var form = document.querySelector("[data-bulk]");
  if (!form) { return; }
  var rows = Array.prototype.slice.call(document.querySelectorAll("[data-bulk-row]"));
  var pageBox = form.querySelector("[data-bulk-page]");
  var count = form.querySelector("[data-bulk-count]");
  var allButton = form.querySelector("[data-bulk-all-matching]");
  var capped = form.querySelector("[data-bulk-capped]");
  var allInput = form.querySelector("[data-bulk-all-input]");
  var actions = form.querySelectorAll("[data-bulk-action]");
  var links = Array.prototype.slice.call(form.querySelectorAll("[data-bulk-link]"));
  var filterQuery = form.getAttribute("data-filter-query");
  var allMatching = false;

  links.forEach(function (link) { link.setAttribute("data-base-href", link.getAttribute("href")); });

  function ticked() { return rows.filter(function (box) { return box.checked; }); }

  function linkHref(base, picked) {
    var extra = allMatching ? filterQuery : picked.map(function (box) {
      return "customer=" + encodeURIComponent(box.value);
    }).join("&");
    return extra ? base + "&" + extra : base;
  }

  function update() {
    var picked = ticked();
    var none = picked.length === 0;
    var wholePage = !none && picked.length === rows.length;
    if (!wholePage) { allMatching = false; }
    pageBox.checked = wholePage;
    pageBox.indeterminate = !none && !wholePage;
    allInput.value = allMatching ? "1" : "";
    count.textContent = allMatching ? form.getAttribute("data-text-all")
      : form.getAttribute("data-text-selected") + " " + picked.length;
    if (allButton) { allButton.hidden = !wholePage || allMatching; }
    if (capped) { capped.hidden = !wholePage; }
    actions.forEach(function (button) {
      button.disabled = none || (allMatching && button.hasAttribute("data-bulk-ids-only"));
    });
    links.forEach(function (link) {
      link.href = linkHref(link.getAttribute("data-base-href"), picked);
      link.classList.toggle("disabled", none);
      if (none) {
        link.setAttribute("aria-disabled", "true");
        link.setAttribute("tabindex", "-1");
      } else {
        link.removeAttribute("aria-disabled");
        link.removeAttribute("tabindex");
      }
    });
  }

  rows.forEach(function (box) { box.addEventListener("change", update); });
  pageBox.addEventListener("change", function () {
    rows.forEach(function (box) { box.checked = pageBox.checked; });
    update();
  });
  if (allButton) {
    allButton.addEventListener("click", function () {
      allMatching = true;
      update();
    });
  }
  form.hidden = false;
  update();
})();
