// The chat widget: the launcher and the panel in the host page's own DOM (an open shadow
// root), driven by the frames of ws/chat/widget/<key>/.
//
// Nothing the customer writes is lost on a dropped connection: each message gets a client
// id (cid) and stays in the outbox (in memory and localStorage) until the server
// acknowledges that cid; after a reconnect the widget resumes the conversation, merges the
// replay by id / cid and sends what is still unacknowledged again with the same cid (the
// server answers a known cid with the message it already has).

import { append, clear, h, show } from "./dom";
import { chatIcon, clipIcon, downIcon, smileIcon } from "./icons";
import {
  type Lang,
  type Texts,
  formatClock,
  formatSize,
  formatWhen,
  texts,
  waitText,
} from "./i18n";
import { Link } from "./link";
import type {
  ConversationStatus,
  Hello,
  MessagePayload,
  ServerFrame,
  UploadAnswer,
} from "./protocol";
import { type Saved, emptySaved, load, newCid, save } from "./store";
import { CSS } from "./styles";
import { type Entry, Transcript } from "./transcript";

const EMOJI = [
  "😀", "😂", "😊", "🙂", "😍", "🤔", "😅", "😮",
  "😭", "😡", "👍", "👎", "👏", "🙏", "👌", "💪",
  "🎉", "❤️", "🌹", "☕", "✅", "❌", "❓", "💡",
];
const MAX_TEXT = 4000;
const TYPING_EVERY = 2500; // ms between our typing notices
const TYPING_SHOWN = 6000; // ms the agent's typing notice stays up
const ACK_UNSURE = 5000; // ms: acks sent this shortly before a drop are sent again

type View = "loading" | "prechat" | "leave" | "left" | "chat" | "unavailable";
type Footer = "compose" | "rate" | "rated" | "leave" | "left";
type Connection = "idle" | "connecting" | "online" | "offline" | "failed";

export interface Config {
  key: string;
  base: string; // kefu's origin, e.g. https://kefu.example.com
  lang: Lang;
}

interface Rendered {
  el: HTMLElement;
  version: number;
  read: boolean;
}

export class Widget {
  private readonly t: Texts;
  private readonly link: Link;
  private saved: Saved;
  private readonly transcript = new Transcript();
  private readonly rendered = new Map<string, Rendered>();

  private hello: Hello | null = null;
  private view: View = "loading";
  private footer: Footer = "compose";
  private joined = false; // this socket started or resumed the conversation
  private status: ConversationStatus | null = null;
  private agentName = "";
  private agentRead = 0;
  private nextOpen: string | null = null;
  private lastTypingSent = 0;
  private typingTimer: number | undefined;
  private recentAcks: { id: number; at: number }[] = [];
  private readonly reack = new Set<number>();
  private readonly sentOn = new Map<string, number>();
  private readonly uploads = new Map<string, File>();
  private readonly uploading = new Set<string>();
  private leaveCid = "";
  private leaveNoteCid = "";
  private score = 0;
  private commentSent = false;

  // The parts of the page.
  private readonly host: HTMLElement;
  private readonly frame: HTMLDivElement;
  private readonly launcher: HTMLButtonElement;
  private readonly badge: HTMLSpanElement;
  private readonly panel: HTMLElement;
  private readonly clientName: HTMLElement;
  private readonly dot: HTMLElement;
  private readonly stateText: HTMLElement;
  private readonly endButton: HTMLButtonElement;
  private readonly banner: HTMLElement;
  private readonly body: HTMLElement;
  private readonly views: Record<View, HTMLElement>;
  private readonly messages: HTMLElement;
  private readonly typingLine: HTMLElement;
  private readonly footerSlot: HTMLElement;
  private readonly input: HTMLTextAreaElement;
  private readonly sendButton: HTMLButtonElement;
  private readonly emojiGrid: HTMLElement;
  private readonly fileInput: HTMLInputElement;
  private readonly composer: HTMLElement;
  private readonly composerError: HTMLElement;
  private readonly prechat: FormParts;
  private readonly leave: FormParts;
  private readonly queueLeave: FormParts;
  private readonly rateCard: HTMLElement;
  private readonly ratedCard: HTMLElement;
  private readonly leftCard: HTMLElement;
  private readonly leftPage: HTMLElement;
  private readonly stars: HTMLButtonElement[] = [];
  private readonly comment: HTMLTextAreaElement;
  private readonly commentButton: HTMLButtonElement;
  private readonly commentDone: HTMLElement;

  constructor(private readonly config: Config) {
    this.t = texts(config.lang);
    this.saved = load(config.key);
    const t = this.t;

    this.host = h("div", { "data-kefu-widget": config.key });
    const root = this.host.attachShadow({ mode: "open" });
    adoptStyles(root);
    this.frame = h("div", { class: "kefu", lang: config.lang === "en" ? "en" : "zh-CN" });
    root.appendChild(this.frame);

    this.badge = h("span", { class: "badge", hidden: true });
    this.launcher = h(
      "button",
      { type: "button", class: "launcher", "data-kefu": "launcher", "aria-expanded": "false" },
      chatIcon(),
      h("span", { text: t.launcher }),
      this.badge,
    );
    this.launcher.addEventListener("click", () => this.openPanel());

    this.clientName = h("strong", { "data-kefu": "client", text: t.title });
    this.dot = h("span", { class: "dot" });
    this.stateText = h("span", { "data-kefu": "status", text: t.connecting });
    this.endButton = h("button", {
      type: "button",
      class: "head-button",
      "data-kefu": "close",
      hidden: true,
      text: t.end,
    });
    this.endButton.addEventListener("click", () => this.endChat());
    const minimise = h(
      "button",
      { type: "button", class: "icon-button", "data-kefu": "minimise", "aria-label": t.minimise, title: t.minimise },
      downIcon(),
    );
    minimise.addEventListener("click", () => this.closePanel());
    this.banner = h("div", { class: "banner", "data-kefu": "connection", role: "status", hidden: true, text: t.offline });
    this.body = h("div", { class: "body" });
    this.panel = h(
      "section",
      { class: "panel", role: "dialog", "aria-label": t.title, hidden: true },
      h(
        "header",
        {},
        h("div", { class: "heading" }, this.clientName, h("div", { class: "state" }, this.dot, this.stateText)),
        this.endButton,
        minimise,
      ),
      this.banner,
      this.body,
    );
    this.panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.closePanel();
    });
    append(this.frame, this.launcher, this.panel);

    // The pre-chat form.
    this.prechat = this.buildForm("prechat");
    // The leave-a-message form (outside service hours).
    this.leave = this.buildForm("leave");
    // No agent took the chat in time: contact details and a message, on the same ticket.
    this.queueLeave = this.buildForm("queue");

    // The chat.
    this.messages = h("div", { class: "messages", "data-kefu": "messages", role: "log", "aria-live": "polite" });
    this.typingLine = h("div", { class: "typing", "data-kefu": "typing", hidden: true, text: t.typing });
    this.input = h("textarea", {
      class: "input",
      "data-kefu": "input",
      rows: 1,
      maxlength: MAX_TEXT,
      placeholder: t.input,
      "aria-label": t.input,
    });
    this.sendButton = h("button", { type: "button", class: "send", "data-kefu": "send", text: t.send });
    this.fileInput = h("input", { type: "file", hidden: true, "data-kefu": "file-input" });
    const fileButton = h(
      "button",
      { type: "button", class: "tool", "data-kefu": "file", title: t.file, "aria-label": t.file },
      clipIcon(),
    );
    const emojiButton = h(
      "button",
      { type: "button", class: "tool", "data-kefu": "emoji", title: t.emoji, "aria-label": t.emoji, "aria-expanded": "false" },
      smileIcon(),
    );
    this.emojiGrid = h("div", { class: "emoji-grid", "data-kefu": "emoji-list", hidden: true });
    for (const emoji of EMOJI) {
      const b = h("button", { type: "button", text: emoji, "aria-label": emoji });
      b.addEventListener("click", () => this.insertEmoji(emoji));
      this.emojiGrid.appendChild(b);
    }
    this.panel.addEventListener("click", (event) => {
      // A click anywhere else closes the emoji list.
      const path = event.composedPath();
      if (!path.includes(this.emojiGrid) && !path.includes(emojiButton)) this.emojiGrid.hidden = true;
    });
    emojiButton.addEventListener("click", () => {
      this.emojiGrid.hidden = !this.emojiGrid.hidden;
      emojiButton.setAttribute("aria-expanded", String(!this.emojiGrid.hidden));
    });
    fileButton.addEventListener("click", () => this.fileInput.click());
    this.fileInput.addEventListener("change", () => {
      const files = Array.from(this.fileInput.files || []);
      this.fileInput.value = "";
      for (const file of files) this.sendFile(file);
    });
    this.sendButton.addEventListener("click", () => this.sendText());
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.sendText();
      }
    });
    this.input.addEventListener("input", () => {
      this.grow();
      this.sendTyping();
    });
    this.composerError = h("div", { class: "error-text", role: "alert" });
    this.composer = h(
      "div",
      { class: "composer" },
      this.emojiGrid,
      this.composerError,
      h("div", { class: "row" }, emojiButton, fileButton, this.input, this.sendButton),
      this.fileInput,
    );

    // After the chat: the rating, then thanks with an optional comment.
    const hint = h("div", { class: "hint" });
    this.rateCard = h("div", { class: "card", "data-kefu": "rating" }, h("h3", { text: t.rateTitle }));
    const stars = h("div", { class: "stars", role: "group", "aria-label": t.rateTitle });
    for (let n = 1; n <= 5; n++) {
      const label = t.rateScore(n, t.rateLabels[n - 1]);
      const star = h("button", {
        type: "button",
        "data-kefu": `rate-${n}`,
        "aria-label": label,
        title: label,
        "aria-pressed": "false",
        text: "★",
      });
      star.addEventListener("click", () => this.rate(n));
      star.addEventListener("mouseenter", () => {
        this.lightStars(n);
        hint.textContent = t.rateLabels[n - 1];
      });
      star.addEventListener("mouseleave", () => {
        this.lightStars(this.score);
        hint.textContent = this.score ? t.rateLabels[this.score - 1] : "";
      });
      this.stars.push(star);
      stars.appendChild(star);
    }
    append(this.rateCard, stars, hint);
    this.comment = h("textarea", {
      class: "comment",
      "data-kefu": "comment",
      rows: 2,
      maxlength: 1000,
      placeholder: t.comment,
      "aria-label": t.comment,
    });
    this.commentButton = h("button", { type: "button", class: "secondary", "data-kefu": "comment-send", text: t.commentSend });
    this.commentButton.addEventListener("click", () => this.sendComment());
    this.commentDone = h("p", { "data-kefu": "comment-saved", hidden: true, text: t.commentSaved });
    const again = h("button", { type: "button", class: "secondary", "data-kefu": "new-chat", text: t.newChat });
    again.addEventListener("click", () => this.newChat());
    this.ratedCard = h(
      "div",
      { class: "card", "data-kefu": "rated" },
      h("h3", { text: t.rated }),
      this.comment,
      this.commentDone,
      h("div", { class: "actions" }, this.commentButton, again),
    );
    this.leftCard = h("div", { class: "card", "data-kefu": "left" });
    this.footerSlot = h("div", { class: "footer" });

    this.leftPage = h("div", { class: "centre", "data-kefu": "left" });
    this.views = {
      loading: h("div", { class: "centre", text: t.connecting }),
      prechat: h("div", { class: "scroll" }, this.prechat.form),
      leave: h("div", { class: "scroll" }, this.leave.form),
      left: this.leftPage,
      chat: h("div", { class: "body" }, this.messages, this.typingLine, this.footerSlot),
      unavailable: h("div", { class: "centre", "data-kefu": "unavailable" }, h("strong", { text: t.unavailable })),
    };
    show(this.body, this.views.loading);

    const base = new URL(config.base);
    const scheme = base.protocol === "https:" ? "wss:" : "ws:";
    this.link = new Link(`${scheme}//${base.host}/ws/chat/widget/${encodeURIComponent(config.key)}/`, {
      open: () => this.setConnection("connecting"),
      frame: (frame) => this.onFrame(frame),
      close: (code) => this.onClose(code),
    });
    document.addEventListener("visibilitychange", () => this.markRead());
  }

  mount(): void {
    document.body.appendChild(this.host);
    for (const out of this.saved.outbox) this.transcript.addPending(out.cid, out.text, out.at);
    if (this.saved.conversation !== null) {
      // An open conversation (this page was reloaded): pick it up at once, so that a
      // reply that came meanwhile shows on the launcher.
      this.setConnection("connecting");
      this.link.connect();
    }
    if (this.saved.open) this.openPanel();
  }

  // ----- the socket -------------------------------------------------------------------

  private onFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case "hello":
        return this.onHello(frame);
      case "started":
        return this.onStarted(frame.conversation, frame.token, frame.ticket, frame.status);
      case "resumed":
        return this.onResumed(frame);
      case "ack":
        return this.onAck(frame.cid, frame.id, frame.at);
      case "message":
        return this.onMessage(frame);
      case "typing":
        if (frame.by === "agent") this.showTyping();
        return;
      case "read":
        if (frame.id > this.agentRead) {
          this.agentRead = frame.id;
          this.draw();
        }
        return;
      case "status":
        return this.onStatus(frame.status, frame.agent, frame.by, frame.transfer);
      case "leave_message":
        return this.onGaveUp(frame.ticket, frame.next_open);
      case "closed":
        return this.onEnded("customer");
      case "rated":
        return this.onRated();
      case "left":
        return this.onLeft(frame.ticket, frame.next_open);
      case "error":
        return this.onError(frame.code, frame.message, frame.ref || "");
    }
  }

  private onHello(hello: Hello): void {
    this.hello = hello;
    this.nextOpen = hello.next_open;
    this.link.settled();
    this.setConnection("online");
    if (this.saved.conversation !== null) {
      this.link.send({ type: "resume", conversation: this.saved.conversation, token: this.saved.token });
    } else if (this.view === "loading" || this.view === "unavailable") {
      this.chooseStart();
    }
    this.drawForms();
    this.drawHeader();
  }

  private chooseStart(): void {
    if (this.hello && !this.hello.open) this.setView("leave");
    else this.setView("prechat");
  }

  private onStarted(conversation: number, token: string, ticket: string, status: ConversationStatus): void {
    this.saved = {
      ...emptySaved(),
      conversation,
      token,
      ticket,
      name: this.saved.name,
      phone: this.saved.phone,
      open: this.saved.open,
    };
    this.persist();
    this.joined = true;
    this.status = status;
    this.prechat.submit.disabled = false;
    this.resetTranscript();
    this.setView("chat");
    this.setFooter("compose");
    // The expected wait, when there is one (an agent free now goes without saying).
    const seconds = this.hello?.wait_seconds ?? 0;
    const wait = seconds > 0 ? waitText(this.t, seconds) : "";
    this.transcript.system(wait ? `${this.t.queued} ${wait}` : this.t.queued);
    this.draw(true);
    this.drawHeader();
    this.input.focus();
  }

  private onResumed(frame: Extract<ServerFrame, { type: "resumed" }>): void {
    this.joined = true;
    this.status = frame.status;
    this.agentName = frame.agent || "";
    this.agentRead = Math.max(this.agentRead, frame.agent_read || 0);
    if (frame.ticket) this.saved.ticket = frame.ticket;
    for (const message of frame.messages) {
      this.transcript.merge(message);
      if (message.from === "agent") this.ack(message.id);
    }
    this.reack.clear();
    // What the server has now is no longer outgoing; the rest goes again, same cid.
    this.saved.outbox = this.saved.outbox.filter((out) => {
      const entry = this.transcript.byClientId(out.cid);
      return !entry || entry.id === null;
    });
    this.persist();
    if (frame.status === "ended" && this.saved.rated) {
      // Over and rated before this reload: the next visit is a new chat.
      this.newChat();
      return;
    }
    this.setView("chat");
    if (frame.status === "ended") this.setFooter(this.footer === "rated" ? "rated" : "rate");
    else if (frame.status === "message") this.setFooter(this.footer === "leave" ? "leave" : "left");
    else this.setFooter("compose");
    this.flush();
    this.draw(true);
    this.drawHeader();
    this.markRead();
  }

  private onAck(cid: string, id: number, at: string): void {
    this.transcript.confirm(cid, id, at);
    this.dropOutgoing(cid);
    if (cid === this.leaveNoteCid) {
      this.leaveNoteCid = "";
      this.setFooter("left");
    }
    this.draw();
  }

  private onMessage(message: MessagePayload): void {
    const { isNew } = this.transcript.merge(message);
    if (message.from === "agent") {
      this.hideTyping();
      this.ack(message.id);
    } else if (message.cid) {
      this.dropOutgoing(message.cid);
    }
    this.draw(isNew && message.from === "customer");
    if (isNew) this.markRead();
    this.drawBadge();
  }

  private onStatus(status: ConversationStatus, agent?: string, by?: string, transfer?: boolean): void {
    if (status === "ended") {
      this.onEnded(by || "");
      return;
    }
    const before = this.status;
    this.status = status;
    if (status === "active") {
      const name = agent || this.agentName;
      if (name && (name !== this.agentName || before !== "active")) {
        this.transcript.system(this.t.joined(name));
      }
      this.agentName = name;
    } else if (status === "waiting" && transfer) {
      this.transcript.system(this.t.transferring);
    }
    this.draw(true);
    this.drawHeader();
  }

  private onEnded(by: string): void {
    if (this.status === "ended") return;
    this.status = "ended";
    this.hideTyping();
    this.transcript.system(by === "agent" ? this.t.endedByAgent : this.t.ended);
    this.setFooter("rate");
    this.draw(true);
    this.drawHeader();
  }

  private onGaveUp(ticket: string, nextOpen: string | null): void {
    this.status = "message";
    this.nextOpen = nextOpen;
    if (ticket) this.saved.ticket = ticket;
    this.persist();
    this.setFooter("leave");
    this.draw(true);
    this.drawHeader();
  }

  private onRated(): void {
    this.saved.rated = true;
    this.persist();
    if (this.commentSent) {
      this.commentDone.hidden = false;
      this.comment.hidden = true;
      this.commentButton.hidden = true;
    }
    this.setFooter("rated");
  }

  private onLeft(ticket: string | null, nextOpen: string | null): void {
    this.leaveCid = "";
    this.leave.submit.disabled = false;
    this.nextOpen = nextOpen;
    clear(this.leftPage);
    append(
      this.leftPage,
      h("strong", { text: this.t.left }),
      ticket ? h("div", { class: "ticket-no", "data-kefu": "ticket", text: this.t.ticket(ticket) }) : null,
      h("div", { "data-kefu": "next-open", text: this.answerText() }),
      this.newChatButton(),
    );
    this.setView("left");
  }

  private onError(code: string, message: string, ref: string): void {
    switch (code) {
      case "bad_key":
      case "origin":
        this.setConnection("failed");
        this.setView("unavailable");
        return;
      case "not_found":
        if (!this.joined && this.saved.conversation !== null) {
          // The conversation cannot be resumed (gone, or the token is wrong): start over.
          this.forget();
          this.resetTranscript();
          this.link.restart();
          this.setView("loading");
          return;
        }
        break;
      case "closed":
        // Started as the service closed: leave a message instead, the form filled in.
        this.prechat.submit.disabled = false;
        this.leave.name.value = this.prechat.name.value;
        this.leave.phone.value = this.prechat.phone.value;
        this.leave.consent.checked = this.prechat.consent.checked;
        if (this.hello) this.hello = { ...this.hello, open: false };
        this.setView("leave");
        this.drawHeader();
        return;
      case "no_conversation":
        if (this.saved.conversation !== null && this.link.connected) {
          this.link.send({ type: "resume", conversation: this.saved.conversation, token: this.saved.token });
        }
        return;
      case "rate_limited":
      case "busy":
        // Refused unread (too fast, or the server is behind): everything not acknowledged
        // goes again in a moment.
        this.sentOn.clear();
        window.setTimeout(() => this.flush(), 3000);
        return;
      case "started":
        return;
    }
    if (ref && this.transcript.fail(ref, message)) {
      this.dropOutgoing(ref);
      this.draw();
      return;
    }
    this.formError(message);
  }

  private onClose(code: number): void {
    this.joined = false;
    this.prechat.submit.disabled = false;
    this.leave.submit.disabled = false;
    // An ack sent just before the drop may not have arrived: send it again on resume.
    const now = Date.now();
    for (const ack of this.recentAcks) if (ack.at > now - ACK_UNSURE) this.reack.add(ack.id);
    this.recentAcks = [];
    this.hideTyping();
    this.setConnection(code === 4403 ? "failed" : "offline");
  }

  // ----- what the customer does --------------------------------------------------------

  private openPanel(): void {
    this.panel.hidden = false;
    this.frame.classList.add("is-open");
    this.launcher.setAttribute("aria-expanded", "true");
    if (!this.saved.open) {
      this.saved.open = true;
      this.persist();
    }
    if (!this.link.started) {
      this.setConnection("connecting");
      this.link.connect();
    } else {
      this.link.wake();
    }
    this.markRead();
    this.drawBadge();
    this.focusView();
  }

  private closePanel(): void {
    this.panel.hidden = true;
    this.emojiGrid.hidden = true;
    this.frame.classList.remove("is-open");
    this.launcher.setAttribute("aria-expanded", "false");
    this.saved.open = false;
    this.persist();
    this.launcher.focus();
  }

  private startChat(): void {
    const f = this.prechat;
    const name = f.name.value.trim();
    const phone = f.phone.value.trim();
    if (!name) return this.formError(this.t.needName, f.name);
    if (!f.consent.checked) return this.formError(this.t.needConsent, f.consent);
    if (!this.hello || !this.link.connected) return this.formError(this.t.offline);
    this.saved.name = name;
    this.saved.phone = phone;
    this.persist();
    this.formError("");
    f.submit.disabled = true;
    this.link.send({
      type: "start",
      name,
      phone,
      consent: true,
      notice_version: this.hello.notice.version,
      language: this.config.lang === "en" ? "en" : "zh-hans",
      page: location.origin + location.pathname,
    });
  }

  private leaveMessage(): void {
    const f = this.leave;
    const name = f.name.value.trim();
    const phone = f.phone.value.trim();
    const email = f.email.value.trim();
    const text = f.text.value.trim();
    if (!name) return this.formError(this.t.needName, f.name);
    if (!phone && !email) return this.formError(this.t.needContact, f.phone);
    if (!text) return this.formError(this.t.needText, f.text);
    if (!f.consent.checked) return this.formError(this.t.needConsent, f.consent);
    if (!this.hello || !this.link.connected) return this.formError(this.t.offline);
    this.formError("");
    // One id for this message, kept until it is answered: sent again, it is recognised.
    this.leaveCid = this.leaveCid || newCid();
    f.submit.disabled = true;
    this.link.send({
      type: "leave",
      name,
      phone,
      email,
      text,
      cid: this.leaveCid,
      consent: true,
      notice_version: this.hello.notice.version,
    });
  }

  /** After waiting too long: the contact details and the message join the same ticket. */
  private leaveNote(): void {
    const f = this.queueLeave;
    const phone = f.phone.value.trim();
    const email = f.email.value.trim();
    const text = f.text.value.trim();
    if (!phone && !email) return this.formError(this.t.needContact, f.phone);
    if (!text) return this.formError(this.t.needText, f.text);
    this.formError("");
    const contact = [phone, email].filter(Boolean).join(" / ");
    this.leaveNoteCid = this.queue(`${text}\n\n${this.t.contact}: ${contact}`);
    f.submit.disabled = true;
    this.draw(true);
  }

  private sendText(): void {
    const text = this.input.value.trim();
    if (!text) return;
    this.emojiGrid.hidden = true;
    this.input.value = "";
    this.grow();
    this.queue(text);
    this.draw(true);
    this.input.focus();
  }

  /** A customer message into the outbox and onto the screen; sent when the socket can. */
  private queue(text: string): string {
    const cid = newCid();
    const at = new Date().toISOString();
    this.transcript.addPending(cid, text, at);
    this.saved.outbox.push({ cid, text, at });
    this.persist();
    this.flush();
    return cid;
  }

  /** Send every message the server has not acknowledged, once per socket. */
  private flush(): void {
    if (!this.joined || !this.link.connected) return;
    const generation = this.link.generation;
    for (const out of this.saved.outbox) {
      if (this.sentOn.get(out.cid) === generation) continue;
      if (this.transcript.byClientId(out.cid)?.state === "failed") continue;
      if (this.link.send({ type: "message", cid: out.cid, text: out.text })) {
        this.sentOn.set(out.cid, generation);
      }
    }
    for (const cid of this.uploads.keys()) void this.upload(cid);
  }

  private dropOutgoing(cid: string): void {
    const before = this.saved.outbox.length;
    this.saved.outbox = this.saved.outbox.filter((out) => out.cid !== cid);
    this.sentOn.delete(cid);
    if (this.saved.outbox.length !== before) this.persist();
  }

  private sendTyping(): void {
    const now = Date.now();
    if (!this.joined || !this.input.value.trim() || now - this.lastTypingSent < TYPING_EVERY) return;
    if (this.link.send({ type: "typing" }, true)) this.lastTypingSent = now;
  }

  private insertEmoji(emoji: string): void {
    const input = this.input;
    const start = input.selectionStart ?? input.value.length;
    const end = input.selectionEnd ?? start;
    input.value = input.value.slice(0, start) + emoji + input.value.slice(end);
    const caret = start + emoji.length;
    input.focus();
    input.setSelectionRange(caret, caret);
    this.emojiGrid.hidden = true;
    this.grow();
  }

  private sendFile(file: File): void {
    if (this.saved.conversation === null) return;
    const cid = newCid();
    const preview = file.type.startsWith("image/") ? URL.createObjectURL(file) : "";
    this.transcript.addPending(cid, "", new Date().toISOString(), {
      name: file.name,
      size: file.size,
      type: file.type,
      preview,
    });
    this.uploads.set(cid, file);
    this.draw(true);
    void this.upload(cid);
  }

  /** POST the file to kefu; a network failure keeps it for the next connection, and the
   * server recognises a file sent again by its cid. */
  private async upload(cid: string): Promise<void> {
    const file = this.uploads.get(cid);
    if (!file || this.uploading.has(cid) || this.saved.conversation === null) return;
    this.uploading.add(cid);
    const form = new FormData();
    form.append("conversation", String(this.saved.conversation));
    form.append("token", this.saved.token);
    form.append("cid", cid);
    form.append("file", file, file.name);
    const url = `${this.config.base}/chat/w/${encodeURIComponent(this.config.key)}/files`;
    try {
      const response = await fetch(url, { method: "POST", body: form, mode: "cors", credentials: "omit" });
      const answer = (await response.json()) as UploadAnswer;
      if (answer.type === "ack") {
        this.uploads.delete(cid);
        const entry = this.transcript.byClientId(cid);
        if (entry?.local?.preview) URL.revokeObjectURL(entry.local.preview);
        this.transcript.merge(answer.message);
      } else if (response.status !== 429 && response.status < 500) {
        this.uploads.delete(cid);
        this.transcript.fail(cid, answer.message);
      }
    } catch {
      // Offline or kefu unreachable: tried again on the next connection.
    } finally {
      this.uploading.delete(cid);
      this.draw();
    }
  }

  private endChat(): void {
    if (this.joined && (this.status === "waiting" || this.status === "active")) {
      this.link.send({ type: "close" });
    }
  }

  private rate(score: number): void {
    if (!this.joined) return;
    this.score = score;
    this.lightStars(score);
    this.stars.forEach((star, i) => star.setAttribute("aria-pressed", String(i + 1 === score)));
    this.link.send({ type: "rate", score, comment: "" });
  }

  private sendComment(): void {
    const comment = this.comment.value.trim();
    if (!comment || !this.score || !this.joined) return;
    this.commentSent = true;
    this.link.send({ type: "rate", score: this.score, comment });
  }

  /** A new conversation: forget the old one and open a fresh socket (a socket carries
   * one conversation). */
  private newChat(): void {
    this.forget();
    this.resetTranscript();
    this.score = 0;
    this.commentSent = false;
    this.comment.value = "";
    this.comment.hidden = false;
    this.commentButton.hidden = false;
    this.commentDone.hidden = true;
    this.lightStars(0);
    this.stars.forEach((star) => star.setAttribute("aria-pressed", "false"));
    this.leave.text.value = "";
    this.queueLeave.text.value = "";
    this.queueLeave.submit.disabled = false;
    this.setView("loading");
    this.drawHeader();
    this.link.restart();
  }

  private forget(): void {
    this.saved = { ...emptySaved(), name: this.saved.name, phone: this.saved.phone, open: this.saved.open };
    this.persist();
    this.joined = false;
    this.status = null;
    this.agentName = "";
    this.agentRead = 0;
    this.uploads.clear();
    this.sentOn.clear();
    this.reack.clear();
    this.recentAcks = [];
    this.leaveNoteCid = "";
  }

  // ----- acknowledgements and read state ----------------------------------------------

  /** Tell kefu the agent's message ``id`` is shown here (this is what makes the reply
   * count as delivered). Each message once, again only if the last send was unsure. */
  private ack(id: number): void {
    if (!this.joined || (id <= this.saved.ackedMax && !this.reack.has(id))) return;
    if (!this.link.send({ type: "ack", id })) return;
    this.reack.delete(id);
    this.recentAcks.push({ id, at: Date.now() });
    if (this.recentAcks.length > 50) this.recentAcks.shift();
    if (id > this.saved.ackedMax) {
      this.saved.ackedMax = id;
      this.persist();
    }
  }

  /** The customer can see the chat: report the agent's messages read. */
  private markRead(): void {
    const top = this.transcript.maxAgentId;
    if (
      this.panel.hidden ||
      document.visibilityState !== "visible" ||
      this.view !== "chat" ||
      !this.joined ||
      top <= this.saved.readSent
    ) {
      return;
    }
    if (this.link.send({ type: "read", id: top })) {
      this.saved.readSent = top;
      this.persist();
    }
    this.drawBadge();
  }

  // ----- drawing -----------------------------------------------------------------------

  private setView(view: View): void {
    this.view = view;
    show(this.body, this.views[view]);
    this.drawForms();
    this.drawHeader();
    this.focusView();
  }

  private setFooter(footer: Footer): void {
    this.footer = footer;
    const card = {
      compose: this.composer,
      rate: this.rateCard,
      rated: this.ratedCard,
      leave: this.queueLeave.form,
      left: this.leftCard,
    }[footer];
    if (footer === "left") this.drawLeftCard();
    if (footer === "leave") this.drawForms();
    show(this.footerSlot, card);
    // Forms and cards may be taller than the room left; the composer's emoji list must
    // not be clipped.
    this.footerSlot.classList.toggle("scroll", footer !== "compose");
    this.drawHeader();
  }

  private focusView(): void {
    if (this.panel.hidden) return;
    const target =
      this.view === "prechat" ? this.prechat.name : this.view === "leave" ? this.leave.name : this.view === "chat" && this.footer === "compose" ? this.input : null;
    // A phone's keyboard would cover the panel the moment it opens: focus on desktops only.
    if (target && window.matchMedia("(min-width: 481px)").matches) target.focus();
  }

  private setConnection(state: Connection): void {
    this.frame.setAttribute("data-kefu-connection", state);
    this.banner.hidden = !(state === "offline" && this.saved.conversation !== null);
    this.drawHeader();
  }

  private drawHeader(): void {
    const t = this.t;
    const hello = this.hello;
    this.clientName.textContent = hello?.client || t.title;
    this.dot.classList.toggle("on", !!hello?.open);
    let state = t.connecting;
    if (hello) {
      const parts = [hello.open ? t.open : t.closed];
      if (this.status === "active" && this.agentName) parts.push(`${t.agent} ${this.agentName}`);
      else if (!hello.open && hello.next_open && this.view !== "leave" && this.view !== "left") {
        // (The leave-a-message views say it in full themselves.)
        parts.push(t.nextOpen(formatWhen(hello.next_open, this.config.lang)));
      }
      else if (hello.open && this.status !== "ended" && this.status !== "message") {
        const wait = waitText(t, hello.wait_seconds);
        if (wait) parts.push(wait);
      }
      state = parts.join(" · ");
    }
    this.stateText.textContent = state;
    this.endButton.hidden = !(this.view === "chat" && (this.status === "waiting" || this.status === "active"));
  }

  private drawForms(): void {
    const hello = this.hello;
    if (!hello) return;
    for (const form of [this.prechat, this.leave]) {
      form.notice.textContent = hello.notice.text;
      if (!form.name.value && this.saved.name) form.name.value = this.saved.name;
      if (!form.phone.value && this.saved.phone) form.phone.value = this.saved.phone;
    }
    this.leave.info.textContent = hello.next_open ? this.t.nextOpen(formatWhen(hello.next_open, this.config.lang)) : "";
    this.queueLeave.info.textContent = this.saved.ticket ? this.t.keptAs(this.saved.ticket) : "";
    if (!this.queueLeave.phone.value && this.saved.phone) this.queueLeave.phone.value = this.saved.phone;
  }

  private drawLeftCard(): void {
    clear(this.leftCard);
    append(
      this.leftCard,
      h("h3", { text: this.t.left }),
      this.saved.ticket ? h("p", { class: "ticket-no", "data-kefu": "ticket", text: this.t.ticket(this.saved.ticket) }) : null,
      h("p", { "data-kefu": "next-open", text: this.answerText() }),
      h("div", { class: "actions" }, this.newChatButton()),
    );
  }

  private answerText(): string {
    return this.nextOpen ? this.t.answerWhen(formatWhen(this.nextOpen, this.config.lang)) : this.t.answerSoon;
  }

  private newChatButton(): HTMLButtonElement {
    const b = h("button", { type: "button", class: "secondary", "data-kefu": "new-chat", text: this.t.newChat });
    b.addEventListener("click", () => this.newChat());
    return b;
  }

  /** Redraw the messages that changed, in order; keep the list scrolled to the end when
   * it was there (or ``toEnd``). */
  private draw(toEnd = false): void {
    const list = this.messages;
    const atEnd = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    const keep = new Set<string>();
    let previous: Element | null = null;
    for (const entry of this.transcript.sorted()) {
      keep.add(entry.key);
      const read = entry.from === "customer" && entry.id !== null && entry.id <= this.agentRead;
      let done = this.rendered.get(entry.key);
      if (!done || done.version !== entry.version || done.read !== read) {
        const el = this.messageElement(entry, read);
        if (done) done.el.replaceWith(el);
        done = { el, version: entry.version, read };
        this.rendered.set(entry.key, done);
      }
      const wanted: ChildNode | null = previous ? previous.nextSibling : list.firstChild;
      if (wanted !== done.el) list.insertBefore(done.el, wanted);
      previous = done.el;
    }
    for (const [key, done] of this.rendered) {
      if (!keep.has(key)) {
        done.el.remove();
        this.rendered.delete(key);
      }
    }
    if (toEnd || atEnd) list.scrollTop = list.scrollHeight;
    this.drawBadge();
  }

  private messageElement(entry: Entry, read: boolean): HTMLElement {
    const t = this.t;
    const el = h("div", {
      class: "msg",
      "data-kefu-from": entry.from,
      "data-state": entry.state,
      "data-id": entry.id ?? undefined,
      "data-cid": entry.cid ?? undefined,
    });
    if (entry.from === "agent") el.appendChild(h("div", { class: "author", text: entry.author || t.agent }));
    const pictureOnly =
      !entry.text &&
      (entry.attachments.length > 0 ? entry.attachments.every((a) => a.type.startsWith("image/")) : !!entry.local?.preview);
    const bubble = h("div", { class: pictureOnly ? "bubble picture" : "bubble" });
    if (entry.text) bubble.appendChild(document.createTextNode(entry.text));
    for (const file of entry.attachments) bubble.appendChild(this.attachmentElement(file.id, file.name, file.type, file.size));
    if (entry.local) {
      bubble.appendChild(
        entry.local.preview
          ? h("img", { src: entry.local.preview, alt: entry.local.name })
          : h("span", { class: "file", text: `📎 ${entry.local.name} (${formatSize(entry.local.size)})` }),
      );
    }
    el.appendChild(bubble);
    if (entry.from === "system") return el;
    const meta = h("div", { class: "meta" }, formatClock(entry.at, this.config.lang));
    if (entry.from === "customer") {
      let state: string;
      if (entry.state === "failed") state = entry.error ? `${t.failed}：${entry.error}` : t.failed;
      else if (entry.state === "pending") state = entry.local ? t.uploading : t.sending;
      else state = read ? t.read : t.delivered;
      append(meta, " · ", h("span", { class: read ? "read" : "", "data-kefu": read ? "read" : "delivery", text: state }));
    }
    el.appendChild(meta);
    return el;
  }

  private attachmentElement(id: number, name: string, type: string, size: number): HTMLElement {
    const conversation = this.saved.conversation ?? 0;
    const url =
      `${this.config.base}/chat/w/${encodeURIComponent(this.config.key)}/files/${id}` +
      `?conversation=${conversation}&token=${encodeURIComponent(this.saved.token)}`;
    if (type.startsWith("image/")) {
      return h(
        "a",
        { href: url, target: "_blank", rel: "noopener noreferrer" },
        h("img", { src: url, alt: name, loading: "lazy", "data-kefu": "image" }),
      );
    }
    return h("a", {
      class: "file",
      href: url,
      rel: "noopener noreferrer",
      "data-kefu": "attachment",
      text: `📎 ${name} (${formatSize(size)})`,
    });
  }

  private drawBadge(): void {
    let unread = 0;
    if (this.panel.hidden) {
      for (const entry of this.transcript.sorted()) {
        if (entry.from === "agent" && entry.id !== null && entry.id > this.saved.readSent) unread++;
      }
    }
    this.badge.hidden = unread === 0;
    this.badge.textContent = String(unread);
  }

  private showTyping(): void {
    this.typingLine.hidden = false;
    window.clearTimeout(this.typingTimer);
    this.typingTimer = window.setTimeout(() => this.hideTyping(), TYPING_SHOWN);
  }

  private hideTyping(): void {
    window.clearTimeout(this.typingTimer);
    this.typingLine.hidden = true;
  }

  private lightStars(score: number): void {
    this.stars.forEach((star, i) => star.classList.toggle("lit", i < score));
  }

  private grow(): void {
    this.input.style.height = "auto";
    this.input.style.height = `${Math.min(this.input.scrollHeight + 2, 120)}px`;
  }

  private formError(message: string, field?: HTMLElement): void {
    const form =
      this.view === "prechat" ? this.prechat : this.view === "leave" ? this.leave : this.footer === "leave" ? this.queueLeave : null;
    if (form) form.error.textContent = message;
    else this.composerError.textContent = message;
    if (message) field?.focus();
  }

  private resetTranscript(): void {
    this.transcript.clear();
    for (const done of this.rendered.values()) done.el.remove();
    this.rendered.clear();
    clear(this.messages);
  }

  private persist(): void {
    save(this.config.key, this.saved);
  }

  // ----- the forms ---------------------------------------------------------------------

  private buildForm(kind: "prechat" | "leave" | "queue"): FormParts {
    const t = this.t;
    const error = h("div", { class: "error-text", role: "alert" });
    const info = h("p", { class: "wait", "data-kefu": "leave-info" });
    const name = h("input", { type: "text", "data-kefu": "name", maxlength: 100, autocomplete: "name" });
    const phone = h("input", { type: "tel", "data-kefu": "phone", maxlength: 30, autocomplete: "tel" });
    const email = h("input", { type: "email", "data-kefu": "email", maxlength: 200, autocomplete: "email" });
    const text = h("textarea", { "data-kefu": "leave-text", maxlength: MAX_TEXT, rows: 4 });
    const consent = h("input", { type: "checkbox", "data-kefu": "consent" });
    const notice = h("div", { class: "notice", "data-kefu": "notice", tabindex: 0 });
    const submit = h("button", {
      type: "submit",
      class: "primary",
      "data-kefu": kind === "prechat" ? "start" : "leave-send",
      text: kind === "prechat" ? t.start : t.leaveSend,
    });
    const field = (label: string, input: HTMLElement) => h("label", { class: "field" }, label, input);
    const privacy = [
      h("p", { class: "notice-title", text: t.notice }),
      notice,
      h("label", { class: "check" }, consent, h("span", { text: t.consent })),
    ];
    let form: HTMLFormElement;
    if (kind === "prechat") {
      form = h(
        "form",
        { class: "form", "data-kefu": "prechat", novalidate: true },
        h("p", { class: "intro", text: t.prechatIntro }),
        field(t.name, name),
        field(t.phone, phone),
        ...privacy,
        error,
        submit,
      );
    } else if (kind === "leave") {
      form = h(
        "form",
        { class: "form", "data-kefu": "leave", novalidate: true },
        h("p", { class: "intro", text: t.leaveClosed }),
        info,
        field(t.name, name),
        h("p", { class: "wait", text: t.phoneOrEmail }),
        field(t.phoneField, phone),
        field(t.email, email),
        field(t.leaveText, text),
        ...privacy,
        error,
        submit,
      );
    } else {
      form = h(
        "form",
        { class: "card", "data-kefu": "leave", novalidate: true },
        h("h3", { text: t.leaveQueue }),
        h("p", {}, info),
        h("p", { class: "wait", text: t.phoneOrEmail }),
        field(t.phoneField, phone),
        field(t.email, email),
        field(t.leaveText, text),
        error,
        submit,
      );
    }
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (kind === "prechat") this.startChat();
      else if (kind === "leave") this.leaveMessage();
      else this.leaveNote();
    });
    return { form, name, phone, email, text, consent, notice, info, error, submit };
  }
}

interface FormParts {
  form: HTMLFormElement;
  name: HTMLInputElement;
  phone: HTMLInputElement;
  email: HTMLInputElement;
  text: HTMLTextAreaElement;
  consent: HTMLInputElement;
  notice: HTMLElement;
  info: HTMLElement;
  error: HTMLElement;
  submit: HTMLButtonElement;
}

/** The styles as a constructed sheet where the browser has them (a host page's CSP that
 * forbids inline styles does not stop those), a <style> element elsewhere. */
function adoptStyles(root: ShadowRoot): void {
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    root.adoptedStyleSheets = [sheet];
  } catch {
    root.appendChild(h("style", { text: CSS }));
  }
}
