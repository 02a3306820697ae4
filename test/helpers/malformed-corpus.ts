/**
 * The malformed-model corpus: truncations, bit flips, files that are not ONNX, graphs with cycles, dangling
 * references, duplicate outputs, huge or negative dimensions, unknown ops, external data that points
 * outside the model's folder, and hostile files: a named pipe or /dev/zero where the model should be, a
 * folder or a pipe as external data, label and input-size bombs in the metadata. Generated
 * deterministically from a small valid model; `npx tsx test/helpers/malformed-corpus.ts DIR` writes it to
 * disk for inspection.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildModel, channelMeanClassifier, externalWeightModel, floatTensor, node, valueInfo } from './onnx-builder';
import { rng } from './gradcheck';

/** Something that is not a regular file: a named pipe (no writer ever comes), a folder, or a device. */
export type HostileEntry = { kind: 'fifo' } | { kind: 'folder' } | { kind: 'link'; target: string };

export interface MalformedCase {
  name: string;
  bytes: Uint8Array;
  /** Instead of `bytes`, the model's path is this (a pipe, a link to /dev/zero). */
  entry?: HostileEntry;
  /** Extra files next to the model (external data). */
  siblings?: Record<string, Uint8Array | HostileEntry>;
  /** What must happen: an error at open, or opening succeeds but analysis/prediction reports a problem. */
  expect: 'error' | 'opens-or-error';
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

function graphCase(
  name: string,
  nodes: Parameters<typeof buildModel>[0]['nodes'],
  extra: Partial<Parameters<typeof buildModel>[0]> = {},
): MalformedCase {
  return {
    name,
    expect: 'error',
    bytes: buildModel({ inputs: [valueInfo('x', [1, 3, 8, 8])], outputs: [{ name: 'y' }], nodes, ...extra }),
  };
}

function externalCase(
  name: string,
  location: string,
  expect: MalformedCase['expect'] = 'error',
  siblings?: Record<string, Uint8Array | HostileEntry>,
): MalformedCase {
  const bytes = externalWeightModel(location, 0);
  return { name, bytes, expect, ...(siblings ? { siblings } : {}) };
}

export function malformedCorpus(): MalformedCase[] {
  const good = channelMeanClassifier(8);
  const cases: MalformedCase[] = [];
  // Truncations at 40 points across the file.
  for (let i = 0; i < 40; i++) {
    const cut = Math.floor(((i + 0.5) / 40) * good.byteLength);
    cases.push({ name: `truncated-at-${cut}`, bytes: good.subarray(0, cut), expect: 'error' });
  }
  // 30 random corruptions: each flips several bytes; some still decode, none may crash or hang.
  const random = rng(7);
  for (let i = 0; i < 30; i++) {
    const bytes = new Uint8Array(good);
    for (let k = 0; k < 1 + (i % 5); k++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
    cases.push({ name: `corrupt-${i}`, bytes, expect: 'opens-or-error' });
  }
  // Not ONNX at all.
  const notOnnx: [string, Uint8Array][] = [
    ['empty', new Uint8Array(0)],
    ['png-header', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13])],
    ['json', text('{"model": "not really"}')],
    ['text', text('hello, this is a text file\n')],
    ['zip-header', new Uint8Array([0x50, 0x4b, 0x03, 0x04, 20, 0, 0, 0])],
    ['npy', new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 10, 0])],
    ['zeros', new Uint8Array(1024)],
    ['ones', new Uint8Array(1024).fill(0xff)],
    ['pytorch-pickle-header', new Uint8Array([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8])],
    ['varint-overflow', new Uint8Array([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])],
  ];
  for (const [name, bytes] of notOnnx) cases.push({ name: `not-onnx-${name}`, bytes, expect: 'error' });
  for (let i = 0; i < 10; i++) {
    const r = rng(100 + i);
    cases.push({
      name: `random-bytes-${i}`,
      bytes: Uint8Array.from({ length: 64 + i * 97 }, () => Math.floor(r() * 256)),
      expect: 'opens-or-error',
    });
  }
  // Structurally broken graphs.
  cases.push(graphCase('cycle', [node('Relu', ['x2'], ['x1']), node('Relu', ['x1'], ['x2']), node('Identity', ['x2'], ['y'])]));
  cases.push(graphCase('self-loop', [node('Add', ['x', 'y'], ['y'])]));
  cases.push(graphCase('dangling-input', [node('Add', ['x', 'nowhere'], ['y'])]));
  cases.push(graphCase('dangling-output', [node('Relu', ['x'], ['r'])]));
  cases.push(graphCase('duplicate-output', [node('Relu', ['x'], ['y']), node('Sigmoid', ['x'], ['y'])]));
  cases.push(graphCase('output-shadows-input', [node('Relu', ['x'], ['x'])]));
  cases.push({ name: 'no-graph', bytes: buildModel({ inputs: [], outputs: [], nodes: [] }), expect: 'error' });
  cases.push({
    name: 'no-opset',
    bytes: (() => {
      const b = buildModel({
        inputs: [valueInfo('x', [1])],
        outputs: [{ name: 'y' }],
        nodes: [node('Relu', ['x'], ['y'])],
        irVersion: 8,
      });
      return b;
    })(),
    expect: 'opens-or-error',
  });
  // Opens (the file is well-formed) but cannot run: the analysis and prediction must say why.
  const opensButFails: [string, Uint8Array][] = [
    [
      'huge-dimension',
      buildModel({ inputs: [valueInfo('x', [1, 3, 2 ** 40, 8])], outputs: [{ name: 'y' }], nodes: [node('Relu', ['x'], ['y'])] }),
    ],
    [
      'negative-dimension',
      buildModel({ inputs: [valueInfo('x', [1, 3, -5, 8])], outputs: [{ name: 'y' }], nodes: [node('Relu', ['x'], ['y'])] }),
    ],
    [
      'unknown-op',
      buildModel({
        inputs: [valueInfo('x', [1, 3, 8, 8])],
        outputs: [{ name: 'y' }],
        nodes: [node('FrobnicateLayer', ['x'], ['y'])],
      }),
    ],
    [
      'wrong-initializer-size',
      buildModel({
        inputs: [valueInfo('x', [1, 4])],
        outputs: [{ name: 'y' }],
        nodes: [node('Add', ['x', 'w'], ['y'])],
        initializers: [floatTensor('w', [4], [1, 2])],
      }),
    ],
    [
      'bad-attribute',
      buildModel({
        inputs: [valueInfo('x', [1, 3, 8, 8])],
        outputs: [{ name: 'y' }],
        nodes: [node('MaxPool', ['x'], ['y'], 'mp', [{ name: 'kernel_shape', type: 7, ints: [-3n, 0n] }])],
      }),
    ],
    [
      'opset-999',
      buildModel({
        inputs: [valueInfo('x', [1, 3, 8, 8])],
        outputs: [{ name: 'y' }],
        nodes: [node('Relu', ['x'], ['y'])],
        opset: 999,
      }),
    ],
  ];
  for (const [name, bytes] of opensButFails) cases.push({ name, bytes, expect: 'opens-or-error' });
  // External data that escapes the model's folder, or is missing/truncated.
  cases.push(externalCase('external-parent-dir', '../secret.bin'));
  cases.push(externalCase('external-absolute', '/etc/passwd'));
  cases.push(externalCase('external-nested-escape', 'sub/../../secret.bin'));
  cases.push(externalCase('external-windows-absolute', 'C:\\Windows\\win.ini'));
  cases.push(externalCase('external-missing', 'weights.bin'));
  cases.push(externalCase('external-truncated', 'weights.bin', 'error', { 'weights.bin': new Uint8Array(8) }));
  cases.push(...hostileCases());
  return cases;
}

/** Files that hang, exhaust memory or confuse a reader that trusts them (issue 17). */
function hostileCases(): MalformedCase[] {
  const none = new Uint8Array(0);
  const withMetadata = (name: string, metadata: Record<string, string>): MalformedCase => ({
    name,
    bytes: channelMeanClassifier(8, metadata),
    expect: 'opens-or-error',
  });
  const dynamicInput = (name: string, preprocess: object): MalformedCase => ({
    name,
    expect: 'opens-or-error',
    bytes: buildModel({
      inputs: [valueInfo('input', ['batch', 3, 'h', 'w'])],
      outputs: [{ name: 'y' }],
      nodes: [node('GlobalAveragePool', ['input'], ['y'])],
      metadata: { 'layerlens.preprocess': JSON.stringify(preprocess) },
    }),
  });
  return [
    { name: 'model-is-fifo', bytes: none, entry: { kind: 'fifo' }, expect: 'error' },
    { name: 'model-is-dev-zero', bytes: none, entry: { kind: 'link', target: '/dev/zero' }, expect: 'error' },
    { name: 'model-is-folder', bytes: none, entry: { kind: 'folder' }, expect: 'error' },
    externalCase('external-is-folder', 'weights.bin', 'error', { 'weights.bin': { kind: 'folder' } }),
    externalCase('external-is-fifo', 'weights.bin', 'error', { 'weights.bin': { kind: 'fifo' } }),
    {
      ...externalCase('external-fifo-no-length', 'weights.bin', 'error', { 'weights.bin': { kind: 'fifo' } }),
      bytes: unboundedExternal('weights.bin'),
    },
    externalCase('external-is-dev-zero', 'weights.bin', 'error', { 'weights.bin': { kind: 'link', target: '/dev/zero' } }),
    withMetadata('labels-sparse-bomb', { 'layerlens.labels': '{"999999999":"x"}' }),
    withMetadata('labels-python-bomb', { 'layerlens.labels': "{999999999: 'x', 0: 'zero'}" }),
    withMetadata('labels-comma-bomb', { 'layerlens.labels': ','.repeat(1_000_000) }),
    withMetadata('preprocess-size-bomb', { 'layerlens.preprocess': JSON.stringify({ input_size: [4096, 4096] }) }),
    withMetadata('preprocess-size-above-cap', { 'layerlens.preprocess': JSON.stringify({ input_size: [8192, 8192] }) }),
    dynamicInput('preprocess-size-bomb-dynamic', { input_size: [16384, 16384] }),
  ];
}

/** x [1, 4] + w, with w read from `location` to its end (no length): a pipe there would never end. */
function unboundedExternal(location: string): Uint8Array {
  return buildModel({
    inputs: [valueInfo('x', [1, 4])],
    outputs: [{ name: 'y' }],
    nodes: [node('Add', ['x', 'w'], ['y'])],
    initializers: [{ name: 'w', dims: [4n], dataType: 1, dataLocation: 1, externalData: [{ key: 'location', value: location }] }],
  });
}

/** Writes a case's model (or hostile entry) and its siblings into `dir`; returns the model's path. */
export async function writeCase(c: MalformedCase, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${c.name}.onnx`);
  await place(file, c.entry ?? c.bytes);
  for (const [sibling, content] of Object.entries(c.siblings ?? {})) await place(path.join(dir, sibling), content);
  return file;
}

async function place(file: string, content: Uint8Array | HostileEntry): Promise<void> {
  if (content instanceof Uint8Array) return writeFile(file, content);
  if (content.kind === 'folder') return void (await mkdir(file, { recursive: true }));
  if (content.kind === 'link') return symlink(content.target, file);
  execFileSync('mkfifo', [file]);
}

if (process.argv[1]?.endsWith('malformed-corpus.ts') && process.argv[2]) {
  const dir = process.argv[2];
  for (const c of malformedCorpus()) await writeCase(c, c.siblings ? path.join(dir, c.name) : dir);
  console.log(`wrote ${malformedCorpus().length} cases to ${dir}`);
}
