// Keyboard shortcuts for provider staff (the list is the #shortcuts-help dialog, opened
// with "?"). Keys do nothing while the user types in a field, or with Ctrl, Alt or Meta.
(function () {
  "use strict";
  var help = document.getElementById("shortcuts-help");
  if (!help) { return; }
  var pendingG = 0;

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("#queue-results table.queue tbody tr[data-href]"));
  }

  function move(step) {
    var list = rows();
    if (!list.length) { return; }
    var at = list.findIndex(function (r) { return r.classList.contains("kbd-current"); });
    var next = Math.max(0, Math.min(list.length - 1, at + step));
    if (at >= 0) { list[at].classList.remove("kbd-current"); }
    list[next].classList.add("kbd-current");
    list[next].scrollIntoView({ block: "nearest" });
  }

  function focus(selector) {
    var el = document.querySelector(selector);
    if (!el) { return false; }
    el.scrollIntoView({ block: "center" });
    el.focus();
    return true;
  }

  function submit(formId) {
    var form = document.getElementById(formId);
    if (form) { form.requestSubmit(); return true; }
    return false;
  }

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.altKey || e.metaKey || typing(e.target)) { return; }
    var key = e.key;
    if (key === "?") {
      if (help.open) { help.close(); } else { help.showModal(); }
      e.preventDefault();
      return;
    }
    if (help.open) { return; }
    if (pendingG && Date.now() - pendingG < 1000 && key === "q") {
      pendingG = 0;
      location.href = "/tickets/";
      return;
    }
    pendingG = key === "g" ? Date.now() : 0;
    var done = false;
    if (key === "j") { move(1); done = true; }
    else if (key === "k") { move(-1); done = true; }
    else if (key === "o" || key === "Enter") {
      var current = document.querySelector("#queue-results tr.kbd-current[data-href]");
      if (current) { location.href = current.getAttribute("data-href"); done = true; }
    }
    else if (key === "r") { done = focus("#reply-form textarea[name=body]"); }
    else if (key === "n") { done = focus("#note-form textarea[name=body]"); }
    else if (key === "s") { done = focus("#status-form select[name=status]"); }
    else if (key === "a") { done = submit("assign-me-form"); }
    else if (key === "]") {
      var next = document.getElementById("next-ticket");
      if (next) { location.href = next.getAttribute("href"); done = true; }
    }
    if (done) { e.preventDefault(); }
  });
}());
