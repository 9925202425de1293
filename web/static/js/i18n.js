// Every visible string of the UI, Vietnamese first, English second.
// Vocabulary of Circular 09/2021/TT-BGDĐT (tiết học, lớp, khối, môn học, giáo viên chủ nhiệm...).
//
// Markup: data-i18n="key" sets an element's text; data-i18n-placeholder, data-i18n-aria-label and
// data-i18n-title set those attributes. Strings may hold {name} placeholders: t('key', {name}).

export const LANGUAGES = ['vi', 'en'];
const DEFAULT_LANGUAGE = 'vi';
const STORAGE_KEY = 'lophoc.lang';
const CHANGE_EVENT = 'lophoc:langchange';

export const DICTIONARY = {
  vi: {
    'lang.label': 'Ngôn ngữ',
    'lang.vi': 'Tiếng Việt',
    'lang.en': 'English',

    'title.login': 'Đăng nhập · lophoc',
    'title.lessons': 'Tiết học của tôi · lophoc',
    'title.lesson': 'Tiết học · lophoc',
    'title.classes': 'Lớp · lophoc',
    'title.class': 'Lớp · lophoc',
    'title.users': 'Giáo viên và học sinh · lophoc',
    'title.subjects': 'Môn học · lophoc',
    'title.timetable': 'Thời khóa biểu · lophoc',

    'nav.skip': 'Bỏ qua, đến nội dung chính',
    'nav.label': 'Điều hướng chính',
    'nav.lessons': 'Tiết học của tôi',
    'nav.admin': 'Quản trị nhà trường',
    'nav.timetable': 'Thời khóa biểu',
    'nav.classes': 'Lớp',
    'nav.users': 'Giáo viên và học sinh',
    'nav.subjects': 'Môn học',
    'nav.logout': 'Đăng xuất',
    'nav.back_to_lessons': 'Về trang Tiết học của tôi',

    'role.admin': 'Quản trị viên',
    'role.teacher': 'Giáo viên',
    'role.student': 'Học sinh',

    'common.loading': 'Đang tải…',
    'common.saving': 'Đang lưu…',
    'common.choose': '— Chọn —',
    'common.actions': 'Thao tác',
    'common.filter_list': 'Lọc danh sách',
    'form.required': 'Vui lòng điền thông tin này.',

    'error.generic': 'Đã có lỗi xảy ra. Vui lòng thử lại.',
    'error.network': 'Không kết nối được với máy chủ. Vui lòng kiểm tra mạng và thử lại.',
    'error.forbidden_title': 'Không có quyền truy cập',
    'error.forbidden': 'Bạn không có quyền truy cập trang này.',
    'error.not_found': 'Không tìm thấy dữ liệu.',
    'error.conflict': 'Dữ liệu này đã tồn tại.',
    'error.validation': 'Thông tin chưa hợp lệ.',
    'error.rate_limited': 'Bạn thao tác quá nhanh. Vui lòng thử lại sau ít phút.',
    'error.load_title': 'Không tải được trang',

    'login.title': 'Đăng nhập',
    'login.intro': 'Lớp học trực tuyến của nhà trường',
    'login.username': 'Tên đăng nhập',
    'login.password': 'Mật khẩu',
    'login.submit': 'Đăng nhập',
    'login.busy': 'Đang đăng nhập…',
    'login.username_required': 'Vui lòng nhập tên đăng nhập.',
    'login.password_required': 'Vui lòng nhập mật khẩu.',
    'login.invalid': 'Tên đăng nhập hoặc mật khẩu không đúng.',
    'login.rate_limited': 'Bạn đã đăng nhập sai quá nhiều lần. Vui lòng thử lại sau ít phút.',

    'lessons.title': 'Tiết học của tôi',
    'lessons.today': 'Hôm nay',
    'lessons.upcoming': 'Sắp tới',
    'lessons.none_today': 'Hôm nay không có tiết học nào.',
    'lessons.none_upcoming': 'Không có tiết học nào trong 7 ngày tới.',
    'lessons.admin_hint': 'Quản lý lớp, giáo viên, học sinh và thời khóa biểu:',

    'status.upcoming': 'Sắp diễn ra',
    'status.live': 'Đang diễn ra',
    'status.ended': 'Đã kết thúc',

    'lesson.join': 'Vào lớp',
    'lesson.back': '← Tiết học của tôi',
    'lesson.subject': 'Môn học',
    'lesson.class': 'Lớp',
    'lesson.teacher': 'Giáo viên',
    'lesson.date': 'Ngày',
    'lesson.time': 'Thời gian',
    'lesson.start': 'Giờ bắt đầu',
    'lesson.end': 'Giờ kết thúc',
    'lesson.title_field': 'Tên bài học',
    'lesson.not_found': 'Không tìm thấy tiết học này',
    'lesson.room_opens': 'Phòng học trực tuyến mở khi tiết học bắt đầu.',
    'lesson.room_live': 'Tiết học đang diễn ra.',
    'lesson.room_ended': 'Tiết học đã kết thúc.',
    'lesson.room_next_release': 'Phòng học trực tuyến sẽ có trong phiên bản tới',

    'classes.title': 'Lớp',
    'classes.list': 'Danh sách lớp',
    'classes.none': 'Chưa có lớp nào.',
    'classes.create_heading': 'Tạo lớp mới',
    'classes.create': 'Tạo lớp',
    'classes.created': 'Đã tạo lớp {name}.',
    'class.heading': 'Lớp',
    'class.back': '← Danh sách lớp',
    'class.not_found': 'Không tìm thấy lớp này',
    'class.name': 'Tên lớp',
    'class.grade': 'Khối',
    'class.year': 'Năm học',
    'class.homeroom': 'Giáo viên chủ nhiệm',
    'class.no_homeroom': '— Chưa phân công —',
    'class.no_homeroom_short': 'Chưa phân công',
    'class.size': 'Sĩ số',
    'class.students': 'Học sinh trong lớp',
    'class.no_students': 'Lớp chưa có học sinh nào.',
    'class.add_students': 'Thêm học sinh vào lớp',
    'class.unassigned': 'Học sinh chưa có lớp',
    'class.no_unassigned': 'Không còn học sinh nào chưa có lớp.',
    'class.pick_students': 'Hãy chọn ít nhất một học sinh.',
    'class.add_submit': 'Thêm vào lớp',
    'class.added': 'Đã thêm {n} học sinh vào lớp.',
    'class.remove': 'Xóa khỏi lớp',
    'class.remove_named': 'Xóa {name} khỏi lớp',
    'class.remove_confirm': 'Xóa học sinh {name} khỏi lớp {klass}?',
    'class.removed': 'Đã xóa {name} khỏi lớp.',
    'class.new_student': 'Tạo học sinh mới trong lớp',
    'class.new_student_submit': 'Tạo học sinh',
    'grade.n': 'Khối {n}',

    'years.title': 'Năm học',
    'years.none': 'Chưa có năm học nào. Hãy thêm năm học trước khi tạo lớp.',
    'years.none_short': '(chưa có năm học)',
    'years.current': 'hiện tại',
    'years.add': 'Thêm năm học',
    'years.name': 'Tên năm học',
    'years.starts_on': 'Ngày bắt đầu',
    'years.ends_on': 'Ngày kết thúc',
    'years.create': 'Thêm năm học',
    'years.created': 'Đã thêm năm học {name}.',

    'users.title': 'Giáo viên và học sinh',
    'users.list': 'Danh sách tài khoản',
    'users.role_filter': 'Lọc theo vai trò',
    'users.teachers': 'Giáo viên',
    'users.students': 'Học sinh',
    'users.admins': 'Quản trị viên',
    'users.class_filter': 'Lớp',
    'users.all_classes': 'Tất cả các lớp',
    'users.no_class': 'Chưa xếp lớp',
    'users.none': 'Chưa có tài khoản nào.',
    'users.no_teachers': 'Chưa có giáo viên nào.',
    'users.count': '{n} tài khoản',
    'users.create_heading': 'Tạo tài khoản',
    'users.create': 'Tạo tài khoản',
    'user.role': 'Vai trò',
    'user.full_name': 'Họ và tên',
    'user.username': 'Tên đăng nhập',
    'user.username_hint': '3–64 ký tự: chữ cái không dấu, chữ số, dấu chấm, gạch dưới, gạch ngang.',
    'user.password': 'Mật khẩu',
    'user.password_hint': 'Ít nhất 8 ký tự.',
    'user.class': 'Lớp',
    'user.created': 'Đã tạo tài khoản cho {name}.',

    'subjects.page_title': 'Môn học, tổ chuyên môn và phân công giảng dạy',
    'subjects.title': 'Môn học',
    'subjects.none': 'Chưa có môn học nào.',
    'subjects.create_heading': 'Thêm môn học',
    'subjects.create': 'Thêm môn học',
    'subjects.created': 'Đã thêm môn học {name}.',
    'subject.name': 'Tên môn học',
    'subject.code': 'Mã môn',
    'subject.code_optional': 'Mã môn (không bắt buộc)',

    'teams.title': 'Tổ chuyên môn',
    'teams.none': 'Chưa có tổ chuyên môn nào.',
    'teams.create_heading': 'Thành lập tổ chuyên môn',
    'teams.create': 'Tạo tổ chuyên môn',
    'teams.created': 'Đã tạo {name}.',
    'team.name': 'Tên tổ',
    'team.subjects': 'Môn học',
    'team.teachers': 'Giáo viên',

    'assignments.title': 'Phân công giảng dạy',
    'assignments.none': 'Chưa có phân công nào.',
    'assignments.create_heading': 'Phân công mới',
    'assignments.create': 'Phân công',
    'assignments.created': 'Đã phân công {teacher} dạy {subject} lớp {klass}.',

    'timetable.title': 'Thời khóa biểu',
    'timetable.tz_note': 'Giờ theo múi giờ của trường ({tz}).',
    'timetable.week_nav': 'Chọn tuần',
    'timetable.prev': '← Tuần trước',
    'timetable.this_week': 'Tuần này',
    'timetable.next': 'Tuần sau →',
    'timetable.week_of': 'Tuần {from} – {to}',
    'timetable.filter_class': 'Lớp',
    'timetable.all_classes': 'Tất cả các lớp',
    'timetable.empty_week': 'Tuần này chưa có tiết học nào.',
    'timetable.n_lessons': '{n} tiết học',
    'timetable.create_heading': 'Thêm tiết học',
    'timetable.create': 'Thêm tiết học',
    'timetable.teacher_hint': 'Chọn lớp và môn học để điền sẵn giáo viên theo phân công giảng dạy.',
    'timetable.end_after_start': 'Giờ kết thúc phải sau giờ bắt đầu.',
    'timetable.created': 'Đã thêm tiết học “{title}” vào thời khóa biểu.',
  },

  en: {
    'lang.label': 'Language',
    'lang.vi': 'Tiếng Việt',
    'lang.en': 'English',

    'title.login': 'Sign in · lophoc',
    'title.lessons': 'My lessons · lophoc',
    'title.lesson': 'Lesson · lophoc',
    'title.classes': 'Classes · lophoc',
    'title.class': 'Class · lophoc',
    'title.users': 'Teachers and students · lophoc',
    'title.subjects': 'Subjects · lophoc',
    'title.timetable': 'Timetable · lophoc',

    'nav.skip': 'Skip to main content',
    'nav.label': 'Main navigation',
    'nav.lessons': 'My lessons',
    'nav.admin': 'School administration',
    'nav.timetable': 'Timetable',
    'nav.classes': 'Classes',
    'nav.users': 'Teachers and students',
    'nav.subjects': 'Subjects',
    'nav.logout': 'Sign out',
    'nav.back_to_lessons': 'Back to My lessons',

    'role.admin': 'Administrator',
    'role.teacher': 'Teacher',
    'role.student': 'Student',

    'common.loading': 'Loading…',
    'common.saving': 'Saving…',
    'common.choose': '— Select —',
    'common.actions': 'Actions',
    'common.filter_list': 'Filter the list',
    'form.required': 'Please fill in this field.',

    'error.generic': 'Something went wrong. Please try again.',
    'error.network': 'Cannot reach the server. Check the network and try again.',
    'error.forbidden_title': 'No access',
    'error.forbidden': 'You do not have permission to access this page.',
    'error.not_found': 'Not found.',
    'error.conflict': 'This already exists.',
    'error.validation': 'Some information is not valid.',
    'error.rate_limited': 'Too many requests. Please try again in a few minutes.',
    'error.load_title': 'The page could not be loaded',

    'login.title': 'Sign in',
    'login.intro': "Your school's virtual classroom",
    'login.username': 'Username',
    'login.password': 'Password',
    'login.submit': 'Sign in',
    'login.busy': 'Signing in…',
    'login.username_required': 'Please enter your username.',
    'login.password_required': 'Please enter your password.',
    'login.invalid': 'Incorrect username or password.',
    'login.rate_limited': 'Too many failed sign-in attempts. Please try again in a few minutes.',

    'lessons.title': 'My lessons',
    'lessons.today': 'Today',
    'lessons.upcoming': 'Upcoming',
    'lessons.none_today': 'No lessons today.',
    'lessons.none_upcoming': 'No lessons in the next 7 days.',
    'lessons.admin_hint': 'Manage classes, teachers, students and the timetable:',

    'status.upcoming': 'Upcoming',
    'status.live': 'In progress',
    'status.ended': 'Ended',

    'lesson.join': 'Join class',
    'lesson.back': '← My lessons',
    'lesson.subject': 'Subject',
    'lesson.class': 'Class',
    'lesson.teacher': 'Teacher',
    'lesson.date': 'Date',
    'lesson.time': 'Time',
    'lesson.start': 'Start time',
    'lesson.end': 'End time',
    'lesson.title_field': 'Lesson title',
    'lesson.not_found': 'Lesson not found',
    'lesson.room_opens': 'The live room opens when the lesson starts.',
    'lesson.room_live': 'The lesson is in progress.',
    'lesson.room_ended': 'The lesson has ended.',
    'lesson.room_next_release': 'The live room is coming in the next release',

    'classes.title': 'Classes',
    'classes.list': 'All classes',
    'classes.none': 'No classes yet.',
    'classes.create_heading': 'New class',
    'classes.create': 'Create class',
    'classes.created': 'Class {name} created.',
    'class.heading': 'Class',
    'class.back': '← All classes',
    'class.not_found': 'Class not found',
    'class.name': 'Class name',
    'class.grade': 'Grade',
    'class.year': 'School year',
    'class.homeroom': 'Homeroom teacher',
    'class.no_homeroom': '— Not assigned —',
    'class.no_homeroom_short': 'Not assigned',
    'class.size': 'Students',
    'class.students': 'Students in this class',
    'class.no_students': 'This class has no students yet.',
    'class.add_students': 'Add students to the class',
    'class.unassigned': 'Students without a class',
    'class.no_unassigned': 'Every student already has a class.',
    'class.pick_students': 'Select at least one student.',
    'class.add_submit': 'Add to class',
    'class.added': '{n} student(s) added to the class.',
    'class.remove': 'Remove from class',
    'class.remove_named': 'Remove {name} from the class',
    'class.remove_confirm': 'Remove {name} from class {klass}?',
    'class.removed': '{name} removed from the class.',
    'class.new_student': 'New student in this class',
    'class.new_student_submit': 'Create student',
    'grade.n': 'Grade {n}',

    'years.title': 'School years',
    'years.none': 'No school year yet. Add one before creating classes.',
    'years.none_short': '(no school year)',
    'years.current': 'current',
    'years.add': 'Add a school year',
    'years.name': 'School year',
    'years.starts_on': 'Starts on',
    'years.ends_on': 'Ends on',
    'years.create': 'Add school year',
    'years.created': 'School year {name} added.',

    'users.title': 'Teachers and students',
    'users.list': 'Accounts',
    'users.role_filter': 'Filter by role',
    'users.teachers': 'Teachers',
    'users.students': 'Students',
    'users.admins': 'Administrators',
    'users.class_filter': 'Class',
    'users.all_classes': 'All classes',
    'users.no_class': 'No class',
    'users.none': 'No accounts yet.',
    'users.no_teachers': 'No teachers yet.',
    'users.count': '{n} account(s)',
    'users.create_heading': 'New account',
    'users.create': 'Create account',
    'user.role': 'Role',
    'user.full_name': 'Full name',
    'user.username': 'Username',
    'user.username_hint': '3–64 characters: letters without accents, digits, dot, underscore, hyphen.',
    'user.password': 'Password',
    'user.password_hint': 'At least 8 characters.',
    'user.class': 'Class',
    'user.created': 'Account created for {name}.',

    'subjects.page_title': 'Subjects, subject teams and teaching assignments',
    'subjects.title': 'Subjects',
    'subjects.none': 'No subjects yet.',
    'subjects.create_heading': 'New subject',
    'subjects.create': 'Add subject',
    'subjects.created': 'Subject {name} added.',
    'subject.name': 'Subject name',
    'subject.code': 'Code',
    'subject.code_optional': 'Code (optional)',

    'teams.title': 'Subject teams',
    'teams.none': 'No subject teams yet.',
    'teams.create_heading': 'New subject team',
    'teams.create': 'Create subject team',
    'teams.created': '{name} created.',
    'team.name': 'Team name',
    'team.subjects': 'Subjects',
    'team.teachers': 'Teachers',

    'assignments.title': 'Teaching assignments',
    'assignments.none': 'No teaching assignments yet.',
    'assignments.create_heading': 'New assignment',
    'assignments.create': 'Assign',
    'assignments.created': '{teacher} now teaches {subject} to {klass}.',

    'timetable.title': 'Timetable',
    'timetable.tz_note': "Times in the school's time zone ({tz}).",
    'timetable.week_nav': 'Choose the week',
    'timetable.prev': '← Previous week',
    'timetable.this_week': 'This week',
    'timetable.next': 'Next week →',
    'timetable.week_of': 'Week {from} – {to}',
    'timetable.filter_class': 'Class',
    'timetable.all_classes': 'All classes',
    'timetable.empty_week': 'No lessons this week yet.',
    'timetable.n_lessons': '{n} lesson(s)',
    'timetable.create_heading': 'Add a lesson',
    'timetable.create': 'Add lesson',
    'timetable.teacher_hint': 'Pick the class and subject to fill in the teacher from the teaching assignments.',
    'timetable.end_after_start': 'The end time must be after the start time.',
    'timetable.created': 'Lesson “{title}” added to the timetable.',
  },
};

function stored() {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null; // storage disabled: Vietnamese, the default
  }
}

export function getLang() {
  const lang = stored();
  return LANGUAGES.includes(lang) ? lang : DEFAULT_LANGUAGE;
}

/** The BCP 47 locale for Intl formatting in the current language. */
export function locale() {
  return getLang() === 'en' ? 'en-GB' : 'vi-VN';
}

export function t(key, params) {
  const text = DICTIONARY[getLang()][key] ?? DICTIONARY[DEFAULT_LANGUAGE][key];
  if (text === undefined) {
    console.warn(`i18n: no text for "${key}"`);
    return key;
  }
  return params ? text.replace(/\{(\w+)\}/g, (match, name) => (name in params ? String(params[name]) : match)) : text;
}

const ATTRIBUTES = [
  ['i18nPlaceholder', 'placeholder'],
  ['i18nAriaLabel', 'aria-label'],
  ['i18nTitle', 'title'],
];

/** Translate every element under `root` that carries data-i18n* attributes. */
export function applyTranslations(root = document) {
  document.documentElement.lang = getLang();
  const scope = root === document ? document.documentElement : root;
  const elements = [scope, ...scope.querySelectorAll('[data-i18n], [data-i18n-placeholder], [data-i18n-aria-label], [data-i18n-title]')];
  for (const el of elements) {
    if (el.dataset?.i18n) el.textContent = t(el.dataset.i18n);
    for (const [dataKey, attribute] of ATTRIBUTES) {
      if (el.dataset?.[dataKey]) el.setAttribute(attribute, t(el.dataset[dataKey]));
    }
  }
}

/** Switch language: remembered in localStorage, applied to the page, announced to listeners. */
export function setLang(lang) {
  if (!LANGUAGES.includes(lang)) throw new Error(`unknown language ${lang}`);
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // Not remembered, but still applied to this page.
  }
  applyTranslations(document);
  document.dispatchEvent(new CustomEvent(CHANGE_EVENT, { detail: { lang } }));
}

/** Run `listener` after every language switch (pages re-render their dynamic parts). */
export function onLangChange(listener) {
  document.addEventListener(CHANGE_EVENT, () => listener(getLang()));
}
