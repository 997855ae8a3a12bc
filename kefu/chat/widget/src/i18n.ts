// The widget speaks the language of the page it is on: English when the page's
// <html lang> is English, Chinese otherwise.

export type Lang = "zh" | "en";

const zh = {
  launcher: "在线客服",
  title: "在线客服",
  connecting: "正在连接…",
  open: "服务中",
  closed: "休息中",
  waitFree: "客服空闲，可立即接待",
  waitUnderMinute: "预计等待不到 1 分钟",
  waitMinutes: (n: number) => `预计等待约 ${n} 分钟`,
  waiting: (n: number) => `前面还有 ${n} 位客户`,
  nextOpen: (t: string) => `下次服务时间：${t}`,
  prechatIntro: "您好！请留下称呼，我们马上为您服务。",
  name: "称呼",
  phone: "手机号（选填）",
  phoneOrEmail: "请留下手机号或邮箱，以便我们回复您",
  phoneField: "手机号",
  email: "邮箱",
  notice: "隐私告知",
  consent: "我已阅读并同意以上隐私告知",
  start: "开始咨询",
  needName: "请填写称呼",
  needConsent: "请先阅读并勾选同意隐私告知",
  needContact: "请留下手机号或邮箱",
  needText: "请填写留言内容",
  input: "输入消息…",
  send: "发送",
  emoji: "表情",
  file: "发送图片或文件",
  typing: "客服正在输入…",
  read: "已读",
  delivered: "已送达",
  sending: "发送中…",
  uploading: "上传中…",
  failed: "未发送",
  queued: "正在为您接通客服，请稍候…",
  joined: (name: string) => `客服 ${name} 为您服务`,
  transferring: "正在为您转接其他客服…",
  ended: "会话已结束",
  endedByAgent: "客服已结束本次会话",
  end: "结束会话",
  minimise: "收起",
  offline: "连接中断，正在重新连接…",
  unavailable: "在线客服暂不可用",
  rateTitle: "请为本次服务评分",
  rateLabels: ["非常不满意", "不满意", "一般", "满意", "非常满意"],
  rateScore: (n: number, label: string) => `${n} 分：${label}`,
  rated: "感谢您的评价！",
  comment: "还有什么想告诉我们的吗？（选填）",
  commentSend: "提交意见",
  commentSaved: "已收到您的意见，谢谢！",
  newChat: "开始新的咨询",
  leaveClosed: "现在不在服务时间，请给我们留言。",
  leaveQueue: "暂时没有客服可以接待，请给我们留言。",
  keptAs: (n: string) => `您的对话已保存为工单 ${n}。`,
  leaveText: "留言内容",
  leaveSend: "提交留言",
  left: "留言已收到",
  ticket: (n: string) => `工单号：${n}`,
  answerWhen: (t: string) => `我们会在服务时间内尽快回复您（下次服务时间：${t}）。`,
  answerSoon: "我们会尽快回复您。",
  contact: "联系方式",
  agent: "客服",
  you: "我",
};

export type Texts = typeof zh;

const en: Texts = {
  launcher: "Chat with us",
  title: "Customer service",
  connecting: "Connecting…",
  open: "Open now",
  closed: "Closed now",
  waitFree: "An agent is free now",
  waitUnderMinute: "Expected wait: under a minute",
  waitMinutes: (n) => `Expected wait: about ${n} min`,
  waiting: (n) => `${n} ahead of you`,
  nextOpen: (t) => `Opens again: ${t}`,
  prechatIntro: "Hello! Tell us your name and we'll be right with you.",
  name: "Your name",
  phone: "Phone (optional)",
  phoneOrEmail: "Leave a phone number or an email so that we can answer",
  phoneField: "Phone",
  email: "Email",
  notice: "Privacy notice",
  consent: "I have read and accept the privacy notice above",
  start: "Start chat",
  needName: "Please enter your name",
  needConsent: "Please read and accept the privacy notice",
  needContact: "Please leave a phone number or an email",
  needText: "Please write your message",
  input: "Type a message…",
  send: "Send",
  emoji: "Emoji",
  file: "Send a picture or a file",
  typing: "typing…",
  read: "Read",
  delivered: "Delivered",
  sending: "Sending…",
  uploading: "Uploading…",
  failed: "Not sent",
  queued: "Connecting you to an agent…",
  joined: (name) => `${name} has joined the chat`,
  transferring: "Transferring you to another agent…",
  ended: "The chat has ended",
  endedByAgent: "The agent ended the chat",
  end: "End chat",
  minimise: "Minimise",
  offline: "Connection lost, reconnecting…",
  unavailable: "Chat is not available",
  rateTitle: "How did we do?",
  rateLabels: ["Very poor", "Poor", "OK", "Good", "Excellent"],
  rateScore: (n, label) => `${n}: ${label}`,
  rated: "Thank you for your rating!",
  comment: "Anything you'd like to tell us? (optional)",
  commentSend: "Send comment",
  commentSaved: "Thank you, we got your comment.",
  newChat: "Start a new chat",
  leaveClosed: "We're closed now: leave us a message.",
  leaveQueue: "No agent is free right now: leave us a message.",
  keptAs: (n) => `Your conversation is kept as ticket ${n}.`,
  leaveText: "Your message",
  leaveSend: "Send message",
  left: "Message received",
  ticket: (n) => `Ticket number: ${n}`,
  answerWhen: (t) => `We'll answer as soon as we open (${t}).`,
  answerSoon: "We'll answer as soon as we can.",
  contact: "Contact",
  agent: "Agent",
  you: "You",
};

export function pageLang(): Lang {
  const lang = (document.documentElement.lang || navigator.language || "zh").toLowerCase();
  return lang.startsWith("en") ? "en" : "zh";
}

export function texts(lang: Lang): Texts {
  return lang === "en" ? en : zh;
}

/** A moment in the visitor's own time, e.g. "12月7日 周一 09:00" / "Mon 7 Dec, 09:00". */
export function formatWhen(iso: string, lang: Lang): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  if (lang === "en") {
    return new Intl.DateTimeFormat("en-GB", {
      weekday: "short",
      day: "numeric",
      month: "short",
      hour: "2-digit",
      minute: "2-digit",
      hour12: false,
    }).format(d);
  }
  const weekday = "日一二三四五六"[d.getDay()];
  return `${d.getMonth() + 1}月${d.getDate()}日 周${weekday} ${formatClock(iso, lang)}`;
}

export function formatClock(iso: string, lang: Lang): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return new Intl.DateTimeFormat(lang === "en" ? "en-GB" : "zh-CN", {
    hour: "2-digit",
    minute: "2-digit",
    hour12: false,
  }).format(d);
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** The expected wait from hello, in words; "" when there is nothing to go on. */
export function waitText(t: Texts, seconds: number | null): string {
  if (seconds === null) return "";
  if (seconds <= 0) return t.waitFree;
  if (seconds < 60) return t.waitUnderMinute;
  return t.waitMinutes(Math.ceil(seconds / 60));
}
