// The queue's bulk edit: the ticked tickets (checkboxes that belong to #bulk-form) stay
// ticked when the list is fetched again by a live update, "select all" ticks the page, and
// the bar shows how many are ticked.
(function () {
  "use strict";
  var form = document.getElementById("bulk-form");
  var results = document.getElementById("queue-results");
  if (!form || !results) { return; }
  var picked = {};

  function boxes() { return results.querySelectorAll('input[name="ids"]'); }

  function show() {
    var n = Object.keys(picked).length;
    var label = document.getElementById("bulk-count");
    label.textContent = label.getAttribute("data-template").replace("{n}", n);
    form.hidden = n === 0;
    var all = document.getElementById("pick-all");
    if (all) {
      var list = boxes();
      all.checked = list.length > 0 && Array.prototype.every.call(list, function (b) { return b.checked; });
    }
  }

  results.addEventListener("change", function (e) {
    var box = e.target;
    if (box.id === "pick-all") {
      Array.prototype.forEach.call(boxes(), function (b) {
        b.checked = box.checked;
        if (box.checked) { picked[b.value] = true; } else { delete picked[b.value]; }
      });
    } else if (box.name === "ids") {
      if (box.checked) { picked[box.value] = true; } else { delete picked[box.value]; }
    }
    show();
  });

  // A live refresh replaces the rows: tick again what was ticked.
  document.body.addEventListener("htmx:afterSwap", function (e) {
    if (e.target !== results) { return; }
    Array.prototype.forEach.call(boxes(), function (b) { b.checked = !!picked[b.value]; });
    show();
  });

  // Ticked tickets that scrolled off the page (another filter, a refresh) still count:
  // send them too.
  form.addEventListener("submit", function () {
    var shown = {};
    Array.prototype.forEach.call(boxes(), function (b) { shown[b.value] = true; });
    Object.keys(picked).forEach(function (id) {
      if (!shown[id]) {
        var hidden = document.createElement("input");
        hidden.type = "hidden"; hidden.name = "ids"; hidden.value = id;
        form.appendChild(hidden);
      }
    });
  });
  show();
}());
