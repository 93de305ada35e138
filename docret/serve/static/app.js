// Keyboard-first: "/" focuses the search box, j/k move between hits, Enter opens (links).
(function () {
  "use strict";
  var box = document.getElementById("q");
  document.querySelectorAll(".words .bar-w").forEach(function (bar) {
    var max = 0;
    bar.parentNode.parentNode.querySelectorAll(".bar-w").forEach(function (b) {
      max = Math.max(max, parseFloat(b.dataset.w) || 0);
    });
    var w = parseFloat(bar.dataset.w) || 0;
    bar.style.width = (max > 0 ? Math.max(2, (100 * w) / max) : 0) + "%";
  });
  function typing(target) {
    return target && (target.tagName === "INPUT" || target.tagName === "SELECT" || target.tagName === "TEXTAREA");
  }
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "Escape" && typing(e.target)) { e.target.blur(); return; }
    if (typing(e.target)) return;
    if (e.key === "/" && box) { e.preventDefault(); box.focus(); box.select(); return; }
    if (e.key === "j" || e.key === "k") {
      var links = Array.prototype.slice.call(document.querySelectorAll(".hit .title"));
      if (!links.length) return;
      var i = links.indexOf(document.activeElement);
      i = e.key === "j" ? Math.min(links.length - 1, i + 1) : Math.max(0, i - 1);
      links[i].focus();
      links[i].scrollIntoView({ block: "nearest" });
      e.preventDefault();
    }
  });
  if (box && box.hasAttribute("autofocus") && box.value) {
    var end = box.value.length; box.setSelectionRange(end, end);
  }
})();
