// A local image host for tests: a real HTTP server on 127.0.0.1 serving PNG, JPEG, GIF and WebP
// headers of any size, redirects, a path that never answers and one past the byte limit.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';

/** A PNG's signature and IHDR chunk: all the hold reads of it (the CRC is not checked). */
export function pngBytes(width: number, height: number): Buffer {
  const bytes = Buffer.alloc(33);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(bytes, 0);
  bytes.writeUInt32BE(13, 8);
  bytes.write('IHDR', 12, 'ascii');
  bytes.writeUInt32BE(width, 16);
  bytes.writeUInt32BE(height, 20);
  bytes.writeUInt8(8, 24); // bit depth
  bytes.writeUInt8(6, 25); // RGBA
  return bytes;
}

export const pngDataUrl = (width: number, height: number) => `data:image/png;base64,${pngBytes(width, height).toString('base64')}`;

/** A JPEG with `metadataBytes` of APP1 segments (as EXIF and thumbnails are) before its frame header, then the end. */
export function jpegBytes(width: number, height: number, metadataBytes = 0): Buffer {
  const parts: Buffer[] = [Buffer.from([0xff, 0xd8])];
  const app0 = Buffer.from([0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]);
  parts.push(app0);
  for (let left = metadataBytes; left > 0; ) {
    const payload = Math.min(left, 65_533);
    const segment = Buffer.alloc(payload + 4, 0x41);
    segment.writeUInt16BE(0xffe1, 0);
    segment.writeUInt16BE(payload + 2, 2);
    parts.push(segment);
    left -= payload;
  }
  const frame = Buffer.from([0xff, 0xc0, 0x00, 0x11, 0x08, 0, 0, 0, 0, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01]);
  frame.writeUInt16BE(height, 5);
  frame.writeUInt16BE(width, 7);
  parts.push(frame, Buffer.from([0xff, 0xd9]));
  return Buffer.concat(parts);
}

/** A GIF's header. */
export function gifBytes(width: number, height: number): Buffer {
  const bytes = Buffer.alloc(13);
  bytes.write('GIF89a', 0, 'ascii');
  bytes.writeUInt16LE(width, 6);
  bytes.writeUInt16LE(height, 8);
  return bytes;
}

/** A lossless WebP's header (VP8L). */
export function webpBytes(width: number, height: number): Buffer {
  const bytes = Buffer.alloc(30);
  bytes.write('RIFF', 0, 'ascii');
  bytes.writeUInt32LE(22, 4);
  bytes.write('WEBPVP8L', 8, 'ascii');
  bytes.writeUInt32LE(10, 16);
  bytes.writeUInt8(0x2f, 20);
  bytes.writeUInt32LE(((width - 1) | ((height - 1) << 14)) >>> 0, 21);
  return bytes;
}

export interface ImageServer {
  /** http://127.0.0.1:PORT */
  url: string;
  /** Requests seen, by path. */
  requests: string[];
  /** The most `/slow/…` requests answered at once since the last reset. */
  mostAtOnce: number;
  resetMostAtOnce(): void;
  close(): Promise<void>;
}

/**
 * Paths: `/png/W/H`, `/jpeg/W/H[/METADATA_BYTES]` (sent in 64 KB writes), `/redirect/N/REST` (N
 * redirects, then /REST), `/slow/MS/W/H` (a PNG after MS ms; how many at once is tracked), `/hang`
 * (headers never sent), `/not-found`, `/text`.
 */
export async function startImageServer(): Promise<ImageServer> {
  const requests: string[] = [];
  let atOnce = 0;
  const counts = { mostAtOnce: 0 };
  const sockets = new Set<Socket>();
  const server: Server = createServer((request, response) => {
    const path = request.url ?? '/';
    requests.push(path);
    const [, kind, a, b, c] = path.split('/');
    const send = (type: string, body: Buffer) => sendInWrites(response, type, body);
    if (kind === 'png') return send('image/png', pngBytes(Number(a), Number(b)));
    if (kind === 'jpeg') return send('image/jpeg', jpegBytes(Number(a), Number(b), Number(c ?? 0)));
    if (kind === 'redirect') {
      const left = Number(a);
      const rest = path.split('/').slice(3).join('/');
      response.writeHead(302, { location: left > 1 ? `/redirect/${left - 1}/${rest}` : `/${rest}` });
      return response.end();
    }
    if (kind === 'slow') {
      atOnce++;
      counts.mostAtOnce = Math.max(counts.mostAtOnce, atOnce);
      setTimeout(() => {
        atOnce--;
        void send('image/png', pngBytes(Number(b), Number(c?.split('?')[0])));
      }, Number(a));
      return;
    }
    if (kind === 'hang') return; // never answered; close() ends it
    if (kind === 'text') return send('text/plain', Buffer.from('this is not an image at all, just words'));
    response.writeHead(404).end();
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    get mostAtOnce() {
      return counts.mostAtOnce;
    },
    resetMostAtOnce() {
      counts.mostAtOnce = 0;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The body in 64 KB writes, each waiting for the last to drain: a reader that stops early sees the rest never sent. */
async function sendInWrites(response: ServerResponse, type: string, body: Buffer): Promise<void> {
  response.writeHead(200, { 'content-type': type, 'content-length': String(body.length) });
  for (let start = 0; start < body.length && !response.destroyed; start += 65_536) {
    const more = response.write(body.subarray(start, start + 65_536));
    if (!more) {
      await new Promise<void>((resolve) => {
        const done = () => {
          response.off('drain', done);
          response.off('close', done);
          resolve();
        };
        response.on('drain', done);
        response.on('close', done);
      });
    }
  }
  if (!response.destroyed) response.end();
}
