// The supervisor's live chat view (/chat/live/, /chat/clients/<code>/live/). Its socket
// (kefu/chat/live_consumers.py) says only that a client's chats or an agent's presence
// changed; the table (#chat-board) is then fetched again through the page's own view, so it
// shows what the supervisor may see, masked as on any page. Waiting times tick every second.
(function () {
  "use strict";

  function elapsed(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    var two = function (n) { return ("0" + n).slice(-2); };
    return h ? h + ":" + two(m) + ":" + two(sec) : m + ":" + two(sec);
  }

  function tick() {
    var now = Date.now();
    var nodes = document.querySelectorAll("#chat-board [data-since]");
    for (var i = 0; i < nodes.length; i++) {
      var since = Date.parse(nodes[i].getAttribute("data-since"));
      if (!isNaN(since)) { nodes[i].textContent = elapsed(now - since); }
    }
  }

  // One fetch for the events of a moment, and at most one every 1.5 s (as live.js does).
  var pending = null;
  var lastRun = 0;
  function refresh() {
    if (pending) { return; }
    var wait = Math.max(150 + Math.random() * 350, lastRun + 1500 - Date.now());
    pending = setTimeout(function () {
      pending = null;
      lastRun = Date.now();
      if (window.htmx) {
        window.htmx.ajax("GET", location.pathname, { target: "#chat-board", swap: "innerHTML" });
      }
    }, wait);
  }

  function connect(board) {
    var path = board.getAttribute("data-live");
    var status = document.getElementById("chat-live-conn");
    var delay = 1000;
    var opened = false;
    function show(ok) {
      if (!status) { return; }
      status.textContent = board.getAttribute(ok ? "data-connected-text" : "data-reconnecting-text");
      status.setAttribute("data-state", ok ? "ok" : "down");
    }
    function open() {
      var scheme = location.protocol === "https:" ? "wss://" : "ws://";
      var socket = new WebSocket(scheme + location.host + path);
      socket.onopen = function () {
        delay = 1000;
        board.setAttribute("data-connected", "");
        show(true);
        if (opened) { refresh(); }  // what changed while the socket was down
        opened = true;
      };
      socket.onmessage = function (e) {
        var event = JSON.parse(e.data);
        if (event.type === "chats" || event.type === "presence") { refresh(); }
      };
      socket.onclose = function (e) {
        board.removeAttribute("data-connected");
        show(false);
        if (e.code === 4401 || e.code === 4404) { return; }
        setTimeout(open, delay);
        delay = Math.min(delay * 2, 30000);
      };
    }
    open();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var board = document.getElementById("chat-board");
    if (!board) { return; }
    tick();
    setInterval(tick, 1000);
    document.addEventListener("htmx:afterSwap", tick);
    if ("WebSocket" in window) { connect(board); }
  });
})();
