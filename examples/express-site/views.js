import { BOUQUETS } from './rules.js';

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (value) => String(value ?? '').replace(/[&<>"']/g, (ch) => ESCAPES[ch]);

function layout(title, body) {
  return `<!doctype html>
<html lang="ru">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} — Цветочная лавка «Ромашка»</title>
<style>
  body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222; background: #fffdf7; }
  header { background: #f6d743; padding: 14px 24px; display: flex; gap: 24px; align-items: baseline; flex-wrap: wrap; }
  header a { color: #222; text-decoration: none; } header strong { font-size: 20px; }
  main { max-width: 640px; margin: 24px auto; padding: 0 16px; }
  form { display: grid; gap: 14px; background: #fff; padding: 20px; border-radius: 12px; box-shadow: 0 2px 8px rgba(0,0,0,.08); }
  label { display: grid; gap: 4px; font-weight: 600; }
  input, select, textarea { font: inherit; padding: 8px 10px; border: 1px solid #bbb; border-radius: 8px; font-weight: 400; }
  .invalid input, .invalid select { border-color: #c0392b; }
  .error { color: #c0392b; font-weight: 400; font-size: 14px; }
  .alert { background: #fdecea; color: #8e2418; padding: 10px 14px; border-radius: 8px; }
  .notice { background: #e8f5e9; color: #1b5e20; padding: 10px 14px; border-radius: 8px; }
  button { font: inherit; font-weight: 600; padding: 10px; border: 0; border-radius: 8px; background: #2e7d32; color: #fff; cursor: pointer; }
  .hp { position: absolute; left: -10000px; }
  footer { text-align: center; color: #777; font-size: 14px; margin: 40px 0; }
</style>
</head>
<body>
<header><strong>🌼 «Ромашка»</strong><a href="/">Заказать букет</a><a href="/callback">Обратный звонок</a><a href="/contacts">Контакты</a></header>
<main>
${body}
</main>
<footer>Цветочная лавка «Ромашка» · Алматы и Москва · уведомления в WhatsApp через OLChat</footer>
</body>
</html>`;
}

function field(name, label, input, errors) {
  const message = errors[name];
  return `<label class="${message ? 'invalid' : ''}">${label}${input}${message ? `<span class="error" role="alert">${escapeHtml(message)}</span>` : ''}</label>`;
}

/** The order form; `values` keeps what the customer typed, `errors` maps field → Russian message. */
export function orderPage({ values = {}, errors = {}, alert } = {}) {
  const options = Object.entries(BOUQUETS)
    .map(
      ([value, label]) =>
        `<option value="${value}"${values.bouquet === value ? ' selected' : ''}>${escapeHtml(label)}</option>`,
    )
    .join('');
  return layout(
    'Заказать букет',
    `<h1>Заказать букет с доставкой</h1>
<p>Оставьте заявку — подтверждение придёт вам в WhatsApp.</p>
${alert ? `<p class="alert" role="alert">${escapeHtml(alert)}</p>` : ''}
<form method="post" action="/order" novalidate>
${field('name', 'Ваше имя', `<input name="name" autocomplete="name" value="${escapeHtml(values.name)}">`, errors)}
${field('phone', 'Телефон (WhatsApp)', `<input name="phone" type="tel" autocomplete="tel" placeholder="+7 912 345-67-89" value="${escapeHtml(values.phone)}">`, errors)}
${field('bouquet', 'Букет', `<select name="bouquet"><option value="">— выберите —</option>${options}</select>`, errors)}
${field('comment', 'Комментарий', `<textarea name="comment" rows="3">${escapeHtml(values.comment)}</textarea>`, errors)}
<input class="hp" name="website" tabindex="-1" autocomplete="off" aria-hidden="true">
<button type="submit">Отправить заявку</button>
</form>`,
  );
}

/** "Call me back"; like the order form, `values` keeps what was typed and `errors` holds Russian messages. */
export function callbackPage({ values = {}, errors = {}, alert } = {}) {
  return layout(
    'Обратный звонок',
    `<h1>Перезвоните мне</h1>
${alert ? `<p class="alert" role="alert">${escapeHtml(alert)}</p>` : ''}
<form method="post" action="/callback" novalidate>
${field('name', 'Имя', `<input name="name" autocomplete="name" value="${escapeHtml(values.name)}">`, errors)}
${field('phone', 'Телефон', `<input name="phone" type="tel" autocomplete="tel" placeholder="+7 912 345-67-89" value="${escapeHtml(values.phone)}">`, errors)}
<input class="hp" name="website" tabindex="-1" autocomplete="off" aria-hidden="true">
<button type="submit">Жду звонка</button>
</form>`,
  );
}

// Honest about what happened: the message is queued; it goes out within the vendor's limits.
export function thanksPage() {
  return layout(
    'Спасибо',
    `<h1>Спасибо! Заявка принята</h1>
<p>Подтверждение уже в очереди на отправку и скоро придёт в WhatsApp на указанный номер. Мы свяжемся с вами в ближайшее время.</p>
<p><a href="/">Вернуться на главную</a></p>`,
  );
}

export function contactsPage() {
  return layout(
    'Контакты',
    `<h1>Контакты</h1><p>Алматы, пр. Абая, 10 · Москва, ул. Цветочная, 5</p><p>Ежедневно с 9:00 до 21:00</p>`,
  );
}

const REMINDER_STATES = {
  scheduled: 'ждёт своего времени',
  queued: 'в очереди на отправку',
  sending: 'отправляется',
  sent: 'отправлено — смотрите входящие',
  cancelled: 'заменено более поздним',
  expired: 'не ушло вовремя',
  failed: 'не отправлено',
};

/** The demo's time of day for a moment: the clock of the machine the demo runs on. */
export function clockTime(ms) {
  return new Date(ms).toLocaleTimeString('ru-RU', { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/**
 * The demo's reminder page (`pnpm demo` only): a button that schedules a WhatsApp message
 * `delaySec` ahead and, once pressed, when it is due and what became of it.
 */
export function reminderPage({ delaySec, inboxUrl, reminder }) {
  const scheduled = reminder
    ? `<p class="notice" role="status">Напоминание запланировано на <strong id="scheduled-at">${escapeHtml(clockTime(reminder.sendAt))}</strong> — ${escapeHtml(REMINDER_STATES[reminder.status] ?? reminder.status)}. <a href="/demo/reminder?job=${encodeURIComponent(reminder.id)}">Обновить</a></p>`
    : '';
  const delay = delaySec === 60 ? 'минуту' : `${delaySec} с`;
  return layout(
    'Напоминание',
    `<h1>Напоминание через ${delay}</h1>
<p>Сообщение уйдёт в WhatsApp на +7 700 123 45 67 через ${delay} после нажатия. Нажмёте ещё раз — оно перенесётся на новое время, второго сообщения не будет.</p>
${scheduled}
<form method="post" action="/demo/reminder">
<button type="submit">Запланировать</button>
</form>
${inboxUrl ? `<p><a href="${escapeHtml(inboxUrl)}" target="_blank" rel="noopener">Открыть входящие WhatsApp</a></p>` : ''}`,
  );
}
