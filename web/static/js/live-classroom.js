// The live room's classroom panels: chat ("Trò chuyện"), questions ("Hỏi đáp"), raised hands and
// reactions ("Giơ tay"), polls and quick quizzes ("Thăm dò"), and, for the teacher and
// observers, managing the class ("Quản lý lớp"); and the board ("Bảng", live-board.js). Each panel is
// {id, icon, label: () => string, el, badge: () => number|string|null, render(), stop?(), available?()};
// the room's drawer (live-drawer.js) shows one button per panel and opens one at a time. A
// student also gets a compact "Giơ tay" button in the controls (room.controlSlot).

import { h } from './dom.js';
import { onLangChange, t } from './i18n.js';
import './i18n-classroom.js';
import { DEFAULT_TIMEZONE } from './format.js';
import { act } from './live-classroom-parts.js';
import { ChatPanel } from './live-chat.js';
import { QuestionsPanel } from './live-questions.js';
import { HandsPanel } from './live-hands.js';
import { PollsPanel } from './live-polls.js';
import { ModerationPanel } from './live-moderation.js';
import { BoardPanel } from './live-board.js';

/** Which events change each panel's badge. */
const BADGE_EVENTS = {
  chat: ['joined', 'chat'],
  questions: ['joined', 'question'],
  hands: ['joined', 'hands'],
  polls: ['joined', 'poll'],
  moderation: ['joined', 'waiting_list'],
  board: ['joined', 'board'],
};

const ICONS = { chat: '💬', questions: '❓', hands: '✋', polls: '📊', moderation: '🛡️', board: '🖍️' };

/** The panels for `room` ({client, lesson, say, drawer?, local?, controlSlot?, timeZone?, onLeave?});
 * `timeZone` is the school's (GET /api/me -> school.timezone), in which the panels tell times. */
export function classroomPanels(room) {
  const ctx = { ...room, timeZone: room.timeZone || room.user?.timeZone || DEFAULT_TIMEZONE };
  // The drawer may be attached after the panels are made: look it up when needed.
  Object.defineProperty(ctx, 'drawer', { get: () => room.drawer ?? null });
  const panels = [new ChatPanel(ctx), new QuestionsPanel(ctx), new HandsPanel(ctx), new PollsPanel(ctx), new ModerationPanel(ctx), new BoardPanel(ctx)];
  const client = room.client;
  const offs = [];
  for (const panel of panels) {
    panel.icon = ICONS[panel.id] ?? panel.icon;
    offs.push(client.onAny(BADGE_EVENTS[panel.id] ?? ['joined'], () => room.drawer?.notify?.(panel.id)));
  }
  const quickHand = room.controlSlot ? handButton(ctx, panels.find((p) => p.id === 'hands')) : null;
  return panels.map((panel) => ({
    id: panel.id,
    icon: panel.icon,
    label: () => panel.label(),
    el: panel.el,
    badge: () => panel.badge(),
    render: () => panel.render(),
    available: panel.available ? () => panel.available() : undefined,
    stop: () => {
      panel.stop?.();
      if (panel.id === 'hands') {
        offs.forEach((off) => off());
        quickHand?.stop();
      }
    },
  }));
}

/** A student's "Giơ tay" in the control bar: one press up, one press down. */
function handButton(room, hands) {
  const client = room.client;
  const button = h('button', { type: 'button', id: 'btn-hand-quick', class: 'control hand-quick', 'aria-pressed': 'false', hidden: true },
    h('span', { class: 'drawer-icon', 'aria-hidden': 'true' }, '✋'), h('span', { class: 'control-label' }));
  button.addEventListener('click', () => act(button, null, () => hands.toggleHand()));
  room.controlSlot.append(button);
  const render = () => {
    const raised = hands.myPlace() > 0;
    button.hidden = client.role !== 'student';
    button.setAttribute('aria-pressed', String(raised));
    button.classList.toggle('is-on', raised);
    button.querySelector('.control-label').textContent = t(raised ? 'hand.lower' : 'hand.raise');
  };
  const offs = [client.onAny(['joined', 'hands'], render), onLangChange(render)];
  render();
  return { stop: () => { offs.forEach((off) => off()); button.remove(); } };
}
