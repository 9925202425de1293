// The texts of a lesson's end on the lesson page (its room's closing time, the links to its
// attendance and recordings), Vietnamese first.

import { addStrings } from './i18n.js';

addStrings({
  vi: {
    'lesson.room_grace': 'Tiết học đã hết giờ; phòng học trực tuyến còn mở đến {time}.',
    'lesson.room_closes': 'Phòng học trực tuyến đóng lúc {time}.',
    'lesson.room_ended_at': 'Tiết học đã kết thúc lúc {time}.',
    'lesson.room_not_yours': 'Chỉ giáo viên dạy tiết này, học sinh của lớp và quản trị viên được vào phòng học.',
    'lesson.links': 'Liên quan đến tiết học',
    'lesson.attendance_link': 'Điểm danh tiết học',
    'lesson.recordings_link': 'Bài giảng đã ghi hình',
  },
  en: {
    'lesson.room_grace': 'The lesson time is over; the live room stays open until {time}.',
    'lesson.room_closes': 'The live room closes at {time}.',
    'lesson.room_ended_at': 'The lesson ended at {time}.',
    'lesson.room_not_yours': "Only the lesson's teacher, its class's students and administrators may enter the room.",
    'lesson.links': 'About this lesson',
    'lesson.attendance_link': "Lesson's attendance",
    'lesson.recordings_link': 'Recorded lessons',
  },
});
