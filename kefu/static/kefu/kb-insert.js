/* Knowledge-base articles and canned replies into an agent's reply box.
 *
 * A tools block (kefu/kb/templates/kb/_insert_tools.html) sits beside a reply box: on the
 * ticket page next to the reply form, in the chat console in the side panel of each chat.
 * Its search box finds articles (text) or canned replies ("/退款"); typing "/word" in the
 * reply box itself (after a space, Chinese text or at the start; not inside a URL) offers
 * the canned replies whose shortcut starts with it. Choosing one
 * shows a preview (placeholders already filled by the server for this ticket); "insert"
 * puts it into the reply box (replacing the "/word" typed there), nothing is sent.
 * Works by delegation on the document, so blocks added later (chat panels) need nothing. */
(function () {
  "use strict";

  function toolsFor(node) {
    return node.closest("[data-kb-insert]");
  }

  function targetOf(tools) {
    var scope = tools.getAttribute("data-target-scope");
    var root = scope ? tools.closest(scope) : document;
    return root ? root.querySelector(tools.getAttribute("data-target")) : null;
  }

  function part(tools, name) {
    return tools.querySelector('[data-kb-part="' + name + '"]');
  }

  var timers = new WeakMap();

  function fetchResults(tools, text, slashFromBox) {
    var canned = text.charAt(0) === "/";
    var base = tools.getAttribute(canned ? "data-canned-url" : "data-articles-url");
    var url = base + (base.indexOf("?") < 0 ? "?" : "&") + "q=" + encodeURIComponent(text);
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { results: [] }; })
      .then(function (data) { show(tools, data.results || [], canned, slashFromBox); })
      .catch(function () { show(tools, [], canned, slashFromBox); });
  }

  function show(tools, results, canned, slashFromBox) {
    var list = part(tools, "results");
    list.textContent = "";
    tools.kbResults = results;
    tools.kbSlash = slashFromBox;
    results.forEach(function (r, i) {
      var li = document.createElement("li");
      var b = document.createElement("button");
      b.type = "button";
      b.className = "link";
      b.setAttribute("data-kb-pick", String(i));
      b.setAttribute("data-kb-kind", canned ? "canned" : "article");
      b.textContent = canned ? "/" + r.shortcut + " · " + r.title : r.title;
      li.appendChild(b);
      list.appendChild(li);
    });
    var empty = part(tools, "empty");
    empty.hidden = results.length > 0;
    list.hidden = results.length === 0;
    part(tools, "preview").hidden = true;
  }

  function schedule(tools, text, slashFromBox) {
    clearTimeout(timers.get(tools));
    if (!text || text === "/" && !slashFromBox) {
      part(tools, "results").hidden = true;
      part(tools, "empty").hidden = true;
      return;
    }
    timers.set(tools, setTimeout(function () { fetchResults(tools, text, slashFromBox); }, 200));
  }

  function pick(tools, index, kind) {
    var r = tools.kbResults[index];
    if (!r) { return; }
    tools.kbChosen = r;
    var preview = part(tools, "preview");
    part(tools, "preview-text").textContent = r.text;
    part(tools, "insert-link").hidden = kind !== "article";
    preview.hidden = false;
  }

  function insert(tools, text) {
    var box = targetOf(tools);
    if (!box) { return; }
    var value = box.value;
    var end = box.selectionEnd != null ? box.selectionEnd : value.length;
    var start = box.selectionStart != null ? box.selectionStart : end;
    if (tools.kbSlash) {
      var before = value.slice(0, end);
      var m = before.match(/(^|[^\w:\/.])\/[^\s\/]*$/);
      if (m) { start = end - m[0].length + m[1].length; }
    }
    box.value = value.slice(0, start) + text + value.slice(end);
    var caret = start + text.length;
    box.focus();
    box.setSelectionRange(caret, caret);
    box.dispatchEvent(new Event("input", { bubbles: true }));
    part(tools, "preview").hidden = true;
    part(tools, "results").hidden = true;
    tools.kbSlash = false;
  }

  document.addEventListener("input", function (e) {
    var node = e.target;
    if (!(node instanceof HTMLElement)) { return; }
    if (node.matches("[data-kb-part=query]")) {
      schedule(toolsFor(node), node.value.trim(), false);
      return;
    }
    document.querySelectorAll("[data-kb-insert]").forEach(function (tools) {
      if (targetOf(tools) !== node || tools.kbInserting) { return; }
      var before = node.value.slice(0, node.selectionEnd != null ? node.selectionEnd : node.value.length);
      var m = before.match(/(?:^|[^\w:\/.])(\/[^\s\/]*)$/);
      if (m) { schedule(tools, m[1], true); }
    });
  });

  document.addEventListener("click", function (e) {
    var node = e.target instanceof Element ? e.target.closest("button") : null;
    if (!node) { return; }
    var tools = toolsFor(node);
    if (!tools) { return; }
    if (node.hasAttribute("data-kb-pick")) {
      pick(tools, Number(node.getAttribute("data-kb-pick")), node.getAttribute("data-kb-kind"));
    } else if (node.matches("[data-kb-part=insert-text]") && tools.kbChosen) {
      tools.kbInserting = true;
      insert(tools, tools.kbChosen.text);
      tools.kbInserting = false;
    } else if (node.matches("[data-kb-part=insert-link]") && tools.kbChosen) {
      tools.kbInserting = true;
      insert(tools, tools.kbChosen.title + " " + tools.kbChosen.url);
      tools.kbInserting = false;
    } else if (node.matches("[data-kb-part=cancel]")) {
      part(tools, "preview").hidden = true;
    }
  });
})();
