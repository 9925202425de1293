// The frame every signed-in page shares: header (school, nav by role, user, language, sign-out)
// and the page-level states (loading failed, no permission).

import { auth, me as meApi } from './api.js';
import { h, replace } from './dom.js';
import { errorMessage } from './forms.js';
import { LANGUAGES, applyTranslations, getLang, onLangChange, setLang, t } from './i18n.js';
import { DEFAULT_TIMEZONE } from './format.js';
import './i18n-records.js'; // nav.reports, nav.recordings
import './i18n-teaching.js'; // nav.teaching_stats
import './i18n-results.js'; // nav.my_results
import './i18n-supervision.js'; // nav.supervision
import './i18n-account.js'; // nav.account
import './i18n-tests.js'; // nav.tests
import './i18n-materials.js'; // nav.materials
import './i18n-admin-people.js'; // nav.menu
import { noticesBell } from './notices-bell.js'; // the bell, nav.parent, role.parent

// The small-screen menu's style: one file for every page, whichever page links which stylesheets.
const MENU_CSS = '/static/css/menu.css';
if (!document.querySelector(`link[href="${MENU_CSS}"]`)) {
  document.head.append(h('link', { rel: 'stylesheet', href: MENU_CSS }));
}

const NAV = [
  { href: '/lessons', key: 'nav.lessons', roles: ['admin', 'teacher', 'student'] },
  { href: '/assignments', key: 'nav.assignments', roles: ['admin', 'teacher', 'student'] },
  { href: '/tests', key: 'nav.tests', roles: ['admin', 'teacher', 'student'] },
  { href: '/my-results', key: 'nav.my_results', roles: ['student'] },
  { href: '/parent', key: 'nav.parent', roles: ['parent'] },
  { href: '/gradebook', key: 'nav.gradebook', roles: ['admin', 'teacher'] },
  { href: '/reports/attendance', key: 'nav.reports', roles: ['admin', 'teacher', 'student'] },
  { href: '/reports/teaching', key: 'nav.teaching_stats', roles: ['admin', 'teacher'] },
  { href: '/recordings', key: 'nav.recordings', roles: ['admin', 'teacher', 'student'] },
  { href: '/materials', key: 'nav.materials', roles: ['admin', 'teacher', 'student'] },
  { href: '/admin/timetable', key: 'nav.timetable', roles: ['admin'] },
  { href: '/supervision', key: 'nav.supervision', roles: ['admin'] },
  { href: '/admin/classes', key: 'nav.classes', roles: ['admin'] },
  { href: '/admin/users', key: 'nav.users', roles: ['admin'] },
  { href: '/admin/parents', key: 'nav.parents_admin', roles: ['admin'] },
  { href: '/admin/subjects', key: 'nav.subjects', roles: ['admin'] },
  { href: '/admin/import', key: 'nav.import', roles: ['admin'] },
  { href: '/admin/settings', key: 'nav.settings', roles: ['admin'] },
  { href: '/admin/audit', key: 'nav.audit', roles: ['admin'] },
];

/** The VI/EN switch; used in the header and on the sign-in page. */
export function languageSwitch() {
  const group = h('div', { class: 'lang-switch', role: 'group', 'aria-label': t('lang.label'), dataset: { i18nAriaLabel: 'lang.label' } });
  const render = () => {
    replace(
      group,
      LANGUAGES.map((lang) =>
        h(
          'button',
          {
            type: 'button',
            lang,
            class: 'lang-button',
            'aria-pressed': String(getLang() === lang),
            title: t(`lang.${lang}`),
            dataset: { lang },
            on: { click: () => setLang(lang) },
          },
          lang.toUpperCase(),
        ),
      ),
    );
  };
  render();
  onLangChange(render);
  return group;
}

function isCurrent(href) {
  const path = location.pathname;
  return path === href || (href !== '/lessons' && path.startsWith(`${href}/`)) || (href === '/lessons' && path.startsWith('/lessons/'));
}

// The nav folds on a phone, and on a page that keeps the screen for itself (<body class="compact-nav">).
const PHONE = window.matchMedia('(max-width: 30rem)');

function foldNav(header) {
  header.classList.toggle('nav-folded', PHONE.matches || document.body.classList.contains('compact-nav'));
}

/** At ≤ 480 px the nav folds behind a "Menu" button; it opens and closes with the button, closes
 * with Escape (focus back on the button) and when a link is followed. */
function setMenu(header, open, { focusButton = false } = {}) {
  const button = header.querySelector('.menu-toggle');
  if (!button) return;
  header.classList.toggle('menu-open', open);
  button.setAttribute('aria-expanded', String(open));
  if (focusButton) button.focus();
}

function menuButton(header) {
  return h(
    'button',
    {
      type: 'button',
      class: 'button ghost menu-toggle',
      id: 'menu-toggle',
      'aria-expanded': 'false',
      'aria-controls': 'main-nav',
      on: { click: () => setMenu(header, !header.classList.contains('menu-open')) },
    },
    h('span', { class: 'menu-icon', 'aria-hidden': 'true' }),
    t('nav.menu'),
  );
}

let bell = null;

function renderHeader(header, me) {
  const user = me?.user;
  header.classList.remove('menu-open');
  const links = NAV.filter((item) => user && item.roles.includes(user.role));
  // The school administration group starts at the first admin-only link.
  const adminStart = links.findIndex((item) => item.roles.length === 1 && item.roles[0] === 'admin');
  replace(
    header,
    h(
      'div',
      { class: 'header-inner' },
      h(
        'a',
        { class: 'brand', href: '/lessons' },
        h('img', { src: '/static/favicon.svg', alt: '', width: '28', height: '28' }),
        h('span', { class: 'brand-name' }, 'lophoc'),
        me?.school ? h('span', { class: 'brand-school' }, me.school.name) : null,
      ),
      links.length ? menuButton(header) : null,
      links.length
        ? h(
            'nav',
            {
              class: 'main-nav',
              id: 'main-nav',
              'aria-label': t('nav.label'),
              on: {
                click: (event) => {
                  if (event.target.closest('a')) setMenu(header, false);
                },
              },
            },
            h(
              'ul',
              {},
              links.map((item, i) =>
                h(
                  'li',
                  { class: i === adminStart ? 'nav-admin-start' : null },
                  i === adminStart ? h('span', { class: 'nav-group' }, t('nav.admin')) : null,
                  h('a', { href: item.href, 'aria-current': isCurrent(item.href) ? 'page' : null }, t(item.key)),
                ),
              ),
            ),
          )
        : null,
      h(
        'div',
        { class: 'header-tools' },
        user
          ? h(
              'p',
              { class: 'user-chip' },
              h('a', { class: 'user-name', id: 'user-name', href: '/account', title: t('nav.account'), 'aria-current': isCurrent('/account') ? 'page' : null }, user.full_name),
              h('span', { class: `role-badge role-${user.role}`, id: 'me-role' }, t(`role.${user.role}`)),
            )
          : null,
        user ? (bell ??= noticesBell(me.school?.timezone || DEFAULT_TIMEZONE)) : null,
        languageSwitch(),
        user
          ? h('button', { type: 'button', class: 'button ghost', id: 'logout', on: { click: logout } }, t('nav.logout'))
          : null,
      ),
    ),
  );
}

async function logout(event) {
  event.currentTarget.disabled = true;
  try {
    await auth.logout();
  } catch {
    // Signed out or not, the sign-in page is where the user goes next.
  }
  location.assign('/login');
}

/** Replace the page's main content with one message (no permission, failed to load...). */
export function showPageMessage(main, { titleKey, text, kind = 'error' }) {
  replace(
    main,
    h(
      'div',
      { class: `page-message ${kind}`, role: kind === 'error' ? 'alert' : 'status' },
      h('h1', { 'data-i18n': titleKey }, t(titleKey)),
      text ? h('p', {}, text) : null,
      h('p', {}, h('a', { href: '/lessons', 'data-i18n': 'nav.back_to_lessons' }, t('nav.back_to_lessons'))),
    ),
  );
}

export function showForbidden(main) {
  document.title = `${t('error.forbidden_title')} · lophoc`;
  showPageMessage(main, { titleKey: 'error.forbidden_title', text: t('error.forbidden') });
}

/** Show what went wrong while loading a page; a 401 is already on its way to /login. */
export function showLoadError(main, err) {
  if (err?.status === 401) return;
  if (err?.status === 403) showForbidden(main);
  else showPageMessage(main, { titleKey: 'error.load_title', text: errorMessage(err) });
}

/**
 * Set up a signed-in page: translations, the header, and the role check.
 * Resolves to `{ user, school, timeZone }`, or null when the page cannot be shown (the reason is
 * already on screen).
 */
export async function initLayout({ role = null } = {}) {
  applyTranslations(document);
  const header = document.getElementById('site-header');
  const main = document.getElementById('main');
  foldNav(header);
  PHONE.addEventListener('change', () => foldNav(header));
  let me;
  try {
    me = await meApi.get();
  } catch (err) {
    renderHeader(header, null);
    showLoadError(main, err);
    return null;
  }
  if (me.user.must_change_password && location.pathname !== '/account') {
    // A password reset by the school: nothing else works until the person chooses their own.
    location.replace('/account?change=1');
    return null;
  }
  renderHeader(header, me);
  onLangChange(() => renderHeader(header, me));
  header.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && header.classList.contains('menu-open')) setMenu(header, false, { focusButton: true });
  });
  if (role && me.user.role !== role) {
    showForbidden(main);
    return null;
  }
  return { user: me.user, school: me.school, timeZone: me.school?.timezone || DEFAULT_TIMEZONE };
}
