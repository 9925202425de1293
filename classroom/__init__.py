"""What a lesson says besides its media, kept as records: chat, questions, raised hands and
reactions, polls and quizzes with their answers, moderation, and each student's participation.
Imports storage and school only; signaling runs it live, web serves its history and exports."""
