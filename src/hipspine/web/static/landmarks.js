// Click landmarks on a lateral radiograph: the image stays in the browser (never uploaded);
// each click records the image pixel coordinate of the chosen landmark and writes the
// hipspine.landmarks/1 JSON into the form, ready to measure.
(function () {
  "use strict";
  var KEYS = ["femoral_head_1", "femoral_head_2", "s1_anterior", "s1_posterior",
              "l1_anterior", "l1_posterior", "c7_centroid"];
  var file = document.getElementById("radiograph");
  var img = document.getElementById("radiograph-img");
  var view = document.getElementById("lm-view");
  var which = document.getElementById("lm-key");
  var spacing = document.getElementById("lm-spacing");
  var facing = document.getElementById("lm-facing");
  var out = document.getElementById("landmarks_text");
  var marks = document.getElementById("lm-marks");
  if (!file || !img || !out) { return; }
  var doc = { format: "hipspine.landmarks/1", facing: "right", standing: {}, sitting: {} };
  try {
    var existing = JSON.parse(out.value);
    if (existing && existing.format === "hipspine.landmarks/1") { doc = existing; doc.sitting = doc.sitting || {}; }
  } catch (e) { /* start empty */ }
  KEYS.forEach(function (k) {
    var o = document.createElement("option"); o.value = k; o.textContent = k.replace(/_/g, " ");
    which.appendChild(o);
  });
  function write() {
    doc.facing = facing.value;
    var mm = parseFloat(spacing.value);
    if (!isNaN(mm) && mm > 0) { doc.pixel_spacing_mm = mm; } else { delete doc.pixel_spacing_mm; }
    var copy = JSON.parse(JSON.stringify(doc));
    if (copy.sitting && Object.keys(copy.sitting).length === 0) { delete copy.sitting; }
    out.value = JSON.stringify(copy, null, 1);
    draw();
  }
  function draw() {
    marks.innerHTML = "";
    var points = doc[view.value] || {};
    var sx = img.clientWidth / (img.naturalWidth || 1), sy = img.clientHeight / (img.naturalHeight || 1);
    Object.keys(points).forEach(function (k) {
      var p = points[k]; if (!p) { return; }
      var dot = document.createElement("span");
      dot.className = "lm-dot"; dot.title = k;
      dot.style.left = (p[0] * sx) + "px"; dot.style.top = (p[1] * sy) + "px";
      dot.textContent = k.replace(/_/g, " ");
      marks.appendChild(dot);
    });
  }
  file.addEventListener("change", function () {
    if (file.files && file.files[0]) { img.src = URL.createObjectURL(file.files[0]); img.hidden = false; }
  });
  img.addEventListener("load", draw);
  view.addEventListener("change", draw);
  facing.addEventListener("change", write);
  spacing.addEventListener("input", write);
  img.addEventListener("click", function (e) {
    var r = img.getBoundingClientRect();
    var x = (e.clientX - r.left) * (img.naturalWidth / r.width);
    var y = (e.clientY - r.top) * (img.naturalHeight / r.height);
    doc[view.value] = doc[view.value] || {};
    doc[view.value][which.value] = [Math.round(x * 10) / 10, Math.round(y * 10) / 10];
    if (which.selectedIndex < which.options.length - 1) { which.selectedIndex += 1; }
    write();
  });
})();
