// Redactor cost per log line: Redactor.redactLine (what every pino line passes through) on realistic JSON
// lines, with 0, 1 and 4 registered secrets, for lines without a secret (the common case) and lines that
// carry one. Prints a markdown table of CPU ns per line: the process's own CPU time (user + system), and the
// fastest repetition, because on a shared machine wall time and the median measure the neighbours.
//
//   npx tsx bench/redact.ts                 # 20000 lines × 7 repetitions per case
//   npx tsx bench/redact.ts --lines 5000 --reps 5
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Redactor } from '../src/log/redactor';

const { values } = parseArgs({
  options: { lines: { type: 'string', default: '20000' }, reps: { type: 'string', default: '7' } },
});
const LINES = Number(values.lines);
const REPS = Number(values.reps);

function secret(): string {
  return `sk-bench-${randomBytes(18).toString('base64url')}`;
}

function line(i: number, extra: string): string {
  return `${JSON.stringify({
    level: 'info',
    time: '2026-11-26T16:00:00.000Z',
    execution_id: '01a20c30-47c9-757d-a13d-b0db3d62b1d9',
    processor_ref: 'llm/chat@1',
    adapter: 'local',
    mode: 'real',
    version: '0.1.0',
    event: 'provider.response',
    duration_ms: 1000 + i,
    outputs: 2,
    cost_micro: 1234,
    image_digest: 'sha256:0e47957d4def35d3c4578840452c0a4bd431d2e04f6ec9bb783776c8097047f2',
    msg: `provider.response ${extra}`,
  })}\n`;
}

function measure(redactor: Redactor, lines: readonly string[]): number {
  const samples: number[] = [];
  for (let r = 0; r < REPS; r++) {
    const started = process.cpuUsage();
    let sink = 0;
    for (const l of lines) sink += redactor.redactLine(l).length;
    const used = process.cpuUsage(started);
    if (sink === 0) throw new Error('nothing redacted');
    samples.push(((used.user + used.system) * 1000) / lines.length);
  }
  return Math.min(...samples);
}

console.log(`| registered secrets | line | CPU ns per line (fastest of ${REPS} × ${LINES} lines) |`);
console.log('| --- | --- | --- |');
for (const count of [0, 1, 4]) {
  const redactor = new Redactor();
  const values = Array.from({ length: count }, secret);
  for (const v of values) redactor.register(v);
  const clean = Array.from({ length: LINES }, (_, i) => line(i, 'ok'));
  console.log(`| ${count} | no secret | ${measure(redactor, clean).toFixed(0)} |`);
  if (count > 0) {
    const raw = Array.from({ length: LINES }, (_, i) => line(i, `echo ${values[0]!}`));
    console.log(`| ${count} | raw secret | ${measure(redactor, raw).toFixed(0)} |`);
    const b64 = Array.from({ length: LINES }, (_, i) =>
      line(i, `echo ${Buffer.from(`key=${values[0]!}`).toString('base64')}`),
    );
    console.log(`| ${count} | base64 secret | ${measure(redactor, b64).toFixed(0)} |`);
  }
}
