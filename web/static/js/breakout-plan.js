// Planning group work: pure functions (no DOM, no timers), so the rules can be checked alone.

/** Shuffle `items` (Fisher–Yates) with a [0, 1) source; returns a new array. */
export function shuffled(items, random = Math.random) {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/**
 * Deal `userIds` at random into `count` groups whose sizes differ by at most one.
 * @returns {number[][]} `count` lists of user ids
 */
export function randomGroups(userIds, count, random = Math.random) {
  const n = Math.max(1, Math.floor(count) || 1);
  const groups = Array.from({ length: n }, () => []);
  shuffled(userIds, random).forEach((id, i) => groups[i % n].push(id));
  return groups;
}

/** `{userId: groupIndex}` -> `[[userIds of group 0], ...]` for `count` groups (others are left out). */
export function groupsFromAssignment(assignment, count) {
  const groups = Array.from({ length: count }, () => []);
  for (const [userId, index] of assignment) if (index >= 0 && index < count) groups[index].push(userId);
  return groups;
}

/** Whole seconds until `endsAt` (an ISO time), never below 0; null without an end. */
export function secondsLeft(endsAt, now = Date.now()) {
  if (!endsAt) return null;
  const at = Date.parse(endsAt);
  if (Number.isNaN(at)) return null;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

/** Minutes typed by the teacher as seconds; null for empty (no end); NaN for nonsense. */
export function durationSeconds(text) {
  const value = String(text ?? '').trim();
  if (!value) return null;
  const minutes = Number(value.replace(',', '.'));
  if (!Number.isFinite(minutes) || minutes <= 0 || minutes > 600) return Number.NaN;
  return Math.round(minutes * 60);
}
