import type { EmulatorMessage, EmulatorMessageStatus } from './types.js';

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

export interface InboxSnapshot {
  messages: readonly EmulatorMessage[];
  /** API requests seen, and how many of them broke a limit (answered 429). */
  requests: number;
  violations: number;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function formatTime(at: number): string {
  const d = new Date(at);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function formatPhone(phone: string): string {
  const m = /^7(\d{3})(\d{3})(\d{2})(\d{2})$/.exec(phone);
  return m ? `+7 ${m[1]} ${m[2]}-${m[3]}-${m[4]}` : `+${phone}`;
}

/** WhatsApp's marks: one grey tick, two grey ticks, two blue ticks, a red "!" for a failed message. */
const STATUS_MARKS: Record<EmulatorMessageStatus, { mark: string; title: string }> = {
  sent: { mark: '✓', title: 'отправлено' },
  delivered: { mark: '✓✓', title: 'доставлено' },
  read: { mark: '✓✓', title: 'прочитано' },
  failed: { mark: '!', title: 'не доставлено' },
};

function renderStatus(status: EmulatorMessageStatus): string {
  const { mark, title } = STATUS_MARKS[status] ?? STATUS_MARKS.sent;
  return `<span class="status ${status}" data-status="${status}" title="${title}" aria-label="${title}">${mark}</span>`;
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
  const imol = message.sendToImol ? ' <span class="imol" title="send_to_imol=Y">открытая линия</span>' : '';
  return `<li class="message">
  <div class="to">${escapeHtml(formatPhone(message.phone))}${imol}</div>
  <div class="bubble">${parts.join('')}<time datetime="${iso}">${escapeHtml(formatTime(message.at))} ${renderStatus(message.status)}</time></div>
</li>`;
}

const STYLE = `
  body { margin: 0; font: 15px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: #efe7dd; color: #111b21; }
  header { background: #075e54; color: #fff; padding: 12px 16px; position: sticky; top: 0; }
  header h1 { margin: 0; font-size: 18px; font-weight: 600; }
  header p { margin: 2px 0 0; font-size: 13px; opacity: .9; }
  header button { float: right; background: #25d366; color: #063; border: 0; border-radius: 16px; padding: 6px 14px;
    font-weight: 600; cursor: pointer; }
  main { max-width: 640px; margin: 0 auto; padding: 12px; }
  ol { list-style: none; margin: 0; padding: 0; }
  .message { margin: 10px 0; }
  .to { font-size: 12px; color: #54656f; margin: 0 0 2px 4px; }
  .imol { background: #d9fdd3; border-radius: 4px; padding: 0 4px; margin-left: 4px; }
  .bubble { display: inline-block; max-width: 85%; background: #d9fdd3; border-radius: 8px; padding: 6px 9px 4px;
    box-shadow: 0 1px .5px rgba(11,20,26,.13); }
  .text { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
  .file { display: block; overflow-wrap: anywhere; color: #027eb5; }
  time { display: block; text-align: right; font-size: 11px; color: #667781; margin-top: 2px; }
  .status { margin-left: 2px; letter-spacing: -3px; color: #8696a0; }
  .status.read { color: #53bdeb; }
  .status.failed { display: inline-block; width: 14px; height: 14px; margin-left: 4px; letter-spacing: 0;
    border-radius: 50%; background: #ea0038; color: #fff; font-weight: 700; text-align: center; line-height: 14px; }
  .empty { color: #54656f; text-align: center; margin-top: 40px; }
  .bad { color: #ffd2d2; font-weight: 600; }
`;

function summary(snapshot: InboxSnapshot): string {
  const limit = snapshot.violations === 0 ? '0 ответов 429' : `<span class="bad">${snapshot.violations} × 429</span>`;
  return `сообщений: ${snapshot.messages.length} · запросов к API: ${snapshot.requests} · ${limit}`;
}

function renderList(messages: readonly EmulatorMessage[]): string {
  const shown = messages.slice(-INBOX_PAGE_LIMIT).reverse();
  return shown.length === 0
    ? '<p class="empty">Сообщений пока нет.</p>'
    : `<ol>\n${shown.map(renderMessage).join('\n')}\n</ol>`;
}

// Polls /inbox.json and swaps in the server-rendered fragments; no client-side templating to escape.
/** Served as /inbox.js: the page's CSP allows no inline script. */
export const INBOX_SCRIPT = `
const list = document.getElementById('list');
const stats = document.getElementById('stats');
let seen = list.dataset.version;
async function refresh() {
  try {
    const res = await fetch('/?fragment=1', { cache: 'no-store' });
    const data = await res.json();
    stats.innerHTML = data.summary;
    if (data.version !== seen) { seen = data.version; list.innerHTML = data.list; }
  } catch {}
}
setInterval(refresh, 700);
const burst = document.getElementById('burst');
if (burst) burst.addEventListener('click', async () => {
  burst.disabled = true;
  try { await fetch('/inbox/burst?count=20', { method: 'POST' }); } finally { setTimeout(() => { burst.disabled = false; }, 1000); }
});
`;

/** FNV-1a: a short fingerprint of the rendered list, so the page swaps it only when something shows differently. */
function fingerprint(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(36);
}

export interface InboxFragment {
  count: number;
  /** Changes whenever the list does: a new message or a status (a tick) changed. */
  version: string;
  summary: string;
  list: string;
}

/** The live fragments the page polls for. */
export function renderInboxFragment(snapshot: InboxSnapshot): InboxFragment {
  const list = renderList(snapshot.messages);
  const count = snapshot.messages.length;
  return { count, version: `${count}.${fingerprint(list)}`, summary: summary(snapshot), list };
}

/** The inbox page: received messages, newest first, as the customers' phones would show them; updates live. */
export function renderInboxPage(snapshot: InboxSnapshot, options: { burst?: boolean } = {}): string {
  const fragment = renderInboxFragment(snapshot);
  const button = options.burst
    ? '<button id="burst" type="button" title="Поставить в очередь 20 сообщений и посмотреть, как ограничитель отправляет по 5 за 3 секунды">Отправить 20</button>'
    : '';
  return `<!doctype html>
<html lang="ru">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Эмулятор OLChat — входящие WhatsApp</title>
<style>${STYLE}</style>
</head>
<body>
<header>${button}<h1>Входящие WhatsApp (эмулятор OLChat)</h1><p id="stats">${fragment.summary}</p></header>
<main id="list" data-count="${fragment.count}" data-version="${escapeHtml(fragment.version)}">
${fragment.list}
</main>
<script src="/inbox.js"></script>
</body>
</html>
`;
}
