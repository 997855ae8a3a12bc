// The messages the widget shows, merged from what it sent and what the server told it.
//
// A message is known by its server id once it has one, and a customer's message also by
// the client id (cid) the widget gave it, so the same message arriving again (the ack, the
// "message" event, a resume's replay, an upload's answer) updates one entry and is never
// shown twice. Order: messages by server id; messages not yet acknowledged after them, in
// the order written; a system line stays after the messages known when it was added.

import type { Attachment, MessagePayload } from "./protocol";

export type From = "customer" | "agent" | "system";
export type State = "pending" | "sent" | "failed";

export interface LocalFile {
  name: string;
  size: number;
  type: string;
  preview: string; // an object URL for a picture, "" otherwise
}

export interface Entry {
  key: string;
  id: number | null;
  cid: string | null;
  from: From;
  text: string;
  at: string;
  author: string;
  attachments: Attachment[];
  local: LocalFile | null; // a file still uploading
  state: State;
  error: string;
  order: number;
  version: number; // bumped on every change, so the view redraws only what changed
}

const PENDING_BASE = 1e15;

export class Transcript {
  private entries = new Map<string, Entry>();
  private byId = new Map<number, Entry>();
  private byCid = new Map<string, Entry>();
  private seq = 0;
  maxId = 0;
  maxAgentId = 0;

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
    this.byId.clear();
    this.byCid.clear();
    this.maxId = 0;
    this.maxAgentId = 0;
  }

  /** The customer's message, shown at once, before the server has it. */
  addPending(cid: string, text: string, at: string, local: LocalFile | null = null): Entry {
    const existing = this.byCid.get(cid);
    if (existing) return existing;
    this.seq += 1;
    const entry: Entry = {
      key: `c:${cid}`,
      id: null,
      cid,
      from: "customer",
      text,
      at,
      author: "",
      attachments: [],
      local,
      state: "pending",
      error: "",
      order: PENDING_BASE + this.seq,
      version: 0,
    };
    this.entries.set(entry.key, entry);
    this.byCid.set(cid, entry);
    return entry;
  }

  /** The server acknowledged the customer's message ``cid`` as message ``id``. */
  confirm(cid: string, id: number, at: string): Entry | undefined {
    const entry = this.byCid.get(cid);
    if (!entry) return undefined;
    const other = this.byId.get(id);
    if (other && other !== entry) {
      // Known already under its id (a replay came first): keep that one.
      this.remove(entry);
      return other;
    }
    this.setId(entry, id);
    entry.at = at || entry.at;
    entry.state = "sent";
    entry.error = "";
    entry.version += 1;
    return entry;
  }

  /** A message from the server; ``isNew``: it was not shown before. */
  merge(message: MessagePayload): { entry: Entry; isNew: boolean } {
    let entry = this.byId.get(message.id);
    if (!entry && message.cid) entry = this.byCid.get(message.cid);
    const isNew = entry === undefined;
    if (!entry) {
      entry = {
        key: `m:${message.id}`,
        id: null,
        cid: null,
        from: message.from,
        text: "",
        at: "",
        author: "",
        attachments: [],
        local: null,
        state: "sent",
        error: "",
        order: message.id,
        version: 0,
      };
      this.entries.set(entry.key, entry);
    }
    if (message.cid && !entry.cid) {
      entry.cid = message.cid;
      this.byCid.set(message.cid, entry);
    }
    this.setId(entry, message.id);
    entry.from = message.from;
    entry.text = message.text;
    entry.at = message.at;
    entry.author = message.author || "";
    entry.attachments = message.attachments || [];
    entry.local = null;
    entry.state = "sent";
    entry.error = "";
    entry.version += 1;
    return { entry, isNew };
  }

  /** A line from the widget itself (an agent joined, the chat ended). */
  system(text: string): Entry {
    this.seq += 1;
    const entry: Entry = {
      key: `s:${this.seq}`,
      id: null,
      cid: null,
      from: "system",
      text,
      at: new Date().toISOString(),
      author: "",
      attachments: [],
      local: null,
      state: "sent",
      error: "",
      order: this.maxId + 0.5 + this.seq / 1e6,
      version: 0,
    };
    this.entries.set(entry.key, entry);
    return entry;
  }

  fail(cid: string, error: string): Entry | undefined {
    const entry = this.byCid.get(cid);
    if (!entry || entry.id !== null) return undefined;
    entry.state = "failed";
    entry.error = error;
    entry.version += 1;
    return entry;
  }

  byClientId(cid: string): Entry | undefined {
    return this.byCid.get(cid);
  }

  sorted(): Entry[] {
    return [...this.entries.values()].sort((a, b) => a.order - b.order);
  }

  private setId(entry: Entry, id: number): void {
    if (entry.id === id) return;
    entry.id = id;
    entry.order = id;
    this.byId.set(id, entry);
    if (id > this.maxId) this.maxId = id;
    if (entry.from === "agent" && id > this.maxAgentId) this.maxAgentId = id;
  }

  private remove(entry: Entry): void {
    this.entries.delete(entry.key);
    if (entry.cid && this.byCid.get(entry.cid) === entry) this.byCid.delete(entry.cid);
  }
}
