import type { EmulatorMessage } from './types.js';

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => ESCAPES[ch] ?? ch);
}

/** At most this many messages are rendered (newest first). */
export const INBOX_PAGE_LIMIT = 500;

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function formatTime(at: number): string {
  const d = new Date(at);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function renderMessage(message: EmulatorMessage): string {
  const parts: string[] = [];
  if (message.method === 'sendFile' && message.url !== undefined) {
    const url = escapeHtml(message.url);
    parts.push(`<a class="file" href="${url}" rel="noopener noreferrer nofollow" target="_blank">📎 ${url}</a>`);
    if (message.caption !== undefined) parts.push(`<p class="text">${escapeHtml(message.caption)}</p>`);
  } else {
    parts.push(`<p class="text">${escapeHtml(message.text ?? '')}</p>`);
  }
  const iso = new Date(message.at).toISOString();
  const imol = message.sendToImol ? ' <span class="imol" title="send_to_imol=Y">open line</span>' : '';
  return `<li class="message">
  <div class="to">to +${escapeHtml(message.phone)}${imol}</div>
  <div class="bubble">${parts.join('')}<time datetime="${iso}">${escapeHtml(formatTime(message.at))}</time></div>
</li>`;
}

const STYLE = `
  body { margin: 0; font: 15px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: #efe7dd; color: #111b21; }
  header { background: #075e54; color: #fff; padding: 12px 16px; }
  header h1 { margin: 0; font-size: 18px; font-weight: 600; }
  header p { margin: 2px 0 0; font-size: 13px; opacity: .85; }
  main { max-width: 640px; margin: 0 auto; padding: 12px; }
  ol { list-style: none; margin: 0; padding: 0; }
  .message { margin: 10px 0; }
  .to { font-size: 12px; color: #54656f; margin: 0 0 2px 4px; }
  .imol { background: #d9fdd3; border-radius: 4px; padding: 0 4px; margin-left: 4px; }
  .bubble { display: inline-block; max-width: 85%; background: #fff; border-radius: 8px; padding: 6px 9px 4px;
    box-shadow: 0 1px .5px rgba(11,20,26,.13); }
  .text { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
  .file { display: block; overflow-wrap: anywhere; color: #027eb5; }
  time { display: block; text-align: right; font-size: 11px; color: #667781; margin-top: 2px; }
  .empty { color: #54656f; text-align: center; margin-top: 40px; }
`;

/** The inbox page: received messages, newest first, as the customers' phones would show them. */
export function renderInboxPage(messages: readonly EmulatorMessage[]): string {
  const shown = messages.slice(-INBOX_PAGE_LIMIT).reverse();
  const count =
    messages.length > shown.length
      ? `showing the newest ${shown.length} of ${messages.length} messages`
      : `${messages.length} message${messages.length === 1 ? '' : 's'}`;
  const list =
    shown.length === 0
      ? '<p class="empty">No messages yet.</p>'
      : `<ol>\n${shown.map(renderMessage).join('\n')}\n</ol>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>OLChat emulator — inbox</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>WhatsApp inbox (OLChat emulator)</h1><p>${count}, newest first</p></header>
<main>
${list}
</main>
</body>
</html>
`;
}
