// The pure parts of the local adapter: container naming and the bounded stderr tail.
import { describe, expect, it } from 'vitest';
import { containerName } from '../../src/adapters/docker/index';
import { parseInvokeArgs } from '../../src/adapters/docker/invoke-args';
import { LogTail, demuxBuffer } from '../../src/adapters/log-tail';
import { expectCode } from './helpers/expect-code';

const D = `sha256:${'ab'.repeat(32)}`;

// Pinned-image parsing is the OCI layer's one parser (parsePinnedImageRef, src/oci/image-ref.ts; what it
// accepts is pinned in tests/unit/oci-ref.test.ts). Here: the adapter's boundary refuses the same cases.
describe('the adapter boundary', () => {
  it.each([
    'busybox',
    'busybox:latest',
    `busybox:1.36@${D}`,
    `127.0.0.1:5000/a/b:tag@${D}`,
    `a/b@sha256:${'A'.repeat(64)}`,
    `a/b@sha256:${'a'.repeat(63)}`,
    `a/b@sha512:${'a'.repeat(64)}`,
    `A/b@${D}`,
    '',
  ])('refuses the image %j with ERR_IMAGE_UNPINNED', (ref) => {
    expectCode('ERR_IMAGE_UNPINNED', () => parseInvokeArgs({ image: ref }));
  });

  it('names containers after the execution', () => {
    expect(containerName('01a2-x')).toBe('wl-01a2-x');
  });
});

describe('LogTail', () => {
  it('keeps everything while under its bounds', () => {
    const t = new LogTail(100, 5);
    t.push(Buffer.from('a\nb\n'));
    t.push(Buffer.from('c'));
    expect(t.text()).toBe('a\nb\nc');
    expect(t.totalBytes).toBe(5);
  });

  it('keeps the last lines and says how much was dropped', () => {
    const t = new LogTail(4096, 3);
    for (let i = 0; i < 100; i++) t.push(Buffer.from(`line ${i}\n`));
    const text = t.text();
    const lines = text.split('\n');
    expect(lines.slice(1)).toEqual(['line 97', 'line 98', 'line 99']);
    expect(lines[0]).toMatch(/^\[… \d+ earlier bytes omitted\]$/);
  });

  it('holds a bounded number of bytes however much is pushed, and never splits a UTF-8 character', () => {
    const t = new LogTail(64, 40);
    const chunk = Buffer.from('é'.repeat(1000)); // 2000 bytes, no newline
    for (let i = 0; i < 1000; i++) t.push(chunk);
    expect(t.totalBytes).toBe(2_000_000);
    const text = t.text();
    const body = text.split('\n').pop()!;
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(64);
    expect(body).toMatch(/^é+$/);
  });
});

describe('demuxBuffer', () => {
  const frame = (type: number, text: string) => {
    const body = Buffer.from(text);
    const head = Buffer.alloc(8);
    head[0] = type;
    head.writeUInt32BE(body.length, 4);
    return Buffer.concat([head, body]);
  };

  it('keeps stderr frames only, in order, and tolerates a truncated last frame', () => {
    const buf = Buffer.concat([frame(1, 'out\n'), frame(2, 'err one\n'), frame(1, 'more out'), frame(2, 'err two')]);
    const got: string[] = [];
    demuxBuffer(buf.subarray(0, buf.length - 3), (c) => got.push(c.toString()));
    expect(got).toEqual(['err one\n', 'err ']);
  });
});
