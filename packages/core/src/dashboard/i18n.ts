import type { DeliveryStatus, JobStatus, Priority } from '../job.js';
import type { LineReason, LineState } from '../notifier/types.js';
import { russianPlural, splitDuration, type Unit } from './format.js';

export type DashboardLang = 'ru' | 'en';

/** Every word the dashboard shows, in one language. */
export interface Messages {
  locale: string;
  title: string;
  overview: string;
  refresh: string;
  timesIn(timeZone: string): string;
  closed: string;

  line: string;
  lineState: Record<LineState, string>;
  lineReason: Record<LineReason, string>;
  since(time: string, ago: string): string;
  checkedAt(time: string): string;
  neverChecked: string;

  queue: string;
  status: Record<JobStatus, string>;
  eta: string;
  etaEmpty: string;
  etaSoon: string;
  etaIn(ms: number): string;
  ago(ms: number): string;

  lanes: string;
  lane: string;
  waiting: string;
  priority: Record<Priority, string>;
  lanesOfLatest(count: number): string;
  laneState: string;
  laneOpen: string;
  lanePaused: string;
  laneFlagged(until: string): string;
  pause: string;
  resume: string;
  clearBacklog: string;
  resumeAll: string;
  flaggedNote(until: string): string;
  clearTitle(lane: string): string;
  clearQuestion(lane: string): string;
  clearConfirm: string;
  clearedTitle: string;
  cleared(count: number, lane: string): string;
  flashPaused(lane: string): string;
  flashResumed(lane: string): string;
  flashResumedAll: string;

  scheduled: string;
  scheduledNone: string;
  scheduledMore(count: number): string;

  recent: string;
  filterByStatus: string;
  statusHeading: string;
  all: string;
  latest(count: number): string;
  noJobs: string;
  noJobsWithStatus(status: string): string;

  when: string;
  time: string;
  rule: string;
  phone: string;
  error: string;
  delivery: string;
  deliveryStatus: Record<DeliveryStatus, string>;
  actions: string;
  cancel: string;
  retry: string;
  details: string;

  search: string;
  searchLabel: string;
  searchButton: string;
  searchHint: string;
  searchResults(phone: string): string;
  searchNone(phone: string): string;
  searchInvalid: string;
  searchLatest(count: number): string;

  job(id: string): string;
  back: string;
  fields: {
    id: string;
    attempts: string;
    messageId: string;
    createdAt: string;
    updatedAt: string;
    sendAt: string;
    notAfter: string;
    replaceKey: string;
    deliveryCheckedAt: string;
    errorCode: string;
    errorStatus: string;
    errorMessage: string;
    meta: string;
    text: string;
    fileUrl: string;
    caption: string;
  };
  textNotKept: string;
  ambiguousNote: string;
  ambiguousConfirm: string;

  flashCancelled(id: string): string;
  flashRetried(id: string): string;

  forbiddenTitle: string;
  forbidden: string;
  notFoundTitle: string;
  notFound: string;
  refusedTitle: string;
  cannotCancel(status: string): string;
  cannotRetry(status: string): string;
  retryNeedsConfirm: string;
  retryTooLate: string;
  changedMeanwhile: string;
  badRequestTitle: string;
  badRequest: string;
  methodNotAllowed: string;
  internalTitle: string;
  internal: string;
}

const RU_UNITS: Record<Unit, readonly [string, string, string]> = {
  day: ['день', 'дня', 'дней'],
  hour: ['час', 'часа', 'часов'],
  // Accusative, as after «через» and before «назад»: через 1 минуту, 1 минуту назад.
  minute: ['минуту', 'минуты', 'минут'],
  second: ['секунду', 'секунды', 'секунд'],
};

const EN_UNITS: Record<Unit, string> = { day: 'day', hour: 'hour', minute: 'minute', second: 'second' };

/** Past a minute, seconds are noise in an estimate: whole minutes. */
function rough(ms: number): number {
  return ms < 60_000 ? ms : Math.round(ms / 60_000) * 60_000;
}

function ruDuration(ms: number): string {
  return splitDuration(rough(ms))
    .map(({ count, unit }) => `${count} ${russianPlural(count, RU_UNITS[unit])}`)
    .join(' ');
}

function enDuration(ms: number): string {
  return splitDuration(rough(ms))
    .map(({ count, unit }) => `${count} ${EN_UNITS[unit]}${count === 1 ? '' : 's'}`)
    .join(' ');
}

const ru: Messages = {
  locale: 'ru-RU',
  title: 'Очередь WhatsApp',
  overview: 'Обзор',
  refresh: 'Обновить',
  timesIn: (zone) => `Время указано по часовому поясу ${zone}.`,
  closed: 'Отправка остановлена (notifier закрыт): новые сообщения не принимаются.',

  line: 'Линия WhatsApp',
  lineState: {
    up: 'работает',
    down: 'не работает',
    unknown: 'состояние неизвестно',
    flagged: 'под подозрением в спаме',
  },
  lineReason: {
    vendor_unreachable: 'OLChat не отвечает',
    line_down: 'WhatsApp-сессия отключена',
    token_rejected: 'OLChat отклоняет токен',
  },
  since: (time, ago) => `с ${time} (${ago})`,
  checkedAt: (time) => `последний ответ OLChat: ${time}`,
  neverChecked: 'OLChat ещё не опрашивался',

  queue: 'Очередь',
  status: {
    scheduled: 'запланировано',
    queued: 'в очереди',
    sending: 'отправляется',
    sent: 'отправлено',
    failed: 'ошибка',
    skipped: 'пропущено',
    cancelled: 'отменено',
    expired: 'просрочено',
  },
  eta: 'Очередь опустеет',
  etaEmpty: 'Очередь пуста',
  etaSoon: 'меньше чем через минуту',
  etaIn: (ms) => `примерно через ${ruDuration(ms)}`,
  ago: (ms) => (ms < 5_000 ? 'только что' : `${ruDuration(ms)} назад`),

  lanes: 'Приоритеты',
  lane: 'Приоритет',
  waiting: 'Ждут отправки',
  priority: { high: 'высокий', normal: 'обычный', low: 'низкий' },
  lanesOfLatest: (count) => `По последним ${count} сообщениям в очереди.`,
  laneState: 'Состояние',
  laneOpen: 'отправляет',
  lanePaused: 'на паузе',
  laneFlagged: (until) => `ждёт до ${until}: номер под подозрением`,
  pause: 'Приостановить',
  resume: 'Возобновить',
  clearBacklog: 'Очистить очередь…',
  resumeAll: 'Снять все паузы и подозрение',
  flaggedNote: (until) =>
    `OLChat сообщает, что номер подозревают в спаме или заблокировали. Сообщения с обычным и низким приоритетом ждут до ${until}, чтобы номер не заблокировали совсем. Снимите паузу, только если уверены, что причина устранена.`,
  clearTitle: (lane) => `Очистить очередь: ${lane} приоритет`,
  clearQuestion: (lane) =>
    `Отменить все запланированные сообщения и сообщения в очереди с приоритетом «${lane}»? Их не отправят; отменить это действие нельзя.`,
  clearConfirm: 'Да, отменить эти сообщения',
  clearedTitle: 'Очередь очищена',
  cleared: (count, lane) => `Отменено сообщений с приоритетом «${lane}»: ${count}.`,
  flashPaused: (lane) => `Приоритет «${lane}» приостановлен: его сообщения ждут.`,
  flashResumed: (lane) => `Приоритет «${lane}» снова отправляет.`,
  flashResumedAll: 'Все паузы и подозрение сняты.',

  scheduled: 'Ближайшие запланированные',
  scheduledNone: 'Запланированных сообщений нет.',
  scheduledMore: (count) => `Ещё запланировано: ${count}.`,

  recent: 'Последние сообщения',
  filterByStatus: 'Фильтр по статусу',
  statusHeading: 'Статус',
  all: 'все',
  latest: (count) => `Показаны последние ${count}.`,
  noJobs: 'Сообщений пока нет.',
  noJobsWithStatus: (status) => `Нет сообщений со статусом «${status}».`,

  when: 'Когда',
  time: 'Время',
  rule: 'Правило',
  phone: 'Телефон',
  error: 'Ошибка',
  delivery: 'Доставка',
  deliveryStatus: { delivered: 'доставлено', read: 'прочитано', undelivered: 'не доставлено' },
  actions: 'Действия',
  cancel: 'Отменить',
  retry: 'Повторить',
  details: 'Подробнее',

  search: 'Поиск по телефону',
  searchLabel: 'Телефон клиента',
  searchButton: 'Найти',
  searchHint: 'В любом виде: +7 9XX XXX-XX-XX, 8 9XX XXX XX XX, 9XXXXXXXXX.',
  searchResults: (phone) => `Сообщения на ${phone}`,
  searchNone: (phone) => `Сообщений на ${phone} нет (или они уже удалены по сроку хранения).`,
  searchInvalid: 'Это не номер телефона России или Казахстана. Проверьте цифры.',
  searchLatest: (count) => `Показаны последние ${count}.`,

  job: (id) => `Сообщение ${id}`,
  back: '← К списку',
  fields: {
    id: 'ID',
    attempts: 'Попыток отправки',
    messageId: 'ID сообщения в OLChat',
    createdAt: 'Создано',
    updatedAt: 'Изменено',
    sendAt: 'Отправить не раньше',
    notAfter: 'Не отправлять после',
    replaceKey: 'Ключ замены (replaceKey)',
    deliveryCheckedAt: 'Доставка проверена',
    errorCode: 'Код ошибки',
    errorStatus: 'HTTP-статус',
    errorMessage: 'Текст ошибки',
    meta: 'Данные приложения (meta)',
    text: 'Текст',
    fileUrl: 'Файл',
    caption: 'Подпись к файлу',
  },
  textNotKept: 'не хранится (storeText: false)',
  ambiguousNote:
    'OLChat не ответил на запрос отправки: сообщение могло дойти до клиента. При повторе оно может прийти дважды.',
  ambiguousConfirm: 'Понимаю, что клиент может получить сообщение дважды',

  flashCancelled: (id) => `Сообщение ${id} отменено.`,
  flashRetried: (id) => `Сообщение ${id} снова в очереди.`,

  forbiddenTitle: 'Запрос отклонён',
  forbidden:
    'Действие не выполнено: запрос пришёл не со страницы панели или страница устарела. Откройте панель заново и повторите.',
  notFoundTitle: 'Сообщение не найдено',
  notFound: 'Сообщения с таким ID нет: возможно, оно уже удалено из очереди.',
  refusedTitle: 'Действие невозможно',
  cannotCancel: (status) =>
    `Отменить нельзя: отменяются только запланированные сообщения и сообщения в очереди, а у этого статус «${status}».`,
  cannotRetry: (status) =>
    `Повторить нельзя: повторяются только сообщения с ошибкой и просроченные, а у этого статус «${status}».`,
  retryNeedsConfirm: 'Сообщение могло дойти до клиента. Чтобы отправить его ещё раз, отметьте подтверждение.',
  retryTooLate: 'Повторить нельзя: время «не отправлять после» уже прошло.',
  changedMeanwhile: 'Пока вы смотрели на страницу, статус сообщения изменился. Обновите её и попробуйте снова.',
  badRequestTitle: 'Неверный запрос',
  badRequest: 'Запрос не похож на отправку формы панели.',
  methodNotAllowed: 'Этот адрес не принимает такой запрос.',
  internalTitle: 'Ошибка сервера',
  internal: 'Что-то пошло не так. Подробности записаны в журнал приложения.',
};

const en: Messages = {
  locale: 'en-GB',
  title: 'WhatsApp queue',
  overview: 'Overview',
  refresh: 'Refresh',
  timesIn: (zone) => `Times are shown in ${zone}.`,
  closed: 'Sending has stopped (the notifier is closed): no new messages are accepted.',

  line: 'WhatsApp line',
  lineState: { up: 'up', down: 'down', unknown: 'unknown', flagged: 'flagged for spam' },
  lineReason: {
    vendor_unreachable: 'OLChat is not answering',
    line_down: 'the WhatsApp session is disconnected',
    token_rejected: 'OLChat refuses the token',
  },
  since: (time, ago) => `since ${time} (${ago})`,
  checkedAt: (time) => `OLChat last answered at ${time}`,
  neverChecked: 'OLChat has not been asked yet',

  queue: 'Queue',
  status: {
    scheduled: 'scheduled',
    queued: 'queued',
    sending: 'sending',
    sent: 'sent',
    failed: 'failed',
    skipped: 'skipped',
    cancelled: 'cancelled',
    expired: 'expired',
  },
  eta: 'Queue clears',
  etaEmpty: 'Nothing waiting',
  etaSoon: 'in under a minute',
  etaIn: (ms) => `in about ${enDuration(ms)}`,
  ago: (ms) => (ms < 5_000 ? 'just now' : `${enDuration(ms)} ago`),

  lanes: 'Lanes',
  lane: 'Priority',
  waiting: 'Waiting',
  priority: { high: 'high', normal: 'normal', low: 'low' },
  lanesOfLatest: (count) => `Counted over the latest ${count} queued messages.`,
  laneState: 'State',
  laneOpen: 'sending',
  lanePaused: 'paused',
  laneFlagged: (until) => `waiting until ${until}: the number is flagged`,
  pause: 'Pause',
  resume: 'Resume',
  clearBacklog: 'Clear backlog…',
  resumeAll: 'Lift every pause and the flag',
  flaggedNote: (until) =>
    `OLChat says the number is suspected of spam or banned. Normal and low messages wait until ${until}, so the number is not banned for good. Lift the pause only once you are sure the cause is gone.`,
  clearTitle: (lane) => `Clear the ${lane} lane's backlog`,
  clearQuestion: (lane) =>
    `Cancel every scheduled and queued message of the ${lane} lane? They will not be sent; this cannot be undone.`,
  clearConfirm: 'Yes, cancel these messages',
  clearedTitle: 'Backlog cleared',
  cleared: (count, lane) => `Cancelled ${count} ${count === 1 ? 'message' : 'messages'} of the ${lane} lane.`,
  flashPaused: (lane) => `The ${lane} lane is paused: its messages wait.`,
  flashResumed: (lane) => `The ${lane} lane is sending again.`,
  flashResumedAll: 'Every pause and the flag are lifted.',

  scheduled: 'Next scheduled',
  scheduledNone: 'Nothing is scheduled.',
  scheduledMore: (count) => `${count} more scheduled.`,

  recent: 'Recent messages',
  filterByStatus: 'Filter by status',
  statusHeading: 'Status',
  all: 'all',
  latest: (count) => `Showing the latest ${count}.`,
  noJobs: 'No messages yet.',
  noJobsWithStatus: (status) => `No ${status} messages.`,

  when: 'When',
  time: 'Time',
  rule: 'Rule',
  phone: 'Phone',
  error: 'Error',
  delivery: 'Delivery',
  deliveryStatus: { delivered: 'delivered', read: 'read', undelivered: 'undelivered' },
  actions: 'Actions',
  cancel: 'Cancel',
  retry: 'Retry',
  details: 'Details',

  search: 'Search by phone',
  searchLabel: 'Customer’s phone',
  searchButton: 'Search',
  searchHint: 'In any form: +7 9XX XXX-XX-XX, 8 9XX XXX XX XX, 9XXXXXXXXX.',
  searchResults: (phone) => `Messages to ${phone}`,
  searchNone: (phone) => `No messages to ${phone} (or they were already erased after the retention time).`,
  searchInvalid: 'This is not a Russian or Kazakh phone number. Check the digits.',
  searchLatest: (count) => `Showing the latest ${count}.`,

  job: (id) => `Message ${id}`,
  back: '← Back to the list',
  fields: {
    id: 'ID',
    attempts: 'Send attempts',
    messageId: 'OLChat message ID',
    createdAt: 'Created',
    updatedAt: 'Updated',
    sendAt: 'Send at',
    notAfter: 'Not after',
    replaceKey: 'Replace key',
    deliveryCheckedAt: 'Delivery checked',
    errorCode: 'Error code',
    errorStatus: 'HTTP status',
    errorMessage: 'Error message',
    meta: 'App data (meta)',
    text: 'Text',
    fileUrl: 'File',
    caption: 'Caption',
  },
  textNotKept: 'not kept (storeText: false)',
  ambiguousNote:
    'OLChat did not answer the send request: the message may have reached the customer. Retrying may deliver it twice.',
  ambiguousConfirm: 'I understand the customer may receive it twice',

  flashCancelled: (id) => `Message ${id} cancelled.`,
  flashRetried: (id) => `Message ${id} is queued again.`,

  forbiddenTitle: 'Request refused',
  forbidden:
    'Nothing was done: the request did not come from this dashboard, or its page is too old. Open the dashboard again and retry.',
  notFoundTitle: 'Message not found',
  notFound: 'There is no message with this ID: it may have been removed from the queue.',
  refusedTitle: 'Not possible',
  cannotCancel: (status) =>
    `Cannot cancel: only scheduled and queued messages can be cancelled; this one is ${status}.`,
  cannotRetry: (status) => `Cannot retry: only failed and expired messages can be retried; this one is ${status}.`,
  retryNeedsConfirm: 'The message may have reached the customer. Tick the confirmation to send it again.',
  retryTooLate: 'Cannot retry: its "not after" time has passed.',
  changedMeanwhile: 'The message changed state while the page was open. Reload it and try again.',
  badRequestTitle: 'Bad request',
  badRequest: 'The request does not look like a dashboard form.',
  methodNotAllowed: 'This address does not take that request.',
  internalTitle: 'Server error',
  internal: 'Something went wrong. The details are in the application log.',
};

export const MESSAGES: Record<DashboardLang, Messages> = { ru, en };
