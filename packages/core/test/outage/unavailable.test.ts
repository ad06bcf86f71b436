import { it } from 'vitest';
import { OUTAGE_MS, outageScenario } from './scenario.js';

it(
  'the vendor answers 503 for 60 s under 30 queued messages: all 30 arrive once after it returns',
  async () => {
    await outageScenario('503');
  },
  OUTAGE_MS + 120_000,
);
