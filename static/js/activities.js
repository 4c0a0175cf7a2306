// Logging activities: quick follow-up dates, the objection's suggested answer, "effective"
// pre-ticked for key persons (never for a call only dialled), call-only fields, closing an inline form. Event delegation on
// the document, so forms that htmx swaps in later work the same. No inline scripts (CSP).
(function () {
  "use strict";

  function formOf(element) { return element.closest("form"); }

  document.addEventListener("click", function (event) {
    var quick = event.target.closest("[data-quick-date]");
    if (quick) {
      var input = formOf(quick).querySelector("[data-follow-up]");
      if (input) {
        input.value = quick.getAttribute("data-quick-date");
        input.dispatchEvent(new Event("change", { bubbles: true }));
      }
      return;
    }
    var close = event.target.closest("[data-close-slot]");
    if (close) {
      var slot = close.closest("[data-slot]");
      if (slot) { slot.innerHTML = ""; }
    }
  });

  function showAnswer(select) {
    var box = formOf(select).querySelector("[data-objection-answer]");
    if (!box) { return; }
    var option = select.options[select.selectedIndex];
    var answer = option ? option.getAttribute("data-answer") : null;
    box.querySelector("[data-answer-text]").textContent = answer || "";
    box.hidden = !answer;
  }

  function toggleCallFields(select) {
    var isCall = select.value === "call";
    formOf(select).querySelectorAll("[data-call-only]").forEach(function (field) { field.hidden = !isCall; });
  }

  function keyPersonChosen(form) {
    var contact = form.querySelector("[data-contact-select]");
    var option = contact ? contact.options[contact.selectedIndex] : null;
    return Boolean(option && option.hasAttribute("data-key-person"));
  }

  // A call that was only dialled reached nobody: never effective (the server stores it so
  // too). Untick and disable the box meanwhile; give back the choice once it connects.
  function syncEffective(form) {
    var box = form.querySelector("[data-effective]");
    var kind = form.querySelector("[data-kind-select]");
    var stage = form.querySelector("[data-call-stage-select]");
    if (!box || !kind || !stage) { return; }
    var unreached = kind.value === "call" &&
      Number(stage.value) < Number(stage.getAttribute("data-connected-from"));
    if (unreached && !box.disabled) {
      box.setAttribute("data-wanted", box.checked ? "1" : "");
      box.checked = false;
      box.disabled = true;
    } else if (!unreached && box.disabled) {
      box.disabled = false;
      box.checked = box.hasAttribute("data-touched") ? box.getAttribute("data-wanted") === "1"
        : keyPersonChosen(form);
    }
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("[data-objection-select]")) {
      showAnswer(target);
    } else if (target.matches("[data-kind-select]")) {
      toggleCallFields(target);
      syncEffective(formOf(target));
    } else if (target.matches("[data-call-stage-select]")) {
      syncEffective(formOf(target));
    } else if (target.matches("[data-effective]")) {
      target.setAttribute("data-touched", "1");
    } else if (target.matches("[data-contact-select]")) {
      var effective = formOf(target).querySelector("[data-effective]");
      if (effective && !effective.hasAttribute("data-touched") && !effective.disabled) {
        effective.checked = keyPersonChosen(formOf(target));
      }
    }
  });

  // The plan's customer picker: choosing a customer shows the purpose its grade suggests
  // (the server applies the same default when the purpose is left "by the grade").
  document.addEventListener("change", function (event) {
    var option = event.target;
    if (!option.matches("input[type=radio][data-purpose]")) { return; }
    var purpose = formOf(option).querySelector("select[name=purpose]");
    if (purpose && !purpose.hasAttribute("data-touched")) { purpose.value = option.getAttribute("data-purpose"); }
  });
  document.addEventListener("input", function (event) {
    if (event.target.matches("[data-testid=add-item-form] select[name=purpose]")) {
      event.target.setAttribute("data-touched", "1");
    }
  });

  // "My day" stays live: an inline log also tells the server which other rows of that
  // customer the page shows, so they come back updated (or removed) with the counts.
  document.addEventListener("htmx:configRequest", function (event) {
    var form = event.detail.elt.closest ? event.detail.elt.closest("[data-testid=log-form]") : null;
    if (!form || event.detail.verb !== "post" || !document.getElementById("day-progress")) { return; }
    var row = form.querySelector("input[name=row]");
    var customer = form.querySelector("input[name=customer]");
    var others = [];
    document.querySelectorAll("[data-testid=myday-row][data-customer='" + customer.value + "']").forEach(function (li) {
      if (li.id && li.id !== row.value && !li.hasAttribute("data-logged")) { others.push(li.id); }
    });
    event.detail.parameters.myday = "1";
    event.detail.parameters.rows = others;
  });

  // ...and once the row shows what was logged, the next row's "Log call" has the focus.
  document.addEventListener("htmx:load", function (event) {
    var logged = event.target;
    if (!logged.matches || !logged.matches("[data-logged]")) { return; }
    var links = document.querySelectorAll("[data-testid=log-call]");
    for (var i = 0; i < links.length; i += 1) {
      if (logged.compareDocumentPosition(links[i]) & Node.DOCUMENT_POSITION_FOLLOWING) {
        links[i].focus();
        return;
      }
    }
  });

  // A form freshly swapped into a row's slot: put the cursor in it (not in the picker's
  // new choices: the cursor stays in the search box).
  document.addEventListener("htmx:afterSwap", function (event) {
    if (!event.detail.target.matches("[data-slot]")) { return; }
    var field = event.detail.target.querySelector("form textarea, form input:not([type=hidden])");
    if (field) { field.focus(); }
  });
})();
