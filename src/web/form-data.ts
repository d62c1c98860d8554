// Reads a posted form as plain strings: a missing or file field reads as "", and a field sent several
// times (checkboxes of one name) as its list.
import type { Context } from 'hono';

export interface FormFields {
  /** The field's value (the last, if sent more than once); "" when it is missing or a file. */
  field: (name: string) => string;
  /** Every string value of a field (checkboxes); [] when none. */
  list: (name: string) => string[];
}

export async function formFieldLists(c: Context): Promise<FormFields> {
  const body = await c.req.parseBody({ all: true });
  const list = (name: string) => {
    const value = body[name];
    const values = Array.isArray(value) ? value : value === undefined ? [] : [value];
    return values.filter((item): item is string => typeof item === 'string');
  };
  return { field: (name) => list(name).at(-1) ?? '', list };
}

export async function formFields(c: Context): Promise<(name: string) => string> {
  return (await formFieldLists(c)).field;
}
