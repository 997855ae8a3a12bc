// Live SLA countdowns: every element with data-due (ISO 8601) shows the time left, or how
// long ago it passed. Loaded as a file (no inline script), so a strict CSP allows it.
(function () {
  "use strict";
  var lang = document.documentElement.lang || "zh-hans";
  var en = lang.indexOf("en") === 0;

  function format(ms) {
    var late = ms < 0;
    var s = Math.floor(Math.abs(ms) / 1000);
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600);
    var m = Math.floor((s % 3600) / 60), sec = s % 60;
    var text;
    if (d > 0) { text = en ? d + "d " + h + "h" : d + "天" + h + "小时"; }
    else if (h > 0) { text = en ? h + "h " + m + "m" : h + "小时" + m + "分"; }
    else { text = en ? m + "m " + sec + "s" : m + "分" + sec + "秒"; }
    if (late) { return en ? "overdue " + text : "已超 " + text; }
    return en ? text + " left" : "剩 " + text;
  }

  function tick() {
    var now = Date.now();
    var nodes = document.querySelectorAll("[data-due]");
    for (var i = 0; i < nodes.length; i++) {
      var due = Date.parse(nodes[i].getAttribute("data-due"));
      if (isNaN(due)) { continue; }
      var ms = due - now;
      nodes[i].textContent = format(ms);
      nodes[i].classList.toggle("late", ms < 0);
    }
  }

  document.addEventListener("DOMContentLoaded", tick);
  document.addEventListener("htmx:afterSwap", tick);
  setInterval(tick, 1000);
})();
