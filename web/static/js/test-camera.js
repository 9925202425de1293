// A test that requires the camera publishes the student's camera into the live lesson the test
// names, over WHIP for the attempt (the camera is allowed there while the attempt runs), so the
// teacher sees them in the room (the lesson's recording keeps it only when it records students).

import { readCookie } from './api.js';

const GATHER_MS = 3000;

function gathered(pc) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (pc.iceGatheringState === 'complete') resolve();
    };
    pc.addEventListener('icegatheringstatechange', done);
    setTimeout(resolve, GATHER_MS);
  });
}

/** Start publishing; resolves to { stream, stop } or rejects with an Error whose message is shown. */
export async function publishCamera(lessonId, attemptId) {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 }, audio: false });
  const pc = new RTCPeerConnection();
  for (const track of stream.getVideoTracks()) pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  const headers = { 'Content-Type': 'application/sdp' };
  const csrf = readCookie('lophoc_csrf');
  if (csrf) headers['X-CSRF-Token'] = csrf;
  const response = await fetch(`/api/lessons/${encodeURIComponent(lessonId)}/test-camera/${encodeURIComponent(attemptId)}`, {
    method: 'POST',
    headers,
    body: pc.localDescription.sdp,
    credentials: 'same-origin',
  });
  if (response.status !== 201) {
    pc.close();
    for (const track of stream.getTracks()) track.stop();
    let message = `HTTP ${response.status}`;
    try {
      message = (await response.json())?.error?.message ?? message;
    } catch {
      // not JSON
    }
    throw new Error(message);
  }
  const location = response.headers.get('Location');
  await pc.setRemoteDescription({ type: 'answer', sdp: await response.text() });
  // The session ends by DELETE first (the server lets go of it), then the connection closes.
  const stop = () => {
    for (const track of stream.getTracks()) track.stop();
    const ended = location
      ? fetch(location, { method: 'DELETE', headers: csrf ? { 'X-CSRF-Token': csrf } : {}, credentials: 'same-origin', keepalive: true }).catch(() => {})
      : Promise.resolve();
    return ended.finally(() => pc.close());
  };
  return { stream, pc, stop };
}
