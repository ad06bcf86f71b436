import { describe, expect, it } from 'vitest';
import type { Emulator } from '../src/index.js';
import { call, fakeClock, PHONE, sendTextParams, start } from './helpers.js';

async function send(emu: Emulator, text = 'Hello', phone = PHONE): Promise<string> {
  const res = await call(emu, 'sendText', sendTextParams(text, phone));
  expect(res.status).toBe(200);
  return String(res.body.message_id);
}

async function statusOf(emu: Emulator, id: string, phone = PHONE): Promise<Record<string, unknown>> {
  const res = await call(emu, 'checkMessageStatus', { phone_number: phone, message_id: id });
  expect(res.status).toBe(200);
  return res.body;
}

describe('delivery statuses', () => {
  it('a message is sent, then delivered and read on the emulator clock', async () => {
    const clock = fakeClock();
    const emu = await start({ clock: clock.now, delivery: { deliveredAfterMs: 1000, readAfterMs: 5000 } });
    const id = await send(emu);
    expect(emu.messages[0]?.status).toBe('sent');
    expect(await statusOf(emu, id)).toEqual({ result: true, status: 'sent' });
    clock.advance(999);
    expect(await statusOf(emu, id)).toEqual({ result: true, status: 'sent' });
    clock.advance(1);
    expect(emu.messages[0]?.status).toBe('delivered');
    expect(await statusOf(emu, id)).toEqual({ result: true, status: 'delivered' });
    clock.advance(3999);
    expect(await statusOf(emu, id)).toEqual({ result: true, status: 'delivered' });
    clock.advance(1);
    expect(emu.messages[0]?.status).toBe('read');
    expect(await statusOf(emu, id)).toEqual({ result: true, status: 'read' });
  });

  it('each message counts from its own acceptance', async () => {
    const clock = fakeClock();
    const emu = await start({ clock: clock.now, delivery: { deliveredAfterMs: 1000 } });
    await send(emu, 'early');
    clock.advance(600);
    await send(emu, 'late');
    clock.advance(600);
    expect(emu.messages.map((m) => [m.text, m.status])).toEqual([
      ['early', 'delivered'],
      ['late', 'sent'],
    ]);
  });

  it('without a delivery option a message stays sent; with only deliveredAfterMs it is never read', async () => {
    const clock = fakeClock();
    const plain = await start({ clock: clock.now });
    const deliveredOnly = await start({ clock: clock.now, delivery: { deliveredAfterMs: 0 } });
    const a = await send(plain);
    const b = await send(deliveredOnly);
    expect(await statusOf(deliveredOnly, b)).toMatchObject({ status: 'delivered' }); // 0: at once
    clock.advance(365 * 24 * 3600_000);
    expect(await statusOf(plain, a)).toEqual({ result: true, status: 'sent' });
    expect(await statusOf(deliveredOnly, b)).toEqual({ result: true, status: 'delivered' });
  });

  it('with only readAfterMs a message goes from sent to read', async () => {
    const clock = fakeClock();
    const emu = await start({ clock: clock.now, delivery: { readAfterMs: 1000 } });
    const id = await send(emu);
    clock.advance(999);
    expect(await statusOf(emu, id)).toEqual({ result: true, status: 'sent' });
    clock.advance(1);
    expect(await statusOf(emu, id)).toEqual({ result: true, status: 'read' });
  });

  it('setDelivery sets a status by hand, which replaces the schedule', async () => {
    const clock = fakeClock();
    const emu = await start({ clock: clock.now, delivery: { deliveredAfterMs: 1000, readAfterMs: 2000 } });
    const id = await send(emu);
    emu.setDelivery(id, 'failed');
    expect(await statusOf(emu, id)).toEqual({ result: true, status: 'failed' });
    clock.advance(10_000);
    expect(emu.messages[0]?.status).toBe('failed'); // the schedule no longer applies
    emu.setDelivery(id, 'read');
    expect(await statusOf(emu, id)).toEqual({ result: true, status: 'read' });
    emu.setDelivery(id, 'delivered');
    expect(await statusOf(emu, id)).toEqual({ result: true, status: 'delivered' });
  });

  it('setDelivery throws for an unknown, reset or evicted id and for a status it does not set', async () => {
    const emu = await start({ maxRecords: 1 });
    expect(() => emu.setDelivery('no-such-id', 'read')).toThrow(/no message/);
    const first = await send(emu, 'first');
    expect(() => emu.setDelivery(first, 'sent' as never)).toThrow(TypeError);
    expect(() => emu.setDelivery(first, 'seen' as never)).toThrow(TypeError);
    expect(emu.messages[0]?.status).toBe('sent');
    await send(emu, 'second'); // maxRecords 1: the first is dropped
    expect(() => emu.setDelivery(first, 'read')).toThrow(/no message/);
    expect(await statusOf(emu, first)).toEqual({ result: false, error: 'Message not found' });
    const second = emu.messages[0]?.id as string;
    emu.reset();
    expect(() => emu.setDelivery(second, 'read')).toThrow(/no message/);
  });

  it('checkMessageStatus knows a message only for its phone and its token', async () => {
    const emu = await start({ tokens: ['line-a', 'line-b'] });
    const id = await send(emu);
    emu.setDelivery(id, 'read');
    expect(await statusOf(emu, id)).toEqual({ result: true, status: 'read' });
    const notFound = { result: false, error: 'Message not found' };
    expect(await statusOf(emu, id, '79990001122')).toEqual(notFound);
    const otherLine = await call(
      emu,
      'checkMessageStatus',
      { phone_number: PHONE, message_id: id },
      { token: 'line-b' },
    );
    expect(otherLine).toMatchObject({ status: 200, body: notFound });
    expect(await statusOf(emu, 'no-such-id')).toEqual(notFound);
  });

  it('messages stay a live array of plain records whose status shows in JSON and /inbox.json', async () => {
    const clock = fakeClock();
    const emu = await start({ clock: clock.now, delivery: { deliveredAfterMs: 50 } });
    const messages = emu.messages;
    const id = await send(emu, 'hi');
    expect(emu.messages).toBe(messages);
    expect(messages).toEqual([expect.objectContaining({ id, text: 'hi', status: 'sent' })]);
    expect(JSON.parse(JSON.stringify(messages))[0]).toMatchObject({ id, status: 'sent' });
    clock.advance(50);
    expect(JSON.parse(JSON.stringify(messages))[0]).toMatchObject({ id, status: 'delivered' });
    const inbox = (await (await fetch(`${emu.url}/inbox.json`)).json()) as { messages: { status: string }[] };
    expect(inbox.messages.map((m) => m.status)).toEqual(['delivered']);
  });

  it('refuses bad delivery options', async () => {
    await expect(start({ delivery: { deliveredAfterMs: -1 } })).rejects.toThrow(/deliveredAfterMs/);
    await expect(start({ delivery: { readAfterMs: Number.NaN } })).rejects.toThrow(/readAfterMs/);
    await expect(start({ delivery: { deliveredAfterMs: 'soon' as never } })).rejects.toThrow(/deliveredAfterMs/);
    await expect(start({ delivery: { deliveredAfterMs: 2000, readAfterMs: 1000 } })).rejects.toThrow(/readAfterMs/);
    await expect(start({ delivery: 5 as never })).rejects.toThrow(TypeError);
  });
});
