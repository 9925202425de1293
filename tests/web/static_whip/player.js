// A page on another site that publishes this browser's camera into a lesson with a WHIP client
// library (whip.js, whip-whep on npm). The test calls window.publish(endpoint, token) and reads
// window.whipResult (what happened) and window.whipStats (what is being sent); window.unpublish()
// ends the session (DELETE, then the peer connection closes: whip.js's stop() closes first, so the
// server may see the peer go before the DELETE arrives).
import { WHIPClient } from './whip.js';

const status = document.getElementById('status');

function report(state, detail = {}) {
  window.whipResult = { state, ...detail };
  status.dataset.state = state;
  status.textContent = detail.message ? `${state}: ${detail.message}` : state;
}

async function watchStats(pc) {
  while (pc.connectionState !== 'closed') {
    const outbound = [];
    (await pc.getStats()).forEach((s) => {
      if (s.type === 'outbound-rtp') outbound.push({ kind: s.kind, framesEncoded: s.framesEncoded, packetsSent: s.packetsSent });
    });
    window.whipStats = { connectionState: pc.connectionState, outbound };
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

window.publish = async (endpoint, token) => {
  report('publishing');
  const stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: false });
  document.getElementById('preview').srcObject = stream;
  // No public STUN server: the lesson's server says which ICE servers to use (Link headers).
  const pc = new RTCPeerConnection({ iceServers: [], bundlePolicy: 'max-bundle' });
  for (const track of stream.getTracks()) pc.addTransceiver(track, { direction: 'sendonly' });
  const whip = new WHIPClient();
  window.whip = whip;
  window.unpublish = async () => {
    const response = await fetch(whip.resourceURL, { method: 'DELETE', headers: { Authorization: `Bearer ${token}` } });
    stream.getTracks().forEach((track) => track.stop());
    pc.close();
    report('ended', { status: response.status });
    return response.status;
  };
  try {
    await whip.publish(pc, endpoint, token);
  } catch (error) {
    stream.getTracks().forEach((track) => track.stop());
    pc.close();
    report('failed', { name: error.name, message: error.message });
    return window.whipResult;
  }
  watchStats(pc);
  report('published', { resource: whip.resourceURL.href });
  return window.whipResult;
};

report('ready');
