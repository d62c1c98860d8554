// An image's width and height from its first bytes (PNG, JPEG, GIF, WebP: the formats OpenAI takes),
// without decoding it: the hold's image count needs nothing else.

export interface ImageSize {
  width: number;
  height: number;
}

/** The bytes are not an image of a format OpenAI takes, or are broken: said in a clause ("is not a PNG, JPEG, GIF or WebP image"). */
export class UnreadableImage extends Error {
  override name = 'UnreadableImage';
}

/** More bytes are needed: the size lies further on (a JPEG's frame header follows its metadata segments). */
export const NEED_MORE = Symbol('need more bytes');

const startsWith = (bytes: Uint8Array, signature: readonly number[], at = 0) => signature.every((byte, index) => bytes[at + index] === byte);
const ascii = (text: string) => [...text].map((char) => char.charCodeAt(0));

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const GIF87 = ascii('GIF87a');
const GIF89 = ascii('GIF89a');
const RIFF = ascii('RIFF');
const WEBP = ascii('WEBP');

function sized(width: number, height: number): ImageSize {
  if (width < 1 || height < 1) throw new UnreadableImage('has a width or height of 0');
  return { width, height };
}

function pngSize(bytes: Uint8Array, view: DataView): ImageSize | typeof NEED_MORE {
  if (bytes.length < 24) return NEED_MORE;
  if (!startsWith(bytes, ascii('IHDR'), 12)) throw new UnreadableImage('is a PNG without its IHDR header');
  return sized(view.getUint32(16), view.getUint32(20));
}

function gifSize(bytes: Uint8Array, view: DataView): ImageSize | typeof NEED_MORE {
  if (bytes.length < 10) return NEED_MORE;
  return sized(view.getUint16(6, true), view.getUint16(8, true));
}

function webpSize(bytes: Uint8Array, view: DataView): ImageSize | typeof NEED_MORE {
  if (bytes.length < 30) return NEED_MORE;
  const chunk = String.fromCharCode(...bytes.subarray(12, 16));
  switch (chunk) {
    case 'VP8 ':
      // A key frame: its start code, then 14-bit width and height.
      if (!startsWith(bytes, [0x9d, 0x01, 0x2a], 23)) throw new UnreadableImage('is a WebP image whose VP8 frame is broken');
      return sized(view.getUint16(26, true) & 0x3fff, view.getUint16(28, true) & 0x3fff);
    case 'VP8L': {
      if (bytes[20] !== 0x2f) throw new UnreadableImage('is a WebP image whose VP8L header is broken');
      const bits = view.getUint32(21, true);
      return sized((bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
    }
    case 'VP8X':
      // The canvas, 24 bits each, stored minus one.
      return sized((view.getUint32(24, true) & 0xffffff) + 1, (view.getUint32(27, true) & 0xffffff) + 1);
    default:
      throw new UnreadableImage('is a WebP image of an unknown kind');
  }
}

/** Start-of-frame markers (C0–CF except DHT C4, JPG C8 and DAC CC) carry the frame's height and width. */
const isStartOfFrame = (marker: number) => marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;

/**
 * Walks the segments by their lengths up to the frame header, which follows the metadata (EXIF, ICC
 * profiles, thumbnails): the size, or the offset of the first segment not wholly in `bytes`.
 */
function walkJpeg(bytes: Uint8Array, view: DataView): ImageSize | { needAt: number } {
  let position = 2;
  for (;;) {
    // A marker, after any fill bytes.
    while (position + 1 < bytes.length && bytes[position] === 0xff && bytes[position + 1] === 0xff) position++;
    if (position + 4 > bytes.length) return { needAt: position };
    if (bytes[position] !== 0xff) throw new UnreadableImage('is a JPEG whose segments are broken');
    const marker = bytes[position + 1]!;
    // Markers without a length: restarts, TEM.
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      position += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) throw new UnreadableImage('is a JPEG without a frame header');
    if (isStartOfFrame(marker)) {
      if (position + 9 > bytes.length) return { needAt: position };
      return sized(view.getUint16(position + 7), view.getUint16(position + 5));
    }
    const length = view.getUint16(position + 2);
    if (length < 2) throw new UnreadableImage('is a JPEG whose segments are broken');
    position += 2 + length;
  }
}

function jpegSize(bytes: Uint8Array, view: DataView): ImageSize | typeof NEED_MORE {
  const walked = walkJpeg(bytes, view);
  return 'needAt' in walked ? NEED_MORE : walked;
}

const JPEG = [0xff, 0xd8, 0xff];

/**
 * Where the size of a JPEG still being read lies: the offset of the first segment not wholly in
 * `bytes` (possibly past their end). What comes before it need not be kept: a reader keeps the
 * JPEG's first two bytes and the bytes from there on, and reads them as a JPEG again. Null for
 * other formats, whose sizes are in their first 30 bytes.
 */
export function jpegResumeOffset(bytes: Uint8Array): number | null {
  if (!startsWith(bytes, JPEG)) return null;
  const walked = walkJpeg(bytes, new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  return 'needAt' in walked ? walked.needAt : null;
}

/**
 * The size from the image's first bytes, NEED_MORE when they stop before it (call again with more;
 * `complete` says there are no more), or throws UnreadableImage.
 */
export function imageSizeOf(bytes: Uint8Array, complete: boolean): ImageSize | typeof NEED_MORE {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let size: ImageSize | typeof NEED_MORE;
  if (startsWith(bytes, PNG)) size = pngSize(bytes, view);
  else if (startsWith(bytes, JPEG)) size = jpegSize(bytes, view);
  else if (startsWith(bytes, GIF87) || startsWith(bytes, GIF89)) size = gifSize(bytes, view);
  else if (startsWith(bytes, RIFF) && startsWith(bytes, WEBP, 8)) size = webpSize(bytes, view);
  else if (bytes.length >= 12) throw new UnreadableImage('is not a PNG, JPEG, GIF or WebP image');
  else size = NEED_MORE;
  if (size === NEED_MORE && complete) throw new UnreadableImage(bytes.length === 0 ? 'is empty' : 'ends before its size is given');
  return size;
}
