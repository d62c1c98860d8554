// The input tokens of a prompt's images, as OpenAI publishes them per model family (the families'
// numbers are in src/pricing/image-models.ts): each image sized from its data URL or its fetched first
// bytes (image-source.ts), then counted with its family's formula; refusals name the image's field.
import { ceilDiv } from '../pricing/cost.ts';
import { imageFamilyOf, KNOWN_IMAGE_FAMILIES, type ImageFamily } from '../pricing/image-models.ts';
import { InvalidRequestError } from './errors.ts';
import type { ImageSize } from './image-size.ts';
import { ImageSizeFailure, ImageSourceError, sizeAll, type ImageSizer } from './image-source.ts';

/** OpenAI's own limit of images in one request. */
export const MOST_IMAGES = 500;

export type ImageDetail = 'low' | 'high' | 'auto';

/** One image of a request: where it is, the detail asked for, and the field it was given in (named in refusals). */
export interface PromptImage {
  url: string;
  detail: ImageDetail;
  param: string;
}

/** The tile formula at high detail: fit in 2048 × 2048, shortest side down to 768, then 512 px tiles. */
const FIT_PX = 2_048n;
const SHORT_SIDE_PX = 768n;
const TILE_PX = 512n;
/** The patch formula: 32 px patches, at most 1,536. */
const PATCH_PX = 32n;
const MOST_PATCHES = 1_536n;

/**
 * Tiles of an image scaled by min(1, 2048 / longest side, 768 / shortest side) (what fitting in the
 * square and then shortening the short side come to), never scaled up. Counted on exact fractions,
 * so a side that scales to 1024 px is 2 tiles, not 3; OpenAI's resize to whole pixels can only give
 * as many tiles or fewer.
 */
function tilesOf({ width, height }: ImageSize): bigint {
  const w = BigInt(width);
  const h = BigInt(height);
  const longest = w > h ? w : h;
  const shortest = w > h ? h : w;
  // The scale as a fraction scaleUp / scaleDown: the smallest of 1/1, 2048/longest and 768/shortest.
  let [scaleUp, scaleDown] = [1n, 1n];
  if (FIT_PX * scaleDown < scaleUp * longest) [scaleUp, scaleDown] = [FIT_PX, longest];
  if (SHORT_SIDE_PX * scaleDown < scaleUp * shortest) [scaleUp, scaleDown] = [SHORT_SIDE_PX, shortest];
  return ceilDiv(w * scaleUp, scaleDown * TILE_PX) * ceilDiv(h * scaleUp, scaleDown * TILE_PX);
}

/**
 * The image's tokens for one family. Tile models: low detail is the base alone; high (and auto,
 * which OpenAI may take as high) the base plus each tile. Patch models: the 32 px patches, capped at
 * 1,536 (an image past the cap is shrunk to fit it, which the cap bounds), times the multiplier,
 * rounded up; OpenAI publishes no separate low-detail count for them, so every detail is counted so.
 */
export function familyImageTokens(family: ImageFamily, size: ImageSize, detail: ImageDetail): number {
  if (family.formula === 'tiles') {
    if (detail === 'low') return family.baseTokens;
    return family.baseTokens + Number(tilesOf(size)) * family.tileTokens;
  }
  const rawPatches = ceilDiv(BigInt(size.width), PATCH_PX) * ceilDiv(BigInt(size.height), PATCH_PX);
  const patches = rawPatches < MOST_PATCHES ? rawPatches : MOST_PATCHES;
  return Number(ceilDiv(patches * BigInt(family.multiplierHundredths), 100n));
}

/** The image's tokens for `model`; for a model whose family is unknown, the most any known family counts, so a hold stays above it. */
export function imageTokens(model: string, size: ImageSize, detail: ImageDetail): number {
  const family = imageFamilyOf(model);
  if (family) return familyImageTokens(family, size, detail);
  return Math.max(...KNOWN_IMAGE_FAMILIES.map((each) => familyImageTokens(each, size, detail)));
}

/** A request with more images than OpenAI takes is refused before any is read. */
export function checkImageCount(images: readonly PromptImage[], param: string): void {
  if (images.length > MOST_IMAGES) {
    throw new InvalidRequestError(`'${param}' holds ${images.length} images; at most ${MOST_IMAGES} are accepted in one request.`, param, 'too_many_images');
  }
}

/**
 * The tokens of all a request's images for `model`. Each is sized (image-source.ts) within the
 * request's time for images, `requestTimeoutMs`; an image that cannot be sized is a 400 naming its
 * field, and so is running out of time (naming the first image not sized by then). A stopped
 * `signal` (the client left) throws its reason.
 */
export async function promptImageTokens(model: string, images: readonly PromptImage[], sizer: ImageSizer, signal: AbortSignal): Promise<number> {
  if (images.length === 0) return 0;
  const requestTime = AbortSignal.timeout(imageRequestTimeoutMs(sizer));
  let sizes: ImageSize[];
  try {
    sizes = await sizeAll(
      sizer,
      images.map((image) => image.url),
      AbortSignal.any([signal, requestTime]),
    );
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    if (!(error instanceof ImageSizeFailure)) throw error;
    const { param } = images[error.index]!;
    if (error.cause instanceof ImageSourceError) throw new InvalidRequestError(`'${param}' ${error.cause.message}.`, param, error.cause.code);
    if (requestTime.aborted) {
      const seconds = imageRequestTimeoutMs(sizer) / 1000;
      throw new InvalidRequestError(`'${param}' could not be fetched in time: a request's image URLs must all be read within ${seconds} s.`, param, 'invalid_image_url');
    }
    throw error.cause;
  }
  return images.reduce((tokens, image, index) => tokens + imageTokens(model, sizes[index]!, image.detail), 0);
}

/** All of a request's images are sized within three fetches' time: 500 slow URLs cannot hold a request for minutes. */
export function imageRequestTimeoutMs(sizer: ImageSizer): number {
  return sizer.options.timeoutMs * 3;
}

const DETAILS: readonly string[] = ['low', 'high', 'auto'];
const detailOf = (value: unknown): ImageDetail => (typeof value === 'string' && DETAILS.includes(value) ? (value as ImageDetail) : 'auto');
const partsOf = (content: unknown): readonly unknown[] => (Array.isArray(content) ? content : []);
const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

/** The images of chat messages: `image_url` parts, in order. Reads any JSON (the demo model reads bodies unchecked). */
export function chatImages(messages: readonly unknown[]): PromptImage[] {
  const images: PromptImage[] = [];
  messages.forEach((message, index) => {
    if (!isRecord(message)) return;
    partsOf(message.content).forEach((part, partIndex) => {
      if (!isRecord(part) || part.type !== 'image_url' || !isRecord(part.image_url) || typeof part.image_url.url !== 'string') return;
      images.push({ url: part.image_url.url, detail: detailOf(part.image_url.detail), param: `messages[${index}].content[${partIndex}].image_url.url` });
    });
  });
  return images;
}

/** The images of Responses input items: `input_image` parts of a message's content or a tool's output, in order. */
export function responsesImages(items: readonly unknown[]): PromptImage[] {
  const images: PromptImage[] = [];
  items.forEach((item, index) => {
    if (!isRecord(item)) return;
    for (const field of ['content', 'output'] as const) {
      partsOf(item[field]).forEach((part, partIndex) => {
        if (!isRecord(part) || part.type !== 'input_image' || typeof part.image_url !== 'string') return;
        images.push({ url: part.image_url, detail: detailOf(part.detail), param: `input[${index}].${field}[${partIndex}].image_url` });
      });
    }
  });
  return images;
}
