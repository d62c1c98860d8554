// What an image in a prompt costs each model family, as OpenAI publishes it (the vision guide's
// "Calculating costs"): the tile formula's base and per-tile tokens, or the patch formula's multiplier.
// The formulas themselves are in src/gateway/image-tokens.ts.

/** Tile models: `baseTokens` for every image (all of a `low` one), plus `tileTokens` per 512 px tile at high detail. */
export interface TileFamily {
  formula: 'tiles';
  baseTokens: number;
  tileTokens: number;
}

/** Patch models: 32 px patches, at most 1,536 of them, times the multiplier (in hundredths, so counts stay whole). */
export interface PatchFamily {
  formula: 'patches';
  multiplierHundredths: number;
}

export type ImageFamily = TileFamily | PatchFamily;

const tiles = (baseTokens: number, tileTokens: number): TileFamily => ({ formula: 'tiles', baseTokens, tileTokens });
const patches = (multiplierHundredths: number): PatchFamily => ({ formula: 'patches', multiplierHundredths });

/** By model id; a dated snapshot (`gpt-4o-2024-08-06`) is its model's. */
const FAMILIES: Readonly<Record<string, ImageFamily>> = {
  'gpt-4o': tiles(85, 170),
  'chatgpt-4o-latest': tiles(85, 170),
  'gpt-4.1': tiles(85, 170),
  'gpt-4.5-preview': tiles(85, 170),
  'gpt-4o-mini': tiles(2_833, 5_667),
  'gpt-5': tiles(70, 140),
  'gpt-5-chat-latest': tiles(70, 140),
  o1: tiles(75, 150),
  'o1-pro': tiles(75, 150),
  o3: tiles(75, 150),
  'computer-use-preview': tiles(65, 129),
  'gpt-4.1-mini': patches(162),
  'gpt-4.1-nano': patches(246),
  'gpt-5-mini': patches(162),
  'gpt-5-nano': patches(246),
  'o4-mini': patches(172),
};

const DATED_SNAPSHOT = /-\d{4}-\d{2}-\d{2}$/;

/** The model's family, or null when its image costs are not known here (the gateway then counts every known family's and takes the most). */
export function imageFamilyOf(model: string): ImageFamily | null {
  return FAMILIES[model] ?? FAMILIES[model.replace(DATED_SNAPSHOT, '')] ?? null;
}

/** Every known family: for a model whose own is unknown. */
export const KNOWN_IMAGE_FAMILIES: readonly ImageFamily[] = Object.values(FAMILIES);
