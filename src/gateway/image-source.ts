// Where an image's size is read from: a data URL's first bytes, or an http(s) URL fetched with a time
// limit, a byte limit and public addresses only; a few fetches at once, per request and in all.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { isPrivateAddress, PrivateAddressError, publicOnlyLookup } from './address-guard.ts';
import { imageSizeOf, jpegResumeOffset, NEED_MORE, UnreadableImage, type ImageSize } from './image-size.ts';

export interface ImageFetchOptions {
  /** IMAGE_FETCH_ALLOW_PRIVATE: fetch from private and loopback addresses too (tests, a LAN's own image server). */
  allowPrivate: boolean;
  /** IMAGE_FETCH_TIMEOUT_SECONDS in ms: one fetch, redirects included, until the size is known. */
  timeoutMs: number;
}

/** Bytes read of one image at most, until its size is known: OpenAI's own limit per image. */
export const MOST_IMAGE_FETCH_BYTES = 20 * 1024 * 1024;
/** A JPEG's start of image, before the segments kept while its size is read. */
const JPEG_START = Buffer.from([0xff, 0xd8]);
/** Redirects followed, each to a URL checked as the first. */
export const MOST_IMAGE_REDIRECTS = 3;
/** Image URLs one request fetches at once, and the whole server. */
export const IMAGE_FETCHES_PER_REQUEST = 4;
export const IMAGE_FETCHES_AT_ONCE = 16;

/** Why an image's size could not be read; the message is a clause after the field's name. */
export class ImageSourceError extends Error {
  override name = 'ImageSourceError';
  constructor(
    message: string,
    /** OpenAI's codes: the URL could not be fetched, or what it holds is no image of a format it takes. */
    readonly code: 'invalid_image_url' | 'invalid_image_format',
  ) {
    super(message);
  }
}

/** Reads image sizes for one server: its fetch options and its share of fetches in flight. */
export interface ImageSizer {
  readonly options: ImageFetchOptions;
  /** The size of the image at `url` (a data URL or http(s)); throws ImageSourceError, or the signal's reason. */
  size(url: string, signal: AbortSignal): Promise<ImageSize>;
}

const DATA_URL = /^data:image\/[a-z0-9.+-]+;base64,/i;
/** Base64 characters decoded first: a PNG, GIF or WebP header needs 30 bytes, most JPEGs' a few KB. */
const FIRST_DATA_CHARS = 4_096;

/** A data URL's size, decoding a prefix that doubles until the header is in it: never more than twice the bytes the header needs. */
function dataUrlSize(url: string): ImageSize {
  const header = DATA_URL.exec(url);
  if (!header) throw new ImageSourceError("is a data URL that is not base64 image data ('data:image/png;base64,…')", 'invalid_image_format');
  const data = url.slice(header[0].length);
  for (let chars = FIRST_DATA_CHARS; ; chars *= 2) {
    const complete = chars >= data.length;
    const size = readSize(Buffer.from(complete ? data : data.slice(0, chars), 'base64'), complete);
    if (size !== NEED_MORE) return size;
  }
}

function readSize(bytes: Uint8Array, complete: boolean): ImageSize | typeof NEED_MORE {
  try {
    return imageSizeOf(bytes, complete);
  } catch (error) {
    if (error instanceof UnreadableImage) throw new ImageSourceError(error.message, 'invalid_image_format');
    throw error;
  }
}

/** Waits its turn among at most `limit` at once; a stopped signal leaves the queue. */
class Slots {
  private inUse = 0;
  private readonly waiting = new Set<() => void>();

  constructor(private readonly limit: number) {}

  async take(signal: AbortSignal): Promise<() => void> {
    signal.throwIfAborted();
    if (this.inUse >= this.limit) {
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          this.waiting.delete(wake);
          reject(signal.reason);
        };
        const wake = () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        };
        this.waiting.add(wake);
        signal.addEventListener('abort', onAbort, { once: true });
      });
    } else {
      this.inUse++;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.values().next();
      if (next.done) this.inUse--;
      else {
        this.waiting.delete(next.value);
        next.value();
      }
    };
  }
}

interface FetchStep {
  size?: ImageSize;
  redirect?: string;
}

/** A fetch failing: what the caller is told, the host's words never included. */
const unreachable = (why: string) => new ImageSourceError(`is an image URL that could not be fetched: ${why}`, 'invalid_image_url');

/** The host as a URL has it, checked when it is an address itself (DNS is not asked for those, so the lookup cannot check them). */
function checkedUrl(text: string, allowPrivate: boolean): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ImageSourceError("is not a valid URL: send an https:// URL or a data URL ('data:image/png;base64,…')", 'invalid_image_url');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ImageSourceError('must be an http(s) URL or a data URL', 'invalid_image_url');
  if (url.username || url.password) throw new ImageSourceError('must not carry a user name or password', 'invalid_image_url');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!allowPrivate && isIP(host) !== 0 && isPrivateAddress(host)) throw new PrivateAddressError(host);
  return url;
}

/** One GET: the size from the body's first bytes (the connection is dropped once it is known), or where a redirect points. */
function fetchStep(url: URL, options: ImageFetchOptions, signal: AbortSignal): Promise<FetchStep> {
  return new Promise<FetchStep>((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const request = send(url, {
      method: 'GET',
      headers: { accept: 'image/png, image/jpeg, image/gif, image/webp', 'user-agent': 'tokentab-image-size' },
      lookup: publicOnlyLookup(options.allowPrivate),
      // A connection of its own: nothing pooled outlives the fetch.
      agent: false,
      signal,
    });
    request.on('error', reject);
    request.on('response', (response: IncomingMessage) => {
      const status = response.statusCode ?? 0;
      if (status >= 300 && status < 400 && response.headers.location) {
        response.destroy();
        return resolve({ redirect: response.headers.location });
      }
      if (status < 200 || status >= 300) {
        response.destroy();
        return reject(unreachable(`it answered ${status}`));
      }
      // What is kept of the body: all of it up to the size, or for a JPEG only its first two bytes
      // and what follows the segments already walked past (their lengths are all that is read).
      let kept: Buffer[] = [];
      let keptBytes = 0;
      let skipBytes = 0;
      let readBytes = 0;
      let triedAtBytes = 0;
      const settle = (complete: boolean) => {
        try {
          const head = Buffer.concat(kept, keptBytes);
          const size = readSize(head, complete);
          if (size === NEED_MORE) {
            const resumeAt = jpegResumeOffset(head);
            if (resumeAt !== null && resumeAt > 2) {
              kept = [JPEG_START, head.subarray(Math.min(resumeAt, head.length))];
              keptBytes = JPEG_START.length + Math.max(0, head.length - resumeAt);
              skipBytes = Math.max(0, resumeAt - head.length);
              triedAtBytes = keptBytes;
            }
            return;
          }
          response.destroy();
          resolve({ size });
        } catch (error) {
          response.destroy();
          reject(error);
        }
      };
      response.on('data', (chunk: Buffer) => {
        readBytes += chunk.length;
        if (readBytes > MOST_IMAGE_FETCH_BYTES) {
          response.destroy();
          return reject(unreachable(`its size is not within its first ${MOST_IMAGE_FETCH_BYTES / 1024 / 1024} MB`));
        }
        if (skipBytes >= chunk.length) {
          skipBytes -= chunk.length;
          return;
        }
        kept.push(skipBytes > 0 ? chunk.subarray(skipBytes) : chunk);
        keptBytes += chunk.length - skipBytes;
        skipBytes = 0;
        // Read again each time the bytes kept double: the copies stay within twice what is kept.
        if (keptBytes >= Math.max(64, triedAtBytes * 2)) {
          triedAtBytes = keptBytes;
          settle(false);
        }
      });
      response.on('end', () => settle(true));
      response.on('error', reject);
    });
    request.end();
  });
}

async function fetchedSize(text: string, options: ImageFetchOptions, signal: AbortSignal): Promise<ImageSize> {
  let url = checkedUrl(text, options.allowPrivate);
  for (let redirects = 0; ; redirects++) {
    const step = await fetchStep(url, options, signal);
    if (step.size) return step.size;
    if (redirects === MOST_IMAGE_REDIRECTS) throw unreachable(`it redirects more than ${MOST_IMAGE_REDIRECTS} times`);
    url = checkedUrl(new URL(step.redirect!, url).href, options.allowPrivate);
  }
}

/** Fetch errors as the caller's words; the signal's own reason (the client left) passes through. */
function asSourceError(error: unknown, timedOut: boolean): unknown {
  if (error instanceof ImageSourceError) return error;
  if (error instanceof PrivateAddressError) {
    return new ImageSourceError(`is an image URL whose host (${error.host}) is a private, loopback or otherwise non-public address, which tokentab does not fetch from`, 'invalid_image_url');
  }
  if (timedOut) return unreachable('it did not answer in time');
  const code = (error as { code?: unknown }).code;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return unreachable('its host is not known');
  if (code === 'ECONNREFUSED') return unreachable('the connection was refused');
  return unreachable('the connection failed');
}

export function createImageSizer(options: ImageFetchOptions): ImageSizer {
  const fetches = new Slots(IMAGE_FETCHES_AT_ONCE);
  return {
    options,
    async size(url, signal) {
      if (/^data:/i.test(url)) return dataUrlSize(url);
      const release = await fetches.take(signal);
      const timeout = AbortSignal.timeout(options.timeoutMs);
      try {
        return await fetchedSize(url, options, AbortSignal.any([signal, timeout]));
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        throw asSourceError(error, timeout.aborted);
      } finally {
        release();
      }
    },
  };
}

/**
 * The sizes of a request's images, in order, read by IMAGE_FETCHES_PER_REQUEST workers taking the
 * next image in turn (so at most that many are fetched at once, and no more wait on the server's
 * places), the same URL once. The first failure stops the rest and is thrown with its image's index.
 */
export async function sizeAll(sizer: ImageSizer, urls: readonly string[], signal: AbortSignal): Promise<ImageSize[]> {
  const stop = new AbortController();
  const stopped = AbortSignal.any([signal, stop.signal]);
  const byUrl = new Map<string, Promise<ImageSize>>();
  const sizes: ImageSize[] = new Array(urls.length);
  let next = 0;
  const worker = async () => {
    while (next < urls.length) {
      const index = next++;
      const url = urls[index]!;
      let size = byUrl.get(url);
      if (!size) {
        size = sizer.size(url, stopped);
        byUrl.set(url, size);
      }
      try {
        sizes[index] = await size;
      } catch (error) {
        stop.abort();
        throw new ImageSizeFailure(index, error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(IMAGE_FETCHES_PER_REQUEST, urls.length) }, worker));
  return sizes;
}

/** The image at `index` could not be sized: `cause` says why. */
export class ImageSizeFailure extends Error {
  override name = 'ImageSizeFailure';
  constructor(
    readonly index: number,
    override readonly cause: unknown,
  ) {
    super(`image ${index}: ${String(cause)}`);
  }
}
