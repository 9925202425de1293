// Sending a file with its progress: a multipart POST whose upload the browser reports as it goes
// (fetch cannot), with the headers js/api.js sends (the UI's language, the CSRF token).

import { ApiError, readCookie, redirectToLogin } from './api.js';
import { getLang } from './i18n.js';

/**
 * POST `body` (a FormData) to `url`. `onProgress(share)` gets 0..1 while the file is sent, then
 * null once it is all sent (the server is working on it). Resolves to `{ status, data }` (data: the
 * parsed JSON answer or null); rejects with an ApiError when the network fails.
 */
export function postForm(url, body, onProgress = () => {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.setRequestHeader('Accept-Language', getLang());
    const token = readCookie('lophoc_csrf');
    if (token) xhr.setRequestHeader('X-CSRF-Token', token);
    xhr.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    xhr.upload.addEventListener('load', () => onProgress(null));
    xhr.addEventListener('load', () => {
      let data = null;
      try {
        data = JSON.parse(xhr.responseText);
      } catch {
        data = null;
      }
      if (xhr.status === 401) redirectToLogin();
      resolve({ status: xhr.status, data });
    });
    xhr.addEventListener('error', () => reject(new ApiError(0, 'network_error', '')));
    xhr.send(body);
  });
}
