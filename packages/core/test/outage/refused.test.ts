import { it } from 'vitest';
import { OUTAGE_MS, outageScenario } from './scenario.js';

it(
  'the vendor refuses connections for 60 s under 30 queued messages: all 30 arrive once after it returns',
  async () => {
    await outageScenario('refused');
  },
  OUTAGE_MS + 120_000,
);
