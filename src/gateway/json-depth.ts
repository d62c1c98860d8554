// How deeply a parsed JSON body nests, measured without recursion, so no body can overflow the stack.

/**
 * The first top-level field of `body` whose value nests deeper than `limit` levels (the body itself
 * is level 1), or null when none does. It walks with its own stack rather than recursing: a 4 MB
 * body can nest two million levels deep, and JSON.parse accepts that while anything recursive
 * (JSON.stringify, schema checks) would overflow. The walk stops at the first level too deep, so it
 * costs at most one visit per value of the body.
 */
export function fieldNestedTooDeep(body: Record<string, unknown>, limit: number): string | null {
  for (const [field, value] of Object.entries(body)) {
    if (nestsDeeperThan(value, limit - 1)) return field;
  }
  return null;
}

/** Whether `value` has more than `levels` levels of arrays and objects (a scalar has none). */
function nestsDeeperThan(value: unknown, levels: number): boolean {
  const pending: { value: unknown; depth: number }[] = [{ value, depth: 1 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (typeof next.value !== 'object' || next.value === null) continue;
    if (next.depth > levels) return true;
    const children = Array.isArray(next.value) ? next.value : Object.values(next.value);
    for (const child of children) {
      if (typeof child === 'object' && child !== null) pending.push({ value: child, depth: next.depth + 1 });
    }
  }
  return false;
}
