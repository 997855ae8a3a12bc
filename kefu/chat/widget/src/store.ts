// What the widget keeps in the host page's localStorage, one record per widget key: the
// open conversation (its id and the token that resumes it), the customer's messages the
// server has not acknowledged yet, and how far the widget has acknowledged and read the
// agent's messages. A reload of the page resumes from here.

export interface Outgoing {
  cid: string;
  text: string;
  at: string;
}

export interface Saved {
  conversation: number | null;
  token: string;
  ticket: string;
  name: string;
  phone: string;
  outbox: Outgoing[];
  ackedMax: number; // the highest agent message id acknowledged
  readSent: number; // the highest message id reported read
  rated: boolean;
  open: boolean; // the panel was open
}

export function emptySaved(): Saved {
  return {
    conversation: null,
    token: "",
    ticket: "",
    name: "",
    phone: "",
    outbox: [],
    ackedMax: 0,
    readSent: 0,
    rated: false,
    open: false,
  };
}

function storageKey(widgetKey: string): string {
  return `kefu.chat.${widgetKey}`;
}

export function load(widgetKey: string): Saved {
  const saved = emptySaved();
  try {
    const raw = window.localStorage.getItem(storageKey(widgetKey));
    if (!raw) return saved;
    const data = JSON.parse(raw) as Partial<Saved>;
    if (typeof data.conversation === "number" && typeof data.token === "string") {
      saved.conversation = data.conversation;
      saved.token = data.token;
    }
    if (typeof data.ticket === "string") saved.ticket = data.ticket;
    if (typeof data.name === "string") saved.name = data.name;
    if (typeof data.phone === "string") saved.phone = data.phone;
    if (Array.isArray(data.outbox)) {
      saved.outbox = data.outbox.filter(
        (m): m is Outgoing =>
          !!m && typeof m.cid === "string" && typeof m.text === "string" && typeof m.at === "string",
      );
    }
    if (typeof data.ackedMax === "number") saved.ackedMax = data.ackedMax;
    if (typeof data.readSent === "number") saved.readSent = data.readSent;
    saved.rated = data.rated === true;
    saved.open = data.open === true;
  } catch {
    // Storage refused (private mode, a sandboxed frame) or spoiled: start afresh.
  }
  return saved;
}

export function save(widgetKey: string, saved: Saved): void {
  try {
    window.localStorage.setItem(storageKey(widgetKey), JSON.stringify(saved));
  } catch {
    // No storage: the chat still works, it just does not survive a reload.
  }
}

/** A fresh client id for a message: unique, and what the server dedupes resends by. */
export function newCid(): string {
  const c = window.crypto;
  if (c && typeof c.randomUUID === "function") return c.randomUUID();
  // randomUUID needs a secure context (https); a page served over http still has this.
  const bytes = new Uint8Array(16);
  c.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
