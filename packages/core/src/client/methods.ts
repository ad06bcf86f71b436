/**
 * The vendor's methods in one place: their v1 names, query parameters and limits.
 * A v2 transport (POST JSON on `/v2/messages.text.send/` and friends) would add its own
 * mapping beside `v1Request` without touching the client.
 */
export type OlchatMethod = 'sendText' | 'sendFile' | 'checkPhone' | 'checkStatus' | 'checkMessageStatus';

export const OLCHAT_METHODS: readonly OlchatMethod[] = [
  'sendText',
  'sendFile',
  'checkPhone',
  'checkStatus',
  'checkMessageStatus',
];

export interface MethodLimit {
  /** Requests allowed in any window of `durationMs`. */
  points: number;
  durationMs: number;
  /** Extra time a slot stays taken after the answer, against clock drift and timer lag. */
  marginMs?: number;
}

/** The vendor's limits per webhook token and method; they cannot be raised. */
export const VENDOR_LIMITS: Readonly<
  Record<OlchatMethod, Readonly<Required<Pick<MethodLimit, 'points' | 'durationMs'>>>>
> = {
  sendText: { points: 5, durationMs: 3000 },
  sendFile: { points: 5, durationMs: 3000 },
  checkPhone: { points: 3, durationMs: 1000 },
  checkStatus: { points: 5, durationMs: 3000 },
  checkMessageStatus: { points: 5, durationMs: 3000 },
};

export const DEFAULT_MARGIN_MS = 50;

/**
 * The longest request line (`GET <path>?<query> HTTP/1.1`) a message may need. v1 puts the whole
 * message in the URL, and 8 KiB is the common server default for a request line (nginx, Apache,
 * most proxies): past it the answer is 414 or 431 and the message was never accepted. A little
 * under 8 192 leaves room for a proxy that adds to the line.
 */
export const MAX_REQUEST_LINE_BYTES = 8000;
export const VENDOR_BASE_URL = 'https://olchat.infocom.io/rest/webhook/wa';

/** Parameters after validation, in the library's own words. */
export type MethodParams = {
  sendText: { phone: string; text: string; sendToImol: boolean };
  sendFile: { phone: string; url: string; caption?: string; sendToImol: boolean };
  checkPhone: { phone: string };
  checkStatus: Record<string, never>;
  checkMessageStatus: { phone: string; messageId: string };
};

const yesNo = (flag: boolean): 'Y' | 'N' => (flag ? 'Y' : 'N');

/** v1: `GET {baseUrl}/{token}/{method}?{query}` with the vendor's parameter names. */
export function v1Query<M extends OlchatMethod>(method: M, params: MethodParams[M]): URLSearchParams {
  const query = new URLSearchParams();
  const p = params as Partial<MethodParams['sendFile'] & MethodParams['sendText'] & MethodParams['checkMessageStatus']>;
  if (p.phone !== undefined) query.set('phone_number', p.phone);
  if (method === 'sendText' && p.text !== undefined) query.set('body', p.text);
  if (method === 'sendFile' && p.url !== undefined) query.set('body', p.url);
  if (p.caption !== undefined) query.set('caption', p.caption);
  if (p.sendToImol !== undefined) query.set('send_to_imol', yesNo(p.sendToImol));
  if (p.messageId !== undefined) query.set('message_id', p.messageId);
  return query;
}
