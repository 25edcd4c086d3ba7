import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger, Redactor, type Logger } from '../../src/log';
import {
  LifecycleCapture,
  MAX_LINE_BYTES,
  droppedMarker,
  STDERR_CAPTURE_FILE,
  keepExecutionLogs,
  keepRunLogs,
  runLogsPath,
  selectLifecycleLines,
} from '../../src/run-logs';
import { LocalObjectStore } from '../../src/world/local-object-store';
import { WorldStore } from '../../src/world/world-store';

const ID = '01a20c30-47c9-757d-a13d-b0db3d62b1d9';
const run = { execution_id: ID, processor_ref: 'text/stats@1', adapter: 'local', mode: 'mock' };
const line = (event: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    level: event === 'execution.fail' ? 'error' : 'info',
    time: '2026-01-01T00:00:00.000Z',
    event,
    ...extra,
  });
const identity = (l: string) => l;
const eventsIn = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { event: string }).event);

describe('selectLifecycleLines', () => {
  it('keeps lifecycle JSON lines only, each event once, in order', () => {
    const text = [
      'starting up (plain text)',
      line('execution.start'),
      '{"event":"runner.debug"}',
      '{not json',
      line('storage.write', { path: 'outputs/a' }),
      line('storage.write', { path: 'outputs/b' }),
      line('execution.settle'),
      line('execution.start'),
      '',
    ].join('\n');
    const got = selectLifecycleLines(text, identity);
    expect(got.lines.map((l) => (JSON.parse(l) as { event: string }).event)).toEqual([
      'execution.start',
      'storage.write',
      'execution.settle',
    ]);
    expect(JSON.parse(got.lines[1]!)).toMatchObject({ path: 'outputs/a' });
    expect(got.counts).toEqual({ other_lines: 3, duplicates: 2, oversized: 0, over_budget: 0 });
    expect(got.note).toBeUndefined();
  });

  it('redacts every kept line with the given redactor', () => {
    const redactor = new Redactor();
    redactor.register('hunter2-secret');
    const got = selectLifecycleLines(line('provider.call', { url: 'https://x/?k=hunter2-secret' }), (l) =>
      redactor.redactLine(l),
    );
    expect(got.lines[0]).not.toContain('hunter2-secret');
    expect(got.lines[0]).toContain('[REDACTED]');
  });

  it('drops oversized lines and lines over the budget, and says so in a closing note', () => {
    const huge = line('provider.response', { body: 'x'.repeat(MAX_LINE_BYTES) });
    const text = [line('execution.start'), huge, line('storage.write'), line('execution.settle')].join('\n');
    const got = selectLifecycleLines(text, identity, { maxLines: 2 });
    expect(got.lines).toHaveLength(2);
    expect(got.counts.oversized).toBe(1);
    expect(got.counts.over_budget).toBe(1);
    expect(JSON.parse(got.note!)).toEqual({
      event: 'logs.truncated',
      stderr_bytes_not_seen: 0,
      oversized_lines: 1,
      lines_over_budget: 1,
    });
  });

  it('notes a stderr tail that had already dropped earlier output', () => {
    const got = selectLifecycleLines(`[… 123456 earlier bytes omitted]\n${line('execution.settle')}`, identity);
    expect(got.lines).toHaveLength(1);
    expect(JSON.parse(got.note!)).toMatchObject({ stderr_bytes_not_seen: 123456 });
  });

  it('stays within the byte budget whatever the input', () => {
    const text = Array.from({ length: 9 }, (_, i) => line(`storage.write`, { i })).join('\n');
    expect(selectLifecycleLines(text, identity, { maxBytes: 10 }).lines).toEqual([]);
  });
});

describe('keepRunLogs', () => {
  let dir: string;
  let world: WorldStore;
  let logged: Record<string, unknown>[];
  let logger: Logger;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wl-run-logs-'));
    world = new WorldStore(new LocalObjectStore(join(dir, 'store')));
    logged = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n')) if (l) logged.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    logger = createLogger({ level: 'info', destination });
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const read = async () => new TextDecoder().decode(await world.readBytes(runLogsPath(ID)));
  const deps = () => ({ world, logger, redactLine: identity });

  it('lands logs.jsonl and forwards each line once with the run context', async () => {
    const tail = ['noise', line('execution.start'), line('execution.fail', { code: 'ERR_PROCESSOR_FAILED' })].join(
      '\n',
    );
    const kept = await keepRunLogs(deps(), run, { stderr_tail: tail });
    expect(kept).toEqual({ status: 'created', lines: 2, note: false });
    expect(await read()).toBe(
      `${line('execution.start')}\n${line('execution.fail', { code: 'ERR_PROCESSOR_FAILED' })}\n`,
    );
    const entry = await world.stat(runLogsPath(ID));
    expect(entry).toMatchObject({ mime: 'application/x-ndjson', execution_id: ID });
    const forwarded = logged.filter((r) => r.source === 'processor');
    expect(forwarded.map((r) => [r.event, r.level])).toEqual([
      ['execution.start', 'info'],
      ['execution.fail', 'error'],
    ]);
    expect(forwarded[1]).toMatchObject({
      ...run,
      code: 'ERR_PROCESSOR_FAILED',
      processor_time: '2026-01-01T00:00:00.000Z',
    });
  });

  it('a retry that reads the same container again neither rewrites nor forwards twice', async () => {
    const tail = [line('execution.start'), line('execution.settle')].join('\n');
    await keepRunLogs(deps(), run, { stderr_tail: tail });
    // The adopting attempt reads the log from the container's start again: same lines, plus repeats.
    const again = await keepRunLogs(deps(), run, { stderr_tail: `${tail}\n${tail}` });
    expect(again.status).toBe('kept_before');
    // A different reading (say a fuller one) does not replace what the first attempt kept.
    const other = await keepRunLogs(deps(), run, { stderr_tail: line('execution.start') });
    expect(other.status).toBe('kept_before');
    expect(await read()).toBe(`${tail}\n`);
    expect(logged.filter((r) => r.source === 'processor')).toHaveLength(2);
  });

  it('reads the adapter capture file, adding what only the stderr tail saw', async () => {
    const workdir = join(dir, 'run');
    await mkdir(workdir);
    await writeFile(join(workdir, STDERR_CAPTURE_FILE), `${line('execution.start')}\n${line('storage.write')}\n`);
    const kept = await keepExecutionLogs({ world, logger }, run, { stderr_tail: line('execution.settle') }, workdir);
    expect(kept).toEqual({ status: 'created', lines: 3, note: false });
    expect(eventsIn(await read())).toEqual(['execution.start', 'storage.write', 'execution.settle']);
  });

  it('leaves no artifact when the container printed no lifecycle line', async () => {
    expect(await keepRunLogs(deps(), run, { stderr_tail: 'plain text only' })).toEqual({
      status: 'empty',
      lines: 0,
      note: false,
    });
    expect(await world.stat(runLogsPath(ID))).toBeUndefined();
  });

  it('keepExecutionLogs logs a store failure instead of failing the run', async () => {
    const broken = {
      putBlob: () => Promise.reject(new Error('disk full')),
    } as unknown as WorldStore;
    const kept = await keepExecutionLogs({ world: broken, logger }, run, { stderr_tail: line('execution.start') }, dir);
    expect(kept).toBeUndefined();
    expect(logged.find((r) => r.event === 'run_logs.error')).toMatchObject({ err: 'disk full', execution_id: ID });
  });
});

describe('LifecycleCapture', () => {
  it('keeps lifecycle lines split across chunks, each event once, and skips endless lines in constant memory', () => {
    const capture = new LifecycleCapture();
    const start = line('execution.start');
    const bytes = Buffer.from(`${start}\nplain noise\n${line('storage.write')}\n${start}\n`);
    // Byte-sized chunks: every line boundary and every multi-byte split is exercised.
    for (let i = 0; i < bytes.length; i += 7) capture.push(bytes.subarray(i, i + 7));
    // A line of 1 MiB without a newline until the very end: dropped, never held whole.
    for (let i = 0; i < 64; i++) capture.push(Buffer.alloc(16 * 1024, 0x61));
    capture.push(Buffer.from(`\n${line('execution.settle')}`));
    expect(capture.lines().map((l) => (JSON.parse(l) as { event: string }).event)).toEqual([
      'execution.start',
      'storage.write',
      'execution.settle',
    ]);
    expect(capture.dropped).toBe(1);
  });

  it('saves to the workdir; keepRunLogs merges it with the tail and notes the capture drops', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wl-capture-'));
    try {
      const capture = new LifecycleCapture();
      capture.push(Buffer.from(`${line('execution.start')}\n${'x'.repeat(MAX_LINE_BYTES + 1)}\n`));
      await capture.save(dir);
      expect(await readFile(join(dir, STDERR_CAPTURE_FILE), 'utf8')).toBe(
        `${line('execution.start')}\n${droppedMarker(1)}\n`,
      );
      const world = new WorldStore(new LocalObjectStore(join(dir, 'store')));
      const logger = createLogger({ level: 'silent' });
      // The tail (the engine's last lines) adds the event the capture's follower missed at the end.
      const tail = `[… 999 earlier bytes omitted]\n${line('execution.start')}\n${line('execution.settle')}`;
      const kept = await keepExecutionLogs({ world, logger }, run, { stderr_tail: tail }, dir);
      expect(kept).toEqual({ status: 'created', lines: 2, note: true });
      const text = new TextDecoder().decode(await world.readBytes(runLogsPath(ID)));
      const records = text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(records.map((r) => r.event)).toEqual(['execution.start', 'execution.settle', 'logs.truncated']);
      // The tail's omitted bytes were seen by the capture: only the capture's own drop is noted.
      expect(records[2]).toMatchObject({ stderr_bytes_not_seen: 0, oversized_lines: 1 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
