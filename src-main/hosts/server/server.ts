/**
 * Browser mode: the renderer and the engine API over HTTP + WebSocket, for a remote GPU box (through an SSH
 * tunnel) and for end-to-end tests. It binds 127.0.0.1 only and requires a random per-start token: the URL
 * carries it once, after which an HttpOnly SameSite=Strict cookie does. Host and Origin headers are checked
 * so that another site cannot reach the engine through the user's browser (DNS rebinding, cross-site WS).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import type { EngineApi } from '../../../src-shared/api';
import { serveEngine, type FramePipe } from '../../../src-shared/rpc-channel';
import { CONTENT_SECURITY_POLICY } from '../security-policy';

export const LOOPBACK = '127.0.0.1';
const COOKIE = 'layerlens_token';
/** Models can be uploaded from the browser: allow big frames, but not unbounded ones. */
const MAX_FRAME_BYTES = 1024 * 1024 * 1024;

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
};

/**
 * The engine in another process (`layerlens serve` runs it in the engine process, so that inference never
 * holds up this server's event loop): each WebSocket is a channel of API frames relayed to it.
 */
export interface EngineRelay {
  sendFrame(frame: Uint8Array, channel: number): void;
  onFrame(listener: (frame: Uint8Array, channel: number) => void): () => void;
  closeChannel(channel: number): void;
}

export interface ServerOptions {
  /** The engine: in this process (tests), or relayed to the engine process. */
  engine: EngineApi | EngineRelay;
  rendererDir: string;
  port?: number;
  /** Fixed token for tests; a random one otherwise. */
  token?: string;
  log?: (message: string) => void;
}

export interface RunningServer {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

function sameToken(given: string | undefined | null, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieToken(header: string | undefined): string | null {
  for (const part of (header ?? '').split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === COOKIE) return rest.join('=');
  }
  return null;
}

/** The request's URL, or null when it cannot be parsed ("//"): a client's mistake, answered 400, never a crash. */
function requestUrl(req: http.IncomingMessage): URL | null {
  try {
    return new URL(req.url ?? '/', `http://${LOOPBACK}`);
  } catch {
    return null;
  }
}

/** A URL path with its percent-escapes decoded, or null when they are not valid UTF-8 ("/%E0%A4%A"). */
function decodedPath(pathname: string): string | null {
  try {
    return decodeURIComponent(pathname);
  } catch {
    return null;
  }
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const token = options.token ?? randomBytes(24).toString('base64url');
  const log = options.log ?? (() => {});
  const rendererDir = path.resolve(options.rendererDir);
  let port = 0;

  const allowedHosts = (): Set<string> => new Set([`${LOOPBACK}:${port}`, `localhost:${port}`]);
  const authorised = (req: http.IncomingMessage, url: URL): boolean =>
    sameToken(url.searchParams.get('token'), token) || sameToken(cookieToken(req.headers.cookie), token);

  const server = http.createServer((req, res) => {
    void handleHttp(req, res).catch((error: unknown) => {
      log(`http error: ${String(error)}`);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });

  async function handleHttp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = requestUrl(req);
    if (!url) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('Bad request: the address is not a valid URL.\n');
      return;
    }
    if (!allowedHosts().has(req.headers.host ?? '')) {
      res.writeHead(421, { 'content-type': 'text/plain' }).end('Misdirected request: LayerLens answers on 127.0.0.1 only.\n');
      return;
    }
    if (!authorised(req, url)) {
      res
        .writeHead(401, { 'content-type': 'text/plain' })
        .end('LayerLens needs the token printed when the server started: open the full URL it printed.\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const relative = decodedPath(url.pathname === '/' ? '/index.html' : url.pathname);
    if (relative === null) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('Bad request: the path has invalid percent-encoding.\n');
      return;
    }
    const file = path.resolve(rendererDir, `.${relative}`);
    if (!file.startsWith(rendererDir + path.sep)) {
      res.writeHead(404).end();
      return;
    }
    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found\n');
      return;
    }
    const headers: http.OutgoingHttpHeaders = {
      'content-type': MIME[path.extname(file)] ?? 'application/octet-stream',
      'content-length': info.size,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
    };
    if (file.endsWith('.html')) {
      headers['content-security-policy'] = CONTENT_SECURITY_POLICY;
      headers['x-frame-options'] = 'DENY';
      headers['set-cookie'] = `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`;
    }
    res.writeHead(200, headers);
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  server.on('upgrade', (req, socket, head) => {
    const url = requestUrl(req);
    const origin = req.headers.origin;
    const originOk = origin === undefined || allowedHosts().has(origin.replace(/^http:\/\//, ''));
    if (!url || url.pathname !== '/api' || !allowedHosts().has(req.headers.host ?? '') || !originOk || !authorised(req, url)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => attach(ws));
  });

  let nextChannel = 1;
  function attach(ws: WebSocket): void {
    const listeners = new Set<(frame: Uint8Array) => void>();
    const engine = options.engine;
    const relayed = 'sendFrame' in engine ? { relay: engine, channel: nextChannel++ } : null;
    ws.on('message', (data, isBinary) => {
      if (!isBinary) {
        log('ignored a text frame on the API socket');
        return;
      }
      const frame = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      if (relayed) relayed.relay.sendFrame(frame, relayed.channel);
      for (const listener of listeners) listener(frame);
    });
    if (relayed) {
      const stop = relayed.relay.onFrame((frame, channel) => {
        if (channel === relayed.channel && ws.readyState === ws.OPEN) ws.send(frame, { binary: true });
      });
      ws.on('close', () => {
        stop();
        relayed.relay.closeChannel(relayed.channel);
      });
      ws.on('error', (error) => log(`socket error: ${error.message}`));
      return;
    }
    const api = engine as EngineApi;
    const pipe: FramePipe = {
      send: (frame) => {
        if (ws.readyState === ws.OPEN) ws.send(frame, { binary: true });
      },
      subscribe: (listener) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    };
    const rpc = serveEngine(api, pipe, (reason) => log(`rejected a frame: ${reason}`));
    ws.on('close', () => rpc.$close());
    ws.on('error', (error) => log(`socket error: ${error.message}`));
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, LOOPBACK, () => resolve());
  });
  port = (server.address() as AddressInfo).port;

  return {
    url: `http://${LOOPBACK}:${port}/?token=${token}`,
    port,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
