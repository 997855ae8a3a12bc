// The frames of ws/chat/widget/<key>/ (README "Live chat", kefu/chat/consumers.py).

export interface Attachment {
  id: number;
  name: string;
  type: string;
  size: number;
}

export interface MessagePayload {
  id: number;
  from: "customer" | "agent";
  text: string;
  at: string;
  author: string;
  cid?: string;
  attachments: Attachment[];
}

export interface Hello {
  type: "hello";
  client: string;
  notice: { version: string; text: string };
  open: boolean;
  next_open: string | null;
  agents_free: number;
  waiting: number;
  wait_seconds: number | null;
}

export type ConversationStatus = "waiting" | "active" | "ended" | "message";

export type ServerFrame =
  | Hello
  | { type: "started"; conversation: number; token: string; ticket: string; status: ConversationStatus }
  | {
      type: "resumed";
      conversation: number;
      status: ConversationStatus;
      agent: string | null;
      ticket: string | null;
      agent_read: number;
      messages: MessagePayload[];
    }
  | { type: "ack"; cid: string; id: number; at: string }
  | ({ type: "message" } & MessagePayload)
  | { type: "typing"; by: string }
  | { type: "read"; id: number }
  | { type: "status"; status: ConversationStatus; agent?: string; by?: string; transfer?: boolean }
  | { type: "leave_message"; ticket: string; next_open: string | null }
  | { type: "closed"; conversation: number }
  | { type: "rated"; conversation: number }
  | { type: "left"; cid: string | null; ticket: string | null; next_open: string | null }
  | { type: "error"; code: string; message: string; ref?: string | null };

export type ClientFrame =
  | {
      type: "start";
      name: string;
      phone: string;
      consent: boolean;
      notice_version: string;
      language: string;
      page: string;
    }
  | { type: "resume"; conversation: number; token: string }
  | { type: "message"; cid: string; text: string }
  | { type: "ack"; id: number }
  | { type: "read"; id: number }
  | { type: "typing" }
  | { type: "close" }
  | { type: "rate"; score: number; comment: string }
  | {
      type: "leave";
      name: string;
      phone: string;
      email: string;
      text: string;
      cid: string;
      consent: boolean;
      notice_version: string;
    };

/** What the upload endpoint answers (kefu/chat/views_widget.py). */
export type UploadAnswer =
  | { type: "ack"; cid: string; id: number; at: string; message: MessagePayload }
  | { type: "error"; code: string; message: string; ref?: string | null };

export function parseFrame(data: unknown): ServerFrame | null {
  if (typeof data !== "string") return null;
  try {
    const frame = JSON.parse(data) as { type?: unknown };
    return frame && typeof frame.type === "string" ? (frame as ServerFrame) : null;
  } catch {
    return null;
  }
}
