// Offline: the installable app's service worker (/sw.js) and the queue on the phone for
// what is logged without network.
//
// A form marked data-offline-queue data-offline-api="<API URL>" is kept on the phone when
// it cannot be sent: its fields become a JSON body (a checkbox → true/false, an empty field
// or one the user cannot see → left out), its hidden client_key (or a new UUID) becomes the
// Idempotency-Key, and the request waits in IndexedDB ("funnel-offline", store "outbox").
// Back online (the "online" event, every page load, a timer) the queue is sent in order:
// 200/201 → sent and removed; 400 → failed, with the server's message for the field at
// fault; no network, or 409 with Retry-After (the first send still running) → still
// waiting. The key makes a resend harmless: the server answers with its first answer, or
// with the row the first request made.
//
// * htmx forms are taken before htmx sees the submit when offline, or after htmx:sendError.
// * Plain forms are taken when offline. Online they post as usual, and a silent copy waits
//   here until the next page: if the post never arrived, the copy is sent (same key).
// * Optional: data-offline-label (what the queue shows), data-offline-label-field (a select
//   whose choice prefixes it), data-offline-time-field (stamped with the time it was saved).
// * Logout (form[data-offline-logout]) clears the caches of pages kept for offline use.
// No inline scripts (CSP): texts come translated in the panel's data-text-* attributes.
(function () {
  "use strict";

  var DB_NAME = "funnel-offline";
  var STORE = "outbox";
  var USER_KEY = "funnel-user";
  var CACHE_PREFIX = "funnel-";
  var RETRY_MS = 60 * 1000;
  var panel = document.querySelector("[data-offline-panel]");
  var currentUser = document.body.getAttribute("data-user") || "";
  var offlineCopy = document.documentElement.getAttribute("data-offline-copy");
  var onOfflinePage = document.querySelector("[data-offline-page]") !== null;
  var sentHere = [];  // sent while this page is open: shown as "sent" until it closes
  var flushing = null;
  var channel = "BroadcastChannel" in window ? new BroadcastChannel("funnel-offline") : null;

  // --- Small helpers -----------------------------------------------------------------------

  function text(name, values) {
    var result = panel ? panel.getAttribute("data-text-" + name) || "" : "";
    Object.keys(values || {}).forEach(function (key) {
      result = result.split("%(" + key + ")s").join(String(values[key]));
    });
    return result;
  }

  function uuid4() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") { return window.crypto.randomUUID(); }
    var bytes = window.crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  function storage(action, value) {
    try {
      if (action === "get") { return window.localStorage.getItem(USER_KEY) || ""; }
      if (action === "set") { window.localStorage.setItem(USER_KEY, value); }
      if (action === "remove") { window.localStorage.removeItem(USER_KEY); }
    } catch (error) { /* storage refused (private mode): nothing to remember */ }
    return "";
  }

  function localDate(offsetDays) {
    var day = new Date();
    day.setDate(day.getDate() + offsetDays);
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return day.getFullYear() + "-" + pad(day.getMonth() + 1) + "-" + pad(day.getDate());
  }

  function timeText(ms) {
    var lang = document.documentElement.lang || undefined;
    return new Date(ms).toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" });
  }

  function notify() { if (channel) { channel.postMessage("changed"); } }

  // --- The outbox (IndexedDB) ---------------------------------------------------------------

  var database = null;

  function openDb() {
    if (!database) {
      database = new Promise(function (resolve, reject) {
        if (!window.indexedDB) { reject(new Error("no IndexedDB")); return; }
        var request = window.indexedDB.open(DB_NAME, 1);
        request.onupgradeneeded = function () {
          var store = request.result.createObjectStore(STORE, { keyPath: "id", autoIncrement: true });
          store.createIndex("key", "key", { unique: true });
        };
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { reject(request.error); };
      });
    }
    return database;
  }

  function withStore(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var transaction = db.transaction(STORE, mode);
        var request = work(transaction.objectStore(STORE));
        var result;
        if (request) { request.onsuccess = function () { result = request.result; }; }
        transaction.oncomplete = function () { resolve(result); };
        transaction.onerror = function () { reject(transaction.error); };
        transaction.onabort = function () { reject(transaction.error); };
      });
    });
  }

  function entries() {
    return withStore("readonly", function (store) { return store.getAll(); }).then(function (all) {
      return (all || []).sort(function (a, b) { return a.id - b.id; });
    });
  }
  function save(entry) { return withStore("readwrite", function (store) { return store.put(entry); }); }
  function drop(id) { return withStore("readwrite", function (store) { return store.delete(id); }); }

  // --- From a form to a queued request ----------------------------------------------------

  function isQueueForm(form) {
    return form instanceof HTMLFormElement && form.hasAttribute("data-offline-queue") &&
      Boolean(form.getAttribute("data-offline-api"));
  }

  function formBody(form) {
    var body = {};
    Array.prototype.forEach.call(form.elements, function (field) {
      if (!field.name || field.disabled || field.name === "csrfmiddlewaretoken") { return; }
      if (field.hasAttribute("data-offline-skip") || field.closest("[hidden]")) { return; }
      if (["submit", "button", "reset", "file", "image"].indexOf(field.type) >= 0) { return; }
      if (field.type === "checkbox") {
        body[field.name] = field.checked;
      } else if (field.type === "radio") {
        if (field.checked) { body[field.name] = field.value; }
      } else if (field.value !== "") {
        body[field.name] = field.value;
      }
    });
    return body;
  }

  function labelOf(form) {
    var name = form.getAttribute("data-offline-label") || "";
    if (!name) {
      var row = form.closest("[data-customer]");
      var link = row ? row.querySelector("a") : null;
      var heading = document.querySelector("main h1");
      name = (link || heading || document.createElement("span")).textContent.trim() || document.title;
    }
    var select = form.elements[form.getAttribute("data-offline-label-field") || ""];
    if (select && select.tagName === "SELECT" && select.selectedIndex >= 0) {
      return text("label", { kind: select.options[select.selectedIndex].text, name: name }) || name;
    }
    return name;
  }

  function csrfToken(fallback) {
    try {
      var token = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"];
      if (token) { return token; }
    } catch (error) { /* no htmx headers on this page */ }
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : fallback || "";
  }

  function entryFor(form, via) {
    var keyInput = form.elements.client_key;
    var key = keyInput && keyInput.value ? keyInput.value : uuid4();
    if (keyInput) { keyInput.value = key; }  // a second tap is the same request
    var body = formBody(form);
    body.client_key = key;
    var timeField = form.getAttribute("data-offline-time-field");
    if (timeField && !body[timeField]) { body[timeField] = new Date().toISOString(); }
    var csrf = form.querySelector("input[name=csrfmiddlewaretoken]");
    return {
      key: key, api: form.getAttribute("data-offline-api"), body: body, label: labelOf(form),
      user: currentUser, created: Date.now(), state: "waiting", error: "", via: via,
      csrf: csrf ? csrf.value : "",
    };
  }

  function freshKey(form) {
    var keyInput = form.elements.client_key;
    if (keyInput) { keyInput.value = uuid4(); }
  }

  function feedback(form, key) {
    var message = document.createElement("div");
    message.className = "alert alert-warning small py-2 mt-2 mb-2";
    message.setAttribute("role", "status");
    message.setAttribute("data-testid", "offline-queued");
    message.setAttribute("data-offline-key", key);
    message.textContent = text("queued");
    var slot = form.closest("[data-slot]");
    if (slot) {
      var row = slot.closest("[data-customer]");
      if (row) { row.setAttribute("data-queued", "1"); }
      slot.replaceChildren(message);
    } else {
      form.parentNode.insertBefore(message, form);
      form.reset();
      freshKey(form);
    }
  }

  function queue(form) {
    if (form.hasAttribute("data-offline-busy")) { return; }
    form.setAttribute("data-offline-busy", "1");
    var entry = entryFor(form, "queue");
    save(entry).catch(function (error) {
      // The same key twice (a double tap): it is already waiting.
      if (!error || error.name !== "ConstraintError") { throw error; }
    }).then(function () {
      form.removeAttribute("data-offline-busy");
      feedback(form, entry.key);
      notify();
      return render().then(flush);
    }, function () {
      form.removeAttribute("data-offline-busy");
      // No outbox on this phone: a form that has a page of its own posts there.
      if (navigator.onLine && form.getAttribute("action")) { HTMLFormElement.prototype.submit.call(form); }
    });
  }

  // Online, a plain form posts as usual; a silent copy (via "page") waits for the next page.
  function postWithCopy(form, submitter) {
    form.setAttribute("data-offline-busy", "1");
    if (submitter && submitter.name) {
      var extra = document.createElement("input");
      extra.type = "hidden";
      extra.name = submitter.name;
      extra.value = submitter.value;
      form.appendChild(extra);
    }
    var post = function () {
      HTMLFormElement.prototype.submit.call(form);
      // Should the page stay (a download, a 204), the form may be sent again.
      window.setTimeout(function () { form.removeAttribute("data-offline-busy"); }, 10000);
    };
    save(entryFor(form, "page")).then(post, post);
  }

  // htmx forms: taken before htmx sees the submit (capture phase) when offline; forms made
  // for offline use (data-offline-only) always.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!isQueueForm(form) || event.defaultPrevented) { return; }
    if (form.hasAttribute("data-offline-only") || (form.hasAttribute("hx-post") && !navigator.onLine)) {
      event.preventDefault();
      event.stopPropagation();
      queue(form);
    }
  }, true);

  // Plain forms: after the page's own handlers (bubble phase).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!isQueueForm(form) || event.defaultPrevented || form.hasAttribute("hx-post")) { return; }
    event.preventDefault();
    if (form.hasAttribute("data-offline-busy")) { return; }
    if (!navigator.onLine) {
      queue(form);
    } else if (currentUser && form.elements.client_key) {
      // Only with a key: the page's post and the copy must be the same request.
      postWithCopy(form, event.submitter);
    } else {
      HTMLFormElement.prototype.submit.call(form);
    }
  });

  // An htmx form whose request never reached the server.
  document.addEventListener("htmx:sendError", function (event) {
    var form = event.detail && event.detail.elt;
    if (form && isQueueForm(form) && form.hasAttribute("hx-post")) { queue(form); }
  });

  // --- Sending ---------------------------------------------------------------------------------

  function errorText(payload) {
    if (!payload || typeof payload !== "object") { return ""; }
    return Object.keys(payload).map(function (field) {
      var value = payload[field];
      var messages = Array.isArray(value) ? value.join(" ") : typeof value === "object" ? errorText(value) : String(value);
      return field === "detail" || field === "non_field_errors" ? messages : field + ": " + messages;
    }).join("; ");
  }

  // Resolves true to go on with the next entry, false to stop for now.
  function send(entry) {
    entry.state = "sending";
    return save(entry).then(render).then(function () {
      return fetch(entry.api, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          "Accept": "application/json",
          "Idempotency-Key": entry.key,
          "X-CSRFToken": csrfToken(entry.csrf),
        },
        body: JSON.stringify(entry.body),
      });
    }).then(function (response) {
      if (response.status === 200 || response.status === 201) {
        if (entry.via !== "page") { sentHere.push({ label: entry.label, created: entry.created }); }
        document.querySelectorAll("[data-offline-key]").forEach(function (message) {
          if (message.getAttribute("data-offline-key") === entry.key) {
            message.className = message.className.replace("alert-warning", "alert-success");
            message.textContent = text("saved-sent");
          }
        });
        return drop(entry.id).then(function () { return true; });
      }
      return response.json().catch(function () { return {}; }).then(function (payload) {
        // 409 with Retry-After: the first send with this key is still running; try again later.
        var busy = response.status === 409 && response.headers.has("Retry-After");
        var refused = response.status >= 400 && response.status < 500 &&
          [401, 403, 408, 429].indexOf(response.status) < 0 && !busy;
        if (refused && entry.via === "page") {
          // The page answered this post itself (with the form and its errors).
          return drop(entry.id).then(function () { return true; });
        }
        entry.via = "queue";
        entry.state = refused ? "failed" : "waiting";
        entry.error = [401, 403].indexOf(response.status) >= 0 ? text("sign-in") : errorText(payload);
        return save(entry).then(function () { return refused; });
      });
    }, function () {
      entry.state = "waiting";
      entry.via = "queue";
      return save(entry).then(function () { return false; });
    });
  }

  function sendAll() {
    return entries().then(function (all) {
      var pending = all.filter(function (entry) {
        return entry.user === currentUser && (entry.state === "waiting" || entry.state === "sending");
      });
      return pending.reduce(function (chain, entry) {
        return chain.then(function (goOn) { return goOn ? send(entry) : false; });
      }, Promise.resolve(true));
    });
  }

  var flushAgain = false;

  // One run at a time (and one tab at a time, where the browser has Web Locks); a call
  // during a run asks for another run after it, for what was queued meanwhile.
  function flush() {
    if (flushing) {
      flushAgain = true;
      return flushing;
    }
    if (!navigator.onLine || !currentUser) { return Promise.resolve(); }
    var run = navigator.locks ? navigator.locks.request("funnel-outbox", sendAll) : sendAll();
    flushing = run.catch(function () { return null; }).then(function () {
      flushing = null;
      notify();
      return render();
    }).then(function () {
      if (flushAgain) {
        flushAgain = false;
        return flush();
      }
      return null;
    });
    return flushing;
  }

  // --- The panel: what waits, what was sent, what failed -----------------------------------

  function button(label, attribute, id) {
    var element = document.createElement("button");
    element.type = "button";
    element.className = "btn btn-sm btn-outline-secondary";
    element.setAttribute(attribute, String(id));
    element.textContent = label;
    return element;
  }

  var BADGES = { waiting: "text-bg-warning", sending: "text-bg-info", sent: "text-bg-success",
    failed: "text-bg-danger" };

  function item(entry) {
    var li = document.createElement("li");
    li.className = "d-flex flex-wrap align-items-center gap-2 py-1 border-top";
    li.setAttribute("data-testid", "offline-item");
    li.setAttribute("data-state", entry.state);
    var badge = document.createElement("span");
    badge.className = "badge " + BADGES[entry.state];
    badge.textContent = text("state-" + entry.state);
    var label = document.createElement("span");
    label.className = "text-break";
    label.textContent = entry.label + " · " + timeText(entry.created);
    li.append(badge, label);
    if (entry.id !== undefined) {
      var actions = document.createElement("span");
      actions.className = "d-flex gap-1 ms-auto";
      if (entry.state === "failed" || entry.error) { actions.append(button(text("retry"), "data-offline-retry", entry.id)); }
      if (entry.state !== "sending") { actions.append(button(text("discard"), "data-offline-discard", entry.id)); }
      li.append(actions);
    }
    if (entry.error) {
      var error = document.createElement("span");
      error.className = "w-100 text-danger text-break";
      error.setAttribute("data-testid", "offline-error");
      error.textContent = entry.error;
      li.append(error);
    }
    return li;
  }

  function render() {
    if (!panel) { return Promise.resolve(); }
    return entries().catch(function () { return []; }).then(function (all) {
      var owner = currentUser || storage("get");
      var shown = all.filter(function (entry) { return entry.user === owner && entry.via !== "page"; });
      var pending = shown.filter(function (entry) { return entry.state !== "failed"; }).length;
      var failed = shown.length - pending;
      var status = [];
      if (!navigator.onLine) { status.push(text("offline")); }
      if (offlineCopy) {
        var savedAt = Date.parse(offlineCopy);
        status.push(text("offline-copy", { time: isNaN(savedAt) ? "" : timeText(savedAt) }));
      }
      panel.querySelector("[data-offline-status]").textContent = status.join(" ");
      var summary = [];
      if (pending) { summary.push(text("waiting", { count: pending })); }
      if (failed) { summary.push(text("failed", { count: failed })); }
      if (!summary.length && sentHere.length) { summary.push(text("all-sent")); }
      panel.querySelector("[data-offline-summary]").textContent = summary.join(" · ");
      var details = panel.querySelector("[data-offline-details]");
      details.hidden = !summary.length;
      if (failed) { details.open = true; }
      var list = panel.querySelector("[data-offline-list]");
      list.replaceChildren.apply(list, shown.map(item).concat(sentHere.map(function (sent) {
        return item({ label: sent.label, created: sent.created, state: "sent", error: "" });
      })));
      panel.hidden = !summary.length && !status.length;
    });
  }

  if (panel) {
    panel.addEventListener("click", function (event) {
      var retry = event.target.closest("[data-offline-retry]");
      var discard = event.target.closest("[data-offline-discard]");
      if (!retry && !discard) { return; }
      if (discard && !window.confirm(text("confirm-discard"))) { return; }
      var id = Number(retry ? retry.getAttribute("data-offline-retry") : discard.getAttribute("data-offline-discard"));
      entries().then(function (all) {
        var entry = all.filter(function (candidate) { return candidate.id === id; })[0];
        if (!entry) { return null; }
        if (discard) { return drop(id); }
        entry.state = "waiting";
        entry.error = "";
        return save(entry);
      }).then(function () { notify(); return render(); }).then(flush);
    });
  }

  // --- Offline copies, the generic form, logout, the service worker -------------------------

  // A copy of a page kept by the service worker: its forms' keys were used by the visit that
  // kept it, so each gets a new one.
  function markOfflineCopy() {
    if (!offlineCopy) { return; }
    document.querySelectorAll("form[data-offline-queue]").forEach(freshKey);
  }

  // The generic "log call / visit" form the worker answers with offline: the row's channel,
  // purpose, customer name and today's quick follow-up dates.
  function fillOfflineForms(root) {
    var forms = root.matches && root.matches("form[data-offline-fill]") ? [root]
      : Array.prototype.slice.call(root.querySelectorAll("form[data-offline-fill]"));
    forms.forEach(function (form) {
      form.removeAttribute("data-offline-fill");
      [["kind", form.getAttribute("data-kind")], ["purpose", form.getAttribute("data-purpose")]].forEach(function (pair) {
        var select = form.elements[pair[0]];
        if (select && pair[1]) {
          select.value = pair[1];
          select.dispatchEvent(new Event("change", { bubbles: true }));
        }
      });
      form.querySelectorAll("[data-quick-offset]").forEach(function (quick) {
        quick.setAttribute("data-quick-date", localDate(Number(quick.getAttribute("data-quick-offset"))));
      });
      if (!form.getAttribute("data-offline-label")) {
        var row = form.closest("[data-customer]");
        var link = row ? row.querySelector("a") : null;
        if (link) { form.setAttribute("data-offline-label", link.textContent.trim()); }
      }
    });
  }

  // Page copies hold customer data: gone at logout, and when someone else signs in here.
  function clearCaches() {
    var worker = navigator.serviceWorker && navigator.serviceWorker.controller;
    if (worker) { worker.postMessage({ type: "clear" }); }
    if (!window.caches) { return Promise.resolve(); }
    return window.caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) { return name.indexOf(CACHE_PREFIX) === 0; })
        .map(function (name) { return window.caches.delete(name); }));
    }).catch(function () { return null; });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-offline-logout") || event.defaultPrevented) {
      return;
    }
    event.preventDefault();
    storage("remove");
    var post = function () { HTMLFormElement.prototype.submit.call(form); };
    Promise.race([clearCaches(), new Promise(function (resolve) { setTimeout(resolve, 1500); })]).then(post, post);
  });

  // The site's own links on this page (the worker picks those worth having offline).
  function linkedPaths() {
    var seen = {};
    document.querySelectorAll("main a[href]").forEach(function (link) {
      if (link.origin === location.origin) { seen[link.pathname + link.search] = true; }
    });
    return Object.keys(seen).slice(0, 500);
  }

  function register() {
    if (!panel || !currentUser || !window.isSecureContext || !("serviceWorker" in navigator)) { return; }
    navigator.serviceWorker.register(panel.getAttribute("data-sw"), { scope: panel.getAttribute("data-sw-scope") })
      .then(function () { return navigator.serviceWorker.ready; })
      .then(function (registration) {
        if (registration.active && !offlineCopy && navigator.onLine) {
          registration.active.postMessage({ type: "page-loaded", url: location.href, links: linkedPaths() });
        }
      })
      .catch(function () { /* no worker: pages still work online */ });
  }

  // Silent copies of plain posts: the page that answered decides what becomes of them.
  function settlePageCopies() {
    return entries().then(function (all) {
      var onThisPage = {};
      document.querySelectorAll("form[data-offline-queue] input[name=client_key]").forEach(function (input) {
        onThisPage[input.value] = true;
      });
      return Promise.all(all.filter(function (entry) { return entry.via === "page"; }).map(function (entry) {
        if (onOfflinePage || offlineCopy) {
          // The post did not get through: it waits in the queue like anything logged offline.
          entry.via = "queue";
          return save(entry);
        }
        // The form came back (with its errors): the server had its say, nothing to send.
        return onThisPage[entry.key] ? drop(entry.id) : null;
      }));
    }).catch(function () { return null; });
  }

  function start() {
    if (currentUser) {
      var previous = storage("get");
      if (previous && previous !== currentUser) { clearCaches(); }
      storage("set", currentUser);
    }
    markOfflineCopy();
    fillOfflineForms(document);
    register();
    settlePageCopies().then(render).then(flush);
    window.addEventListener("online", function () { render().then(flush); });
    window.addEventListener("offline", render);
    if (channel) { channel.onmessage = function () { render(); }; }
    window.setInterval(function () { if (navigator.onLine) { flush(); } }, RETRY_MS);
    document.addEventListener("htmx:load", function (event) { fillOfflineForms(event.target); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
