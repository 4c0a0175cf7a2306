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

  // A freshly swapped-in form: put the cursor in it.
  document.addEventListener("htmx:afterSwap", function (event) {
    var field = event.detail.target.querySelector("form textarea, form input:not([type=hidden])");
    if (field) { field.focus(); }
  });
})();
