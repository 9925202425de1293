// The classroom part of the lesson mirror (docs/protocol.md): chat, questions, raised hands,
// reactions, polls and the moderation of the room (lock, waiting list, the lesson's times), as
// the `joined` reply and the server's events last described them. Like LessonState it sends
// nothing and touches no DOM; it emits one event per change, named after the server's message:
//
//   chat {message}, chat_history {messages}, chat_deleted {message_id}, chat_blocked {user_id, blocked, mine},
//   chat_policy, question {question}, hands {queue}, hand_lowered, floor, reactions,
//   poll {poll}, poll_counts, poll_results, lock {locked}, waiting_list {waiting},
//   lesson_ending {closes_at, in_s}, lesson_times {ends_at, closes_at}, muted {source, by}.

export const REACTIONS = ['understood', 'confused', 'thumbs_up'];
const MAX_CHAT = 500; // kept in the page; older messages drop off the top

const noCounts = () => Object.fromEntries(REACTIONS.map((r) => [r, 0]));

export class ClassroomState {
  /**
   * @param {(type: string, detail: object) => void} emit
   * @param {() => number|null} myUserId the user id of this page (from the participants)
   */
  constructor(emit, myUserId) {
    this.emit = emit;
    this.myUserId = myUserId;
    this.reset();
  }

  reset() {
    /** Chat messages, oldest first (`ChatMessage`s). */
    this.chat = [];
    /** Whether the teacher stopped my chat. */
    this.chatBlocked = false;
    this.chatPolicy = { private_between_students: false };
    /** Staff: the students whose chat is stopped (as far as this page has seen). */
    this.chatBlockedUsers = new Set();
    /** question id -> Question */
    this.questions = new Map();
    this.myVotes = new Set();
    /** Raised hands in the order they were raised. */
    this.hands = [];
    this.reactions = { counts: noCounts(), mine: null, by_user: {} };
    /** poll id -> Poll (as I may see it) */
    this.polls = new Map();
    /** poll id -> `{answered, total, counts}` (staff, live) */
    this.pollCounts = new Map();
    /** poll id -> `{counts, correct, answers}` once published */
    this.pollResults = new Map();
    this.moderation = { locked: false, waiting: [], ends_at: null, closes_at: null };
    /** `{closes_at, in_s, until}` after a `lesson_ending` warning. */
    this.ending = null;
  }

  /** The classroom keys of a `joined` reply replace what we knew. */
  applyJoined(joined) {
    const chat = joined.chat ?? {};
    this.chat = Array.isArray(chat.messages) ? chat.messages.slice(-MAX_CHAT) : [];
    this.chatBlocked = Boolean(chat.blocked);
    this.chatPolicy = { private_between_students: Boolean(chat.policy?.private_between_students) };
    this.chatBlockedUsers = new Set(chat.blocked_users ?? []);
    const questions = joined.questions ?? {};
    this.questions = new Map((questions.items ?? []).map((q) => [q.id, q]));
    this.myVotes = new Set(questions.my_votes ?? []);
    this.hands = Array.isArray(joined.hands?.queue) ? joined.hands.queue : [];
    const reactions = joined.reactions ?? joined.hands?.reactions ?? {};
    this.reactions = { counts: { ...noCounts(), ...(reactions.counts ?? {}) }, mine: reactions.mine ?? null, by_user: reactions.by_user ?? {} };
    this.polls = new Map((joined.polls?.items ?? []).map((p) => [p.id, p]));
    this.pollCounts = new Map();
    this.pollResults = new Map();
    for (const poll of this.polls.values()) if (poll.results) this.pollResults.set(poll.id, poll.results);
    const moderation = joined.moderation ?? {};
    this.moderation = {
      locked: Boolean(moderation.locked),
      waiting: Array.isArray(moderation.waiting) ? moderation.waiting : [],
      ends_at: moderation.ends_at ?? joined.lesson?.ends_at ?? null,
      closes_at: moderation.closes_at ?? null,
    };
  }

  /** Apply a server event; false when it is not one of the classroom's. */
  apply(message) {
    switch (message.type) {
      case 'chat': {
        const msg = message.message;
        if (!msg || this.chat.some((m) => m.id === msg.id)) return true;
        this.chat = [...this.chat, msg].slice(-MAX_CHAT);
        this.emit('chat', message);
        return true;
      }
      case 'chat_history':
        // Another room's chat (moved into or out of a group), or the earlier messages read back.
        this.chat = Array.isArray(message.messages) ? message.messages.slice(-MAX_CHAT) : [];
        this.emit('chat_history', message);
        return true;
      case 'chat_deleted':
        // The text stays in the mirror; the chat shows staff the deleted text, students a note.
        this.chat = this.chat.map((m) => (m.id === message.message_id ? { ...m, deleted: true } : m));
        this.emit('chat_deleted', message);
        return true;
      case 'chat_blocked': {
        const mine = message.user_id === this.myUserId();
        if (mine) this.chatBlocked = Boolean(message.blocked);
        if (message.blocked) this.chatBlockedUsers.add(message.user_id);
        else this.chatBlockedUsers.delete(message.user_id);
        this.emit('chat_blocked', { ...message, mine });
        return true;
      }
      case 'chat_policy':
        this.chatPolicy = { private_between_students: Boolean(message.private_between_students) };
        this.emit('chat_policy', message);
        return true;
      case 'question':
        this.putQuestion(message.question);
        this.emit('question', message);
        return true;
      case 'question_hidden':
        this.questions.delete(message.question_id);
        this.emit('question', message);
        return true;
      case 'hands':
        this.hands = Array.isArray(message.queue) ? message.queue : [];
        this.emit('hands', message);
        return true;
      case 'hand_lowered':
      case 'floor':
      case 'muted':
        this.emit(message.type, message);
        return true;
      case 'reactions':
        this.reactions = { ...this.reactions, counts: { ...noCounts(), ...(message.counts ?? {}) }, by_user: message.by_user ?? {} };
        if ('mine' in message) this.reactions.mine = message.mine ?? null;
        this.emit('reactions', message);
        return true;
      case 'poll':
        this.putPoll(message.poll);
        this.emit('poll', message);
        return true;
      case 'poll_counts':
        this.pollCounts.set(message.poll_id, { answered: message.answered ?? 0, total: message.total ?? 0, counts: message.counts ?? [] });
        this.emit('poll_counts', message);
        return true;
      case 'poll_results':
        this.pollResults.set(message.poll_id, { counts: message.counts ?? [], correct: message.correct ?? null, answers: message.answers ?? [] });
        this.emit('poll_results', message);
        return true;
      case 'lock':
        this.moderation = { ...this.moderation, locked: Boolean(message.locked) };
        this.emit('lock', message);
        return true;
      case 'waiting_list':
        this.moderation = { ...this.moderation, waiting: Array.isArray(message.waiting) ? message.waiting : [] };
        this.emit('waiting_list', message);
        return true;
      case 'lesson_ending': {
        const seconds = Number(message.in_s) || 0;
        this.ending = { closes_at: message.closes_at ?? null, in_s: seconds, until: Date.now() + seconds * 1000 };
        this.emit('lesson_ending', message);
        return true;
      }
      case 'lesson_times':
        this.moderation = { ...this.moderation, ends_at: message.ends_at ?? this.moderation.ends_at, closes_at: message.closes_at ?? this.moderation.closes_at };
        this.ending = null;
        this.emit('lesson_times', message);
        return true;
      default:
        return false;
    }
  }

  putQuestion(question) {
    if (question?.id === undefined) return;
    this.questions.set(question.id, question);
  }

  /** A poll as the server sent it; what we knew of it is kept when the event leaves it out. */
  putPoll(poll) {
    if (poll?.id === undefined) return;
    const before = this.polls.get(poll.id);
    this.polls.set(poll.id, before ? { ...before, ...poll } : poll);
    if (poll.results) this.pollResults.set(poll.id, poll.results);
  }

  /** My vote on a question changed (the server's reply said so). */
  setVote(questionId, vote) {
    if (vote) this.myVotes.add(questionId);
    else this.myVotes.delete(questionId);
  }

  /** My answer to a poll, as the server acknowledged it. */
  setMyAnswer(pollId, answer) {
    const poll = this.polls.get(pollId);
    if (!poll) return;
    this.polls.set(pollId, { ...poll, mine: { ...(poll.mine ?? {}), answer } });
    this.emit('poll', { type: 'poll', poll: this.polls.get(pollId) });
  }

  /** My own reaction, as the reply said. */
  setMyReaction(reaction) {
    this.reactions = { ...this.reactions, mine: reaction ?? null };
    this.emit('reactions', { type: 'reactions', counts: this.reactions.counts, mine: this.reactions.mine });
  }

  /** A staff command's reply may carry the new state of its part: apply it like an event. */
  applyReply(reply) {
    if (!reply || typeof reply !== 'object') return;
    if (reply.question) {
      this.putQuestion(reply.question);
      this.emit('question', { type: 'question', question: reply.question });
    }
    if (reply.poll) {
      this.putPoll(reply.poll);
      this.emit('poll', { type: 'poll', poll: this.polls.get(reply.poll.id) });
    }
    if (reply.message?.id !== undefined && reply.message.text !== undefined) {
      this.apply({ type: 'chat', message: reply.message });
    }
  }
}
