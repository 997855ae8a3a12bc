// kefu's chat widget. A client's website embeds it with one tag:
//   <script src="https://KEFU/chat/widget.js" data-key="WIDGET_KEY" async></script>
// The script finds that tag to learn its widget key and where kefu is (the script's own
// origin), and adds the chat to the page. No other script is needed on the page.

import { pageLang } from "./i18n";
import { Widget } from "./widget";

function ownTag(): HTMLScriptElement | null {
  const current = document.currentScript;
  if (current instanceof HTMLScriptElement && current.dataset.key) return current;
  // currentScript is not set when the script runs from a module or an event handler.
  const tags = document.querySelectorAll<HTMLScriptElement>('script[src*="/chat/widget.js"][data-key]');
  return tags.length ? tags[tags.length - 1] : null;
}

function boot(tag: HTMLScriptElement): void {
  const key = tag.dataset.key || "";
  if (!key || document.querySelector(`[data-kefu-widget="${CSS.escape(key)}"]`)) return;
  const base = new URL(tag.src, location.href).origin;
  const widget = new Widget({ key, base, lang: pageLang() });
  widget.mount();
}

const tag = ownTag();
if (tag) {
  if (document.body) boot(tag);
  else document.addEventListener("DOMContentLoaded", () => boot(tag));
}
