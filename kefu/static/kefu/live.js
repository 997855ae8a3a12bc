// Live pages over WebSockets (kefu/core/realtime.py). Each element with data-live opens a
// socket to that path; events carry ids only, and the page fetches what changed through its
// own view with HTMX (so what it shows is scoped and masked exactly as on a reload).
// - the bell (#bell): unread count and the latest notification;
// - a queue (#queue-results): its list is fetched again when a ticket there changes;
// - a ticket (#ticket-live): new messages and changes appear, with who else is viewing and
//   typing, and a warning in the reply form while someone else is replying.
(function () {
  "use strict";

  // The element is marked data-connected while its socket is open.
  function connect(el, onEvent) {
    var path = el.getAttribute("data-live");
    var socket = null;
    var delay = 1000;
    var opened = false;
    function open() {
      var scheme = location.protocol === "https:" ? "wss://" : "ws://";
      socket = new WebSocket(scheme + location.host + path);
      socket.onopen = function () {
        delay = 1000;
        el.setAttribute("data-connected", "");
        // Events sent while the socket was down are lost: catch up once reconnected.
        if (opened) { onEvent({ type: "reconnected" }); }
        opened = true;
      };
      socket.onmessage = function (e) { onEvent(JSON.parse(e.data)); };
      socket.onclose = function (e) {
        el.removeAttribute("data-connected");
        if (e.code === 4401) { return; }  // logged out: a reload asks for the login
        setTimeout(open, delay);
        delay = Math.min(delay * 2, 30000);
      };
    }
    open();
    return function send(obj) {
      if (socket && socket.readyState === WebSocket.OPEN) { socket.send(JSON.stringify(obj)); }
    };
  }

  // Fetching a part again: the events of a moment cost one fetch, a part is fetched at most
  // once every 1.5 s however busy its queue, and pages spread their fetches over a few
  // hundred milliseconds, so 200 open pages do not all ask at once.
  var pending = {};
  var lastRun = {};
  function refresh(id) {
    if (pending[id]) { return; }
    var wait = Math.max(150 + Math.random() * 350, (lastRun[id] || 0) + 1500 - Date.now());
    pending[id] = setTimeout(function () {
      pending[id] = null;
      lastRun[id] = Date.now();
      if (document.getElementById(id) && window.htmx) {
        window.htmx.ajax("GET", location.href, { target: "#" + id, swap: "innerHTML" });
      }
    }, wait);
  }

  function bell(el) {
    var count = document.getElementById("bell-count");
    var latest = document.getElementById("bell-latest");
    var panel = document.getElementById("bell-panel");
    // The bell opens its drop-down (the latest ten) instead of the page; a second click or
    // a click elsewhere closes it.
    el.addEventListener("click", function (e) {
      if (!window.htmx) { return; }
      e.preventDefault();
      if (!panel.hidden) { panel.hidden = true; return; }
      window.htmx.ajax("GET", el.getAttribute("href"), { target: "#bell-panel", swap: "innerHTML" })
        .then(function () { panel.hidden = false; });
    });
    document.addEventListener("click", function (e) {
      if (!panel.hidden && !panel.contains(e.target) && !el.contains(e.target)) { panel.hidden = true; }
    });
    function show(n) {
      count.textContent = n > 99 ? "99+" : String(n);
      count.hidden = n === 0;
    }
    connect(el, function (e) {
      if (e.type === "unread" || e.type === "notification.read") { show(e.unread !== undefined ? e.unread : e.count); }
      if (e.type === "notification") {
        show(e.unread);
        var link = latest.querySelector("a");
        link.textContent = e.text;
        link.setAttribute("href", e.url);
        latest.hidden = false;
      }
    });
  }

  function queue(el) {
    connect(el, function (e) {
      if (e.type === "reconnected") { viewers = {}; render(); }
      if (e.type === "ticket.changed" || e.type === "reconnected") { refresh("queue-results"); }
    });
  }

  function ticket(el) {
    var me = el.getAttribute("data-me");
    var words = {
      viewing: el.getAttribute("data-viewing"),
      typing: el.getAttribute("data-typing"),
      replied: el.getAttribute("data-replied"),
      and: el.getAttribute("data-and"),
    };
    var line = document.getElementById("presence");
    var warning = document.getElementById("reply-warning");
    var reply = document.querySelector("#reply-form textarea");
    var viewers = {};  // page -> {user, name, typingUntil, seen}
    var repliedBy = "";

    function names(filter) {
      var seen = {};
      var out = [];
      Object.keys(viewers).forEach(function (page) {
        var v = viewers[page];
        if (String(v.user) !== me && !seen[v.user] && filter(v)) { seen[v.user] = true; out.push(v.name); }
      });
      return out;
    }

    function render() {
      var now = Date.now();
      Object.keys(viewers).forEach(function (page) {
        // A page not heard of for 75 s (it says "present" every 30 s) has gone.
        if (now - viewers[page].seen > 75000) { delete viewers[page]; }
      });
      var watching = names(function () { return true; });
      var typing = names(function (v) { return v.typingUntil > now; });
      line.textContent = watching.length ? watching.join(words.and) + " " + words.viewing : "";
      el.hidden = watching.length === 0;
      if (!warning) { return; }
      var text = typing.length ? typing.join(words.and) + " " + words.typing : "";
      if (!text && repliedBy && reply && reply.value.trim()) { text = repliedBy + " " + words.replied; }
      warning.textContent = text;
      warning.hidden = !text;
    }

    var send = connect(el, function (e) {
      if (e.type === "presence") {
        if (e.event === "leave") { delete viewers[e.page]; }
        else {
          var v = viewers[e.page] || { user: e.user, name: e.name, typingUntil: 0 };
          v.seen = Date.now();
          if (e.event === "typing") { v.typingUntil = Date.now() + 5000; }
          viewers[e.page] = v;
        }
        render();
        return;
      }
      if (e.type === "ticket.message") {
        if (e.direction === "out" && e.author && String(e.author) !== me) {
          Object.keys(viewers).forEach(function (page) {
            if (String(viewers[page].user) === String(e.author)) {
              viewers[page].typingUntil = 0;
              repliedBy = viewers[page].name;
            }
          });
          render();
        }
        refresh("ticket-messages");
        refresh("ticket-head");
      }
      if (e.type === "reconnected") { viewers = {}; render(); }
      if (e.type === "ticket.changed" || e.type === "reconnected") {
        refresh("ticket-messages");
        refresh("ticket-head");
      }
    });

    if (reply) {
      var last = 0;
      reply.addEventListener("input", function () {
        var now = Date.now();
        if (now - last > 1500) { last = now; send({ type: "typing" }); }
        render();
      });
    }
    setInterval(render, 1000);
    setInterval(function () { send({ type: "present" }); }, 30000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!("WebSocket" in window)) { return; }
    var el = document.getElementById("bell");
    if (el) { bell(el); }
    el = document.getElementById("queue-results");
    if (el && el.getAttribute("data-live")) { queue(el); }
    el = document.getElementById("ticket-live");
    if (el) { ticket(el); }
  });
})();
