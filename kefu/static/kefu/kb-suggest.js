/* Suggested knowledge-base articles as a customer types, for any form of a client's public
 * pages (the portal's new-request form, the help centre's search box).
 *
 * Mark a text field with data-kb-suggest="/p/<client code>/kb/suggest" and include this
 * file; a list of up to five matching articles appears under the field, each opening the
 * article (counted as read from a suggestion, for deflection). Nothing else is needed:
 * fields added later are found by delegation. */
(function () {
  "use strict";

  var timers = new WeakMap();
  var lastQuery = new WeakMap();

  function listFor(field) {
    var id = field.getAttribute("data-kb-suggest-list");
    var list = id ? document.getElementById(id) : null;
    if (list) { return list; }
    list = document.createElement("ul");
    list.className = "kb-suggest";
    list.id = "kb-suggest-" + Math.random().toString(36).slice(2);
    list.setAttribute("aria-live", "polite");
    list.setAttribute("data-kb-suggest-for", field.name || "");
    list.hidden = true;
    field.setAttribute("data-kb-suggest-list", list.id);
    field.insertAdjacentElement("afterend", list);
    return list;
  }

  function render(field, results) {
    var list = listFor(field);
    list.textContent = "";
    results.forEach(function (r) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = r.url;
      a.textContent = r.title;
      li.appendChild(a);
      if (r.snippet) {
        var small = document.createElement("small");
        small.className = "hint";
        small.textContent = " " + r.snippet;
        li.appendChild(small);
      }
      list.appendChild(li);
    });
    list.hidden = results.length === 0;
  }

  function lookup(field) {
    var q = field.value.trim();
    if (q === lastQuery.get(field)) { return; }
    lastQuery.set(field, q);
    if (q.length < 2) { render(field, []); return; }
    var url = field.getAttribute("data-kb-suggest") + "?q=" + encodeURIComponent(q.slice(0, 100));
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { results: [] }; })
      .then(function (data) { if (lastQuery.get(field) === q) { render(field, data.results || []); } })
      .catch(function () { render(field, []); });
  }

  document.addEventListener("input", function (e) {
    var field = e.target;
    if (!(field instanceof HTMLElement) || !field.hasAttribute("data-kb-suggest")) { return; }
    clearTimeout(timers.get(field));
    timers.set(field, setTimeout(function () { lookup(field); }, 250));
  });
})();
