import { CLOSING_TIME, OPENING_TIME } from './booking-form.js';
import { SERVICES } from './rules.js';

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (value) => String(value ?? '').replace(/[&<>"']/g, (ch) => ESCAPES[ch]);

function layout(title, body) {
  return `<!doctype html>
<html lang="ru">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} — Клиника «Здоровье»</title>
<style>
  body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2a33; background: #f4f8fa; }
  header { background: #0b6e8a; color: #fff; padding: 14px 24px; display: flex; gap: 24px; align-items: baseline; flex-wrap: wrap; }
  header a { color: #fff; text-decoration: none; } header strong { font-size: 20px; }
  main { max-width: 640px; margin: 24px auto; padding: 0 16px; }
  form, .card { display: grid; gap: 14px; background: #fff; padding: 20px; border-radius: 12px; box-shadow: 0 2px 8px rgba(0,0,0,.08); margin-bottom: 20px; }
  label { display: grid; gap: 4px; font-weight: 600; }
  .row { display: grid; grid-template-columns: 1fr 1fr; gap: 14px; }
  input, select { font: inherit; padding: 8px 10px; border: 1px solid #b7c4cc; border-radius: 8px; font-weight: 400; }
  .invalid input, .invalid select { border-color: #c0392b; }
  .error { color: #c0392b; font-weight: 400; font-size: 14px; }
  .alert { background: #fdecea; color: #8e2418; padding: 10px 14px; border-radius: 8px; }
  .notice { background: #e3f4ea; color: #1e6b3a; padding: 10px 14px; border-radius: 8px; }
  .hint { color: #5b6b75; font-size: 14px; font-weight: 400; }
  button { font: inherit; font-weight: 600; padding: 10px; border: 0; border-radius: 8px; background: #0b6e8a; color: #fff; cursor: pointer; }
  button.danger { background: #fff; color: #c0392b; border: 1px solid #c0392b; }
  ul.messages { margin: 0; padding-left: 20px; }
  footer { text-align: center; color: #5b6b75; font-size: 14px; margin: 40px 0; }
</style>
</head>
<body>
<header><strong>🩺 Клиника «Здоровье»</strong><a href="/">Записаться на приём</a></header>
<main>
${body}
</main>
<footer>Клиника «Здоровье» · Москва, ул. Лесная, 7 · ежедневно с 8:00 до 20:00 · напоминания в WhatsApp через OLChat</footer>
</body>
</html>`;
}

function field(name, label, input, errors) {
  const message = errors[name];
  return `<label class="${message ? 'invalid' : ''}">${label}${input}${message ? `<span class="error" role="alert">${escapeHtml(message)}</span>` : ''}</label>`;
}

function dateTimeFields(values, errors, { minDate, maxDate }) {
  return `<div class="row">
${field('date', 'Дата', `<input name="date" type="date" min="${escapeHtml(minDate)}" max="${escapeHtml(maxDate)}" value="${escapeHtml(values.date)}">`, errors)}
${field('time', 'Время (московское)', `<input name="time" type="time" min="${OPENING_TIME}" max="${CLOSING_TIME}" step="1800" value="${escapeHtml(values.time)}">`, errors)}
</div>`;
}

const alertBlock = (alert) => (alert ? `<p class="alert" role="alert">${escapeHtml(alert)}</p>` : '');

/** The booking form; `values` keeps what the patient typed, `errors` maps field → Russian message. */
export function bookingPage({ values = {}, errors = {}, alert, minDate, maxDate }) {
  const options = Object.entries(SERVICES)
    .map(
      ([value, { title }]) =>
        `<option value="${value}"${values.service === value ? ' selected' : ''}>${escapeHtml(title)}</option>`,
    )
    .join('');
  return layout(
    'Запись на приём',
    `<h1>Запись на приём</h1>
<p>Подтверждение придёт в WhatsApp сразу, напоминание — за сутки до приёма.</p>
${alertBlock(alert)}
<form method="post" action="/visits" novalidate>
${field('name', 'Ваше имя', `<input name="name" autocomplete="given-name" value="${escapeHtml(values.name)}">`, errors)}
${field('phone', 'Телефон (WhatsApp)', `<input name="phone" type="tel" autocomplete="tel" placeholder="+7 912 345-67-89" value="${escapeHtml(values.phone)}">`, errors)}
${field('service', 'Врач или услуга', `<select name="service"><option value="">— выберите —</option>${options}</select>`, errors)}
${dateTimeFields(values, errors, { minDate, maxDate })}
<button type="submit">Записаться</button>
</form>`,
  );
}

const NOTICES = {
  booked: 'Вы записаны! Подтверждение отправлено в WhatsApp.',
  moved: 'Запись перенесена. Новое время отправлено в WhatsApp.',
  cancelled: 'Запись отменена. Мы отправили подтверждение в WhatsApp.',
};

/**
 * A visit's page, reached by the link in its messages: the visit, what was sent about it, and
 * the forms to move or cancel it. `messages` are `{ label, state }` in Russian.
 */
export function visitPage({ visit, when, messages, notice, values = {}, errors = {}, alert, minDate, maxDate, open }) {
  const service = SERVICES[visit.service].title;
  const status = visit.status === 'cancelled' ? ' <strong>отменена</strong>' : '';
  const list = messages.map(({ label, state }) => `<li>${escapeHtml(label)}: ${escapeHtml(state)}</li>`).join('');
  const actions = open
    ? `<form method="post" action="/visits/${escapeHtml(visit.id)}/move" novalidate>
<h2>Перенести запись</h2>
${dateTimeFields(values, errors, { minDate, maxDate })}
<button type="submit">Перенести</button>
</form>
<form method="post" action="/visits/${escapeHtml(visit.id)}/cancel">
<button class="danger" type="submit">Отменить запись</button>
</form>`
    : `<p><a href="/">Записаться снова</a></p>`;
  return layout(
    'Ваша запись',
    `<h1>Ваша запись${status}</h1>
${Object.hasOwn(NOTICES, notice ?? '') ? `<p class="notice" role="status">${NOTICES[notice]}</p>` : ''}
${alertBlock(alert)}
<div class="card">
<p><strong>${escapeHtml(visit.name)}</strong>, ${escapeHtml(service)}<br>${escapeHtml(when)} (по московскому времени)</p>
<div>Сообщения в WhatsApp:<ul class="messages">${list}</ul></div>
</div>
${actions}`,
  );
}

export function notFoundPage() {
  return layout(
    'Запись не найдена',
    '<h1>Запись не найдена</h1><p>Проверьте ссылку из сообщения или <a href="/">запишитесь заново</a>.</p>',
  );
}

export function errorPage() {
  return layout(
    'Ошибка',
    '<h1>Не получилось</h1><p>Попробуйте, пожалуйста, ещё раз через минуту или позвоните нам: +7 495 123-45-67.</p>',
  );
}
