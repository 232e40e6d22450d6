// Intake form: body map toggles the pain-location checkboxes; numbers are checked against
// their range as the clinician types (the server checks again and has the last word).
(function () {
  "use strict";
  function box(loc) {
    return document.querySelector('input[name="symptoms.pain_locations"][value="' + loc + '"]');
  }
  function paint() {
    document.querySelectorAll(".bodymap [data-loc]").forEach(function (el) {
      var b = box(el.getAttribute("data-loc"));
      var on = !!(b && b.checked);
      el.classList.toggle("on", on);
      el.setAttribute("aria-checked", on ? "true" : "false");
    });
  }
  document.querySelectorAll(".bodymap [data-loc]").forEach(function (el) {
    function toggle() { var b = box(el.getAttribute("data-loc")); if (b) { b.checked = !b.checked; paint(); } }
    el.addEventListener("click", toggle);
    el.addEventListener("keydown", function (e) {
      if (e.key === " " || e.key === "Enter") { e.preventDefault(); toggle(); }
    });
  });
  document.querySelectorAll('input[name="symptoms.pain_locations"]').forEach(function (b) {
    b.addEventListener("change", paint);
  });
  paint();
  document.querySelectorAll("input[data-min], input[data-max]").forEach(function (input) {
    input.addEventListener("input", function () {
      var msgId = input.id + "-live";
      var msg = document.getElementById(msgId);
      var raw = input.value.trim().replace(",", ".");
      var lo = parseFloat(input.getAttribute("data-min")), hi = parseFloat(input.getAttribute("data-max"));
      var bad = raw !== "" && (isNaN(Number(raw)) || Number(raw) < lo || Number(raw) > hi);
      if (bad && !msg) {
        msg = document.createElement("p");
        msg.id = msgId; msg.className = "field-error"; msg.setAttribute("role", "status");
        input.insertAdjacentElement("afterend", msg);
      }
      if (msg) { msg.textContent = bad ? "Allowed: a number from " + lo + " to " + hi : ""; }
      input.setAttribute("aria-invalid", bad ? "true" : "false");
    });
  });
})();
