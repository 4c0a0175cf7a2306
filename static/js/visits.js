// Field visits (外勤签到): where the phone is, for check-in, check-out and the customer's
// location. A form marked [data-geolocate] asks the browser for a position as soon as the
// page opens and fills its hidden fields latitude / longitude / accuracy /
// location_status; a [data-geo-fill] button does the same on demand for typed fields.
// Nothing here ever blocks submitting: without a fix (or without JavaScript) the server
// saves the visit as "no location". Texts come translated in data-text-* attributes
// (no inline scripts: CSP).
(function () {
  "use strict";

  var OPTIONS = { timeout: 15000, enableHighAccuracy: true, maximumAge: 60000 };
  var STATUS_BY_CODE = { 1: "denied", 2: "unavailable", 3: "timeout" };

  function uuid4() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    // Not a secure context (plain http on a LAN): the same v4 UUID from random bytes.
    var bytes = window.crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  function text(holder, state, accuracy) {
    var key = "text" + state.charAt(0).toUpperCase() + state.slice(1);
    return (holder.dataset[key] || "").replace("%(accuracy)s", accuracy === undefined ? "" : accuracy);
  }

  function show(holder, state, accuracy) {
    var output = holder.querySelector("[data-geo-state]");
    if (output) {
      output.textContent = text(holder, state, accuracy);
      output.setAttribute("data-state", state);
    }
  }

  function setValue(form, name, value) {
    var input = form.elements[name];
    if (input) { input.value = value; }
  }

  // Ask for a position; onFix(coords) or onFail(status) once.
  function locate(onFix, onFail) {
    if (!("geolocation" in navigator)) {
      onFail("unavailable");
      return;
    }
    navigator.geolocation.getCurrentPosition(
      function (position) { onFix(position.coords); },
      function (error) { onFail(STATUS_BY_CODE[error.code] || "unavailable"); },
      OPTIONS
    );
  }

  // A check-in or check-out form: locate at once, fill the hidden fields.
  function geolocateForm(form) {
    if (form.elements.client_key && !form.elements.client_key.value) {
      form.elements.client_key.value = uuid4();
    }
    show(form, "locating");
    locate(function (coords) {
      var accuracy = Math.round(coords.accuracy);
      setValue(form, "latitude", coords.latitude.toFixed(6));
      setValue(form, "longitude", coords.longitude.toFixed(6));
      setValue(form, "accuracy", String(accuracy));
      setValue(form, "location_status", "fixed");
      show(form, "located", accuracy);
    }, function (status) {
      setValue(form, "latitude", "");
      setValue(form, "longitude", "");
      setValue(form, "accuracy", "");
      setValue(form, "location_status", status);
      show(form, status);
    });
  }

  // "Use my current position": fill the typed latitude / longitude of the button's form.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-geo-fill]");
    if (!button) { return; }
    var form = button.closest("form");
    button.disabled = true;
    show(form, "locating");
    locate(function (coords) {
      var accuracy = Math.round(coords.accuracy);
      setValue(form, "latitude", coords.latitude.toFixed(6));
      setValue(form, "longitude", coords.longitude.toFixed(6));
      setValue(form, "accuracy", String(accuracy));
      show(form, "located", accuracy);
      button.disabled = false;
    }, function (status) {
      show(form, status);
      button.disabled = false;
    });
  });

  function start() {
    document.querySelectorAll("form[data-geolocate]").forEach(geolocateForm);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
