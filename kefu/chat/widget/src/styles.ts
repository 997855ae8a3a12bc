// The widget's look, scoped to its shadow root: nothing here reaches the host page, and
// the host page's styles do not reach in (``all: initial`` on the host). Sizes in px, not
// rem: the host page's root font size is not ours.

export const CSS = `
:host { all: initial; }
* { box-sizing: border-box; }
.kefu {
  --kefu-primary: #1463ff;
  --kefu-primary-dark: #0b4ad1;
  --kefu-text: #1f2329;
  --kefu-muted: #646a73;
  --kefu-line: #e4e6eb;
  --kefu-soft: #f4f6f9;
  font: 14px/1.5 -apple-system, BlinkMacSystemFont, "Segoe UI", "PingFang SC", "Hiragino Sans GB",
    "Microsoft YaHei", "Noto Sans CJK SC", "Helvetica Neue", Arial, sans-serif;
  color: var(--kefu-text);
  -webkit-font-smoothing: antialiased;
}
button, input, textarea { font: inherit; color: inherit; }
button { cursor: pointer; }
[hidden] { display: none !important; }

.launcher {
  position: fixed; right: 20px; bottom: 20px; z-index: 2147483000;
  display: inline-flex; align-items: center; gap: 8px;
  height: 52px; padding: 0 20px 0 16px; border: 0; border-radius: 26px;
  background: var(--kefu-primary); color: #fff; font-size: 15px; font-weight: 600;
  box-shadow: 0 6px 20px rgba(20, 99, 255, .35);
  transition: transform .15s ease, box-shadow .15s ease;
}
.launcher:hover { transform: translateY(-1px); box-shadow: 0 8px 24px rgba(20, 99, 255, .45); }
.launcher:focus-visible, .panel button:focus-visible { outline: 3px solid #8fb3ff; outline-offset: 2px; }
.launcher svg { width: 24px; height: 24px; fill: currentColor; }
.badge {
  min-width: 20px; height: 20px; padding: 0 6px; border-radius: 10px;
  background: #f54a45; color: #fff; font-size: 12px; line-height: 20px; text-align: center;
}
.is-open .launcher { display: none; }

.panel {
  position: fixed; right: 20px; bottom: 20px; z-index: 2147483001;
  width: 372px; height: min(620px, calc(100vh - 40px));
  display: flex; flex-direction: column; overflow: hidden;
  background: #fff; border-radius: 14px;
  box-shadow: 0 12px 48px rgba(15, 23, 42, .22), 0 2px 8px rgba(15, 23, 42, .08);
}
@media (max-width: 480px) {
  .panel { inset: 0; width: 100%; height: 100%; border-radius: 0; }
  .launcher { right: 16px; bottom: 16px; }
  input, textarea { font-size: 16px; }
  .composer, .card { padding-bottom: max(10px, env(safe-area-inset-bottom)); }
}

header {
  display: flex; align-items: center; gap: 10px; padding: 14px 12px 14px 18px;
  background: linear-gradient(135deg, var(--kefu-primary), #3b82f6); color: #fff;
}
.heading { flex: 1; min-width: 0; }
.heading strong {
  display: block; font-size: 16px; font-weight: 600;
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis;
}
.state { display: flex; align-items: center; gap: 6px; font-size: 12px; opacity: .92; }
.dot { width: 8px; height: 8px; border-radius: 50%; background: #b8c0cc; flex: none; }
.dot.on { background: #3ee07f; box-shadow: 0 0 0 2px rgba(62, 224, 127, .3); }
.head-button {
  border: 1px solid rgba(255, 255, 255, .55); background: transparent; color: #fff;
  border-radius: 16px; height: 30px; padding: 0 12px; font-size: 13px; white-space: nowrap;
}
.head-button:hover { background: rgba(255, 255, 255, .15); }
.icon-button {
  width: 32px; height: 32px; border: 0; border-radius: 8px; background: transparent; color: #fff;
  display: inline-flex; align-items: center; justify-content: center; flex: none;
}
.icon-button:hover { background: rgba(255, 255, 255, .15); }
.icon-button svg { width: 20px; height: 20px; fill: currentColor; }

.banner { padding: 6px 14px; background: #fff7e6; color: #8a5a00; font-size: 12px; text-align: center; }
.error-text { color: #d83931; font-size: 13px; min-height: 0; }
.error-text:empty { display: none; }

.body { flex: 1; min-height: 0; display: flex; flex-direction: column; }
.scroll { flex: 1; min-height: 0; overflow-y: auto; }
.form { padding: 18px 18px 20px; display: flex; flex-direction: column; gap: 12px; }
.intro { margin: 0; color: var(--kefu-muted); }
.wait { margin: 0; font-size: 13px; color: var(--kefu-muted); }
label.field { display: flex; flex-direction: column; gap: 4px; font-size: 13px; color: var(--kefu-muted); }
.field input, .field textarea, .comment {
  width: 100%; padding: 9px 11px; border: 1px solid var(--kefu-line); border-radius: 8px;
  background: #fff; color: var(--kefu-text); font-size: 14px; outline: none;
}
.field input:focus, .field textarea:focus, .comment:focus {
  border-color: var(--kefu-primary); box-shadow: 0 0 0 3px rgba(20, 99, 255, .15);
}
.field textarea { resize: vertical; min-height: 84px; }
.notice {
  max-height: 132px; overflow-y: auto; padding: 10px 12px; border-radius: 8px;
  background: var(--kefu-soft); color: var(--kefu-muted); font-size: 12px; line-height: 1.6;
  white-space: pre-wrap;
}
.notice-title { font-size: 13px; font-weight: 600; color: var(--kefu-text); margin: 0 0 -6px; }
label.check { display: flex; gap: 8px; align-items: flex-start; font-size: 13px; cursor: pointer; }
label.check input { margin: 3px 0 0; width: 16px; height: 16px; flex: none; accent-color: var(--kefu-primary); }
.primary {
  height: 42px; border: 0; border-radius: 8px; background: var(--kefu-primary); color: #fff;
  font-size: 15px; font-weight: 600;
}
.primary:hover { background: var(--kefu-primary-dark); }
.primary:disabled { opacity: .55; cursor: default; }
.secondary {
  height: 38px; border: 1px solid var(--kefu-line); border-radius: 8px; background: #fff;
  font-size: 14px; color: var(--kefu-text); padding: 0 14px;
}
.centre { padding: 40px 24px; text-align: center; color: var(--kefu-muted); display: flex; flex-direction: column; gap: 10px; align-items: center; }
.centre strong { color: var(--kefu-text); font-size: 17px; }
.ticket-no { font-size: 15px; font-weight: 600; color: var(--kefu-text); letter-spacing: .02em; }

.messages { flex: 1; min-height: 0; overflow-y: auto; padding: 14px 14px 6px; background: var(--kefu-soft);
  display: flex; flex-direction: column; gap: 10px; }
.msg { display: flex; flex-direction: column; max-width: 82%; align-self: flex-start; }
.msg[data-kefu-from="customer"] { align-self: flex-end; align-items: flex-end; }
.msg[data-kefu-from="system"] { align-self: center; max-width: 92%; }
.author { font-size: 12px; color: var(--kefu-muted); margin: 0 0 2px 4px; }
.bubble {
  padding: 8px 12px; border-radius: 14px 14px 14px 4px; background: #fff; border: 1px solid var(--kefu-line);
  white-space: pre-wrap; overflow-wrap: anywhere; word-break: break-word;
}
.msg[data-kefu-from="customer"] .bubble {
  background: var(--kefu-primary); color: #fff; border-color: var(--kefu-primary);
  border-radius: 14px 14px 4px 14px;
}
.msg[data-state="failed"] .bubble { background: #fde2e1; color: #8f1d18; border-color: #f7b5b1; }
.msg[data-kefu-from="system"] .bubble {
  background: transparent; border: 0; padding: 0; color: var(--kefu-muted); font-size: 12px; text-align: center;
}
.meta { font-size: 11px; color: #8f959e; margin: 2px 4px 0; }
.meta .read { color: var(--kefu-primary); }
.bubble a { color: inherit; }
.msg .bubble.picture { padding: 0; background: transparent; border: 0; }
.bubble.picture img { margin: 0; border: 1px solid var(--kefu-line); }
.bubble img { display: block; max-width: 220px; max-height: 220px; border-radius: 8px; margin: 2px 0; background: #fff; }
.file { display: inline-flex; gap: 6px; align-items: center; text-decoration: underline; }
.typing { padding: 2px 16px 6px; font-size: 12px; color: var(--kefu-muted); background: var(--kefu-soft); }

.composer { border-top: 1px solid var(--kefu-line); padding: 8px 10px 10px; background: #fff; position: relative; }
.row { display: flex; align-items: flex-end; gap: 6px; }
.tool {
  width: 36px; height: 36px; border: 0; border-radius: 8px; background: transparent; color: var(--kefu-muted);
  display: inline-flex; align-items: center; justify-content: center; flex: none; font-size: 20px;
}
.tool:hover { background: var(--kefu-soft); color: var(--kefu-text); }
.tool svg { width: 22px; height: 22px; fill: currentColor; }
.input {
  flex: 1; min-width: 0; resize: none; max-height: 120px; min-height: 36px; padding: 7px 10px;
  border: 1px solid var(--kefu-line); border-radius: 8px; outline: none; line-height: 1.45;
}
.input:focus { border-color: var(--kefu-primary); }
.send { height: 36px; padding: 0 16px; border: 0; border-radius: 8px; background: var(--kefu-primary); color: #fff; font-weight: 600; flex: none; }
.send:disabled { opacity: .5; cursor: default; }
.emoji-grid {
  position: absolute; left: 10px; bottom: 56px; z-index: 2; display: grid; grid-template-columns: repeat(8, 34px);
  gap: 2px; padding: 8px; background: #fff; border: 1px solid var(--kefu-line); border-radius: 10px;
  box-shadow: 0 6px 24px rgba(15, 23, 42, .15);
}
.emoji-grid button { width: 34px; height: 34px; border: 0; border-radius: 6px; background: transparent; font-size: 20px; }
.emoji-grid button:hover { background: var(--kefu-soft); }

.footer { flex: none; }
.footer.scroll { max-height: 72%; overflow-y: auto; }
.card { border-top: 1px solid var(--kefu-line); padding: 14px 16px 16px; background: #fff; display: flex; flex-direction: column; gap: 10px; }
.card h3 { margin: 0; font-size: 15px; text-align: center; }
.card p { margin: 0; text-align: center; color: var(--kefu-muted); font-size: 13px; }
.stars { display: flex; justify-content: center; gap: 6px; }
.stars button {
  width: 44px; height: 44px; border: 0; background: transparent; font-size: 30px; line-height: 1; color: #d0d4da;
  border-radius: 8px; transition: transform .1s ease;
}
.stars button:hover, .stars button.lit { color: #ffb400; }
.stars button:hover { transform: scale(1.1); }
.stars button[aria-pressed="true"] { color: #ffb400; }
.hint { text-align: center; font-size: 12px; color: var(--kefu-muted); min-height: 18px; }
.comment { resize: none; min-height: 64px; }
.actions { display: flex; gap: 8px; justify-content: center; flex-wrap: wrap; }
`;
