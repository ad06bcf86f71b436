import type { OlchatMethod } from './types.js';

/** Request params: query and body merged; a null-prototype record so any key is plain data. */
export type Params = Record<string, string>;

export type ValidatedParams =
  | { method: 'sendText'; phone: string; text: string; sendToImol: boolean }
  | { method: 'sendFile'; phone: string; url: string; caption?: string; sendToImol: boolean }
  | { method: 'checkPhone'; phone: string }
  | { method: 'checkStatus' }
  | { method: 'checkMessageStatus'; phone: string; messageId: string };

export type ValidationResult = { ok: true; value: ValidatedParams } | { ok: false; error: string };

const PHONE = /^7\d{10}$/;

function own(params: Params, name: string): string | undefined {
  return Object.hasOwn(params, name) ? params[name] : undefined;
}

function phoneNumber(params: Params, errors: string[]): string {
  const phone = own(params, 'phone_number');
  if (phone === undefined || phone === '') errors.push('phone_number is required');
  else if (!PHONE.test(phone)) errors.push('phone_number must be 11 digits starting with 7');
  return phone ?? '';
}

function sendToImol(params: Params, errors: string[]): boolean {
  const value = own(params, 'send_to_imol');
  if (value === undefined || value === '') errors.push('send_to_imol is required');
  else if (value !== 'Y' && value !== 'N') errors.push('send_to_imol must be Y or N');
  return value === 'Y';
}

function isFileUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
}

/** Checks a method's params as the vendor documents them; the error names every bad param and why. */
export function validateParams(method: OlchatMethod, params: Params): ValidationResult {
  const errors: string[] = [];
  let value: ValidatedParams;
  switch (method) {
    case 'sendText': {
      const phone = phoneNumber(params, errors);
      const text = own(params, 'body');
      if (text === undefined) errors.push('body is required');
      else if (text.trim() === '') errors.push('body must not be empty');
      value = { method, phone, text: text ?? '', sendToImol: sendToImol(params, errors) };
      break;
    }
    case 'sendFile': {
      const phone = phoneNumber(params, errors);
      const url = own(params, 'body');
      if (url === undefined || url === '') errors.push('body is required (a direct file URL)');
      else if (!isFileUrl(url)) errors.push('body must be a direct http(s) file URL');
      const imol = sendToImol(params, errors);
      const caption = own(params, 'caption');
      value = { method, phone, url: url ?? '', sendToImol: imol };
      if (caption !== undefined && caption !== '') value.caption = caption;
      break;
    }
    case 'checkPhone':
      value = { method, phone: phoneNumber(params, errors) };
      break;
    case 'checkStatus':
      value = { method };
      break;
    case 'checkMessageStatus': {
      const phone = phoneNumber(params, errors);
      const messageId = own(params, 'message_id');
      if (messageId === undefined || messageId === '') errors.push('message_id is required');
      value = { method, phone, messageId: messageId ?? '' };
      break;
    }
  }
  return errors.length > 0 ? { ok: false, error: errors.join('; ') } : { ok: true, value };
}
