// Channels: a placeholder until playkey serves the IVS channel operations. The page will
// list channels, create private or public ones, show playback URLs and start viewer-session
// revocations; ctx.client.operation('ListChannels', …) is how it will call the API.

import { h } from '../ui.js';

export function render(main) {
  main.append(
    h('div', { class: 'page-header' }, h('h1', { tabindex: '-1' }, 'Channels')),
    h('section', { class: 'container' },
      h('p', {}, 'This playkey server does not manage channels yet. When it does, this page will list them, create private and public channels, show their playback URLs and revoke viewer sessions.'),
      h('p', {}, 'Meanwhile, the Token debugger checks tokens for any channel ARN.')));
}
