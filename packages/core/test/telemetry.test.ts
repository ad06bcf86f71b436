import { startEmulator } from '@olchat-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNotifier, type Logger, MemoryLimiterStore, OlchatClient, type Telemetry } from '../src/index.js';

let emu: Awaited<ReturnType<typeof startEmulator>>;
beforeAll(async () => {
  emu = await startEmulator({ latencyMs: [0, 5] });
});
afterAll(async () => {
  await emu.close();
});

function recordingLogger() {
  const errors: string[] = [];
  const logger: Logger = { debug() {}, info() {}, warn() {}, error: (_obj, msg) => errors.push(String(msg)) };
  return { logger, errors };
}

const broken = (): never => {
  throw new Error('tracer bug');
};

/** Sends two messages through a notifier with `telemetry`; resolves with their final statuses. */
async function sendTwo(telemetry: Telemetry, logger: Logger) {
  emu.reset();
  const client = new OlchatClient({ token: emu.token, baseUrl: emu.baseUrl, limiterStore: new MemoryLimiterStore() });
  const notifier = createNotifier({ client, telemetry, logger, deliveryChecks: false });
  try {
    const jobs = [
      await notifier.send({ phone: '79123456789', text: 'one' }),
      await notifier.send({ phone: '79123456789', text: 'two' }),
    ];
    await emu.waitForMessages(2);
    const statuses: string[] = [];
    for (const job of jobs) {
      for (let i = 0; i < 200; i++) {
        const status = (await notifier.get(job.id))?.status;
        if (status === 'sent' || status === 'failed') {
          statuses.push(status);
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    return statuses;
  } finally {
    await notifier.close({ timeoutMs: 5_000 });
    await client.close();
  }
}

describe('a telemetry that throws', () => {
  it('when starting a span: every message still goes out, and it is logged once', async () => {
    const { logger, errors } = recordingLogger();
    expect(await sendTwo({ startSpan: broken }, logger)).toEqual(['sent', 'sent']);
    expect(errors).toEqual(['olchat-kit: telemetry threw; its spans may be incomplete (reported once)']);
  });

  it('in every method of its spans, run() included: the same', async () => {
    const { logger, errors } = recordingLogger();
    const telemetry: Telemetry = {
      startSpan: () => ({
        setAttributes: broken,
        addEvent: broken,
        setError: broken,
        run: broken,
        carrier: broken,
        end: broken,
      }),
    };
    expect(await sendTwo(telemetry, logger)).toEqual(['sent', 'sent']);
    expect(errors).toHaveLength(1);
  });

  it('a tracer that runs the work and then throws does not run it twice', async () => {
    const { logger, errors } = recordingLogger();
    const telemetry: Telemetry = {
      startSpan: () => ({
        setAttributes() {},
        addEvent() {},
        setError() {},
        run: (fn) => {
          fn();
          throw new Error('after the work');
        },
        carrier: () => undefined,
        end() {},
      }),
    };
    expect(await sendTwo(telemetry, logger)).toEqual(['sent', 'sent']);
    expect(emu.messages).toHaveLength(2);
    expect(errors).toHaveLength(1);
  });
});
