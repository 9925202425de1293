// The live room's classroom panels (chat, questions, hands, polls, reactions, moderation).
// Each panel is {id, icon, label: () => string, el: HTMLElement, badge: () => number|string|null,
// render(), stop?()}; the room's drawer (live-drawer.js) shows one button per panel and opens one
// at a time. This placeholder offers none yet.
export function classroomPanels(room) {
  return [];
}
