// The sound of the room: one <audio> per received audio consumer (your room, and the group the
// teacher listens to).

import { h } from './dom.js';

export class RoomAudio {
  constructor(client) {
    this.client = client;
    this.els = new Map(); // consumer_id -> <audio>
    this.el = h('div', { id: 'room-audio', hidden: true });
    client.on('track', (consumer) => this.add(consumer));
    client.on('track_ended', (consumer) => this.remove(consumer.consumer_id));
  }

  add(consumer) {
    if (consumer.kind !== 'audio' || consumer.participant_id === this.client.participantId) return;
    const audio = h('audio', { autoplay: true, dataset: { consumerId: consumer.consumer_id, source: consumer.source, participantId: consumer.participant_id } });
    audio.srcObject = new MediaStream([consumer.track]);
    this.el.append(audio);
    this.els.get(consumer.consumer_id)?.remove();
    this.els.set(consumer.consumer_id, audio);
    audio.play().catch(() => {});
  }

  remove(consumerId) {
    const audio = this.els.get(consumerId);
    if (!audio) return;
    audio.srcObject = null;
    audio.remove();
    this.els.delete(consumerId);
  }

  close() {
    for (const audio of this.els.values()) audio.srcObject = null;
  }
}
