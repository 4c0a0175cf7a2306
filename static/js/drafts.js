// Drafts: what is typed in a long form is kept on this device until the server has it.
//
// A form marked data-draft-key="report:12" keeps its fields in localStorage under
// "funnel-draft:<user id>:<draft key>" (the user from body[data-user]) a moment after each
// input. When the page opens again (a reload, a dropped connection, a crash) and the kept
// values differ from what the server rendered, they are put back with a "Draft restored ·
// Discard" note. Hidden fields (csrf, form_token, client_key), passwords and files are never
// kept; a field marked data-draft-skip neither.
//
// Sending the form marks its draft as sent. The next page the browser opens by navigating
// (the redirect after a save, or the form again with the server's errors and the typed
// values) drops it: the server had its say. Only a reload or Back/Forward to the form (the
// post never arrived) restores it. htmx forms drop it when the server answers 2xx or 422;
// a form taken by the offline queue (offline.js) drops it at once: the queue keeps it.
// While a form holds unsaved edits, leaving the page asks first (beforeunload, only then).
// Logout removes the user's drafts from this device. No inline scripts (CSP): the texts
// come translated in this script tag's data-text-* attributes.
(function () {
  "use strict";

  var PREFIX = "funnel-draft:";
  var MAX_AGE_MS = 14 * 24 * 60 * 60 * 1000;
  var DEBOUNCE_MS = 400;
  var SKIPPED_TYPES = ["hidden", "password", "file", "submit", "button", "reset", "image"];
  var script = document.currentScript;
  var user = document.body.getAttribute("data-user") || "";
  var states = [];
  var restoring = false;

  function text(name) { return (script && script.getAttribute("data-text-" + name)) || ""; }

  // --- Storage (refused in some private modes: then there is simply no draft) -----------------

  function read(key) {
    try { return JSON.parse(window.localStorage.getItem(key) || "null"); } catch (error) { return null; }
  }
  function write(key, value) {
    try { window.localStorage.setItem(key, JSON.stringify(value)); } catch (error) { /* full or refused */ }
  }
  function remove(key) {
    try { window.localStorage.removeItem(key); } catch (error) { /* refused */ }
  }
  function userKeys() {
    var keys = [];
    try {
      for (var i = 0; i < window.localStorage.length; i += 1) {
        var key = window.localStorage.key(i);
        if (key && key.indexOf(PREFIX + user + ":") === 0) { keys.push(key); }
      }
    } catch (error) { /* refused */ }
    return keys;
  }

  // --- A form's values ---------------------------------------------------------------------

  function kept(field) {
    return Boolean(field.name) && !field.disabled && field.tagName !== "BUTTON" && field.tagName !== "FIELDSET" &&
      field.tagName !== "OUTPUT" && SKIPPED_TYPES.indexOf(field.type) < 0 &&
      field.name !== "csrfmiddlewaretoken" && !field.hasAttribute("data-draft-skip");
  }

  function fields(form) { return Array.prototype.filter.call(form.elements, kept); }

  function checkboxGroup(form, name) {
    return fields(form).filter(function (field) { return field.type === "checkbox" && field.name === name; }).length > 1;
  }

  function values(form) {
    var result = {};
    fields(form).forEach(function (field) {
      if (field.type === "checkbox") {
        if (checkboxGroup(form, field.name)) {
          result[field.name] = (result[field.name] || []).concat(field.checked ? [field.value] : []);
        } else {
          result[field.name] = field.checked;
        }
      } else if (field.type === "radio") {
        if (field.checked || !(field.name in result)) { result[field.name] = field.checked ? field.value : null; }
      } else if (field.tagName === "SELECT" && field.multiple) {
        result[field.name] = Array.prototype.filter.call(field.options, function (option) { return option.selected; })
          .map(function (option) { return option.value; });
      } else {
        result[field.name] = field.value;
      }
    });
    return result;
  }

  // True when a kept value of a field on this form differs from the form's.
  function differs(draft, current) {
    return Object.keys(draft).some(function (name) {
      return name in current && JSON.stringify(draft[name]) !== JSON.stringify(current[name]);
    });
  }

  function apply(form, data) {
    var changed = [];
    fields(form).forEach(function (field) {
      if (!(field.name in data)) { return; }
      var value = data[field.name];
      var before = field.type === "checkbox" || field.type === "radio" ? field.checked : field.value;
      if (field.type === "checkbox") {
        field.checked = Array.isArray(value) ? value.indexOf(field.value) >= 0 : Boolean(value);
      } else if (field.type === "radio") {
        field.checked = field.value === value;
      } else if (field.tagName === "SELECT" && field.multiple) {
        Array.prototype.forEach.call(field.options, function (option) {
          option.selected = Array.isArray(value) && value.indexOf(option.value) >= 0;
        });
      } else if (field.tagName === "SELECT") {
        var known = Array.prototype.some.call(field.options, function (option) { return option.value === value; });
        if (known) { field.value = value; }
      } else if (typeof value === "string") {
        field.value = value;
      }
      var after = field.type === "checkbox" || field.type === "radio" ? field.checked : field.value;
      if (before !== after || field.multiple) { changed.push(field); }
    });
    return changed;
  }

  // Put values back and let the page's scripts react (call-only fields, the objection's
  // answer); their reactions may change other fields, so the values are applied once more.
  function restore(form, data) {
    restoring = true;
    try {
      apply(form, data).forEach(function (field) {
        field.dispatchEvent(new Event("input", { bubbles: true }));
        field.dispatchEvent(new Event("change", { bubbles: true }));
      });
      apply(form, data);
    } finally {
      restoring = false;
    }
  }

  // --- Tracking a form -----------------------------------------------------------------------

  function stateOf(form) {
    return states.filter(function (state) { return state.form === form; })[0] || null;
  }

  function onBeforeUnload(event) {
    states.forEach(saveNow);
    if (!states.some(function (state) { return state.dirty && document.body.contains(state.form); })) { return; }
    event.preventDefault();
    event.returnValue = "";  // older browsers ask only when this is set
  }

  function watchLeaving() {
    var dirty = states.some(function (state) { return state.dirty; });
    if (dirty) {
      window.addEventListener("beforeunload", onBeforeUnload);
    } else {
      window.removeEventListener("beforeunload", onBeforeUnload);
    }
  }

  function setDirty(state, dirty) {
    state.dirty = dirty;
    watchLeaving();
  }

  function saveNow(state) {
    if (!state.timer) { return; }
    window.clearTimeout(state.timer);
    state.timer = null;
    var current = values(state.form);
    if (differs(current, state.rendered)) {
      write(state.key, { values: current, at: Date.now() });
      setDirty(state, true);
    } else {
      remove(state.key);
      setDirty(state, false);
    }
  }

  function scheduleSave(state) {
    if (restoring) { return; }
    if (state.timer) { window.clearTimeout(state.timer); }
    state.timer = window.setTimeout(function () { saveNow(state); }, DEBOUNCE_MS);
    setDirty(state, true);  // asks before leaving even before the draft is written
  }

  function discard(state, note) {
    if (state.timer) { window.clearTimeout(state.timer); state.timer = null; }
    restore(state.form, state.rendered);
    remove(state.key);
    setDirty(state, false);
    note.remove();
    var first = fields(state.form)[0];
    if (first) { first.focus(); }
  }

  function showNote(state) {
    var note = document.createElement("div");
    note.className = "alert alert-info d-flex flex-wrap align-items-center gap-2 py-1 px-2 small";
    note.setAttribute("role", "status");
    note.setAttribute("data-testid", "draft-restored");
    var message = document.createElement("span");
    message.textContent = text("restored");
    var button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-sm btn-link p-0";
    button.setAttribute("data-testid", "draft-discard");
    button.textContent = text("discard");
    button.addEventListener("click", function () { discard(state, note); });
    note.append(message, button);
    state.form.prepend(note);
  }

  function track(form) {
    if (!user || stateOf(form) || !form.getAttribute("data-draft-key")) { return; }
    var state = { form: form, key: PREFIX + user + ":" + form.getAttribute("data-draft-key"),
      rendered: values(form), dirty: false, timer: null };
    states.push(state);
    var draft = read(state.key);
    if (draft && draft.values && differs(draft.values, state.rendered)) {
      restore(form, draft.values);
      write(state.key, { values: values(form), at: Date.now() });  // no longer "sent"
      setDirty(state, true);
      showNote(state);
    } else if (draft) {
      remove(state.key);
    }
    form.addEventListener("input", function () { scheduleSave(state); });
    form.addEventListener("change", function () { scheduleSave(state); });
  }

  function trackAll(root) {
    if (root.matches && root.matches("form[data-draft-key]")) { track(root); }
    if (root.querySelectorAll) { root.querySelectorAll("form[data-draft-key]").forEach(track); }
  }

  // --- Sending, answers, leaving -------------------------------------------------------------

  function navigationType() {
    var entries = window.performance && window.performance.getEntriesByType
      ? window.performance.getEntriesByType("navigation") : [];
    return entries.length ? entries[0].type : "navigate";
  }

  // Sent drafts are settled by the page that answered; old drafts expire.
  function sweep() {
    var answered = navigationType() === "navigate";
    userKeys().forEach(function (key) {
      var draft = read(key);
      if (!draft || Date.now() - (draft.at || 0) > MAX_AGE_MS || (draft.sent && answered)) { remove(key); }
    });
  }

  // Capture on window: runs before offline.js and htmx take the submit.
  window.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.hasAttribute("data-offline-logout")) {
      // Logging out drops the drafts on purpose: no pending save may bring one back, and
      // leaving must not ask.
      states.forEach(function (state) {
        if (state.timer) { window.clearTimeout(state.timer); state.timer = null; }
        setDirty(state, false);
      });
      userKeys().forEach(remove);
      window.removeEventListener("beforeunload", onBeforeUnload);
      return;
    }
    var state = stateOf(form);
    if (!state) { return; }
    if (state.timer) { window.clearTimeout(state.timer); state.timer = null; }
    var current = values(form);
    if (form.hasAttribute("data-offline-queue") && !navigator.onLine) {
      remove(state.key);  // the offline queue keeps what is sent
    } else if (differs(current, state.rendered)) {
      write(state.key, { values: current, at: Date.now(), sent: Date.now() });
    }
    setDirty(state, false);
  }, true);

  document.addEventListener("htmx:beforeOnLoad", function (event) {
    var state = stateOf(event.detail.elt);
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (!state) { return; }
    if ((status >= 200 && status < 300) || status === 422) {
      remove(state.key);
    } else {
      scheduleSave(state);  // refused without an answer to show: the typed values stay a draft
    }
  });

  // A "Cancel" that closes an inline form throws its draft away.
  document.addEventListener("click", function (event) {
    var close = event.target.closest && event.target.closest("[data-close-slot]");
    var state = close ? stateOf(close.closest("form")) : null;
    if (state) {
      if (state.timer) { window.clearTimeout(state.timer); state.timer = null; }
      remove(state.key);
      setDirty(state, false);
    }
  }, true);

  // The page hidden (closed, reloaded, the phone switching apps): keep the last keystrokes.
  window.addEventListener("pagehide", function () { states.forEach(saveNow); });

  if (!user) { return; }
  sweep();
  trackAll(document);
  document.addEventListener("htmx:load", function (event) { trackAll(event.target); });
}());
