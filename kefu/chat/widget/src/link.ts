// The widget's WebSocket: reconnects with back-off after a drop, and paces what it sends
// so that it never runs into the server's per-socket budget (5 frames a second, 20 at
// once; kefu/chat/consumers.py).

import { type ClientFrame, type ServerFrame, parseFrame } from "./protocol";

export interface LinkEvents {
  open(): void;
  frame(frame: ServerFrame): void;
  close(code: number): void;
}

// Close codes after which trying again cannot help: a wrong or revoked key, a site that
// may not use the widget.
const FATAL = new Set([4403]);
const FLOODED = 4429;

const RATE = 4; // frames a second
const BURST = 15;
const BACKOFF_FIRST = 500; // ms
const BACKOFF_MAX = 15000;

export class Link {
  private ws: WebSocket | null = null;
  private attempts = 0;
  private timer: number | undefined;
  private pace: number | undefined;
  private queue: string[] = [];
  private tokens = BURST;
  private stamp = Date.now();
  private stopped = false;
  generation = 0; // one more for every socket opened

  constructor(
    private readonly url: string,
    private readonly on: LinkEvents,
  ) {
    window.addEventListener("online", () => this.wake());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.wake();
    });
  }

  get connected(): boolean {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  get started(): boolean {
    return this.ws !== null || this.timer !== undefined;
  }

  connect(): void {
    if (this.stopped || this.ws) return;
    window.clearTimeout(this.timer);
    this.timer = undefined;
    const ws = new WebSocket(this.url);
    this.ws = ws;
    this.generation += 1;
    this.queue = [];
    ws.onopen = () => this.on.open();
    ws.onmessage = (event) => {
      const frame = parseFrame(event.data);
      if (frame) this.on.frame(frame);
    };
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.queue = [];
      this.on.close(event.code);
      if (FATAL.has(event.code)) {
        this.stopped = true;
        return;
      }
      this.retry(event.code === FLOODED ? 10000 : 0);
    };
  }

  /** Connection is healthy again (the server said hello): the next drop starts over. */
  settled(): void {
    this.attempts = 0;
  }

  /** Close this socket and open a new one at once (a new chat needs a fresh socket). */
  restart(): void {
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onclose = null;
      ws.close(1000);
    }
    this.connect();
  }

  /** Send a frame now or, past the budget, as soon as it allows. ``droppable`` frames
   * (typing) are left out instead of waiting. Returns whether it was sent or queued. */
  send(frame: ClientFrame, droppable = false): boolean {
    if (!this.connected) return false;
    const text = JSON.stringify(frame);
    if (this.queue.length === 0 && this.take()) {
      this.ws!.send(text);
      return true;
    }
    if (droppable) return false;
    this.queue.push(text);
    this.drain();
    return true;
  }

  private take(): boolean {
    const now = Date.now();
    this.tokens = Math.min(BURST, this.tokens + ((now - this.stamp) / 1000) * RATE);
    this.stamp = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private drain(): void {
    if (this.pace !== undefined) return;
    const step = () => {
      this.pace = undefined;
      while (this.queue.length && this.connected && this.take()) {
        this.ws!.send(this.queue.shift()!);
      }
      if (this.queue.length && this.connected) this.pace = window.setTimeout(step, 1000 / RATE);
    };
    this.pace = window.setTimeout(step, 1000 / RATE);
  }

  private retry(atLeast: number): void {
    if (this.stopped || this.timer !== undefined) return;
    const backoff = Math.min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** this.attempts);
    const delay = Math.max(atLeast, backoff * (0.5 + Math.random() / 2));
    this.attempts += 1;
    this.timer = window.setTimeout(() => {
      this.timer = undefined;
      this.connect();
    }, delay);
  }

  /** The network came back, the page became visible or the customer opened the panel:
   * try now rather than at the end of a long back-off. */
  wake(): void {
    if (this.stopped || this.ws || this.timer === undefined) return;
    window.clearTimeout(this.timer);
    this.timer = undefined;
    this.connect();
  }
}
