// Funnel CRM's service worker. Served at /sw.js by config/pwa.py, which writes the
// configuration in place of the token below (version, app shell, which pages keep an
// offline copy); a new version drops the old caches.
//
// * The app shell (styles, scripts, icons, the offline page) is cached at install.
// * Pages: network first. My day, the customer pages and the field forms keep a copy of
//   their last visit, shown when the network is down (marked data-offline-copy, so the
//   page says so); any other page answers with the offline page.
// * Static files: from the cache, refreshed in the background.
// * "Log call / visit" in a my-day row, offline: the generic short form (kept like the
//   shell), filled in for the row's customer; offline.js queues what is saved.
// * Never kept: the API, anything that is not a GET. The page clears every cache at
//   logout (message "clear").
"use strict";

var CONFIG = __SW_CONFIG__;
var PREFIX = "funnel-";
var SHELL = PREFIX + "shell-" + CONFIG.version;
var PAGES = PREFIX + "pages-" + CONFIG.version;
var STATIC = PREFIX + "static-" + CONFIG.version;
var CURRENT = [SHELL, PAGES, STATIC];
var PAGE_PATTERNS = CONFIG.pages.map(function (source) { return new RegExp(source); });
var LOG_FORM = CONFIG.logFormPattern ? new RegExp(CONFIG.logFormPattern) : null;
var WARM_PATTERNS = CONFIG.warm.map(function (source) { return new RegExp(source); });
var LOG_FORM_MAX_AGE_MS = 30 * 60 * 1000;
var WARM_MAX_AGE_MS = 60 * 60 * 1000;
var FRESH_COPY_MS = 60 * 1000;
var MATCH = { ignoreVary: true };
var WORD = /^[a-z_]+$/;

function precacheShell() {
  return caches.open(SHELL).then(function (cache) {
    return cache.addAll(CONFIG.shell.concat([CONFIG.offlineUrl])).then(function () {
      return refreshLogForm(cache, 0);
    });
  });
}

// The generic "log call / visit" form needs a signed-in user: a redirect to the login
// page is not kept. Refreshed at most every LOG_FORM_MAX_AGE_MS (objections change).
function refreshLogForm(cache, maxAge) {
  return cache.match(CONFIG.logFormUrl, MATCH).then(function (kept) {
    if (age(kept) < maxAge) { return null; }
    return fetch(CONFIG.logFormUrl, { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (response) {
        if (response.status === 200 && !response.redirected) { return cache.put(CONFIG.logFormUrl, stamped(response)); }
        return null;
      });
  }).catch(function () { return null; });
}

// The shell may have gone (cleared at logout, evicted): put it back.
function ensureShell() {
  return caches.has(SHELL).then(function (present) {
    if (!present) { return precacheShell(); }
    return caches.open(SHELL).then(function (cache) { return refreshLogForm(cache, LOG_FORM_MAX_AGE_MS); });
  }).catch(function () { return null; });
}

function keepsCopy(url) {
  return url.origin === self.location.origin && PAGE_PATTERNS.some(function (pattern) {
    return pattern.test(url.pathname);
  });
}

// A copy remembers when this phone kept it (its own clock: a server's Date may be skewed).
function stamped(response) {
  var headers = new Headers(response.headers);
  headers.set("X-Kept-At", String(Date.now()));
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers: headers });
}

function keptAt(response) {
  var kept = response ? Number(response.headers.get("X-Kept-At")) : NaN;
  return kept > 0 ? kept : response ? Date.parse(response.headers.get("Date") || "") : NaN;
}

function keepPage(url, response) {
  if (response.status !== 200 || response.redirected || response.type !== "basic") { return Promise.resolve(); }
  return caches.open(PAGES).then(function (cache) {
    return cache.put(url.href, stamped(response)).then(function () { return trim(cache); });
  });
}

// At most CONFIG.maxPages copies: the oldest go first.
function trim(cache) {
  return cache.keys().then(function (keys) {
    var extra = keys.length - CONFIG.maxPages;
    return Promise.all(keys.slice(0, Math.max(0, extra)).map(function (key) { return cache.delete(key); }));
  });
}

function age(response) {
  var savedAt = keptAt(response);
  return isNaN(savedAt) ? Infinity : Date.now() - savedAt;
}

function fetchAndKeep(url) {
  return fetch(url.href, { credentials: "same-origin" }).then(function (response) {
    return keepPage(url, response);
  });
}

// Pages the loaded page links to that are worth having offline (a check-in of today's
// plan), one after the other; a copy younger than WARM_MAX_AGE_MS is left as it is.
function warm(paths) {
  var wanted = paths.map(function (path) { return new URL(path, self.location.origin); }).filter(function (url) {
    return url.origin === self.location.origin && WARM_PATTERNS.some(function (pattern) {
      return pattern.test(url.pathname);
    });
  }).slice(0, CONFIG.maxWarm);
  return caches.open(PAGES).then(function (cache) {
    return wanted.reduce(function (chain, url) {
      return chain.then(function () {
        return cache.match(url.href, MATCH).then(function (kept) {
          return age(kept) < WARM_MAX_AGE_MS ? null : fetchAndKeep(url);
        });
      });
    }, Promise.resolve());
  }).catch(function () { return null; });
}

function offlinePage() {
  return caches.match(CONFIG.offlineUrl, MATCH).then(function (page) {
    return page || new Response("Offline", { status: 503, headers: { "Content-Type": "text/plain" } });
  });
}

function escapeAttribute(value) {
  return String(value).replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
}

// A kept copy, marked as such for offline.js (which shows when it was saved and gives
// its forms fresh keys: the copy's keys were already used by an earlier visit).
function markedCopy(response) {
  var kept = keptAt(response);
  var savedAt = isNaN(kept) ? "" : new Date(kept).toISOString();
  return response.text().then(function (html) {
    var headers = new Headers(response.headers);
    headers.delete("Content-Length");
    headers.delete("Content-Encoding");
    var marked = html.replace("<html", '<html data-offline-copy="' + escapeAttribute(savedAt) + '"');
    return new Response(marked, { status: 200, statusText: "OK", headers: headers });
  });
}

function navigate(event, url) {
  var keep = keepsCopy(url);
  return fetch(event.request).then(function (response) {
    if (keep) {
      event.waitUntil(keepPage(url, response.clone()).catch(function () { return null; }));
    }
    return response;
  }).catch(function () {
    if (!keep) { return offlinePage(); }
    return caches.open(PAGES).then(function (cache) {
      return cache.match(url.href, MATCH).then(function (copy) {
        return copy || cache.match(url.href, { ignoreVary: true, ignoreSearch: true });
      });
    }).then(function (copy) { return copy ? markedCopy(copy) : offlinePage(); });
  });
}

function staticFile(event) {
  var request = event.request;
  return caches.match(request, MATCH).then(function (kept) {
    var fresh = fetch(request).then(function (response) {
      if (response.status === 200) {
        var copy = response.clone();
        event.waitUntil(caches.open(STATIC).then(function (cache) { return cache.put(request, copy); }));
      }
      return response;
    });
    if (kept) {
      event.waitUntil(fresh.catch(function () { return null; }));
      return kept;
    }
    return fresh;
  });
}

// Offline, a row's "log call / visit" gets the generic form with the row's customer,
// channel and purpose written in.
function logForm(event, url) {
  return fetch(event.request).catch(function (error) {
    return caches.match(CONFIG.logFormUrl, MATCH).then(function (kept) {
      if (!kept) { throw error; }
      var customer = (url.pathname.match(/\d+/) || [""])[0];
      var kind = url.searchParams.get("kind") || "";
      var purpose = url.searchParams.get("purpose") || "";
      return kept.text().then(function (html) {
        var filled = html.split("__CUSTOMER__").join(customer)
          .split("__KIND__").join(WORD.test(kind) ? kind : "")
          .split("__PURPOSE__").join(WORD.test(purpose) ? purpose : "");
        return new Response(filled, { status: 200, headers: { "Content-Type": "text/html; charset=utf-8" } });
      });
    });
  });
}

self.addEventListener("install", function (event) {
  event.waitUntil(precacheShell().then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf(PREFIX) === 0 && CURRENT.indexOf(name) < 0;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.indexOf(CONFIG.apiPrefix) === 0) { return; }
  if (request.method !== "GET") {
    // A form posted without network: the offline page rather than the browser's error.
    if (request.mode === "navigate") { event.respondWith(fetch(request).catch(offlinePage)); }
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(navigate(event, url));
  } else if (url.pathname.indexOf(CONFIG.staticPrefix) === 0) {
    event.respondWith(staticFile(event));
  } else if (LOG_FORM && LOG_FORM.test(url.pathname) && request.headers.get("HX-Request")) {
    event.respondWith(logForm(event, url));
  }
});

self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type === "clear") {
    event.waitUntil(caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) { return name.indexOf(PREFIX) === 0; })
        .map(function (name) { return caches.delete(name); }));
    }));
  } else if (data.type === "page-loaded") {
    // A signed-in page loaded: put the shell back if it went. A page worth keeping that
    // has no fresh copy came from the network without this worker (the first visit, or
    // one that raced its activation): fetched again and kept now.
    var work = ensureShell();
    if (typeof data.url === "string") {
      var url = new URL(data.url, self.location.origin);
      if (keepsCopy(url)) {
        work = work.then(function () { return caches.open(PAGES); }).then(function (cache) {
          return cache.match(url.href, MATCH);
        }).then(function (kept) {
          return age(kept) < FRESH_COPY_MS ? null : fetchAndKeep(url);
        }).catch(function () { return null; });
      }
    }
    if (Array.isArray(data.links)) {
      work = work.then(function () { return warm(data.links); });
    }
    event.waitUntil(work);
  }
});
