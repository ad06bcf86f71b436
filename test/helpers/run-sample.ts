import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PRELOAD = fileURLToPath(new URL('./sample-preload.mjs', import.meta.url));

/** What a sample's annotation asks: `<!-- sample: {...} -->` right before its code block. */
export interface SampleCheck {
  /** A request to send once the sample listens; the sample is stopped afterwards. */
  request?: {
    method: string;
    path: string;
    form?: Record<string, string>;
    json?: unknown;
    headers?: Record<string, string>;
  };
  /** The answer's status. */
  status?: number;
  /** Messages the emulator must have received by the end. */
  messages?: number;
  /** The sample needs Redis: REDIS_URL is set for it. */
  redis?: boolean;
}

export interface Sample {
  file: string;
  line: number;
  code: string;
  check: SampleCheck;
}

/** Every ```js block of a Markdown file, with the JSON of the `<!-- sample: … -->` comment above it. */
export function extractSamples(markdown: string, file: string): Sample[] {
  const samples: Sample[] = [];
  const block = /(?:<!--\s*sample:\s*(\{.*?\})\s*-->\s*\n)?```js\n([\s\S]*?)```/g;
  for (const match of markdown.matchAll(block)) {
    const line = markdown.slice(0, match.index).split('\n').length;
    samples.push({ file, line, code: match[2] ?? '', check: match[1] ? (JSON.parse(match[1]) as SampleCheck) : {} });
  }
  return samples;
}

export interface SampleRun {
  exitCode: number | null;
  output: string;
  status?: number;
  body?: string;
}

/**
 * Runs a sample as its own Node process from `cwd` (where its imports resolve), with `env`.
 * A sample with `check.request` is a server: it gets the request once it listens, then is stopped.
 * Any other sample must exit by itself.
 */
export async function runSample(
  sample: Sample,
  cwd: string,
  env: Record<string, string>,
  options: { timeoutMs?: number; beforeStop?: () => Promise<unknown> } = {},
): Promise<SampleRun> {
  const { timeoutMs = 30_000, beforeStop } = options;
  const dir = join(cwd, '.samples');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${sample.file.replace(/\W+/g, '-')}-${sample.line}.mjs`);
  writeFileSync(path, sample.code);
  const child = spawn(process.execPath, ['--import', PRELOAD, path], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const run: SampleRun = { exitCode: null, output: '' };
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code, signal) => {
      if (signal) output += `\n(killed by ${signal})`;
      resolve(code);
    }),
  );
  const listening = new Promise<number>((resolve) => {
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const port = /SAMPLE_LISTENING (\d+)/.exec(output);
      if (port) resolve(Number(port[1]));
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', read);
  });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    // Only a sample that is a server (it has a request to answer) is stopped; others must end by themselves.
    const served = sample.check.request ? listening.then((port) => ({ port })) : new Promise<never>(() => {});
    const first = await Promise.race([exited.then((code) => ({ code })), served, timedOut]);
    if (first === 'timeout')
      throw new Error(
        `sample ${sample.file}:${sample.line} neither ended nor listened within ${timeoutMs} ms\n${output}`,
      );
    if ('code' in first) {
      run.exitCode = first.code;
      return run;
    }
    if (sample.check.request) {
      const { method, path: urlPath, form, json, headers = {} } = sample.check.request;
      const body = form ? new URLSearchParams(form).toString() : json === undefined ? undefined : JSON.stringify(json);
      const type = form ? 'application/x-www-form-urlencoded' : json === undefined ? undefined : 'application/json';
      const res = await fetch(`http://127.0.0.1:${first.port}${urlPath}`, {
        method,
        redirect: 'manual',
        headers: { ...(type ? { 'content-type': type } : {}), ...headers },
        ...(body === undefined ? {} : { body }),
      });
      run.status = res.status;
      run.body = await res.text();
    }
    // Let its queued messages go out, then stop the server the way an operator would.
    await beforeStop?.();
    child.kill('SIGTERM');
    run.exitCode = await exited;
    return run;
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    run.output = output;
  }
}
