// The map: every document on the codes' first two principal components, drawn on a canvas.
// Data from /api/map; the current query's hits (from /api/query) are ringed and numbered.
(function () {
  "use strict";
  var PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
    "#7f7f7f", "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5",
    "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5"];
  var OTHER = "#b8bec6";
  var canvas = document.getElementById("map");
  var ctx = canvas.getContext("2d");
  var tip = document.getElementById("tip");
  var statusBox = document.getElementById("map-status");
  var legendBox = document.getElementById("legend");
  var query = legendBox.dataset.q || "";
  var data = null, hits = [], hidden = {};
  var view = { s: 1, tx: 0, ty: 0 }; // screen = base(data) * s + t
  var base = { s: 1, ox: 0, oy: 0 };
  var hover = -1, drag = null, moved = false, frame = 0;

  function colour(label) { return label >= 0 && label < PALETTE.length ? PALETTE[label] : OTHER; }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function docUrl(id) { return "/documents/" + encodeURIComponent(id) + (query ? "?q=" + encodeURIComponent(query) : ""); }

  function resize() {
    var r = canvas.getBoundingClientRect(), dpr = window.devicePixelRatio || 1;
    canvas.width = Math.max(1, Math.round(r.width * dpr));
    canvas.height = Math.max(1, Math.round(r.height * dpr));
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    if (data) fit();
    draw();
  }
  function fit() {
    var r = canvas.getBoundingClientRect(), m = 28;
    var w = data.x1 - data.x0 || 1, h = data.y1 - data.y0 || 1;
    base.s = Math.min((r.width - 2 * m) / w, (r.height - 2 * m) / h);
    base.ox = m + ((r.width - 2 * m) - w * base.s) / 2;
    base.oy = m + ((r.height - 2 * m) - h * base.s) / 2;
  }
  function X(x) { return (base.ox + (x - data.x0) * base.s) * view.s + view.tx; }
  function Y(y) { return (base.oy + (data.y1 - y) * base.s) * view.s + view.ty; }
  function sx(i) { return X(data.x[i]); }
  function sy(i) { return Y(data.y[i]); }

  function radius() {
    var n = data.shown;
    var r = n > 15000 ? 1.4 : n > 5000 ? 2 : n > 1000 ? 3 : 4;
    return Math.min(9, r * Math.sqrt(view.s));
  }
  function draw() {
    var r = canvas.getBoundingClientRect();
    ctx.clearRect(0, 0, r.width, r.height);
    if (!data) return;
    if (data.density) drawDensity();
    var rad = radius(), drawn = 0;
    ctx.globalAlpha = hits.length ? 0.35 : 0.8;
    for (var i = 0; i < data.shown; i++) {
      if (hidden[data.label[i]]) continue;
      var x = sx(i), y = sy(i);
      if (x < -rad || y < -rad || x > r.width + rad || y > r.height + rad) continue;
      ctx.fillStyle = colour(data.label[i]);
      ctx.beginPath(); ctx.arc(x, y, rad, 0, 6.2832); ctx.fill();
      drawn++;
    }
    ctx.globalAlpha = 1;
    for (var k = hits.length - 1; k >= 0; k--) {
      var hit = hits[k], hx = X(hit.x), hy = Y(hit.y), big = k < 10;
      ctx.fillStyle = colour(hit.label);
      ctx.strokeStyle = "#111";
      ctx.lineWidth = big ? 2 : 1.2;
      ctx.beginPath(); ctx.arc(hx, hy, big ? 6 : 4, 0, 6.2832); ctx.fill(); ctx.stroke();
      if (big) {
        ctx.font = "600 11px system-ui, sans-serif";
        ctx.lineWidth = 3; ctx.strokeStyle = "#fff";
        ctx.strokeText(String(hit.rank), hx + 8, hy - 6);
        ctx.fillStyle = "#111"; ctx.fillText(String(hit.rank), hx + 8, hy - 6);
      }
    }
    if (hover >= 0) {
      ctx.strokeStyle = "#111"; ctx.lineWidth = 2;
      ctx.beginPath(); ctx.arc(sx(hover), sy(hover), rad + 4, 0, 6.2832); ctx.stroke();
    }
    canvas.dataset.drawn = String(drawn);
  }
  function drawDensity() {
    var b = data.density.bins, counts = data.density.counts, max = 0;
    for (var c = 0; c < counts.length; c++) if (counts[c] > max) max = counts[c];
    if (!max) return;
    var cw = (data.x1 - data.x0) / b, ch = (data.y1 - data.y0) / b, lm = Math.log(1 + max);
    ctx.fillStyle = "#3b4a63";
    for (var row = 0; row < b; row++) {
      for (var col = 0; col < b; col++) {
        var n = counts[row * b + col];
        if (!n) continue;
        var left = (base.ox + col * cw * base.s) * view.s + view.tx;
        var top = (base.oy + (data.y1 - data.y0 - (row + 1) * ch) * base.s) * view.s + view.ty;
        ctx.globalAlpha = 0.06 + 0.4 * Math.log(1 + n) / lm;
        ctx.fillRect(left, top, cw * base.s * view.s + 0.5, ch * base.s * view.s + 0.5);
      }
    }
    ctx.globalAlpha = 1;
  }
  function schedule() { if (!frame) frame = requestAnimationFrame(function () { frame = 0; draw(); }); }

  function nearest(mx, my) {
    var best = -1, bestD = 100; // within 10 px
    for (var i = 0; i < data.shown; i++) {
      if (hidden[data.label[i]]) continue;
      var dx = sx(i) - mx, dy = sy(i) - my, d = dx * dx + dy * dy;
      if (d < bestD) { bestD = d; best = i; }
    }
    return best;
  }
  function showTip(i, mx, my) {
    if (i < 0) { tip.hidden = true; return; }
    tip.textContent = "";
    tip.appendChild(el("b", "", data.titles[i] || data.ids[i]));
    tip.appendChild(el("span", "id", data.ids[i] + (data.label[i] >= 0 ? " · " + data.legend[data.label[i]].label : "")));
    tip.hidden = false;
    var r = canvas.getBoundingClientRect();
    tip.style.left = Math.min(mx + 14, r.width - 370) + "px";
    tip.style.top = Math.min(my + 14, r.height - 60) + "px";
  }
  function zoom(factor, cx, cy) {
    var s = Math.max(0.5, Math.min(200, view.s * factor));
    factor = s / view.s;
    view.tx = cx - (cx - view.tx) * factor;
    view.ty = cy - (cy - view.ty) * factor;
    view.s = s;
    schedule();
  }
  function point(e) { var r = canvas.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; }

  // Pointer Events: a mouse, a pen or one finger drags the map, two fingers pinch it (zoom
  // about their midpoint, pan with it). The canvas has "touch-action: none", so the browser
  // leaves these gestures to this code instead of scrolling or zooming the page.
  var pointers = {}; // pointerId -> [x, y] in canvas coordinates
  function down() { return Object.keys(pointers).map(function (id) { return pointers[id]; }); }
  function startGesture() {
    var p = down();
    if (p.length === 1) drag = { x: p[0][0], y: p[0][1], tx: view.tx, ty: view.ty, pinch: null };
    else if (p.length >= 2) {
      drag = { pinch: { d: Math.hypot(p[1][0] - p[0][0], p[1][1] - p[0][1]) || 1,
        mx: (p[0][0] + p[1][0]) / 2, my: (p[0][1] + p[1][1]) / 2 } };
    } else drag = null;
  }
  canvas.addEventListener("pointerdown", function (e) {
    if (e.pointerType === "mouse" && e.button !== 0) return;
    pointers[e.pointerId] = point(e);
    try { canvas.setPointerCapture(e.pointerId); } catch (err) { /* a pointer the page made up */ }
    if (Object.keys(pointers).length === 1) moved = false;
    else moved = true; // a second finger: a pinch, never a click
    startGesture();
    canvas.classList.add("grab");
  });
  canvas.addEventListener("pointermove", function (e) {
    if (!data) return;
    var p = point(e);
    if (drag && pointers[e.pointerId]) {
      pointers[e.pointerId] = p;
      var all = down();
      if (drag.pinch && all.length >= 2) {
        var d = Math.hypot(all[1][0] - all[0][0], all[1][1] - all[0][1]) || 1;
        var mx = (all[0][0] + all[1][0]) / 2, my = (all[0][1] + all[1][1]) / 2;
        view.tx += mx - drag.pinch.mx; view.ty += my - drag.pinch.my;
        zoom(d / drag.pinch.d, mx, my);
        drag.pinch = { d: d, mx: mx, my: my };
      } else if (!drag.pinch) {
        if (Math.abs(p[0] - drag.x) + Math.abs(p[1] - drag.y) > 3) moved = true;
        view.tx = drag.tx + p[0] - drag.x; view.ty = drag.ty + p[1] - drag.y;
      }
      tip.hidden = true; schedule(); return;
    }
    if (e.pointerType !== "mouse") return;
    var i = nearest(p[0], p[1]);
    if (i !== hover) { hover = i; schedule(); }
    showTip(i, p[0], p[1]);
  });
  function lift(e) {
    if (!pointers[e.pointerId]) return;
    delete pointers[e.pointerId];
    startGesture(); // the finger left carries on panning from where it is
    if (!drag) canvas.classList.remove("grab");
  }
  canvas.addEventListener("pointerup", lift);
  canvas.addEventListener("pointercancel", lift);
  canvas.addEventListener("pointerleave", function (e) {
    if (e.pointerType === "mouse" && !pointers[e.pointerId]) { hover = -1; tip.hidden = true; schedule(); }
  });
  canvas.addEventListener("click", function (e) {
    if (!data || moved) return;
    var p = point(e), i = nearest(p[0], p[1]);
    if (i >= 0) window.location.href = docUrl(data.ids[i]);
  });
  canvas.addEventListener("wheel", function (e) {
    e.preventDefault();
    var p = point(e);
    zoom(Math.exp(-e.deltaY * 0.0015), p[0], p[1]);
  }, { passive: false });
  canvas.addEventListener("keydown", function (e) {
    var r = canvas.getBoundingClientRect();
    if (e.key === "+" || e.key === "=") zoom(1.25, r.width / 2, r.height / 2);
    else if (e.key === "-") zoom(0.8, r.width / 2, r.height / 2);
    else if (e.key === "0") { view = { s: 1, tx: 0, ty: 0 }; schedule(); }
    else if (e.key.indexOf("Arrow") === 0) {
      var d = 60;
      if (e.key === "ArrowLeft") view.tx += d; if (e.key === "ArrowRight") view.tx -= d;
      if (e.key === "ArrowUp") view.ty += d; if (e.key === "ArrowDown") view.ty -= d;
      schedule();
    } else return;
    e.preventDefault();
  });

  function legend() {
    legendBox.textContent = "";
    if (hits.length) {
      legendBox.appendChild(el("h2", "", "Hits for “" + query + "”"));
      var ol = el("ol");
      hits.slice(0, 10).forEach(function (h) {
        var li = el("li"), a = el("a", "", h.title || h.id);
        a.href = docUrl(h.id); li.appendChild(a); ol.appendChild(li);
      });
      legendBox.appendChild(ol);
    }
    if (!data.legend.length) return;
    legendBox.appendChild(el("h2", "", "Labels"));
    var ul = el("ul");
    data.legend.forEach(function (item, i) {
      var li = el("li"), sw = el("span", "sw");
      sw.style.background = colour(i);
      li.appendChild(sw); li.appendChild(el("span", "name", item.label)); li.appendChild(el("span", "n", String(item.count)));
      li.title = "Click to hide or show";
      li.addEventListener("click", function () { hidden[i] = !hidden[i]; li.classList.toggle("off", !!hidden[i]); schedule(); });
      ul.appendChild(li);
    });
    legendBox.appendChild(ul);
  }
  function say(text) { statusBox.textContent = text; }

  function getMap(q) {
    var url = "/api/map" + (q ? "?k=50&q=" + encodeURIComponent(q) : "");
    return fetch(url).then(function (r) {
      return r.json().then(function (body) { if (!r.ok) { var e = new Error(body.error || r.statusText); e.status = r.status; throw e; } return body; });
    });
  }
  function show(body, note) {
    data = body;
    hits = body.hits || [];
    var line = data.count.toLocaleString() + " documents" +
      (data.shown < data.count ? " (" + data.shown.toLocaleString() + " sampled, density of all)" : "");
    if (hits.length) line += " · the query's " + hits.length + " best hits ringed, top 10 numbered";
    say(line + (note ? " · " + note : ""));
    resize(); legend(); canvas.focus();
  }
  getMap(query).then(function (body) { show(body); }).catch(function (e) {
    if (!query || e.status !== 400) throw e;
    return getMap("").then(function (body) { show(body, e.message); }); // the query failed, not the map
  }).catch(function (e) { say("The map could not be loaded: " + e.message); });

  window.addEventListener("resize", resize);
  resize();
  // For tests: the screen position of the first drawn point, and the view's transform.
  window.docretMap = {
    view: function () { return { s: view.s, tx: view.tx, ty: view.ty }; },
    firstPoint: function () {
      if (!data) return null;
      for (var i = 0; i < data.shown; i++) if (!hidden[data.label[i]]) return { x: sx(i), y: sy(i), id: data.ids[i] };
      return null;
    }
  };
})();
