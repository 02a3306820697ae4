import { mkdtemp, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { EngineApi, ModelId } from '../../../src-shared/api';
import { connectEngine, type FramePipe } from '../../../src-shared/rpc-channel';
import { Engine } from '../../../src-main/engine/engine';
import { startServer, type RunningServer } from '../../../src-main/hosts/server/server';
import { channelMeanClassifier } from '../../helpers/onnx-builder';
import { solidPng } from '../../helpers/images';

let server: RunningServer;
let engine: Engine;

beforeAll(async () => {
  const rendererDir = await mkdtemp(path.join(tmpdir(), 'layerlens-renderer-'));
  await writeFile(path.join(rendererDir, 'index.html'), '<!doctype html><title>t</title>');
  await writeFile(path.join(rendererDir, 'app.js'), 'console.log(1)');
  await writeFile(path.join(rendererDir, '..', 'secret.txt'), 'secret');
  engine = await Engine.create({ device: 'cpu' });
  server = await startServer({ engine, rendererDir });
});
afterAll(async () => {
  await server.close();
  engine.dispose();
});

const base = (): string => `http://127.0.0.1:${server.port}`;

function openSocket(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

function socketPipe(ws: WebSocket): FramePipe {
  return {
    send: (frame) => ws.send(frame),
    subscribe: (listener) => {
      const h = (data: Buffer): void => listener(new Uint8Array(data));
      ws.on('message', h);
      return () => ws.off('message', h);
    },
  };
}

describe('browser-mode server', () => {
  it('listens on 127.0.0.1 only and prints a URL with a long random token', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{32}$/);
  });

  it('refuses HTTP requests without the token', async () => {
    expect((await fetch(`${base()}/`)).status).toBe(401);
    expect((await fetch(`${base()}/app.js`)).status).toBe(401);
    expect((await fetch(`${base()}/?token=wrong`)).status).toBe(401);
  });

  it('answers 400 to a path that is not valid percent-encoding or not a URL, and keeps serving', async () => {
    const raw = (requestPath: string, headers: http.OutgoingHttpHeaders = {}) =>
      new Promise<number>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port: server.port, path: requestPath, headers }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          })
          .on('error', reject);
      });
    expect(await raw(`/%E0%A4%A?token=${server.token}`)).toBe(400);
    expect(await raw(`/%ZZ.js?token=${server.token}`)).toBe(400);
    expect(await raw(`//`, { cookie: `layerlens_token=${server.token}` })).toBe(400);
    // The same addresses on the WebSocket upgrade path are refused, not a crash of the server.
    expect(await raw('//', { connection: 'Upgrade', upgrade: 'websocket' }).catch(() => 0)).not.toBe(101);
    expect((await fetch(`${base()}/?token=${server.token}`)).status).toBe(200);
  });

  it('serves the app with the token, then by cookie, with a strict CSP', async () => {
    const res = await fetch(`${base()}/?token=${server.token}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const js = await fetch(`${base()}/app.js`, { headers: { cookie: cookie.split(';')[0] as string } });
    expect(js.status).toBe(200);
  });

  it('does not serve files outside the renderer folder', async () => {
    const res = await fetch(`${base()}/..%2Fsecret.txt?token=${server.token}`);
    expect(res.status).toBe(404);
  });

  it('refuses requests addressed to another host name (DNS rebinding)', async () => {
    const http = await import('node:http');
    const status = await new Promise<number>((resolve) => {
      http.get(
        { host: '127.0.0.1', port: server.port, path: `/?token=${server.token}`, headers: { host: 'evil.example:80' } },
        (res) => resolve(res.statusCode ?? 0),
      );
    });
    expect(status).toBe(421);
  });

  it('refuses WebSocket connections without the token or from another origin', async () => {
    await expect(openSocket(`ws://127.0.0.1:${server.port}/api`)).rejects.toThrow(/401|Unexpected|socket hang up/);
    await expect(
      openSocket(`ws://127.0.0.1:${server.port}/api?token=${server.token}`, { origin: 'http://evil.example' }),
    ).rejects.toThrow(/401|Unexpected|socket hang up/);
  });

  it('refuses named pipes as models at once, and keeps serving files and calls (issue 17, item 2)', async () => {
    const ws = await openSocket(`ws://127.0.0.1:${server.port}/api?token=${server.token}`);
    const api: EngineApi = connectEngine(socketPipe(ws), { log: () => {}, progress: () => {}, command: () => {} });
    const dir = await mkdtemp(path.join(tmpdir(), 'layerlens-fifo-'));
    const pipes = [0, 1, 2, 3, 4].map((i) => path.join(dir, `p${i}.onnx`));
    pipes.forEach((p) => execFileSync('mkfifo', [p]));
    // More than libuv's four file threads: a blocking open of each would stall every file read.
    const refusals = await Promise.all(pipes.map((p) => api.openModelPath({ path: p }).catch((e: unknown) => String(e))));
    for (const r of refusals) expect(r).toMatch(/is a named pipe, not an ONNX model file/);
    expect((await fetch(`${base()}/?token=${server.token}`)).status).toBe(200);
    expect((await api.getStartupState()).samples).toEqual([]);
    ws.close();
  }, 5_000);

  it('answers API calls over the WebSocket, validates them, and survives garbage', async () => {
    const ws = await openSocket(`ws://127.0.0.1:${server.port}/api?token=${server.token}`);
    const api: EngineApi = connectEngine(socketPipe(ws), { log: () => {}, progress: () => {}, command: () => {} });
    const state = await api.getStartupState();
    expect(state.samples).toEqual([]);
    const summary = await api.openModelBytes({ name: 'means.onnx', bytes: channelMeanClassifier(8) });
    expect(summary.outputs[0]?.name).toBe('logits');

    // Invalid requests are refused before any handler runs, with the reason.
    await expect(api.predict({ modelId: 'not-an-id' as ModelId, image: { kind: 'sample', id: 'x' } })).rejects.toThrow(
      /Invalid request to predict/,
    );
    await expect((api.openModelPath as (x: unknown) => Promise<unknown>)({ path: 42 })).rejects.toThrow(/Invalid request/);
    // Frames that are not API messages are dropped.
    ws.send(new Uint8Array([1, 2, 3, 4, 5]));
    ws.send('text frame');

    const png = await solidPng(8, 8, [0, 0, 255]);
    const p = await api.predict({ modelId: summary.id, image: { kind: 'bytes', name: 'b.png', bytes: png } });
    expect(p.logits).toBeInstanceOf(Float32Array);
    expect(p.top[0]?.label).toBe('blue');
    ws.close();
  });
});
