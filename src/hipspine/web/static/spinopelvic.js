// Click landmarks on a lateral radiograph: the image stays in the browser (never uploaded).
// A guide names the next landmark and where it goes (descriptions come from the server's
// landmark model); each click records the image pixel coordinate of the chosen landmark and
// writes the hipspine.landmarks/1 JSON into the form. Undo takes back the last point (or
// the last move), a placed point can be dragged, and the image can be zoomed.
(function () {
  "use strict";
  var box = document.getElementById("click-landmarks");
  var file = document.getElementById("radiograph");
  var img = document.getElementById("radiograph-img");
  var view = document.getElementById("lm-view");
  var which = document.getElementById("lm-key");
  var spacing = document.getElementById("lm-spacing");
  var facing = document.getElementById("lm-facing");
  var out = document.getElementById("landmarks_text");
  var marks = document.getElementById("lm-marks");
  var guideText = document.getElementById("lm-guide");
  var undoButton = document.getElementById("lm-undo");
  var viewport = document.getElementById("lm-viewport");
  var zoomLevel = document.getElementById("lm-zoom-level");
  if (!box || !file || !img || !out) { return; }

  var GUIDE = [];
  try { GUIDE = JSON.parse(box.getAttribute("data-guide") || "[]"); } catch (e) { GUIDE = []; }
  var byKey = {};
  GUIDE.forEach(function (g) { byKey[g.key] = g; });

  var doc = { format: "hipspine.landmarks/1", facing: "right", standing: {}, sitting: {} };
  try {
    var existing = JSON.parse(out.value);
    if (existing && existing.format === "hipspine.landmarks/1") {
      doc = existing; doc.standing = doc.standing || {}; doc.sitting = doc.sitting || {};
    }
  } catch (e) { /* start empty */ }

  var history = [];  // {view, key, before: [x, y] | null}
  var zoom = 1;
  var ZOOMS = [0.5, 0.75, 1, 1.25, 1.5, 2, 3, 4];

  GUIDE.forEach(function (g) {
    var o = document.createElement("option");
    o.value = g.key;
    o.textContent = g.name + (g.optional ? " (optional)" : "");
    which.appendChild(o);
  });

  function round(v) { return Math.round(v * 10) / 10; }
  function points() { doc[view.value] = doc[view.value] || {}; return doc[view.value]; }
  function scale() { return img.clientWidth / (img.naturalWidth || 1); }

  function nextKey() {
    var pts = points();
    for (var i = 0; i < GUIDE.length; i++) { if (!pts[GUIDE[i].key]) { return GUIDE[i].key; } }
    return null;
  }

  function guide() {
    if (!guideText) { return; }
    var g = byKey[which.value];
    var pts = points();
    if (!img.naturalWidth) {
      guideText.textContent = "Choose a radiograph, then click the landmarks in the order shown here.";
      return;
    }
    if (nextKey() === null) {
      guideText.textContent = "All landmarks placed on the " + view.value +
        " view. Drag a point to adjust it, or press Measure.";
      return;
    }
    if (!g) { return; }
    guideText.textContent = (pts[g.key] ? "Re-place: " : "Next: ") + g.name + " \u2014 " + g.where + ".";
    guideText.setAttribute("data-next", g.key);
  }

  function write() {
    doc.facing = facing.value;
    var mm = parseFloat(spacing.value);
    if (!isNaN(mm) && mm > 0) { doc.pixel_spacing_mm = mm; } else { delete doc.pixel_spacing_mm; }
    var copy = JSON.parse(JSON.stringify(doc));
    if (copy.sitting && Object.keys(copy.sitting).length === 0) { delete copy.sitting; }
    out.value = JSON.stringify(copy, null, 1);
    if (undoButton) { undoButton.disabled = history.length === 0; }
    draw();
  }

  function draw() {
    marks.innerHTML = "";
    var pts = points();
    var s = scale();
    Object.keys(pts).forEach(function (k) {
      var p = pts[k]; if (!p) { return; }
      var dot = document.createElement("span");
      dot.className = "lm-dot"; dot.title = k; dot.setAttribute("data-key", k);
      dot.style.left = (p[0] * s) + "px"; dot.style.top = (p[1] * s) + "px";
      dot.textContent = k.replace(/_/g, " ");
      if (drag && drag.key === k && drag.moved) { dot.className += " dragging"; }
      marks.appendChild(dot);
    });
    guide();
  }

  function selectNext() {
    var k = nextKey();
    if (k !== null) { which.value = k; }
  }

  function setZoom(z) {
    zoom = Math.max(ZOOMS[0], Math.min(ZOOMS[ZOOMS.length - 1], z));
    if (zoom === 1) {
      img.style.width = ""; viewport.classList.remove("zoomed");
    } else {
      // Zoom relative to the fitted width (the image as it shows at 100%).
      viewport.classList.remove("zoomed"); img.style.width = "";
      var fitted = img.clientWidth || img.naturalWidth;
      viewport.classList.add("zoomed");
      img.style.width = Math.round(fitted * zoom) + "px";
    }
    if (zoomLevel) { zoomLevel.textContent = Math.round(zoom * 100) + "%"; }
    img.setAttribute("data-zoom", String(zoom));
    draw();
  }
  function stepZoom(direction) {
    var i = ZOOMS.indexOf(zoom);
    if (i < 0) { i = ZOOMS.indexOf(1); }
    i = Math.max(0, Math.min(ZOOMS.length - 1, i + direction));
    setZoom(ZOOMS[i]);
  }

  // Placing and dragging: a press near a placed point that then moves drags that point;
  // a press that does not move is a click and places the selected landmark.
  var drag = null;
  var suppressClick = false;
  var GRAB_PX = 8, MOVE_PX = 3;

  function imagePoint(e) {
    var r = img.getBoundingClientRect();
    return [(e.clientX - r.left) * (img.naturalWidth / r.width),
            (e.clientY - r.top) * (img.naturalHeight / r.height)];
  }

  function nearest(e) {
    var pts = points(), s = scale(), r = img.getBoundingClientRect();
    var best = null, bestD = GRAB_PX;
    Object.keys(pts).forEach(function (k) {
      var p = pts[k]; if (!p) { return; }
      var d = Math.hypot(r.left + p[0] * s - e.clientX, r.top + p[1] * s - e.clientY);
      if (d <= bestD) { best = k; bestD = d; }
    });
    return best;
  }

  img.addEventListener("dragstart", function (e) { e.preventDefault(); });
  img.addEventListener("pointerdown", function (e) {
    if (e.button !== 0) { return; }
    var k = nearest(e);
    if (k === null) { return; }
    var p = points()[k];
    drag = { key: k, x: e.clientX, y: e.clientY, start: [p[0], p[1]], moved: false };
    if (img.setPointerCapture) { try { img.setPointerCapture(e.pointerId); } catch (err) { /* ignore */ } }
  });
  img.addEventListener("pointermove", function (e) {
    if (!drag) { return; }
    var dx = e.clientX - drag.x, dy = e.clientY - drag.y;
    if (!drag.moved && Math.hypot(dx, dy) < MOVE_PX) { return; }
    drag.moved = true;
    var s = scale();
    points()[drag.key] = [round(drag.start[0] + dx / s), round(drag.start[1] + dy / s)];
    draw();
  });
  function endDrag() {
    if (!drag) { return; }
    if (drag.moved) {
      history.push({ view: view.value, key: drag.key, before: drag.start });
      suppressClick = true;
      window.setTimeout(function () { suppressClick = false; }, 0);
    }
    drag = null;
    write();
  }
  img.addEventListener("pointerup", endDrag);
  img.addEventListener("pointercancel", endDrag);

  img.addEventListener("click", function (e) {
    if (suppressClick) { suppressClick = false; return; }
    var pts = points();
    var key = which.value;
    var before = pts[key] ? pts[key].slice() : null;
    var p = imagePoint(e);
    pts[key] = [round(p[0]), round(p[1])];
    history.push({ view: view.value, key: key, before: before });
    selectNext();
    write();
  });

  if (undoButton) {
    undoButton.addEventListener("click", function () {
      var last = history.pop();
      if (!last) { return; }
      doc[last.view] = doc[last.view] || {};
      if (last.before) { doc[last.view][last.key] = last.before; } else { delete doc[last.view][last.key]; }
      if (view.value !== last.view) { view.value = last.view; }
      which.value = last.key;
      write();
    });
  }

  var zin = document.getElementById("lm-zoom-in");
  var zout = document.getElementById("lm-zoom-out");
  var zreset = document.getElementById("lm-zoom-reset");
  if (zin) { zin.addEventListener("click", function () { stepZoom(1); }); }
  if (zout) { zout.addEventListener("click", function () { stepZoom(-1); }); }
  if (zreset) { zreset.addEventListener("click", function () { setZoom(1); }); }
  if (viewport) {
    viewport.addEventListener("wheel", function (e) {
      if (!(e.ctrlKey || e.metaKey) || !img.naturalWidth) { return; }
      e.preventDefault();
      stepZoom(e.deltaY < 0 ? 1 : -1);
    }, { passive: false });
  }

  file.addEventListener("change", function () {
    if (file.files && file.files[0]) { img.src = URL.createObjectURL(file.files[0]); img.hidden = false; }
  });
  img.addEventListener("load", function () { setZoom(1); selectNext(); draw(); });
  view.addEventListener("change", function () { selectNext(); draw(); });
  which.addEventListener("change", guide);
  facing.addEventListener("change", write);
  spacing.addEventListener("input", write);
  window.addEventListener("resize", draw);
  guide();
})();
