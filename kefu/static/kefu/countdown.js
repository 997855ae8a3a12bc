// Live SLA countdowns: every element with data-due (ISO 8601) shows the time left, or how
// long ago it passed, in the words and units the server renders first
// (kefu/core/templatetags/duetime.py). Loaded as a file (no inline script), so a strict
// CSP allows it.
(function () {
  "use strict";
  var lang = document.documentElement.lang || "zh-hans";
  var en = lang.indexOf("en") === 0;

  function two(big, bigUnit, small, smallUnit) {
    if (en) { return big + " " + bigUnit + (small ? " " + small + " " + smallUnit : ""); }
    return big + bigUnit + (small ? small + smallUnit : "");
  }

  function duration(s) {
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600);
    var m = Math.floor((s % 3600) / 60), sec = s % 60;
    if (d > 0) { return two(d, en ? "d" : "天", h, en ? "h" : "小时"); }
    if (h > 0) { return two(h, en ? "h" : "小时", m, en ? "min" : "分"); }
    if (m > 0) { return two(m, en ? "min" : "分", sec, en ? "s" : "秒"); }
    return en ? sec + " s" : sec + "秒";
  }

  function format(ms) {
    var text = duration(Math.floor(Math.abs(ms) / 1000));
    if (ms < 0) { return en ? "overdue " + text : "已超时 " + text; }
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
