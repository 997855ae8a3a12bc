// The agent's chat console (/chat/console/) over the agent socket ws/chat/agent/ (the
// protocol is in the README's "Live chat" section). Presence and maximum chats; offers with
// their countdown; each chat a panel with its transcript, delivery state of the agent's
// messages (sending until the customer's widget acknowledges it, then delivered, then read),
// typing both ways, end, transfer and wrap-up. What the page shows about a chat beyond its
// transcript (the customer's other tickets, the forms) is HTML from the server, fetched per
// chat. A supervisor's console also shows the chats they listen to (?listen=<id>): read-only,
// nobody in the chat is told, with a button to take the chat over.
// Stable attributes for tests: data-kefu-console="presence|offer|accept|chat|messages|input|
// send|end|wrapup", data-conversation on offers and chats, data-kefu-from on messages.
(function () {
  "use strict";

  var root, words, clients, send;
  var chats = {};        // conversation id -> chat (see makeChat)
  var offers = {};       // conversation id -> offer card state
  var listening = {};    // ids opened to listen in (not handled by this user)
  var wanted = {};       // ids the user just accepted or took over: shown when they open
  var activeId = null;
  var counter = 0;

  function t(key, vars) {
    var s = words[key] || key;
    Object.keys(vars || {}).forEach(function (k) { s = s.split("{" + k + "}").join(String(vars[k])); });
    return s;
  }

  function q(sel, within) { return (within || root).querySelector("[data-kefu-console=\"" + sel + "\"]"); }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "class") { node.className = attrs[k]; } else { node.setAttribute(k, attrs[k]); }
    });
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function url(attr, id) { return root.getAttribute(attr).replace(/\/0\/$/, "/" + id + "/"); }

  // Times in the page's time zone (as kefu's other pages show them), whatever the browser's.
  var timeFormat = null;
  function clock(iso) {
    var d = iso ? new Date(iso) : new Date();
    if (isNaN(d.getTime())) { return ""; }
    if (timeFormat === null) {
      try {
        timeFormat = new Intl.DateTimeFormat("en-GB", {
          hour: "2-digit", minute: "2-digit", hour12: false,
          timeZone: root.getAttribute("data-time-zone") || undefined,
        });
      } catch (e) { timeFormat = false; }
    }
    if (timeFormat) { return timeFormat.format(d); }
    return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
  }

  function elapsed(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    var mmss = ("0" + m).slice(-2) + ":" + ("0" + sec).slice(-2);
    return h ? h + ":" + mmss : m + ":" + ("0" + sec).slice(-2);
  }

  // --- errors and connection ------------------------------------------------------------

  var errorTimer = null;
  function showError(text) {
    var box = q("error");
    box.textContent = text;
    box.hidden = false;
    clearTimeout(errorTimer);
    errorTimer = setTimeout(function () { box.hidden = true; }, 8000);
  }

  function setConnection(state) {
    var node = q("connection");
    node.textContent = t(state);
    node.setAttribute("data-state", state === "connected" ? "ok" : "down");
    root.toggleAttribute("data-connected", state === "connected");
  }

  function connect(path, onEvent) {
    var socket = null;
    var delay = 1000;
    function open() {
      var scheme = location.protocol === "https:" ? "wss://" : "ws://";
      socket = new WebSocket(scheme + location.host + path);
      socket.onopen = function () { delay = 1000; setConnection("connected"); };
      socket.onmessage = function (e) { onEvent(JSON.parse(e.data)); };
      socket.onclose = function (e) {
        if (e.code === 4401) { setConnection("logged_out"); return; }
        if (e.code === 4404) { setConnection("logged_out"); return; }
        setConnection("reconnecting");
        setTimeout(open, delay);
        delay = Math.min(delay * 2, 30000);
      };
    }
    open();
    return function (obj) {
      if (socket && socket.readyState === WebSocket.OPEN) { socket.send(JSON.stringify(obj)); return true; }
      return false;
    };
  }

  // --- presence -------------------------------------------------------------------------

  function setPresence(state, max) {
    var select = q("presence");
    if (state) { select.value = state; select.className = "presence-" + state; }
    if (max) { q("max-chats").value = max; }
  }

  // --- offers ---------------------------------------------------------------------------

  function addOffer(o) {
    var id = o.conversation;
    removeOffer(id);
    var deadline = o.seconds ? Date.now() + o.seconds * 1000 : Date.parse(o.expires_at);
    var card = el("article", { "class": "chat-offer", "data-kefu-console": "offer", "data-conversation": String(id) });
    card.appendChild(el("strong", {}, o.transfer ? t("offer_transfer") : t("offer")));
    card.appendChild(el("span", {}, clients[String(o.client)] || ""));
    var waited = el("span", { "class": "hint" });
    var left = el("span", { "class": "countdown" });
    card.appendChild(waited);
    card.appendChild(left);
    var actions = el("span", { "class": "chat-offer-actions" });
    var accept = el("button", { "type": "button", "class": "primary", "data-kefu-console": "accept" }, t("accept"));
    var decline = el("button", { "type": "button", "data-kefu-console": "decline" }, t("decline"));
    actions.appendChild(accept);
    actions.appendChild(decline);
    card.appendChild(actions);
    accept.addEventListener("click", function () {
      accept.disabled = decline.disabled = true;
      wanted[id] = true;
      send({ type: "accept", conversation: id });
    });
    decline.addEventListener("click", function () {
      send({ type: "decline", conversation: id });
      removeOffer(id);
    });
    q("offers").appendChild(card);
    offers[id] = { card: card, deadline: deadline, queued: Date.parse(o.queued_at), waited: waited, left: left, buttons: [accept, decline] };
    tickOffers();
    updateTitle();
  }

  function removeOffer(id) {
    var o = offers[id];
    if (!o) { return; }
    o.card.remove();
    delete offers[id];
    updateTitle();
  }

  function tickOffers() {
    var now = Date.now();
    Object.keys(offers).forEach(function (id) {
      var o = offers[id];
      if (!isNaN(o.queued)) { o.waited.textContent = t("queued_for", { t: elapsed(now - o.queued) }); }
      var s = Math.ceil((o.deadline - now) / 1000);
      if (isNaN(s)) { o.left.textContent = ""; return; }
      if (s > 0) { o.left.textContent = t("left", { s: s }); return; }
      o.left.textContent = t("expired");
      o.card.classList.add("expired");
      o.buttons.forEach(function (b) { b.disabled = true; });
      // The server passes the offer on (offer_withdrawn); a card it never withdraws goes.
      if (s < -5) { removeOffer(id); }
    });
  }

  var baseTitle = document.title;
  function updateTitle() {
    var n = Object.keys(offers).length;
    document.title = n ? "(" + n + ") " + baseTitle : baseTitle;
  }

  // --- chats ----------------------------------------------------------------------------

  function makeChat(id) {
    var panel = el("section", { "class": "chat-panel", "data-kefu-console": "chat", "data-conversation": String(id) });
    var header = el("header");
    var who = el("span", { "class": "chat-who" }, "#" + id);
    var client = el("span", { "class": "hint chat-client" });
    var ticket = el("a", { "class": "chat-ticket", "target": "_blank", "rel": "noopener" });
    var status = el("span", { "class": "badge chat-status" });
    header.appendChild(who);
    header.appendChild(client);
    header.appendChild(ticket);
    header.appendChild(status);
    panel.appendChild(header);
    var note = el("p", { "class": "chat-listening" }, t("listening"));
    note.hidden = true;
    panel.appendChild(note);
    var list = el("ol", { "class": "chat-messages", "data-kefu-console": "messages", "aria-live": "polite" });
    panel.appendChild(list);
    var typing = el("p", { "class": "chat-typing", "aria-live": "polite" });
    panel.appendChild(typing);
    var compose = el("div", { "class": "chat-compose" });
    var input = el("textarea", { "rows": "2", "data-kefu-console": "input", "placeholder": t("placeholder"), "aria-label": t("send") });
    var sendBtn = el("button", { "type": "button", "class": "primary", "data-kefu-console": "send" }, t("send"));
    compose.appendChild(input);
    compose.appendChild(sendBtn);
    panel.appendChild(compose);
    var actions = el("div", { "class": "chat-actions" });
    var endBtn = el("button", { "type": "button", "data-kefu-console": "end" }, t("end"));
    var takeBtn = el("button", { "type": "button", "data-kefu-console": "take-over" }, t("take_over"));
    var closeBtn = el("button", { "type": "button", "data-kefu-console": "close-view" }, t("close"));
    takeBtn.hidden = true;
    closeBtn.hidden = true;
    actions.appendChild(endBtn);
    actions.appendChild(takeBtn);
    actions.appendChild(closeBtn);
    panel.appendChild(actions);
    var side = el("div", { "class": "chat-side" });
    panel.appendChild(side);

    var tab = el("button", { "type": "button", "class": "chat-tab", "role": "tab", "aria-selected": "false" });
    var tabLabel = el("span", {}, "#" + id);
    var tabBadge = el("span", { "class": "badge" });
    tabBadge.hidden = true;
    tab.appendChild(tabLabel);
    tab.appendChild(tabBadge);

    var chat = {
      id: id, panel: panel, list: list, compose: compose, input: input, sendBtn: sendBtn, endBtn: endBtn,
      takeBtn: takeBtn, closeBtn: closeBtn, side: side, who: who, client: client, ticket: ticket,
      statusEl: status, note: note, typing: typing, tab: tab, tabLabel: tabLabel, tabBadge: tabBadge,
      status: null, messages: {}, pending: {}, customerRead: 0, delivered: {}, lastReadSent: 0,
      unread: 0, typingTimer: null, lastTyping: 0, sideLoaded: false, closed: false, transferred: false,
    };

    sendBtn.addEventListener("click", function () { submit(chat); });
    input.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        submit(chat);
      }
    });
    input.addEventListener("input", function () {
      var now = Date.now();
      if (chat.status === "active" && !isListening(chat) && now - chat.lastTyping > 1500) {
        chat.lastTyping = now;
        send({ type: "typing", conversation: id });
      }
    });
    endBtn.addEventListener("click", function () {
      endBtn.disabled = true;
      send({ type: "end", conversation: id });
    });
    takeBtn.addEventListener("click", function () {
      takeBtn.disabled = true;
      // The consumer answers with the chat opened again, as ours.
      chat.takingOver = true;
      wanted[id] = true;
      send({ type: "take_over", conversation: id });
    });
    closeBtn.addEventListener("click", function () { closeChat(chat); });
    tab.addEventListener("click", function () { activate(id, true); });
    panel.addEventListener("focusin", function () { if (activeId !== id) { activate(id, false); } });

    q("chats").appendChild(panel);
    q("tabs").appendChild(tab);
    chats[id] = chat;
    refreshEmpty();
    if (activeId === null || !chats[activeId] || chats[activeId].closed) { activate(id, false); }
    return chat;
  }

  function isListening(chat) { return !!listening[chat.id]; }

  function refreshEmpty() {
    var open = Object.keys(chats).filter(function (k) { return !chats[k].closed; });
    q("no-chats").hidden = open.length > 0;
    q("tabs").hidden = open.length === 0;
  }

  function activate(id, scroll) {
    activeId = id;
    Object.keys(chats).forEach(function (k) {
      var c = chats[k];
      var on = String(k) === String(id);
      c.panel.classList.toggle("is-active", on);
      c.tab.setAttribute("aria-selected", on ? "true" : "false");
    });
    var chat = chats[id];
    if (!chat) { return; }
    chat.unread = 0;
    renderTab(chat);
    if (scroll && chat.panel.scrollIntoView && window.matchMedia("(min-width: 701px)").matches) {
      chat.panel.scrollIntoView({ block: "nearest", behavior: "smooth" });
    }
    scrollDown(chat);
    markRead(chat);
  }

  function closeChat(chat) {
    if (isListening(chat)) { send({ type: "close_view", conversation: chat.id }); }
    delete listening[chat.id];
    chat.closed = true;
    chat.panel.remove();
    chat.tab.remove();
    delete chats[chat.id];
    if (String(activeId) === String(chat.id)) {
      activeId = null;
      var rest = Object.keys(chats);
      if (rest.length) { activate(rest[0], false); }
    }
    refreshEmpty();
  }

  function renderTab(chat) {
    chat.tabLabel.textContent = chat.label || "#" + chat.id;
    chat.tabBadge.textContent = String(chat.unread);
    chat.tabBadge.hidden = chat.unread === 0;
    chat.tab.className = "chat-tab st-" + (chat.status || "waiting");
  }

  function visible(chat) {
    return document.visibilityState === "visible" && chat.panel.offsetParent !== null;
  }

  function scrollDown(chat) { chat.list.scrollTop = chat.list.scrollHeight; }

  function setStatus(chat, status) {
    if (!status) { return; }
    chat.status = status;
    chat.statusEl.textContent = t("status_" + status);
    chat.statusEl.className = "badge chat-status st-" + status;
    var watching = isListening(chat);
    var live = status === "active" && !watching && !chat.transferred && !chat.takenOver;
    chat.input.disabled = !live;
    chat.sendBtn.disabled = !live;
    chat.compose.hidden = !live;
    chat.endBtn.hidden = watching || chat.transferred || chat.takenOver || status === "ended" || status === "message";
    chat.endBtn.disabled = false;
    chat.takeBtn.hidden = !(watching && root.hasAttribute("data-supervisor") && (status === "active" || status === "waiting"));
    chat.takeBtn.disabled = false;
    chat.note.hidden = !watching;
    chat.panel.classList.toggle("listening", watching);
    var over = status === "ended" || status === "message";
    chat.closeBtn.hidden = !(watching || chat.transferred || chat.takenOver || (over && chat.wrapped));
    var wrapup = q("wrapup", chat.side);
    if (wrapup) { wrapup.hidden = !over || watching; }
    var transfer = q("transfer-box", chat.side);
    if (transfer) { transfer.hidden = status !== "active" || watching || chat.transferred; }
    renderTab(chat);
  }

  function system(chat, text, at) {
    var item = el("li", { "class": "chat-msg from-system", "data-kefu-from": "system" });
    item.textContent = text + " · " + clock(at);
    chat.list.appendChild(item);
    scrollDown(chat);
  }

  function stateOf(chat, id) {
    if (id <= chat.customerRead) { return "read"; }
    if (chat.delivered[id]) { return "delivered"; }
    return "sending";
  }

  function setState(item, state, title) {
    var label = item.querySelector(".chat-state");
    if (!label) { return; }
    label.setAttribute("data-state", state);
    label.textContent = t(state);
    if (title) { label.title = title; }
    item.setAttribute("data-state", state);
  }

  function messageItem(m) {
    var from = m.from === "agent" ? "agent" : "customer";
    var item = el("li", { "class": "chat-msg from-" + from, "data-kefu-from": from });
    item.appendChild(el("div", { "class": "chat-bubble" }, m.text || ""));
    if (m.attachments && m.attachments.length) {
      var files = el("div", { "class": "chat-attachments" });
      m.attachments.forEach(function (a) {
        files.appendChild(el("a", { "href": url("data-attachment-url", a.id), "target": "_blank", "rel": "noopener" }, t("attachment") + ": " + a.name));
      });
      item.querySelector(".chat-bubble").appendChild(files);
    }
    var meta = el("div", { "class": "chat-meta" });
    var when = el("time", { "datetime": m.at || "" }, clock(m.at));
    meta.appendChild(when);
    if (from === "agent") {
      if (m.author) { meta.insertBefore(document.createTextNode(m.author + " · "), when); }
      meta.appendChild(document.createTextNode(" · "));
      meta.appendChild(el("span", { "class": "chat-state" }));
    }
    item.appendChild(meta);
    return item;
  }

  // Messages with an id keep the server's order (a replay may bring older ones); the
  // agent's own, not yet acknowledged, stay at the end.
  function place(chat, item, id) {
    var after = null;
    var nodes = chat.list.children;
    for (var i = 0; i < nodes.length; i++) {
      var other = Number(nodes[i].getAttribute("data-id"));
      if (other && other > id) { after = nodes[i]; break; }
    }
    chat.list.insertBefore(item, after);
  }

  // The push of an agent message may come before its acknowledgement (or instead of it,
  // after a reconnect): it is the oldest message still sending with the same text.
  function adopt(chat, m) {
    var cids = Object.keys(chat.pending);
    for (var i = 0; i < cids.length; i++) {
      var item = chat.pending[cids[i]];
      if (item.querySelector(".chat-bubble").textContent === (m.text || "")) {
        delete chat.pending[cids[i]];
        return item;
      }
    }
    return null;
  }

  function addMessage(chat, m, quiet) {
    if (chat.messages[m.id]) { return; }
    var item = m.from === "agent" ? adopt(chat, m) : null;
    if (item) { item.remove(); } else { item = messageItem(m); }
    item.setAttribute("data-id", String(m.id));
    chat.messages[m.id] = item;
    place(chat, item, m.id);
    if (m.from === "agent") { setState(item, stateOf(chat, m.id)); }
    if (m.from === "customer" && !quiet) {
      chat.typing.textContent = "";
      if (!visible(chat)) { chat.unread += 1; renderTab(chat); }
    }
    scrollDown(chat);
    markRead(chat);
  }

  function markRead(chat) {
    if (isListening(chat) || !visible(chat)) { return; }
    var top = 0;
    Object.keys(chat.messages).forEach(function (id) {
      var n = Number(id);
      if (chat.messages[id].getAttribute("data-kefu-from") === "customer" && n > top) { top = n; }
    });
    if (top > chat.lastReadSent) {
      chat.lastReadSent = top;
      send({ type: "read", conversation: chat.id, id: top });
    }
  }

  function submit(chat) {
    var text = chat.input.value.trim();
    if (!text || chat.input.disabled) { return; }
    counter += 1;
    var cid = "a-" + Date.now().toString(36) + "-" + counter;
    var item = messageItem({ from: "agent", text: text, at: new Date().toISOString(), author: root.getAttribute("data-me-name") });
    item.setAttribute("data-cid", cid);
    chat.list.appendChild(item);
    chat.pending[cid] = item;
    if (send({ type: "message", conversation: chat.id, cid: cid, text: text })) {
      setState(item, "sending");
      chat.input.value = "";
    } else {
      setState(item, "failed", t("reconnecting"));
      delete chat.pending[cid];
    }
    scrollDown(chat);
    chat.input.focus();
  }

  function acked(e) {
    var chat = chats[e.conversation];
    if (!chat) { return; }
    var item = chat.pending[e.cid];
    delete chat.pending[e.cid];
    if (!item) { return; }
    if (chat.messages[e.id]) { item.remove(); return; }  // its push came first
    item.setAttribute("data-id", String(e.id));
    chat.messages[e.id] = item;
    setState(item, stateOf(chat, e.id));
  }

  function markAgentMessages(chat) {
    Object.keys(chat.messages).forEach(function (id) {
      var item = chat.messages[id];
      if (item.getAttribute("data-kefu-from") === "agent") { setState(item, stateOf(chat, Number(id))); }
    });
  }

  function showTyping(chat) {
    chat.typing.textContent = t("typing");
    clearTimeout(chat.typingTimer);
    chat.typingTimer = setTimeout(function () { chat.typing.textContent = ""; }, 4000);
  }

  function onConversation(e) {
    var id = e.conversation;
    var chat = chats[id] || makeChat(id);
    var wasListening = isListening(chat);
    if (chat.takingOver) { delete listening[id]; chat.takingOver = false; }
    if (!isListening(chat)) {
      // Ours (again): a chat transferred back, or accepted after a colleague passed it on.
      chat.transferred = chat.takenOver = false;
    }
    chat.client.textContent = e.client || "";
    if (e.ticket) {
      chat.ticket.textContent = e.ticket;
      chat.ticket.setAttribute("href", url("data-ticket-url", e.ticket_id));
    }
    chat.customerRead = Math.max(chat.customerRead, e.customer_read || 0);
    (e.delivered || []).forEach(function (mid) { chat.delivered[mid] = true; });
    (e.messages || []).forEach(function (m) { addMessage(chat, m, true); });
    markAgentMessages(chat);
    setStatus(chat, e.status);
    removeOffer(id);
    if (!chat.sideLoaded || wasListening !== isListening(chat) || wanted[id]) { loadSide(chat); }
    if (wanted[id]) { delete wanted[id]; activate(id, true); }
  }

  function onStatus(e) {
    var chat = chats[e.conversation];
    if (!chat) { return; }
    var before = chat.status;
    if (e.status === "active" && before !== "active" && e.agent) { system(chat, t("joined", { name: e.agent })); }
    if (e.status === "ended" && before !== "ended") { system(chat, t("ended_" + (e.by || "agent"))); }
    setStatus(chat, e.status);
  }

  // --- what the server renders beside a chat ---------------------------------------------

  function loadSide(chat) {
    chat.sideLoaded = true;
    fetch(url("data-conversation-url", chat.id), { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        chat.side.innerHTML = html;
        var inner = chat.side.firstElementChild;
        if (inner && inner.getAttribute("data-label")) {
          chat.label = inner.getAttribute("data-label");
          chat.who.textContent = chat.label;
        }
        chat.wrapped = !!(inner && inner.getAttribute("data-wrapped") === "1");
        bindSide(chat);
        setStatus(chat, chat.status);
      })
      .catch(function () { chat.sideLoaded = false; });
  }

  function bindSide(chat) {
    ["wrapup", "transfer"].forEach(function (name) {
      var form = q(name, chat.side);
      if (form && !form.hasAttribute("data-bound")) {
        form.setAttribute("data-bound", "");
        form.addEventListener("submit", function (e) { e.preventDefault(); post(chat, form, name); });
      }
    });
  }

  function post(chat, form, name) {
    var button = form.querySelector("button[type=submit]");
    if (button) { button.disabled = true; }
    fetch(form.getAttribute("action"), {
      method: "POST", body: new FormData(form), headers: { "HX-Request": "true" }, credentials: "same-origin",
    }).then(function (r) {
      return r.text().then(function (html) { return { ok: r.ok, status: r.status, html: html }; });
    }).then(function (res) {
      if (res.status === 403 || res.status === 404 || (!res.ok && res.status !== 400)) {
        if (button) { button.disabled = false; }
        showError(t("failed") + " (" + res.status + ")");
        return;
      }
      var holder = name === "transfer" ? q("transfer-box", chat.side) : form;
      var box = document.createElement("div");
      box.innerHTML = res.html;
      var fresh = box.firstElementChild;
      holder.replaceWith(fresh);
      if (res.ok && name === "wrapup") { chat.wrapped = true; }
      if (res.ok && name === "transfer") { chat.transferred = true; }
      bindSide(chat);
      if (fresh.tagName === "FORM") { fresh.hidden = false; }
      if (fresh.tagName === "DETAILS") { fresh.open = true; }
      setStatus(chat, chat.status);
    }).catch(function () {
      if (button) { button.disabled = false; }
      showError(t("reconnecting"));
    });
  }

  // --- events -----------------------------------------------------------------------------

  function onEvent(e) {
    var chat = e.conversation !== undefined ? chats[e.conversation] : null;
    switch (e.type) {
      case "state":
        setPresence(e.presence, e.max_chats);
        Object.keys(offers).forEach(function (id) {
          if (!e.offers.some(function (o) { return String(o.conversation) === id; })) { removeOffer(id); }
        });
        e.offers.forEach(addOffer);
        reopen(e.conversations);
        break;
      case "presence": setPresence(e.state, e.max_chats); break;
      case "offer": addOffer(e); break;
      case "offer_withdrawn": removeOffer(e.conversation); break;
      case "conversation": onConversation(e); break;
      case "message": if (chat && e.message) { addMessage(chat, e.message, false); } break;
      case "ack": acked(e); break;
      case "delivered":
        if (chat) { chat.delivered[e.id] = true; markAgentMessages(chat); }
        break;
      case "read":
        if (chat && e.by === "customer") { chat.customerRead = Math.max(chat.customerRead, e.id); markAgentMessages(chat); }
        break;
      case "typing": if (chat && e.by === "customer") { showTyping(chat); } break;
      case "status": onStatus(e); break;
      case "chat_ended": if (chat) { onStatus({ conversation: e.conversation, status: "ended", by: e.by }); } break;
      case "leave_message": if (chat) { system(chat, t("left_message")); setStatus(chat, "message"); } break;
      case "chat_rated": if (chat) { system(chat, t("rated", { score: e.score })); } break;
      case "chat_transferred":
        if (chat) { chat.transferred = true; system(chat, t("transferred")); setStatus(chat, chat.status); }
        break;
      case "chat_taken_over":
        if (chat) { chat.takenOver = true; system(chat, t("taken_over")); setStatus(chat, chat.status); }
        break;
      case "error": onError(e); break;
      default: break;
    }
  }

  function onError(e) {
    var chat = e.conversation !== undefined && e.conversation !== null ? chats[e.conversation] : null;
    if (chat && e.ref && chat.pending[e.ref]) {
      setState(chat.pending[e.ref], "failed", e.message);
      delete chat.pending[e.ref];
      return;
    }
    if (chat) { chat.takingOver = false; setStatus(chat, chat.status); }
    if (offers[e.conversation]) { removeOffer(e.conversation); }
    showError(e.message || e.code);
  }

  // After (re)connecting: the chats the server says are ours, those waiting for their
  // wrap-up, the one to listen to, and every panel still open.
  function reopen(own) {
    var ids = {};
    own.forEach(function (id) { ids[id] = true; delete listening[id]; });
    (root.getAttribute("data-wrapups") || "").split(",").forEach(function (id) { if (id) { ids[id] = true; } });
    root.setAttribute("data-wrapups", "");
    var listen = root.getAttribute("data-listen");
    if (listen && !ids[listen]) { listening[listen] = true; ids[listen] = true; }
    root.setAttribute("data-listen", "");
    // A chat that went to someone else is not opened again (it would open as a listener).
    Object.keys(chats).forEach(function (id) {
      if (!chats[id].transferred && !chats[id].takenOver) { ids[id] = true; }
    });
    Object.keys(ids).forEach(function (id) { send({ type: "open", conversation: Number(id) }); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    root = document.getElementById("chat-console");
    if (!root || !("WebSocket" in window)) { return; }
    words = JSON.parse(document.getElementById("chat-words").textContent);
    clients = JSON.parse(document.getElementById("chat-clients").textContent);
    setConnection("connecting");
    send = connect(root.getAttribute("data-live"), onEvent);
    q("presence").addEventListener("change", function (e) { send({ type: "presence", state: e.target.value }); });
    q("max-chats").addEventListener("change", function (e) {
      var n = parseInt(e.target.value, 10);
      if (n >= 1 && n <= 20) { send({ type: "presence", max_chats: n }); }
    });
    document.addEventListener("visibilitychange", function () { if (chats[activeId]) { markRead(chats[activeId]); } });
    window.addEventListener("resize", function () { Object.keys(chats).forEach(function (id) { markRead(chats[id]); }); });
    setInterval(tickOffers, 1000);
  });
})();
