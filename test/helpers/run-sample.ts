import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
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
  /** The Markdown line of the code's first line. */
  codeLine: number;
  code: string;
  check: SampleCheck;
}

/** Every ```js block of a Markdown file, with the JSON of the `<!-- sample: … -->` comment above it. */
export function extractSamples(markdown: string, file: string): Sample[] {
  const samples: Sample[] = [];
  const block = /(?:<!--\s*sample:\s*(\{.*?\})\s*-->\s*\n)?```js\n([\s\S]*?)```/g;
  for (const match of markdown.matchAll(block)) {
    const line = markdown.slice(0, match.index).split('\n').length;
    const codeLine = line + (match[0].slice(0, match[0].indexOf('```js\n')).match(/\n/g)?.length ?? 0) + 1;
    const check = match[1] ? (JSON.parse(match[1]) as SampleCheck) : {};
    samples.push({ file, line, codeLine, code: match[2] ?? '', check });
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

export interface SampleTypeErrors {
  /** One line per diagnostic, each naming the README and its line: `README.md:107: error TS18048: …`. */
  errors: string[];
  /** tsc's whole output, for what does not map to a sample (a broken tsconfig, a crash). */
  output: string;
  exitCode: number | null;
}

/**
 * Typechecks `samples` as TypeScript in one `tsc` run: each becomes a `.mts` module in
 * `cwd/.samples/types/`, where `@olchat-kit/*` resolves to the built packages' declarations (as in an
 * app that installed them) and the frameworks to their `@types`. Errors are mapped back to the
 * Markdown line they come from.
 */
export async function typecheckSamples(samples: Sample[], cwd: string): Promise<SampleTypeErrors> {
  const dir = join(cwd, '.samples', 'types');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const origins = new Map<string, Sample>();
  for (const sample of samples) {
    const name = `${sample.file.replace(/\W+/g, '-')}-${sample.line}.mts`;
    origins.set(name, sample);
    writeFileSync(join(dir, name), sample.code);
  }
  const frameworkTypes = {
    // What an app installs beside the adapter (`@types/express`, `@types/koa`); here the adapters' own.
    express: ['../../packages/express/node_modules/@types/express/index.d.ts'],
    koa: ['../../packages/koa/node_modules/@types/koa/index.d.ts'],
    '@koa/router': ['../../packages/koa/node_modules/@koa/router/dist/index.d.mts'],
  };
  const tsconfig = {
    compilerOptions: {
      strict: true,
      noEmit: true,
      module: 'nodenext',
      target: 'es2022',
      skipLibCheck: true,
      types: ['node'],
      paths: frameworkTypes,
    },
    files: [...origins.keys()],
  };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
  const tsc = join(cwd, 'node_modules', '.bin', 'tsc');
  const child = spawn(tsc, ['-p', join(dir, 'tsconfig.json'), '--pretty', 'false'], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exitCode = await new Promise<number | null>((resolve) => child.once('close', resolve));
  const errors: string[] = [];
  for (const match of output.matchAll(/^(?:.*[\\/])?([^\\/(]+\.mts)\((\d+),\d+\): (error .*)$/gm)) {
    const sample = origins.get(match[1] as string);
    const where = sample ? `${sample.file}:${sample.codeLine + Number(match[2]) - 1}` : match[1];
    errors.push(`${where}: ${match[3]}`);
  }
  return { errors, output, exitCode };
}
